//! Helpers for end-to-end tests that run the real `govgraph` binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_govgraph")
}

pub fn data_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Runs `govgraph --data DIR ARGS...` to completion.
pub fn govgraph(data: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("GOVGRAPH_DATA")
        .output()
        .expect("the govgraph binary runs")
}

pub fn ok(data: &Path, args: &[&str]) -> String {
    let out = govgraph(data, args);
    assert!(
        out.status.success(),
        "govgraph {args:?} failed ({}): {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs a counting query (`SELECT (COUNT(...) AS ?n)`) and returns n.
pub fn count(data: &Path, query: &str) -> u64 {
    let csv = ok(data, &["sparql", query, "--format", "csv"]);
    csv.lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in {csv:?}"))
}

/// A server started in the background, killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub banner: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(clippy::zombie_processes)] // the Server guard kills and waits
/// Starts `govgraph --data DIR ARGS... --addr 127.0.0.1:0` and waits for the line that
/// names the bound address.
pub fn spawn_server(data: &Path, args: &[&str]) -> Server {
    spawn_server_with_env(data, args, &[])
}

#[allow(clippy::zombie_processes)] // the Server guard kills and waits
/// [`spawn_server`] with extra environment variables.
pub fn spawn_server_with_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .env_remove("GOVGRAPH_API_KEYS")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn govgraph");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut banner = String::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("read banner");
        assert!(
            n > 0,
            "server exited before serving; output so far:\n{banner}"
        );
        banner.push_str(&line);
        if let Some(rest) = line.split("http://").nth(1) {
            let addr = rest.split('/').next().unwrap_or_default();
            if let Ok(addr) = addr.parse() {
                // Keep draining stdout so the server never blocks on a full pipe.
                std::thread::spawn(move || {
                    let mut sink = Vec::new();
                    let _ = reader.read_to_end(&mut sink);
                });
                return Server {
                    child,
                    addr,
                    banner,
                };
            }
        }
        assert!(Instant::now() < deadline, "no address in banner:\n{banner}");
    }
}

/// A minimal HTTP/1.1 client: one request, `Connection: close`, returns status, headers
/// (lower-cased names) and body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).expect("send");
    stream.write_all(body).expect("send body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("a full response");
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, headers, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Runs `sql` with psql against `url`, failing the test on an error.
pub fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
