//! The Carbonio emulator (feature `testkit`) spoken to raw, and the Admin SOAP
//! client against it: fault shapes and codes of the reference, both envelope
//! forms, tokens and their expiry, the exact JSON the client sends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use carbonio_migrate_core::adapters::carbonio::faults::codes;
use carbonio_migrate_core::adapters::carbonio::soap::SoapRequest;
use carbonio_migrate_core::adapters::carbonio::{AdminClient, CallError, CarbonioConfig};
use carbonio_migrate_core::model::Secret;
use carbonio_migrate_core::testkit::carbonio::{CarbonioEmulator, Holder, PasswordRecord};
use carbonio_migrate_core::Error;

// ---------------------------------------------------------------- helpers

async fn post_raw(url: &str, body: String, cookie: Option<&str>) -> (u16, String, String) {
    let mut request = reqwest::Client::new().post(url).body(body);
    if let Some(c) = cookie {
        request = request.header("Cookie", c);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

/// Sends a JSON envelope with `token` (none: no authToken) and `body`.
async fn soap(emu: &CarbonioEmulator, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut context = json!({"_jsns": "urn:zimbra"});
    if let Some(t) = token {
        context["authToken"] = json!({"_content": t});
    }
    let envelope = json!({"Header": {"context": context}, "Body": body});
    let (status, _, text) = post_raw(&emu.admin_url(), envelope.to_string(), None).await;
    (status, serde_json::from_str(&text).unwrap())
}

async fn login(emu: &CarbonioEmulator) -> String {
    let (status, answer) = soap(
        emu,
        None,
        json!({"AuthRequest": {"_jsns": "urn:zimbraAdmin",
            "account": {"by": "name", "_content": emu.admin_user()},
            "password": {"_content": emu.admin_password()}}}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["Body"]["AuthResponse"]["authToken"][0]["_content"]
        .as_str()
        .unwrap()
        .to_string()
}

fn code(answer: &Value) -> &str {
    answer["Body"]["Fault"]["Detail"]["Error"]["Code"]
        .as_str()
        .unwrap_or("(none)")
}

fn admin(name: &str, body: Value) -> Value {
    let mut body = body;
    body["_jsns"] = json!("urn:zimbraAdmin");
    json!({ name: body })
}

fn client_for(emu: &CarbonioEmulator) -> AdminClient {
    let config = CarbonioConfig::new(emu.admin_url(), emu.admin_user());
    AdminClient::new(&config, Secret::new(emu.admin_password())).unwrap()
}

/// The last envelope the emulator received for `name`.
fn last_envelope(emu: &CarbonioEmulator, name: &str) -> Value {
    emu.state()
        .envelopes
        .into_iter()
        .rev()
        .find(|e| e["Body"].get(name).is_some())
        .unwrap_or_else(|| panic!("no {name} received"))
}

// ---------------------------------------------------------------- emulator

#[tokio::test]
async fn faults_have_the_reference_json_shape_and_http_422() {
    let emu = CarbonioEmulator::start().unwrap();
    let (status, answer) = soap(
        &emu,
        None,
        admin(
            "AuthRequest",
            json!({"account": {"by": "name", "_content": emu.admin_user()},
                   "password": {"_content": "wrong"}}),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        answer,
        json!({"Body": {"Fault": {"Code": {"Value": "soap:Sender"},
            "Reason": {"Text": format!("authentication failed for [{}]", emu.admin_user())},
            "Detail": {"Error": {"_jsns": "urn:zimbra", "Code": "account.AUTH_FAILED",
                                 "Trace": "qtp-emulator"}}}},
               "_jsns": "urn:zimbraSoap"})
    );
    // Same in Zimbra's mode, with 500.
    emu.answer_faults_with_500(true);
    let (status, answer) = soap(&emu, None, admin("GetDomainRequest", json!({}))).await;
    assert_eq!((status, code(&answer)), (500, "service.AUTH_REQUIRED"));
}

#[tokio::test]
async fn requests_need_a_valid_token_and_expired_ones_say_so() {
    let emu = CarbonioEmulator::start().unwrap();
    let get = admin(
        "GetDomainRequest",
        json!({"domain": {"by": "name", "_content": "example.org"}}),
    );
    let (_, answer) = soap(&emu, None, get.clone()).await;
    assert_eq!(code(&answer), "service.AUTH_REQUIRED");
    let (_, answer) = soap(&emu, Some("0_forged"), get.clone()).await;
    assert_eq!(code(&answer), "service.AUTH_REQUIRED");
    let token = login(&emu).await;
    let (status, answer) = soap(&emu, Some(&token), get.clone()).await;
    assert_eq!((status, code(&answer)), (422, "account.NO_SUCH_DOMAIN"));
    // The token as a bare string is accepted too.
    let envelope =
        json!({"Header": {"context": {"_jsns": "urn:zimbra", "authToken": token}}, "Body": get});
    let (_, _, text) = post_raw(&emu.admin_url(), envelope.to_string(), None).await;
    assert!(text.contains("account.NO_SUCH_DOMAIN"), "{text}");
    emu.expire_tokens();
    let (_, answer) = soap(&emu, Some(&token), get).await;
    assert_eq!(code(&answer), "service.AUTH_EXPIRED");
}

#[tokio::test]
async fn xml_envelopes_are_answered_in_xml() {
    let emu = CarbonioEmulator::start().unwrap();
    let auth = format!(
        "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\">\
         <soap:Header><context xmlns=\"urn:zimbra\"/></soap:Header><soap:Body>\
         <AuthRequest xmlns=\"urn:zimbraAdmin\"><account by=\"name\">{}</account><password>{}</password></AuthRequest>\
         </soap:Body></soap:Envelope>",
        emu.admin_user(),
        emu.admin_password()
    );
    let (status, content_type, text) = post_raw(&emu.admin_url(), auth, None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(content_type, "application/soap+xml; charset=utf-8");
    let start = text.find("<authToken>").unwrap() + "<authToken>".len();
    let token = &text[start..start + text[start..].find('<').unwrap()];
    assert!(
        text.contains("<AuthResponse xmlns=\"urn:zimbraAdmin\">"),
        "{text}"
    );
    assert!(text.contains("<lifetime>43200000</lifetime>"), "{text}");

    let get = |token: &str| {
        format!(
            "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Header>\
             <context xmlns=\"urn:zimbra\"><authToken>{token}</authToken></context></soap:Header>\
             <soap:Body><GetCosRequest xmlns=\"urn:zimbraAdmin\"><cos by=\"name\">staff</cos></GetCosRequest></soap:Body></soap:Envelope>"
        )
    };
    let (status, _, text) = post_raw(&emu.admin_url(), get(token), None).await;
    assert_eq!(status, 422);
    assert!(
        text.contains("<soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code><soap:Reason><soap:Text>no such cos: staff</soap:Text></soap:Reason><soap:Detail><Error xmlns=\"urn:zimbra\"><Code>account.NO_SUCH_COS</Code>"),
        "{text}"
    );
    let (status, _) = soap(
        &emu,
        Some(token),
        admin(
            "CreateCosRequest",
            json!({"name": {"_content": "staff"},
            "a": [{"n": "zimbraMailQuota", "_content": "5"}]}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, text) = post_raw(&emu.admin_url(), get(token), None).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("<GetCosResponse xmlns=\"urn:zimbraAdmin\"><cos id=\""),
        "{text}"
    );
    assert!(text.contains("<a n=\"zimbraMailQuota\">5</a>"), "{text}");
}

#[tokio::test]
async fn provisioning_faults_use_the_codes_of_the_reference() {
    let emu = CarbonioEmulator::start().unwrap();
    let t = login(&emu).await;
    let t = Some(t.as_str());
    let ok = |(status, answer): (u16, Value)| {
        assert_eq!(status, 200, "{answer}");
        answer
    };
    let fails = |(status, answer): (u16, Value), want: &str| {
        assert_eq!((status, code(&answer)), (422, want), "{answer}");
    };
    let domain = admin(
        "CreateDomainRequest",
        json!({"name": {"_content": "example.org"}}),
    );
    ok(soap(&emu, t, domain.clone()).await);
    fails(soap(&emu, t, domain).await, codes::DOMAIN_EXISTS);

    // CreateCos reads its name only as an element.
    fails(
        soap(&emu, t, admin("CreateCosRequest", json!({"name": "staff"}))).await,
        "service.INVALID_REQUEST",
    );
    let cos = admin("CreateCosRequest", json!({"name": {"_content": "staff"}}));
    let answer = ok(soap(&emu, t, cos.clone()).await);
    let cos_id = answer["Body"]["CreateCosResponse"]["cos"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fails(soap(&emu, t, cos).await, codes::COS_EXISTS);

    let account = |name: &str, attrs: Value| {
        admin(
            "CreateAccountRequest",
            json!({"name": {"_content": name}, "a": attrs}),
        )
    };
    fails(
        soap(&emu, t, account("ada@nowhere.org", json!([]))).await,
        codes::NO_SUCH_DOMAIN,
    );
    fails(
        soap(
            &emu,
            t,
            account(
                "ada@example.org",
                json!([{"n": "zimbraCOSId", "_content": "nope"}]),
            ),
        )
        .await,
        codes::NO_SUCH_COS,
    );
    let answer = ok(soap(
        &emu,
        t,
        account(
            "ada@example.org",
            json!([{"n": "zimbraCOSId", "_content": cos_id},
                   {"n": "userPassword", "_content": "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="}]),
        ),
    )
    .await);
    let ada_id = answer["Body"]["CreateAccountResponse"]["account"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fails(
        soap(&emu, t, account("ada@example.org", json!([]))).await,
        codes::ACCOUNT_EXISTS,
    );
    let alias = admin(
        "AddAccountAliasRequest",
        json!({"id": {"_content": ada_id}, "alias": {"_content": "a@example.org"}}),
    );
    ok(soap(&emu, t, alias.clone()).await);
    // An alias that exists: ACCOUNT_EXISTS, not ALIAS_EXISTS.
    fails(soap(&emu, t, alias).await, codes::ACCOUNT_EXISTS);
    // GetAccount by the alias resolves to its owner.
    let answer = ok(soap(
        &emu,
        t,
        admin(
            "GetAccountRequest",
            json!({"account": {"by": "name", "_content": "a@example.org"}}),
        ),
    )
    .await);
    assert_eq!(
        answer["Body"]["GetAccountResponse"]["account"][0]["name"],
        "ada@example.org"
    );
    fails(
        soap(
            &emu,
            t,
            admin(
                "GetAccountRequest",
                json!({"account": {"by": "name", "_content": "zed@example.org"}}),
            ),
        )
        .await,
        codes::NO_SUCH_ACCOUNT,
    );

    let dl = admin(
        "CreateDistributionListRequest",
        json!({"name": {"_content": "team@example.org"}}),
    );
    let answer = ok(soap(&emu, t, dl.clone()).await);
    let dl_id = answer["Body"]["CreateDistributionListResponse"]["dl"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fails(soap(&emu, t, dl).await, codes::DISTRIBUTION_LIST_EXISTS);
    fails(
        soap(
            &emu,
            t,
            admin(
                "CreateDistributionListRequest",
                json!({"name": {"_content": "a@example.org"}}),
            ),
        )
        .await,
        codes::ACCOUNT_EXISTS,
    );
    let add = admin(
        "AddDistributionListMemberRequest",
        json!({"id": {"_content": dl_id},
        "dlm": [{"_content": "ada@example.org"}, {"_content": "x@ext.example.com"}]}),
    );
    ok(soap(&emu, t, add.clone()).await);
    ok(soap(&emu, t, add).await); // re-add: allowed, a no-op
    fails(
        soap(
            &emu,
            t,
            admin(
                "GetDistributionListRequest",
                json!({"dl": {"by": "name", "_content": "nope@example.org"}}),
            ),
        )
        .await,
        codes::NO_SUCH_DISTRIBUTION_LIST,
    );

    let state = emu.state();
    assert_eq!(
        state.lists["team@example.org"].members,
        ["ada@example.org", "x@ext.example.com"]
    );
    let ada = &state.accounts["ada@example.org"];
    assert_eq!(
        ada.password,
        PasswordRecord::Hash("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=".into())
    );
    assert_eq!(ada.attrs["zimbraCOSId"], [cos_id]);
    assert_eq!(
        state.addresses["a@example.org"],
        Holder::AccountAlias("ada@example.org".into())
    );
    // Every create, add and faulted create counted; reads and logins not.
    assert_eq!(state.write_calls, 16);
}

#[tokio::test]
async fn rest_imports_need_the_admin_cookie() {
    let emu = CarbonioEmulator::start().unwrap();
    let t = login(&emu).await;
    soap(
        &emu,
        Some(&t),
        admin(
            "CreateDomainRequest",
            json!({"name": {"_content": "example.org"}}),
        ),
    )
    .await;
    soap(
        &emu,
        Some(&t),
        admin(
            "CreateAccountRequest",
            json!({"name": {"_content": "ada@example.org"}}),
        ),
    )
    .await;
    let url = format!(
        "{}/service/home/ada@example.org/Calendar?fmt=ics",
        emu.rest_base()
    );
    let ics = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_string();
    assert_eq!(post_raw(&url, ics.clone(), None).await.0, 401);
    assert_eq!(
        post_raw(&url, ics.clone(), Some("ZM_ADMIN_AUTH_TOKEN=0_bad"))
            .await
            .0,
        401
    );
    let cookie = format!("ZM_ADMIN_AUTH_TOKEN={t}");
    assert_eq!(post_raw(&url, ics.clone(), Some(&cookie)).await.0, 200);
    let missing = format!(
        "{}/service/home/zed@example.org/Calendar?fmt=ics",
        emu.rest_base()
    );
    assert_eq!(post_raw(&missing, ics.clone(), Some(&cookie)).await.0, 404);
    let state = emu.state();
    let imports = state.imports_of("ada@example.org", "Calendar");
    assert_eq!(imports.len(), 1);
    assert_eq!(
        (imports[0].fmt.as_str(), imports[0].body.as_slice()),
        ("ics", ics.as_bytes())
    );
}

#[tokio::test]
async fn grants_to_missing_users_become_guest_grants() {
    let emu = CarbonioEmulator::start().unwrap();
    let t = login(&emu).await;
    for body in [
        admin(
            "CreateDomainRequest",
            json!({"name": {"_content": "example.org"}}),
        ),
        admin(
            "CreateAccountRequest",
            json!({"name": {"_content": "ada@example.org"}}),
        ),
        admin(
            "CreateAccountRequest",
            json!({"name": {"_content": "bob@example.org"}}),
        ),
    ] {
        assert_eq!(soap(&emu, Some(&t), body).await.0, 200);
    }
    for grantee in ["bob@example.org", "ghost@example.org"] {
        let envelope = json!({"Header": {"context": {"_jsns": "urn:zimbra", "authToken": {"_content": t},
                                "account": {"by": "name", "_content": "ada@example.org"}}},
            "Body": {"FolderActionRequest": {"_jsns": "urn:zimbraMail",
                "action": {"op": "grant", "id": "10", "grant": {"gt": "usr", "d": grantee, "perm": "r"}}}}});
        let (status, _, text) = post_raw(&emu.admin_url(), envelope.to_string(), None).await;
        assert_eq!(status, 200, "{text}");
    }
    let grants = emu.state().grants;
    assert_eq!(
        grants
            .iter()
            .map(|g| (g.grantee.as_str(), g.grantee_type.as_str()))
            .collect::<Vec<_>>(),
        [("bob@example.org", "usr"), ("ghost@example.org", "guest")]
    );
}

// ---------------------------------------------------------------- client

#[tokio::test]
async fn the_client_sends_the_reference_envelopes() {
    let emu = CarbonioEmulator::start().unwrap();
    let client = client_for(&emu);
    let token = client.token().await.unwrap();
    assert_eq!(
        last_envelope(&emu, "AuthRequest"),
        json!({"Header": {"context": {"_jsns": "urn:zimbra"}},
               "Body": {"AuthRequest": {"_jsns": "urn:zimbraAdmin",
                   "account": {"by": "name", "_content": emu.admin_user()},
                   "password": {"_content": emu.admin_password()}}}})
    );
    client
        .call(&SoapRequest::admin("CreateDomainRequest").element("name", "example.org"))
        .await
        .unwrap();
    client
        .call(
            &SoapRequest::admin("CreateCosRequest")
                .element("name", "staff")
                .attrs([("zimbraMailQuota", "5368709120")]),
        )
        .await
        .unwrap();
    assert_eq!(
        last_envelope(&emu, "CreateCosRequest"),
        json!({"Header": {"context": {"_jsns": "urn:zimbra", "authToken": {"_content": token.expose()}}},
               "Body": {"CreateCosRequest": {"_jsns": "urn:zimbraAdmin", "name": {"_content": "staff"},
                   "a": [{"n": "zimbraMailQuota", "_content": "5368709120"}]}}})
    );
    // Only one login for all of these.
    assert_eq!(
        emu.requests()
            .iter()
            .filter(|r| *r == "AuthRequest")
            .count(),
        1
    );
}

#[tokio::test]
async fn faults_reach_the_caller_typed_from_422_and_500() {
    let emu = CarbonioEmulator::start().unwrap();
    let client = client_for(&emu);
    let create = SoapRequest::admin("CreateDomainRequest").element("name", "example.org");
    client.call(&create).await.unwrap();
    for zimbra in [false, true] {
        emu.answer_faults_with_500(zimbra);
        match client.call(&create).await {
            Err(CallError::Fault(f)) => {
                assert_eq!(f.code, codes::DOMAIN_EXISTS);
                assert_eq!(f.reason, "domain already exists: example.org");
                assert_eq!(f.http_status, if zimbra { 500 } else { 422 });
            }
            other => panic!("{other:?}"),
        }
        let err = client
            .call_for(&create, "creating domain example.org")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "already exists: creating domain example.org: account.DOMAIN_EXISTS (domain already exists: example.org)"
        );
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn an_expired_token_is_renewed_once_and_the_call_succeeds() {
    let emu = CarbonioEmulator::start().unwrap();
    let client = client_for(&emu);
    let get = SoapRequest::admin("GetDomainRequest").selector("domain", "name", "example.org");
    client
        .call(&SoapRequest::admin("CreateDomainRequest").element("name", "example.org"))
        .await
        .unwrap();
    for zimbra in [false, true] {
        emu.answer_faults_with_500(zimbra);
        emu.clear_log();
        emu.expire_tokens();
        client.call(&get).await.unwrap();
        assert_eq!(
            emu.requests(),
            ["GetDomainRequest", "AuthRequest", "GetDomainRequest"],
            "zimbra mode {zimbra}"
        );
    }
}

#[tokio::test]
async fn a_token_near_its_lifetime_is_renewed_before_use() {
    let emu = CarbonioEmulator::start().unwrap();
    // 1 s lifetime: renewed 100 ms before it ends.
    emu.set_token_lifetime_ms(1000);
    let client = client_for(&emu);
    let first = client.token().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(950)).await;
    let second = client.token().await.unwrap();
    assert_ne!(first, second);
    assert_eq!(emu.requests(), ["AuthRequest", "AuthRequest"]);
}

#[tokio::test]
async fn wrong_credentials_and_dead_servers_are_told_apart_without_secrets() {
    let emu = CarbonioEmulator::start().unwrap();
    let config = CarbonioConfig::new(emu.admin_url(), emu.admin_user());
    let client = AdminClient::new(&config, Secret::new("Wrong-Pass-1")).unwrap();
    let err = client.token().await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    let text = err.chain();
    assert!(text.contains("account.AUTH_FAILED"), "{text}");
    assert!(text.contains(&emu.admin_user()), "{text}");
    assert!(!text.contains("Wrong-Pass-1"), "{text}");

    let url = emu.admin_url();
    drop(emu);
    let client = AdminClient::new(
        &CarbonioConfig::new(url, "a@b.org"),
        Secret::new("Pw-secret-9"),
    )
    .unwrap();
    let err = client.token().await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("network error: AuthRequest to http://127.0.0.1:"),
        "{err}"
    );
    assert!(!err.chain().contains("Pw-secret-9"));
}
