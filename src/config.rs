//! Typed settings, read from the environment (and CLI flags for `serve`).
//! Secrets are wrapped in [`Secret`] so that `Debug` never prints them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::domain::Environment;

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// How outgoing email leaves the process.
#[derive(Debug, Clone)]
pub enum MailTransportSettings {
    /// Write each message as an `.eml` file into this folder (the default for local runs).
    File { directory: PathBuf },
    /// Deliver through an SMTP relay.
    Smtp {
        host: String,
        port: u16,
        security: SmtpSecurity,
        credentials: Option<(String, Secret<String>)>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    None,
    StartTls,
    Tls,
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub transport: MailTransportSettings,
    /// `From:` of every message, e.g. `pass Culture <support@example.org>`.
    pub sender: String,
    /// Where people are told to write for help (pages and emails).
    pub support_email: String,
    /// How often the outbox worker looks for due messages when idle.
    pub poll_interval: Duration,
    /// After this many failed attempts a message is marked failed.
    pub max_attempts: i32,
    /// Wait after the first failed attempt; doubles after each further one.
    pub retry_base_delay: Duration,
    /// The longest wait between two attempts.
    pub retry_max_delay: Duration,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    /// `None`: use the embedded PostgreSQL cluster under `data_dir`.
    pub database_url: Option<Secret<String>>,
    /// Where the embedded cluster, the session key and the demo mailbox live.
    pub data_dir: PathBuf,
    /// Public URL of this server, used to build links in emails.
    pub base_url: String,
    /// The environment this server's provider API answers for.
    pub api_environment: Environment,
    pub api_rate_limit_per_minute: u32,
    pub cookie_secure: bool,
    /// 64 bytes; `None`: read or create `<data_dir>/session.key`.
    pub session_key: Option<Secret<Vec<u8>>>,
    pub session_idle_timeout: Duration,
    pub session_absolute_lifetime: Duration,
    pub mail: MailSettings,
    /// Run the email outbox worker inside `serve`.
    pub run_mail_worker: bool,
    /// HTTP worker threads.
    pub http_workers: usize,
}

fn env_var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_env<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    match env_var(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| invalid(name, format!("is not valid ({e})"))),
    }
}

fn parse_bool(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match env_var(name).as_deref().map(str::trim) {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(invalid(
            name,
            format!("must be true or false, not {other:?}"),
        )),
    }
}

/// The project folder: where `Cargo.toml` is when run from a checkout,
/// otherwise the current directory.
pub fn default_data_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let base = if manifest.join("Cargo.toml").is_file() {
        manifest
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
    };
    base.join(".data")
}

impl Settings {
    /// Read every setting from the environment. `bind_override` comes from `--bind`.
    pub fn from_env(bind_override: Option<String>) -> Result<Self, ConfigError> {
        // Errors name where the address came from: the flag or the variable.
        let (bind_source, bind_raw) = match bind_override {
            Some(flag) => ("--bind", flag),
            None => (
                "BIND_ADDRESS",
                env_var("BIND_ADDRESS").unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            ),
        };
        let bind: SocketAddr = bind_raw.trim().parse().map_err(|_| {
            invalid(
                bind_source,
                format!("must look like 127.0.0.1:8080 (an IP address, not a host name), not {bind_raw:?}"),
            )
        })?;
        let data_dir = env_var("VENUE_ACCESS_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(default_data_dir);
        let base_url = env_var("BASE_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(invalid("BASE_URL", "must start with http:// or https://"));
        }
        let api_environment = parse_env("API_ENVIRONMENT", Environment::Integration)?;
        let api_rate_limit_per_minute = parse_env("API_RATE_LIMIT_PER_MINUTE", 200u32)?;
        if api_rate_limit_per_minute == 0 {
            return Err(invalid("API_RATE_LIMIT_PER_MINUTE", "must be at least 1"));
        }
        let cookie_secure = parse_bool("COOKIE_SECURE", base_url.starts_with("https://"))?;
        let session_key = match env_var("SESSION_KEY") {
            None => None,
            Some(hex_key) => {
                let bytes = hex::decode(hex_key.trim())
                    .map_err(|_| invalid("SESSION_KEY", "must be hexadecimal"))?;
                if bytes.len() < 64 {
                    return Err(invalid(
                        "SESSION_KEY",
                        "must hold at least 64 bytes (128 hex characters)",
                    ));
                }
                Some(Secret::new(bytes))
            }
        };
        let idle_minutes = parse_env("SESSION_IDLE_MINUTES", 30u64)?;
        let absolute_hours = parse_env("SESSION_MAX_HOURS", 12u64)?;
        let mail = MailSettings::from_env(&data_dir)?;
        Ok(Self {
            bind,
            database_url: env_var("DATABASE_URL").map(Secret::new),
            data_dir,
            base_url,
            api_environment,
            api_rate_limit_per_minute,
            cookie_secure,
            session_key,
            session_idle_timeout: Duration::from_secs(idle_minutes.max(1) * 60),
            session_absolute_lifetime: Duration::from_secs(absolute_hours.max(1) * 3600),
            mail,
            run_mail_worker: parse_bool("MAIL_WORKER", true)?,
            http_workers: parse_env(
                "HTTP_WORKERS",
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )?
            .max(1),
        })
    }
}

impl MailSettings {
    fn from_env(data_dir: &std::path::Path) -> Result<Self, ConfigError> {
        let transport = match env_var("SMTP_HOST") {
            None => MailTransportSettings::File {
                directory: env_var("MAIL_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("mail")),
            },
            Some(host) => {
                let security = match env_var("SMTP_SECURITY").as_deref().map(str::trim) {
                    None | Some("starttls") => SmtpSecurity::StartTls,
                    Some("tls") => SmtpSecurity::Tls,
                    Some("none") => SmtpSecurity::None,
                    Some(other) => {
                        return Err(invalid(
                            "SMTP_SECURITY",
                            format!("must be starttls, tls or none, not {other:?}"),
                        ));
                    }
                };
                let default_port = match security {
                    SmtpSecurity::Tls => 465,
                    SmtpSecurity::StartTls => 587,
                    SmtpSecurity::None => 25,
                };
                let credentials = match (env_var("SMTP_USERNAME"), env_var("SMTP_PASSWORD")) {
                    (Some(user), Some(password)) => Some((user, Secret::new(password))),
                    (None, None) => None,
                    _ => {
                        return Err(invalid(
                            "SMTP_USERNAME",
                            "and SMTP_PASSWORD must be set together",
                        ));
                    }
                };
                MailTransportSettings::Smtp {
                    host: host.trim().to_owned(),
                    port: parse_env("SMTP_PORT", default_port)?,
                    security,
                    credentials,
                }
            }
        };
        Ok(Self {
            transport,
            sender: env_var("MAIL_FROM")
                .unwrap_or_else(|| "pass Culture venue access <no-reply@venue-access.test>".into()),
            support_email: env_var("SUPPORT_EMAIL")
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| "support@venue-access.test".into()),
            poll_interval: Duration::from_millis(parse_env("MAIL_POLL_MS", 2000u64)?),
            max_attempts: parse_env("MAIL_MAX_ATTEMPTS", 8i32)?.max(1),
            retry_base_delay: Duration::from_secs(
                parse_env("MAIL_RETRY_BASE_SECONDS", 30u64)?.max(1),
            ),
            retry_max_delay: Duration::from_secs(
                parse_env("MAIL_RETRY_MAX_SECONDS", 3600u64)?.max(1),
            ),
        })
    }
}
