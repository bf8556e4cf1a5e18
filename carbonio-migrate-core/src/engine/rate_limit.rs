//! Messages-per-second and bytes-per-second limits for a whole run.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A token bucket per unit (messages, bytes), refilled continuously at the
/// configured rate and holding at most one second of it. A request larger than
/// the bucket is let through once the bucket is full and leaves it in debt, so
/// a single huge message is delayed, never refused.
#[derive(Debug)]
pub struct RateLimiter {
    messages_per_second: Option<f64>,
    bytes_per_second: Option<f64>,
    state: Mutex<Buckets>,
}

#[derive(Debug)]
struct Buckets {
    messages: f64,
    bytes: f64,
    refilled: Instant,
}

impl RateLimiter {
    /// A limiter; `None` means unlimited for that unit.
    pub fn new(messages_per_second: Option<f64>, bytes_per_second: Option<f64>) -> Self {
        let positive = |v: Option<f64>| v.filter(|r| *r > 0.0 && r.is_finite());
        let (m, b) = (positive(messages_per_second), positive(bytes_per_second));
        RateLimiter {
            messages_per_second: m,
            bytes_per_second: b,
            state: Mutex::new(Buckets {
                messages: m.unwrap_or(0.0),
                bytes: b.unwrap_or(0.0),
                refilled: Instant::now(),
            }),
        }
    }

    /// True when neither unit is limited.
    pub fn is_unlimited(&self) -> bool {
        self.messages_per_second.is_none() && self.bytes_per_second.is_none()
    }

    /// Waits until `messages` and `bytes` may be sent, then takes them.
    pub async fn acquire(&self, messages: u64, bytes: u64) {
        if self.is_unlimited() {
            return;
        }
        loop {
            let wait = {
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let elapsed = now.duration_since(s.refilled).as_secs_f64();
                s.refilled = now;
                let mut wait = 0.0f64;
                if let Some(rate) = self.messages_per_second {
                    s.messages = (s.messages + elapsed * rate).min(rate);
                    let need = (messages as f64).min(rate);
                    if s.messages < need {
                        wait = wait.max((need - s.messages) / rate);
                    }
                }
                if let Some(rate) = self.bytes_per_second {
                    s.bytes = (s.bytes + elapsed * rate).min(rate);
                    let need = (bytes as f64).min(rate);
                    if s.bytes < need {
                        wait = wait.max((need - s.bytes) / rate);
                    }
                }
                if wait <= 0.0 {
                    if self.messages_per_second.is_some() {
                        s.messages -= messages as f64;
                    }
                    if self.bytes_per_second.is_some() {
                        s.bytes -= bytes as f64;
                    }
                    return;
                }
                wait
            };
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn messages_per_second_spread_over_time() {
        let limiter = RateLimiter::new(Some(10.0), None);
        let start = Instant::now();
        for _ in 0..30 {
            limiter.acquire(1, 1_000_000).await;
        }
        // A full bucket of 10 at once, then 20 more at 10 per second.
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(1900) && took <= Duration::from_millis(2100),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_per_second_and_a_request_bigger_than_the_bucket() {
        let limiter = RateLimiter::new(None, Some(1000.0));
        let start = Instant::now();
        limiter.acquire(1, 5000).await; // passes at once, leaves a debt of 4 s
        limiter.acquire(1, 1000).await;
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(4900) && took <= Duration::from_millis(5100),
            "{took:?}"
        );
        assert!(RateLimiter::new(None, None).is_unlimited());
    }
}
