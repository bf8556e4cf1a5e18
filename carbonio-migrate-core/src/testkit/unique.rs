//! Names that are unique per call, so every test works in a fresh namespace
//! (its own users, folders and directories) on a server other tests also use.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// A token of 8 lowercase hex digits, different on every call in this process
/// (for the first 2^32 calls) and random across processes.
///
/// The tokens are a fixed random start plus the call count times an odd
/// constant, modulo 2^32: a bijection of the count, so two calls can never get
/// the same token, yet consecutive tokens share no visible prefix.
pub fn unique_token() -> String {
    static START: OnceLock<u32> = OnceLock::new();
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let start = *START.get_or_init(rand::random::<u32>);
    let count = COUNT.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:08x}",
        start.wrapping_add(count.wrapping_mul(0x9E37_79B1))
    )
}

/// A fresh e-mail address `<prefix>-<token>@example.org` (see [`unique_token`]).
pub fn unique_address(prefix: &str) -> String {
    format!("{prefix}-{}@example.org", unique_token())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tokens_never_repeat_within_a_process() {
        let tokens: HashSet<String> = (0..10_000).map(|_| unique_token()).collect();
        assert_eq!(tokens.len(), 10_000);
        assert!(tokens.iter().all(|t| t.len() == 8
            && t.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())));
    }

    #[test]
    fn addresses_carry_the_prefix_and_domain() {
        let a = unique_address("ada");
        let b = unique_address("ada");
        assert_ne!(a, b);
        assert!(a.starts_with("ada-") && a.ends_with("@example.org"), "{a}");
        assert_eq!(a.len(), "ada-".len() + 8 + "@example.org".len());
    }
}
