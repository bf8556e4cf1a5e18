//! Exponential backoff with jitter for transient errors.

use std::time::Duration;

use rand::Rng;

/// How often and how patiently an item is retried after a transient error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Delay before the second attempt; it doubles at each attempt.
    pub base: Duration,
    /// The delay never exceeds this.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt number `attempt` (1-based): a random value
    /// between half and all of `base * 2^(attempt-1)`, capped at `max`. The
    /// randomness keeps many accounts that failed together from retrying together.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let ceiling = exp.min(self.max);
        let nanos = ceiling.as_nanos().min(u64::MAX as u128) as u64;
        let jittered = rand::rng().random_range(nanos / 2..=nanos.max(1));
        Duration::from_nanos(jittered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for _ in 0..100 {
            let d1 = p.delay(1);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d3 = p.delay(3);
            assert!(
                d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400),
                "{d3:?}"
            );
            assert!(p.delay(9) <= Duration::from_secs(1));
        }
    }
}
