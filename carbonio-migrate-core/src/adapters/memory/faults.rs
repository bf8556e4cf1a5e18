//! Faults a test can make [`super::MemoryDestination`] produce, to exercise the
//! engine's retry, rejection and bad-row paths.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::model::EmailAddress;

/// A planned failure: how many more calls fail, and the error they get.
#[derive(Clone, Copy, Debug)]
struct Planned {
    remaining: usize,
    make: fn() -> Error,
}

impl Planned {
    /// The error for this call, counting it down; `None` once used up.
    fn take(&mut self) -> Option<Error> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some((self.make)())
    }
}

/// The faults planned on one memory destination.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    appends: Option<Planned>,
    rejections: Vec<(&'static [u8], String)>,
    throttles: Vec<(&'static [u8], usize)>,
    accounts: BTreeMap<EmailAddress, Planned>,
}

impl Faults {
    /// The next `times` appends fail as a whole.
    pub(crate) fn fail_appends(&mut self, times: usize, make: fn() -> Error) {
        self.appends = Some(Planned {
            remaining: times,
            make,
        });
    }

    /// The error of this append call, if it must fail.
    pub(crate) fn take_append_failure(&mut self) -> Option<Error> {
        self.appends.as_mut().and_then(Planned::take)
    }

    /// Messages containing `needle` are rejected with `reason`.
    pub(crate) fn reject_containing(&mut self, needle: &'static [u8], reason: String) {
        self.rejections.push((needle, reason));
    }

    /// Why a message with this body is rejected, if it is.
    pub(crate) fn rejection_of(&self, body: &[u8]) -> Option<&str> {
        self.rejections
            .iter()
            .find(|(needle, _)| {
                needle.is_empty() || body.windows(needle.len()).any(|w| w == *needle)
            })
            .map(|(_, reason)| reason.as_str())
    }

    /// The next `times` messages containing `needle` are answered as a
    /// throttling server answers one append.
    pub(crate) fn throttle_containing(&mut self, needle: &'static [u8], times: usize) {
        self.throttles.push((needle, times));
    }

    /// Whether this message is throttled, counting it down.
    pub(crate) fn take_throttle(&mut self, body: &[u8]) -> bool {
        self.throttles.iter_mut().any(|(needle, remaining)| {
            let hit = *remaining > 0
                && (needle.is_empty() || body.windows(needle.len()).any(|w| w == *needle));
            if hit {
                *remaining -= 1;
            }
            hit
        })
    }

    /// The next `times` ensures of `account` fail.
    pub(crate) fn fail_account(
        &mut self,
        account: EmailAddress,
        times: usize,
        make: fn() -> Error,
    ) {
        self.accounts.insert(
            account,
            Planned {
                remaining: times,
                make,
            },
        );
    }

    /// The error of this ensure of `account`, if it must fail.
    pub(crate) fn take_account_failure(&mut self, account: &EmailAddress) -> Option<Error> {
        self.accounts.get_mut(account).and_then(Planned::take)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn planned_failures_count_down() {
        let mut f = Faults::default();
        f.fail_appends(2, || Error::Cancelled);
        assert!(f.take_append_failure().is_some());
        assert!(f.take_append_failure().is_some());
        assert!(f.take_append_failure().is_none());
    }

    #[test]
    fn rejection_matches_a_needle_anywhere() {
        let mut f = Faults::default();
        f.reject_containing(b"VIRUS", "infected".into());
        assert_eq!(
            f.rejection_of(b"Subject: x\r\n\r\nan EICAR VIRUS here"),
            Some("infected")
        );
        assert_eq!(f.rejection_of(b"VIRU"), None);
    }
}
