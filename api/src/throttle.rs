//! Rate limits per principal (token buckets) and the global cap on concurrent work.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, ApiResult};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per principal: `per_minute` requests a minute, with bursts of as many.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests a minute per principal (0: unlimited).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::default(),
        }
    }

    /// Takes one token for `who`, or says how many seconds to wait.
    pub fn check(&self, who: &str) -> ApiResult<()> {
        self.check_at(who, Instant::now())
    }

    fn check_at(&self, who: &str, now: Instant) -> ApiResult<()> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let rate = capacity / 60.0;
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| ApiError::Internal("rate limiter lock poisoned".into()))?;
        let b = buckets.entry(who.to_owned()).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(capacity);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - b.tokens) / rate).ceil().max(1.0);
            Err(ApiError::TooManyRequests(wait as u64))
        }
    }
}

/// At most `max` pieces of heavy work (queries, updates, searches) at once; the rest wait up
/// to `queue_timeout`, then are turned away with 503.
#[derive(Debug)]
pub struct Slots {
    semaphore: std::sync::Arc<Semaphore>,
    queue_timeout: Duration,
}

impl Slots {
    /// `max` slots.
    pub fn new(max: usize, queue_timeout: Duration) -> Self {
        Self {
            semaphore: std::sync::Arc::new(Semaphore::new(max.max(1))),
            queue_timeout,
        }
    }

    /// Waits for a slot.
    pub async fn acquire(&self) -> ApiResult<OwnedSemaphorePermit> {
        match tokio::time::timeout(self.queue_timeout, self.semaphore.clone().acquire_owned()).await
        {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(ApiError::Unavailable("the server is shutting down".into())),
            Err(_) => Err(ApiError::Unavailable(
                "every query slot is busy; try again shortly".into(),
            )),
        }
    }

    /// Slots free now.
    pub fn available(&self) -> usize {
        self.semaphore.available_permits()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_and_are_per_principal() {
        let r = RateLimiter::new(2);
        let t0 = Instant::now();
        assert!(r.check_at("a", t0).is_ok());
        assert!(r.check_at("a", t0).is_ok());
        match r.check_at("a", t0) {
            Err(ApiError::TooManyRequests(s)) => assert_eq!(s, 30),
            other => panic!("{other:?}"),
        }
        assert!(
            r.check_at("b", t0).is_ok(),
            "another principal has its own bucket"
        );
        assert!(r.check_at("a", t0 + Duration::from_secs(31)).is_ok());
        assert!(RateLimiter::new(0).check_at("a", t0).is_ok());
    }

    #[tokio::test]
    async fn slots_turn_away_after_the_queue_timeout() {
        let s = Slots::new(1, Duration::from_millis(20));
        let held = s.acquire().await.unwrap();
        assert!(matches!(s.acquire().await, Err(ApiError::Unavailable(_))));
        drop(held);
        assert!(s.acquire().await.is_ok());
    }
}
