//! The built-in adapters, one folder each.
//!
//! | name | side | what it is |
//! |---|---|---|
//! | `memory` | both | in-memory reference adapters; the oracle of the conformance suite |
//! | `export-dir` | source | a directory exported from a generic system (CSV, `.eml`/mbox, ICS, VCF) |
//! | `bundle` | destination | a directory a Carbonio admin applies with stock tools |

pub mod bundle;
pub mod carbonio;
pub mod csv;
pub mod export_dir;
pub mod imap;
pub mod ldap;
pub mod memory;
mod pim_text;
pub mod prov_script;
pub mod registry;
