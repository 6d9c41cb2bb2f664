//! The threads that run requests' store and index work, off the async runtime.
//!
//! A query holds a thread while it reads the store. Giving every request in flight its own
//! thread (tokio's blocking pool) puts many more threads than cores in the run queue: each
//! request then pays for waking a thread and for the thread switches while they share the
//! cores. This pool keeps a few threads per core busy instead. A thread that finishes takes
//! the next queued job without sleeping, so under load the threads seldom sleep or wake.
//!
//! A few threads must not mean that long queries hold up short ones. A job that has run
//! longer than [`LONG`] no longer counts against the pool's size: when only stuck threads
//! would be left for queued work, the pool starts another thread (which ends once it has
//! been idle for [`KEEP_ALIVE`]). A caller whose job has not started after [`RESCUE_AFTER`]
//! asks the pool to check again, so queued work never waits on long jobs for more than a
//! few milliseconds.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{ApiError, ApiResult};

/// A job that has run this long no longer counts as one of the pool's threads.
pub const LONG: Duration = Duration::from_millis(20);
/// How long a caller waits for its job to start before asking the pool to check again.
pub const RESCUE_AFTER: Duration = Duration::from_millis(10);
/// How long a thread beyond the pool's size stays idle before it ends.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A pool of threads for blocking work.
#[derive(Debug, Clone)]
pub struct WorkPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Threads that may run short jobs at once.
    size: usize,
    state: Mutex<State>,
    work: Condvar,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Per thread slot: when its current job started (`None`: idle, or a free slot).
    running: Vec<Option<Instant>>,
    /// Per thread slot: whether a thread holds it.
    taken: Vec<bool>,
    /// Threads alive.
    threads: usize,
    /// Threads waiting for work.
    idle: usize,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("queued", &self.queue.len())
            .field("threads", &self.threads)
            .field("idle", &self.idle)
            .finish()
    }
}

/// The default size: three threads per core, so that a thread waiting on the disk or on a
/// lock leaves the cores busy.
pub fn default_size() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 3)
}

