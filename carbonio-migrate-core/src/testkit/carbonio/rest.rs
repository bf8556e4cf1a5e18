//! The emulated REST import (reference §3.2): `POST /service/home/<account>/<folder>?fmt=…`
//! with the admin token as the `ZM_ADMIN_AUTH_TOKEN` cookie.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::contacts_csv;
use super::state::{ContactRecord, RestImportRecord};
use super::{cookie_token, lock, Shared};

/// Formats with save support on the server.
const FORMATS: [&str; 4] = ["ics", "vcf", "csv", "tgz"];

fn query_param(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

pub(super) async fn import(
    State(shared): State<Shared>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let mut inner = lock(&shared);
    inner
        .state
        .requests
        .push(format!("POST /service/home/{path}?{query}"));
    let token = cookie_token(&headers);
    if token.is_none() || inner.check_token(token.as_deref()).is_err() {
        return (StatusCode::UNAUTHORIZED, "must authenticate").into_response();
    }
    inner.state.write_calls += 1;
    let (account, folder) = path.split_once('/').unwrap_or((path.as_str(), ""));
    let account = account.to_string();
    let folder = folder.trim_end_matches('/').to_string();
    if inner.state.account_of(&account).is_none() {
        return (StatusCode::NOT_FOUND, format!("no such account: {account}")).into_response();
    }
    let Some(fmt) = query_param(&query, "fmt").filter(|f| FORMATS.contains(&f.as_str())) else {
        return (StatusCode::BAD_REQUEST, "unsupported format").into_response();
    };
    if fmt == "csv" {
        match contacts_csv::parse(&body, query_param(&query, "csvfmt").as_deref()) {
            Ok(contacts) => inner
                .state
                .contacts
                .extend(contacts.into_iter().map(|fields| ContactRecord {
                    account: account.clone(),
                    folder: folder.clone(),
                    fields,
                })),
            // `CsvFormatter`'s answer to a `ContactCSV.ParseException`.
            Err(reason) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("Could not parse csv file - Reason : {reason}"),
                )
                    .into_response()
            }
        }
    }
    inner.state.imports.push(RestImportRecord {
        account,
        folder,
        fmt,
        body: body.to_vec(),
    });
    StatusCode::OK.into_response()
}
