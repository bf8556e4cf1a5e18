#![doc = include_str!("docs.md")]

mod accounts_csv;
mod blocking;
mod calendar;
mod config;
mod contacts;
mod cos_csv;
mod csv_rows;
mod domains_csv;
mod eml;
mod header_fields;
mod lists_csv;
mod mail_folders;
mod mailbox;
mod mbox;
mod named_rows;
mod source;
pub(crate) mod text_lines;

pub use accounts_csv::ColumnNames;
pub use config::ExportDirConfig;
pub use source::{AccountOptions, ExportDirSource, ExportFiles};