impl WorkPool {
    /// A pool of `size` threads (at least one), started as work arrives.
    pub fn new(size: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                size: size.max(1),
                state: Mutex::default(),
                work: Condvar::new(),
            }),
        }
    }

    /// The process's pool, sized by the first call to [`WorkPool::configure`] (or
    /// [`default_size`]).
    pub fn global() -> &'static Self {
        GLOBAL.get_or_init(|| Self::new(default_size()))
    }

    /// Sizes the process's pool, unless it already exists.
    pub fn configure(size: usize) {
        let _ = GLOBAL.set(Self::new(if size == 0 { default_size() } else { size }));
    }

    /// The number of threads that run short jobs at once.
    pub fn size(&self) -> usize {
        self.inner.size
    }

    /// Threads alive now.
    pub fn threads(&self) -> usize {
        self.inner.lock().threads
    }

    /// Runs `f` on the pool and waits for its result without blocking the async runtime.
    /// A job whose caller has gone (a cancelled request) is skipped.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        // Jobs run inside the caller's runtime, as on tokio's own blocking pool: a SERVICE
        // call made by a query reaches the network through it.
        let runtime = tokio::runtime::Handle::current();
        self.submit(Box::new(move || {
            if tx.is_closed() {
                return;
            }
            let _entered = runtime.enter();
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(f))
                .unwrap_or_else(|_| Err(ApiError::Internal("a worker task panicked".to_owned())));
            let _ = tx.send(outcome);
        }));
        loop {
            match tokio::time::timeout(RESCUE_AFTER, &mut rx).await {
                Ok(result) => {
                    return result.map_err(|_| {
                        ApiError::Internal("a worker task ended without an answer".to_owned())
                    })?;
                }
                Err(_) => self.rescue(),
            }
        }
    }

    /// Waits until no job is queued or running, for at most `limit`: a server shutting down
    /// lets the work of requests whose callers left (an update, say) finish. Whether the
    /// pool went idle.
    pub fn wait_idle(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            {
                let state = self.inner.lock();
                if state.queue.is_empty() && state.running.iter().all(Option::is_none) {
                    return true;
                }
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn submit(&self, job: Job) {
        let mut state = self.inner.lock();
        state.queue.push_back(job);
        self.start_if_needed(&mut state);
    }

    /// Starts a thread when queued work would otherwise wait on long jobs.
    fn rescue(&self) {
        let mut state = self.inner.lock();
        self.start_if_needed(&mut state);
    }

    fn start_if_needed(&self, state: &mut MutexGuard<'_, State>) {
        if state.queue.is_empty() {
            return;
        }
        if state.idle >= state.queue.len() {
            self.inner.work.notify_one();
            return;
        }
        let now = Instant::now();
        let stuck = state
            .running
            .iter()
            .flatten()
            .filter(|started| now.duration_since(**started) >= LONG)
            .count();
        if state.threads.saturating_sub(stuck) >= self.inner.size {
            // Every thread that counts is busy with short work: the job waits its turn.
            if state.idle > 0 {
                self.inner.work.notify_one();
            }
            return;
        }
        let slot = match state.taken.iter().position(|t| !*t) {
            Some(free) => free,
            None => {
                state.running.push(None);
                state.taken.push(false);
                state.taken.len() - 1
            }
        };
        let inner = Arc::clone(&self.inner);
        let started = std::thread::Builder::new()
            .name("govgraph-work".to_owned())
            .spawn(move || inner.work_loop(slot));
        match started {
            Ok(_) => {
                state.threads += 1;
                state.taken[slot] = true;
            }
            Err(e) => tracing::error!(error = %e, "starting a worker thread"),
        }
    }
}

static GLOBAL: OnceLock<WorkPool> = OnceLock::new();

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn work_loop(&self, slot: usize) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                if let Some(s) = state.running.get_mut(slot) {
                    *s = Some(Instant::now());
                }
                drop(state);
                job();
                state = self.lock();
                if let Some(s) = state.running.get_mut(slot) {
                    *s = None;
                }
                continue;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(state, KEEP_ALIVE)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.queue.is_empty() && state.threads > self.size {
                state.threads -= 1;
                if let Some(t) = state.taken.get_mut(slot) {
                    *t = false;
                }
                return;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn runs_jobs_and_returns_their_results_and_errors() {
        let pool = WorkPool::new(2);
        runtime().block_on(async {
            let jobs: Vec<_> = (0..50u64)
                .map(|i| {
                    let pool = pool.clone();
                    tokio::spawn(async move { pool.run(move || Ok(i * 2)).await })
                })
                .collect();
            for (i, j) in jobs.into_iter().enumerate() {
                assert_eq!(j.await.unwrap().unwrap(), i as u64 * 2);
            }
            let e = pool
                .run(|| -> ApiResult<()> { Err(ApiError::BadRequest("no".into())) })
                .await
                .unwrap_err();
            assert!(matches!(e, ApiError::BadRequest(_)), "{e:?}");
        });
        assert!(pool.threads() <= 2, "{} threads", pool.threads());
    }

    #[test]
    fn jobs_run_inside_the_callers_runtime() {
        let pool = WorkPool::new(1);
        runtime().block_on(async {
            let inside = pool
                .run(|| Ok(tokio::runtime::Handle::try_current().is_ok()))
                .await
                .unwrap();
            assert!(inside);
        });
    }

    #[test]
    fn a_panicking_job_is_an_error_and_the_pool_works_on() {
        let pool = WorkPool::new(1);
        runtime().block_on(async {
            let e = pool
                .run(|| -> ApiResult<()> { panic!("boom") })
                .await
                .unwrap_err();
            assert!(matches!(e, ApiError::Internal(_)), "{e:?}");
            for i in 0..10 {
                assert_eq!(pool.run(move || Ok(i)).await.unwrap(), i);
            }
        });
    }

    #[test]
    fn long_jobs_do_not_hold_up_short_ones() {
        // One thread, busy with a job that runs until the short one has finished.
        let pool = WorkPool::new(1);
        let short_done = Arc::new(AtomicUsize::new(0));
        runtime().block_on(async {
            let flag = Arc::clone(&short_done);
            let long = {
                let pool = pool.clone();
                tokio::spawn(async move {
                    pool.run(move || {
                        let started = Instant::now();
                        while flag.load(Ordering::SeqCst) == 0 {
                            assert!(
                                started.elapsed() < Duration::from_secs(20),
                                "the short job never ran"
                            );
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        Ok(())
                    })
                    .await
                })
            };
            tokio::time::sleep(LONG * 2).await;
            let flag = Arc::clone(&short_done);
            pool.run(move || {
                flag.store(1, Ordering::SeqCst);
                Ok(())
            })
            .await
            .unwrap();
            long.await.unwrap().unwrap();
        });
        assert_eq!(short_done.load(Ordering::SeqCst), 1);
        assert!(pool.threads() >= 2, "a second thread was started");
    }

    #[test]
    fn a_job_whose_caller_left_is_skipped() {
        let pool = WorkPool::new(1);
        let ran = Arc::new(AtomicUsize::new(0));
        runtime().block_on(async {
            // Hold the only thread so the next job queues.
            let (release, held) = std::sync::mpsc::channel::<()>();
            let blocker = {
                let pool = pool.clone();
                tokio::spawn(async move {
                    pool.run(move || {
                        let _ = held.recv();
                        Ok(())
                    })
                    .await
                })
            };
            tokio::time::sleep(Duration::from_millis(5)).await;
            let counter = Arc::clone(&ran);
            let waiting = {
                let pool = pool.clone();
                tokio::spawn(async move {
                    pool.run(move || {
                        counter.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
                })
            };
            tokio::time::sleep(Duration::from_millis(2)).await;
            waiting.abort();
            let _ = waiting.await;
            assert!(
                !pool.wait_idle(Duration::from_millis(20)),
                "a job still holds the pool"
            );
            release.send(()).unwrap();
            blocker.await.unwrap().unwrap();
            assert!(pool.wait_idle(Duration::from_secs(5)));
            // A job after it runs: the queue has moved past the skipped one.
            assert_eq!(pool.run(|| Ok(1)).await.unwrap(), 1);
        });
        assert_eq!(
            ran.load(Ordering::SeqCst),
            0,
            "the abandoned job did not run"
        );
    }
}
