//! The `carbonio` destination: provisioning through the Admin SOAP API (JSON
//! envelopes), calendars and contacts through REST imports with the admin
//! token, mail through the `imap` destination impersonating with the admin.
//! See `docs.md` in this folder and `docs/design/0004-carbonio-admin-soap.md`.
//!
//! - [`soap`] builds request envelopes and reads answers;
//! - [`faults`] holds [`SoapFault`], its codes, and their mapping to [`crate::Error`];
//! - [`client`] holds [`AdminClient`], the authenticated SOAP client;
//! - [`rest`] holds the ICS/VCF import writers;
//! - [`destination`] holds [`CarbonioDestination`].

pub mod client;
pub mod config;
pub mod destination;
pub mod faults;
pub mod rest;
pub mod soap;

pub use client::{AdminClient, CallError};
pub use config::{CarbonioConfig, ContactsFormat, CsvContactsFormat};
pub use destination::CarbonioDestination;
pub use faults::SoapFault;
