//! Request metrics in the Prometheus text format, served at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BOUNDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BOUNDS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (slot, bound) in self.buckets.iter_mut().zip(BOUNDS) {
            if secs <= bound {
                *slot += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(&'static str, String, u16), u64>,
    durations: BTreeMap<&'static str, Histogram>,
}

/// The server's counters.
#[derive(Debug)]
pub struct Metrics {
    inner: Mutex<Inner>,
    in_flight: AtomicI64,
    rate_limited: AtomicU64,
    saturated: AtomicU64,
    search_syncs: AtomicU64,
    search_documents: AtomicU64,
    started: Instant,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            in_flight: AtomicI64::new(0),
            rate_limited: AtomicU64::new(0),
            saturated: AtomicU64::new(0),
            search_syncs: AtomicU64::new(0),
            search_documents: AtomicU64::new(0),
            started: Instant::now(),
        }
    }
}

/// Decrements the in-flight gauge when dropped.
#[derive(Debug)]
pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Counts a request as running until the guard drops.
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Records a finished request. `route` is the matched route pattern, never the raw path,
    /// so the label set stays small.
    pub fn observe(&self, route: &'static str, method: &str, status: u16, elapsed: Duration) {
        if let Ok(mut inner) = self.inner.lock() {
            *inner
                .requests
                .entry((route, method.to_owned(), status))
                .or_default() += 1;
            inner
                .durations
                .entry(route)
                .or_default()
                .observe(elapsed.as_secs_f64());
        }
    }

    /// Counts a request turned away by the rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request turned away because every slot stayed busy.
    pub fn saturated(&self) {
        self.saturated.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a search index sync and the index size after it.
    pub fn search_synced(&self, documents: u64) {
        self.search_syncs.fetch_add(1, Ordering::Relaxed);
        self.search_documents.store(documents, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let inner = match self.inner.lock() {
            Ok(i) => i,
            Err(p) => p.into_inner(),
        };
        let _ = writeln!(
            out,
            "# HELP govgraph_http_requests_total HTTP requests answered.\n# TYPE govgraph_http_requests_total counter"
        );
        for ((route, method, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "govgraph_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP govgraph_http_request_duration_seconds Time to answer HTTP requests.\n# TYPE govgraph_http_request_duration_seconds histogram"
        );
        for (route, h) in &inner.durations {
            for (bound, n) in BOUNDS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "govgraph_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "govgraph_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 govgraph_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 govgraph_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        for (name, help, kind, value) in [
            (
                "govgraph_http_requests_in_flight",
                "HTTP requests being answered.",
                "gauge",
                self.in_flight.load(Ordering::Relaxed).to_string(),
            ),
            (
                "govgraph_rate_limited_total",
                "Requests refused by the per-principal rate limit.",
                "counter",
                self.rate_limited.load(Ordering::Relaxed).to_string(),
            ),
            (
                "govgraph_saturated_total",
                "Requests refused because every query slot stayed busy.",
                "counter",
                self.saturated.load(Ordering::Relaxed).to_string(),
            ),
            (
                "govgraph_search_syncs_total",
                "Search index syncs with the store.",
                "counter",
                self.search_syncs.load(Ordering::Relaxed).to_string(),
            ),
            (
                "govgraph_search_documents",
                "Documents in the search index.",
                "gauge",
                self.search_documents.load(Ordering::Relaxed).to_string(),
            ),
            (
                "govgraph_uptime_seconds",
                "Seconds since the server started.",
                "gauge",
                format!("{:.3}", self.started.elapsed().as_secs_f64()),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_and_buckets() {
        let m = Metrics::default();
        m.observe("/sparql", "GET", 200, Duration::from_millis(3));
        m.observe("/sparql", "GET", 200, Duration::from_millis(300));
        m.rate_limited();
        let text = m.render();
        assert!(text.contains(
            "govgraph_http_requests_total{route=\"/sparql\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "govgraph_http_request_duration_seconds_bucket{route=\"/sparql\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "govgraph_http_request_duration_seconds_bucket{route=\"/sparql\",le=\"0.5\"} 2"
        ));
        assert!(text.contains("govgraph_rate_limited_total 1"));
    }
}
