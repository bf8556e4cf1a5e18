//! `classes_of_service.csv`: one class of service a row.

use std::collections::HashSet;
use std::path::Path;

use crate::error::Result;
use crate::model::{Cos, CosName};

use super::named_rows::NamedRows;

/// The file name inside the export.
pub(super) const COS_FILE: &str = "classes_of_service.csv";

/// The classes of service of `file`, one item a row.
///
/// # Errors
/// [`crate::Error::Io`] when the file cannot be opened.
pub(super) fn cos_rows(file: &Path) -> Result<impl Iterator<Item = Result<Cos>> + Send> {
    let rows = NamedRows::open(file, "class of service")?;
    let file = file.to_path_buf();
    Ok(rows.map(move |row| {
        let row = row?;
        let name = CosName::parse(&row.name)
            .map_err(|e| crate::Error::input(&file, Some(row.line), e.to_string()))?;
        Ok(Cos {
            name,
            attributes: row.attributes,
        })
    }))
}

/// The lowercased names `file` defines, against which `accounts.csv`'s `cos`
/// column is checked (Carbonio compares CoS names case-insensitively), and the
/// header warnings.
///
/// # Errors
/// [`crate::Error::Io`] when the file cannot be opened.
pub(super) fn cos_names(file: &Path) -> Result<(HashSet<String>, Vec<String>)> {
    let names = NamedRows::open(file, "class of service")?
        .flatten()
        .map(|row| row.name.to_lowercase())
        .collect();
    Ok((names, NamedRows::header_warnings(file)?))
}
