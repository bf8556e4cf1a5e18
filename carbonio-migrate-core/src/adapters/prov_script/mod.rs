//! Rendering of provisioning objects as `carbonio prov -f` batch lines.
//!
//! One renderer shared by every output that speaks `carbonio prov` (the `bundle`
//! destination's `provisioning.cmd`, a future `prov-script` output mode):
//! [`quote`] makes one argument survive `prov`'s line splitter, and the functions
//! of [`commands`] turn a model object into its lines.
//!
//! The lines carry passwords and hashes, since creating accounts with them is
//! their purpose. They are plain `String`s so callers can write them out; callers
//! must never log them (the bundle writes them to mode-0600 files only).

pub mod commands;
mod quoting;

pub use commands::{account, alias, cos, distribution_list, domain, members, MAX_MEMBERS_PER_LINE};
pub use quoting::quote;
