//! A search index kept in step with a running store.
//!
//! Writers call [`LiveIndex::changed`] after they commit; a background thread then syncs the
//! index (only the changed sources' entities) and searches see the change. The thread also
//! syncs on a timer, as a safety net. Searches share a read lock; a sync holds the lock
//! exclusively while it runs, which for a few changed sources is milliseconds.

use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use govgraph_graph::GraphStore;

use crate::error::{Error, Result};
use crate::{SearchIndex, SearchRequest, SearchResponse, SyncReport};

#[derive(Debug, Default)]
struct Signal {
    /// Writes announced.
    requested: u64,
    /// Writes whose changes the index has.
    done: u64,
    stop: bool,
}

struct Shared {
    index: RwLock<SearchIndex>,
    store: Arc<GraphStore>,
    signal: Mutex<Signal>,
    wake: Condvar,
    on_sync: Box<dyn Fn(&SyncReport) + Send + Sync>,
}

/// The index and its sync thread.
pub struct LiveIndex {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for LiveIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveIndex").finish_non_exhaustive()
    }
}

fn poisoned() -> Error {
    Error::Invalid {
        field: "search",
        message: "the search index lock is poisoned".into(),
    }
}

impl LiveIndex {
    /// Syncs `index` with `store` (the startup check: whatever is missing or stale is
    /// rebuilt), then starts the thread that keeps it in step, waking on every
    /// [`LiveIndex::changed`] and at least every `period`. `on_sync` hears of each sync that
    /// did something.
    pub fn start(
        store: Arc<GraphStore>,
        mut index: SearchIndex,
        period: Duration,
        on_sync: impl Fn(&SyncReport) + Send + Sync + 'static,
    ) -> Result<Self> {
        let report = index.sync(&store)?;
        on_sync(&report);
        let shared = Arc::new(Shared {
            index: RwLock::new(index),
            store,
            signal: Mutex::new(Signal::default()),
            wake: Condvar::new(),
            on_sync: Box::new(on_sync),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("search-sync".into())
            .spawn(move || run(&worker, period))
            .map_err(Error::Io)?;
        Ok(Self {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Announces a committed change.
    pub fn changed(&self) {
        let mut s = match self.shared.signal.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        s.requested += 1;
        self.shared.wake.notify_all();
    }

    /// Announces a committed change and waits, at most `timeout`, until the index has it, so
    /// that the writer's next read through search sees its own write. Returns whether the
    /// index caught up in time (the change still reaches it later if not).
    pub fn changed_and_wait(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut s = match self.shared.signal.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        s.requested += 1;
        let mine = s.requested;
        self.shared.wake.notify_all();
        while s.done < mine && !s.stop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            s = match self.shared.wake.wait_timeout(s, left) {
                Ok((s, _)) => s,
                Err(p) => p.into_inner().0,
            };
        }
        s.done >= mine
    }

    /// Runs a search.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse> {
        self.shared
            .index
            .read()
            .map_err(|_| poisoned())?
            .search(request)
    }

    /// Runs `f` on the index, under the shared lock.
    pub fn with_index<T>(&self, f: impl FnOnce(&SearchIndex) -> T) -> Result<T> {
        Ok(f(&*self.shared.index.read().map_err(|_| poisoned())?))
    }

    /// Stops the thread after its current sync.
    pub fn stop(&self) {
        if let Ok(mut s) = self.shared.signal.lock() {
            s.stop = true;
            self.shared.wake.notify_all();
        }
        if let Ok(mut t) = self.thread.lock()
            && let Some(handle) = t.take()
        {
            let _ = handle.join();
        }
    }
}

impl Drop for LiveIndex {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(shared: &Shared, period: Duration) {
    loop {
        let target = {
            let mut s = match shared.signal.lock() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            // A writer's wake-up or one of this thread's own notifications may arrive while
            // nothing is pending: keep waiting then, until the period ends.
            let until = std::time::Instant::now() + period;
            while s.requested == s.done && !s.stop {
                let left = until.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                s = match shared.wake.wait_timeout(s, left) {
                    Ok((s, _)) => s,
                    Err(p) => p.into_inner().0,
                };
            }
            if s.stop {
                return;
            }
            s.requested
        };
        let outcome = match shared.index.write() {
            Ok(mut index) => index.sync(&shared.store),
            Err(_) => Err(poisoned()),
        };
        match outcome {
            Ok(report) => {
                if report.mode != "unchanged" {
                    (shared.on_sync)(&report);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "search sync failed; retrying on the next change")
            }
        }
        if let Ok(mut s) = shared.signal.lock() {
            s.done = s.done.max(target);
            // Writers may be waiting for their change (`changed_and_wait`).
            shared.wake.notify_all();
        }
    }
}
