//! The `bundle` destination: a directory a Carbonio admin applies with stock
//! tools (`carbonio prov -f` and `postRestURL` imports), for sites where the
//! migration host cannot reach Carbonio, or where an admin wants to review what
//! will be created. See `docs.md` in this folder and
//! `docs/design/0002-bundle-format.md`.
//!
//! ```text
//! <path>/provisioning.cmd        domains, CoS, accounts, aliases, lists, members (0600)
//! <path>/mail/<account>.tgz      folders and messages, for postRestURL "//?fmt=tgz&resolve=skip"
//! <path>/calendar/<account>.ics  appointments, for postRestURL '/Calendar?fmt=ics'
//! <path>/contacts/<account>.vcf  contacts, for postRestURL '/Contacts?fmt=vcf'
//! <path>/apply.sh                runs all of the above, stops at the first error (0755)
//! <path>/README.txt              what to run
//! ```

mod apply_script;
mod archive_reader;
mod config;
mod destination;
mod durable_file;
mod mail_archive;
mod partial_file;
mod staging;
mod text_file;

pub use config::BundleConfig;
pub use destination::BundleDestination;
