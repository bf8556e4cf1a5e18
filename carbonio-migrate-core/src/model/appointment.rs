//! Calendar appointments.

use serde::{Deserialize, Serialize};

/// One appointment (an event with its exceptions), carried as iCalendar text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// The iCalendar `UID` shared by the event and its exceptions.
    pub uid: String,
    /// `SUMMARY`, for reports.
    pub summary: Option<String>,
    /// The `VEVENT` blocks of this UID (master first), CRLF line ends.
    pub components: String,
    /// The `VTIMEZONE` blocks the events refer to, CRLF line ends.
    pub timezones: Vec<String>,
}
