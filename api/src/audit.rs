//! The audit log: one JSON line per request (who, what, which resource, the decision, the
//! time), appended by one writer thread, never rewritten.
//!
//! Handlers never wait on the disk: records go through a channel to the writer, which
//! writes what has queued in one system call, at most 10 ms after it was queued. Shutting
//! down drains the channel before the process exits.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};

/// One audited request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    /// When the request finished (UTC, `xsd:dateTime`).
    pub time: String,
    /// The request id (also in the `x-request-id` response header).
    pub request_id: String,
    /// Who made it (`anonymous` when the server has no keys; `-` when unauthenticated).
    pub principal: String,
    /// The principal's tenant, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tenant: Option<String>,
    /// What was asked: `sparql.query`, `sparql.update`, `rest.read`, `search`, `audit.read`...
    pub action: String,
    /// The HTTP method.
    pub method: String,
    /// The resource: the path, with its query string.
    pub resource: String,
    /// `allow` or `deny`.
    pub decision: String,
    /// The HTTP status answered.
    pub status: u16,
    /// Wall time in milliseconds.
    pub duration_ms: f64,
    /// Why a request was denied or failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// What the handler adds: for questions, the question, the role, how it was read and
    /// every tool call.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

/// Which records to read.
#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only this principal's requests.
    pub principal: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only `allow` or `deny`.
    pub decision: Option<String>,
    /// Only records at or after this time (`xsd:dateTime`).
    pub since: Option<String>,
    /// Only records before this time.
    pub until: Option<String>,
}

impl AuditFilter {
    fn matches(&self, r: &AuditRecord) -> bool {
        self.principal.as_ref().is_none_or(|p| &r.principal == p)
            && self.action.as_ref().is_none_or(|a| &r.action == a)
            && self.decision.as_ref().is_none_or(|d| &r.decision == d)
            && self
                .since
                .as_ref()
                .is_none_or(|s| r.time.as_str() >= s.as_str())
            && self
                .until
                .as_ref()
                .is_none_or(|u| r.time.as_str() < u.as_str())
    }
}

/// The log.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    sender: Mutex<Option<Sender<AuditRecord>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl AuditLog {
    /// Opens (creating) the log at `path` and starts its writer.
    pub fn open(path: &Path) -> ApiResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| ApiError::Config(format!("audit log {}: {e}", dir.display())))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| ApiError::Config(format!("audit log {}: {e}", path.display())))?;
        let (sender, receiver) = channel();
        let writer = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || write_loop(file, receiver))
            .map_err(|e| ApiError::Config(format!("audit writer: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            sender: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues a record. Never blocks on the disk.
    pub fn record(&self, record: AuditRecord) {
        if let Ok(guard) = self.sender.lock()
            && let Some(s) = guard.as_ref()
            && s.send(record).is_err()
        {
            tracing::error!("the audit writer has stopped");
        }
    }

    /// Writes out everything queued and stops the writer.
    pub fn close(&self) {
        if let Ok(mut s) = self.sender.lock() {
            s.take();
        }
        if let Ok(mut w) = self.writer.lock()
            && let Some(handle) = w.take()
        {
            let _ = handle.join();
        }
    }

    /// Reads records, newest first: `offset` and `limit` page through those that match.
    /// Returns the page and how many match in all. Blocking: run it on the blocking pool.
    pub fn query(
        &self,
        filter: &AuditFilter,
        offset: usize,
        limit: usize,
    ) -> ApiResult<(Vec<AuditRecord>, usize)> {
        read_records(&self.path, filter, offset, limit)
    }
}

/// Reads an audit log file, newest first.
pub fn read_records(
    path: &Path,
    filter: &AuditFilter,
    offset: usize,
    limit: usize,
) -> ApiResult<(Vec<AuditRecord>, usize)> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(ApiError::Internal(format!("{}: {e}", path.display()))),
    };
    let mut all = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<AuditRecord>(&line) {
            Ok(r) if filter.matches(&r) => all.push(r),
            Ok(_) => {}
            // A torn last line (a crash mid-write) is skipped, not fatal.
            Err(e) => tracing::warn!(line = i + 1, error = %e, "unreadable audit record"),
        }
    }
    let total = all.len();
    all.reverse();
    Ok((all.into_iter().skip(offset).take(limit).collect(), total))
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        self.close();
    }
}

/// How long the writer lets records gather after a write.
const GATHER: std::time::Duration = std::time::Duration::from_millis(10);

fn write_loop(mut file: std::fs::File, receiver: Receiver<AuditRecord>) {
    let mut batch = Vec::with_capacity(64 << 10);
    while let Ok(first) = receiver.recv() {
        // Whatever else is queued goes out in the same write: one system call per batch.
        batch.clear();
        for record in std::iter::once(first).chain(receiver.try_iter().take(4096)) {
            match serde_json::to_writer(&mut batch, &record) {
                Ok(()) => batch.push(b'\n'),
                Err(e) => tracing::error!(error = %e, "audit record not serialisable"),
            }
        }
        // Whole lines only, on an O_APPEND file: lines never interleave.
        if let Err(e) = file.write_all(&batch).and_then(|()| file.flush()) {
            tracing::error!(error = %e, "writing the audit log failed");
        }
        // Under load, records gather for a moment and go out together; a writer that is
        // not waiting on the channel is not woken by every request. An idle log still
        // writes a record as soon as it arrives.
        std::thread::sleep(GATHER);
    }
    let _ = file.sync_all();
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn rec(principal: &str, decision: &str, time: &str) -> AuditRecord {
        AuditRecord {
            time: time.into(),
            request_id: "r".into(),
            principal: principal.into(),
            tenant: None,
            action: "sparql.query".into(),
            method: "GET".into(),
            resource: "/sparql".into(),
            decision: decision.into(),
            status: 200,
            duration_ms: 1.0,
            reason: None,
            detail: None,
        }
    }

    #[test]
    fn records_append_and_filter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.record(rec("ada", "allow", "2026-01-01T00:00:00Z"));
        log.record(rec("bob", "deny", "2026-01-02T00:00:00Z"));
        log.record(rec("ada", "deny", "2026-01-03T00:00:00Z"));
        log.close();
        let (all, total) = log.query(&AuditFilter::default(), 0, 10).unwrap();
        assert_eq!(total, 3);
        assert_eq!(all[0].time, "2026-01-03T00:00:00Z", "newest first");
        let f = AuditFilter {
            principal: Some("ada".into()),
            decision: Some("deny".into()),
            ..AuditFilter::default()
        };
        assert_eq!(log.query(&f, 0, 10).unwrap().1, 1);
        let f = AuditFilter {
            since: Some("2026-01-02T00:00:00Z".into()),
            ..AuditFilter::default()
        };
        assert_eq!(log.query(&f, 0, 10).unwrap().1, 2);
        // Reopening appends; nothing is lost.
        let again = AuditLog::open(&path).unwrap();
        again.record(rec("eve", "allow", "2026-01-04T00:00:00Z"));
        again.close();
        assert_eq!(again.query(&AuditFilter::default(), 0, 10).unwrap().1, 4);
    }
}
