//! Connecting: the URL, the password and where it comes from, timeouts, the server's flavour,
//! and the errors of connecting, with credentials kept out of every message and location.

use std::str::FromStr;

use postgres::config::Host;
use postgres::{Client, Config, NoTls};

use super::{Flavor, PostgresOptions};
use crate::error::{Error, Result};

/// The environment variable a password is read from when neither the options nor the URL
/// give one.
pub(super) const PASSWORD_ENV: &str = "PGPASSWORD";

/// The application name the connector announces to the server (`pg_stat_activity`).
const APPLICATION_NAME: &str = "govgraph";

/// A parsed connection target: the client settings, the password-free location and the
/// parts the default system key is made of.
pub(super) struct Target {
    /// The client settings, password included once resolved.
    pub config: Config,
    /// The URL without credentials: `postgres://user@host:port/db`.
    pub location: String,
    /// The first host (a name, an address or a socket directory).
    pub host: String,
    /// The first port.
    pub port: u16,
    /// The database (the user name when the URL names none, as the server assumes).
    pub database: String,
    /// The password, kept only to scrub it from messages.
    secret: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("location", &self.location)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

/// The location of a connection string without its credentials: `postgres://user@host:port/db`
/// for anything the client can parse, `postgres://(invalid connection string)` otherwise.
pub fn location(url: &str) -> String {
    match Config::from_str(url) {
        Ok(config) => location_of(&config),
        Err(_) => "postgres://(invalid connection string)".to_owned(),
    }
}

/// Rebuilds a URL from parsed settings, leaving the password and every parameter out.
fn location_of(config: &Config) -> String {
    let mut out = String::from("postgres://");
    if let Some(user) = config.get_user() {
        out.push_str(user);
        out.push('@');
    }
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = host_name(h);
            let host = if host.contains(':') && !host.starts_with('/') {
                format!("[{host}]")
            } else {
                host
            };
            match ports.get(i).or_else(|| ports.first()) {
                Some(port) => format!("{host}:{port}"),
                None => format!("{host}:5432"),
            }
        })
        .collect();
    out.push_str(&hosts.join(","));
    if let Some(db) = config.get_dbname() {
        out.push('/');
        out.push_str(db);
    }
    out
}

fn host_name(host: &Host) -> String {
    match host {
        Host::Tcp(name) => name.clone(),
        #[cfg(unix)]
        Host::Unix(path) => path.display().to_string(),
    }
}

/// Parses the URL, resolves the password (the options' `password_file`, then the URL, then
/// `env_password`, the value of `PGPASSWORD`) and applies the connector's timeouts.
pub(super) fn target(options: &PostgresOptions, env_password: Option<String>) -> Result<Target> {
    let mut config = Config::from_str(&options.url).map_err(|e| Error::Invalid {
        location: location(&options.url),
        field: "url".to_owned(),
        message: format!(
            "not a PostgreSQL connection string ({}); expected postgres://user@host:port/database",
            error_chain(&e)
        ),
    })?;
    let location = location_of(&config);
    if config.get_hosts().is_empty() {
        return Err(Error::Invalid {
            location,
            field: "url".to_owned(),
            message: "names no host; expected postgres://user@host:port/database".to_owned(),
        });
    }
    if config.get_user().is_none() {
        return Err(Error::Invalid {
            location,
            field: "url".to_owned(),
            message: "names no user; expected postgres://user@host:port/database".to_owned(),
        });
    }
    let from_url = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let secret = match &options.password_file {
        Some(path) => Some(read_password_file(path)?),
        None => from_url.or(env_password.filter(|p| !p.is_empty())),
    };
    if let Some(secret) = &secret {
        config.password(secret.as_bytes());
    }
    config.connect_timeout(options.connect_timeout);
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }
    let host = config
        .get_hosts()
        .first()
        .map(host_name)
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or_default()
        .to_owned();
    Ok(Target {
        config,
        location,
        host,
        port,
        database,
        secret,
    })
}

/// Reads a secrets file: its content without the trailing line break.
fn read_password_file(path: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Source {
        location: path.display().to_string(),
        message: format!("cannot read the password file: {e}"),
    })?;
    let password = text.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(Error::Invalid {
            location: path.display().to_string(),
            field: "password_file".to_owned(),
            message: "the password file is empty".to_owned(),
        });
    }
    Ok(password.to_owned())
}

/// The default system key: the first host and the database, with the port when it is not
/// 5432, slugged (`db.example.com-sales`, `127.0.0.1-5433-test`).
pub(super) fn default_system(target: &Target) -> String {
    let host = if target.host.starts_with('/') {
        "local"
    } else {
        target.host.as_str()
    };
    let raw = if target.port == 5432 {
        format!("{host}-{}", target.database)
    } else {
        format!("{host}-{}-{}", target.port, target.database)
    };
    govgraph_graph::iri::slug(&raw)
}

impl Target {
    /// `message` with the password replaced by `***`, in case a server or library echoed it.
    pub fn scrub(&self, message: &str) -> String {
        match &self.secret {
            Some(s) if !s.is_empty() => message.replace(s.as_str(), "***"),
            _ => message.to_owned(),
        }
    }

