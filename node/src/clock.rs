//! Time, as a parameter. Nothing in the node reads the wall clock itself:
//! the store, the local database, the service and the network task ask the
//! [`Clock`] they were given. The daemon (and the CLI) hand out
//! [`Clock::system`]; tests and the simulator hand out [`Clock::manual`] and
//! move it forward by days without sleeping, so every rule that depends on
//! dates (expiry, idle sessions, key windows, epochs) is tested exactly.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// Where the node's "now" comes from. Cheap to clone; clones of a manual
/// clock share one time.
#[derive(Debug, Clone)]
pub struct Clock(Source);

#[derive(Debug, Clone)]
enum Source {
    System,
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// The wall clock: the only place the node reads it.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// A clock that stands still at `start_ms` until moved.
    pub fn manual(start_ms: u64) -> Clock {
        Clock(Source::Manual(Arc::new(AtomicU64::new(start_ms))))
    }

    /// Milliseconds since the Unix epoch (0 if the wall clock is before it).
    pub fn now_ms(&self) -> u64 {
        match &self.0 {
            Source::System => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
            Source::Manual(ms) => ms.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward (the system clock moves by itself; this
    /// does nothing to it).
    pub fn advance(&self, by: Duration) {
        if let Source::Manual(ms) = &self.0 {
            ms.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
        }
    }

    /// Sets a manual clock (the system clock cannot be set; this does
    /// nothing to it).
    pub fn set(&self, at_ms: u64) {
        if let Source::Manual(ms) = &self.0 {
            ms.store(at_ms, Ordering::SeqCst);
        }
    }
}

/// `ms` as an RFC 3339 time in UTC to the second, for messages
/// (`2026-12-05T07:59:01Z`); the number itself if it is out of range.
pub fn utc(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_agree() {
        let clock = Clock::manual(1_000);
        let clone = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_secs(3 * 86_400));
        assert_eq!(clone.now_ms(), 1_000 + 3 * 86_400_000);
        clone.set(5);
        assert_eq!(clock.now_ms(), 5);
        assert!(Clock::system().now_ms() > 1_700_000_000_000);
    }
}
