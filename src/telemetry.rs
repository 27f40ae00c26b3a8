//! Logging setup. Request spans come from `tracing-actix-web`; the request
//! log records method, path (never the query string) and status, and no
//! header value, so credentials never reach a log line.

use tracing_subscriber::EnvFilter;

/// Install the global subscriber once. `RUST_LOG` overrides the default filter.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}