    /// Connects. A refused connection, a timeout or a server that cannot take the
    /// connection yet is [`Error::Unreachable`]; everything else (authentication, a missing
    /// database) is [`Error::Source`].
    pub fn connect(&self) -> Result<Client> {
        tracing::debug!(location = %self.location, "connecting");
        self.config
            .connect(NoTls)
            .map_err(|e| self.error("connecting", &e))
    }

    /// A client error as the connector's error, classified and scrubbed.
    pub fn error(&self, doing: &str, e: &postgres::Error) -> Error {
        let message = self.scrub(&format!("{doing}: {}", error_chain(e)));
        if unreachable(e) {
            Error::Unreachable {
                location: self.location.clone(),
                message,
            }
        } else {
            Error::Source {
                location: self.location.clone(),
                message,
            }
        }
    }
}

/// Whether an error means the server could not be reached (and a later attempt may work).
fn unreachable(e: &postgres::Error) -> bool {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        // Class 08: connection exception; 57P03: cannot connect now; 53300: too many
        // connections.
        return code.starts_with("08") || code == "57P03" || code == "53300";
    }
    if e.is_closed() {
        return true;
    }
    let head = e.to_string();
    head.starts_with("error connecting to server")
        || head.starts_with("timeout waiting for server")
        || head.starts_with("error communicating with the server")
}

/// An error and its causes, one after the other; a server error as `SEVERITY: message (code)`.
pub(super) fn error_chain(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut out = format!("{}: {} ({})", db.severity(), db.message(), db.code().code());
        if let Some(detail) = db.detail() {
            out.push_str("; ");
            out.push_str(detail);
        }
        return out;
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The server's flavour from `SELECT version()`.
pub fn detect_flavor(version: &str) -> Flavor {
    if version.to_ascii_lowercase().contains("redshift") {
        Flavor::Redshift
    } else {
        Flavor::Postgres
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn options(url: &str) -> PostgresOptions {
        PostgresOptions::new(url)
    }

    #[test]
    fn the_password_comes_from_the_file_then_the_url_then_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();

        let url = "postgres://u:from-url@h:5432/db";
        let t = target(&options(url), Some("from-env".into())).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"from-url"[..]));

        let t = target(&options("postgres://u@h/db"), Some("from-env".into())).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"from-env"[..]));

        let mut o = options(url);
        o.password_file = Some(file);
        let t = target(&o, Some("from-env".into())).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"from-file"[..]));
        assert_eq!(t.scrub("x from-file y"), "x *** y");

        let t = target(&options("postgres://u@h/db"), Some(String::new())).unwrap();
        assert_eq!(t.config.get_password(), None);
    }

    #[test]
    fn locations_never_hold_the_password() {
        assert_eq!(
            location("postgres://alice:s3cret@db.example.com:5433/sales?sslmode=disable"),
            "postgres://alice@db.example.com:5433/sales"
        );
        assert_eq!(
            location("host=h port=6000 user=u password=s3cret dbname=d"),
            "postgres://u@h:6000/d"
        );
        assert_eq!(
            location("postgres://u@h/d?password=s3cret"),
            "postgres://u@h:5432/d"
        );
        assert!(!location("postgres://u:s3cret@h:notaport/d").contains("s3cret"));
    }

    #[test]
    fn the_default_system_is_host_port_and_database() {
        let t = target(&options("postgres://u@127.0.0.1:5432/test"), None).unwrap();
        assert_eq!(default_system(&t), "127.0.0.1-test");
        let t = target(&options("postgres://u@DB.Example.com:5433/Sales"), None).unwrap();
        assert_eq!(default_system(&t), "db.example.com-5433-sales");
        let t = target(&options("postgres://u@h"), None).unwrap();
        assert_eq!(t.database, "u");
    }

    #[test]
    fn flavours_come_from_the_version_string() {
        assert_eq!(
            detect_flavor(
                "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 (Red Hat 3.4.2-6.fc3), Redshift 1.0.77467"
            ),
            Flavor::Redshift
        );
        assert_eq!(
            detect_flavor("PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu"),
            Flavor::Postgres
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(url in ".{0,80}") {
            let _ = location(&url);
            let _ = target(&options(&url), None);
        }

        #[test]
        fn passwords_never_reach_locations_or_errors(
            user in "[a-z]{1,8}",
            password in "Zq[A-Za-z0-9!#$%&*+,;=~-]{6,16}",
            host in "[a-z]{1,10}(\\.[a-z]{1,5})?",
            port in proptest::option::of(0u32..70000),
            db in proptest::option::of("[a-z_]{1,8}"),
            in_query in proptest::bool::ANY,
        ) {
            let port = port.map(|p| format!(":{}", p)).unwrap_or_default();
            let db = db.map(|d| format!("/{}", d)).unwrap_or_default();
            let url = if in_query {
                format!("postgresql://{}@{}{}{}?password={}", user, host, port, db, password)
            } else {
                format!("postgres://{}:{}@{}{}{}", user, password, host, port, db)
            };
            proptest::prop_assert!(!location(&url).contains(&password));
            match target(&options(&url), None) {
                Ok(t) => {
                    proptest::prop_assert!(!t.location.contains(&password));
                    let shown = format!("{t:?}");
                    proptest::prop_assert!(!shown.contains(&password));
                }
                Err(e) => proptest::prop_assert!(!e.to_string().contains(&password)),
            }
        }
    }
}
