//! The one place that builds the application: routes, middleware order and
//! shared state. `main` and the tests both boot it through [`Application`].

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use actix_session::SessionMiddleware;
use actix_session::config::{PersistentSession, TtlExtensionPolicy};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use sqlx::PgPool;

use crate::auth::session_store::PgSessionStore;
use crate::config::Settings;
use crate::mail::MailWorker;
use crate::web::middleware::{reject_cross_site, request_log, security_headers};

pub const SESSION_COOKIE: &str = "va_session";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {address}: {reason}")]
    Bind { address: String, reason: String },
    #[error("session key file {path}: {reason}")]
    SessionKey { path: String, reason: String },
    #[error("email: {0}")]
    Mail(#[from] crate::mail::transport::TransportError),
}

/// A built server, bound to its port, not yet running.
pub struct Application {
    server: Server,
    port: u16,
    pool: PgPool,
    session_lifetime: Duration,
    /// Built when `run_mail_worker` is set; started by `run_until_stopped`.
    mail_worker: Option<MailWorker>,
}

impl Application {
    pub async fn build(settings: &Settings, pool: PgPool) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(settings.bind).map_err(|e| StartupError::Bind {
            address: settings.bind.to_string(),
            reason: if e.kind() == std::io::ErrorKind::AddrInUse {
                "the port is already in use (stop the other process or choose another with --bind / BIND_ADDRESS)".to_owned()
            } else {
                e.to_string()
            },
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Bind {
                address: settings.bind.to_string(),
                reason: e.to_string(),
            })?
            .port();
        let session_key = load_session_key(settings)?;
        // Built before serving so a bad transport setting fails at start-up.
        let mail_worker = if settings.run_mail_worker {
            Some(MailWorker::new(pool.clone(), &settings.mail)?)
        } else {
            None
        };
        let server = run(listener, pool.clone(), settings.clone(), session_key)?;
        Ok(Self {
            server,
            port,
            pool,
            session_lifetime: settings.session_absolute_lifetime,
            mail_worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serve until the process is asked to stop (Ctrl-C / SIGTERM), then
    /// finish in-flight requests, and let the email worker finish the
    /// messages it is sending.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let cleanup = tokio::spawn(periodic_cleanup(self.pool.clone(), self.session_lifetime));
        let mail_worker = self.mail_worker.map(MailWorker::spawn);
        let result = self.server.await;
        cleanup.abort();
        if let Some(worker) = mail_worker {
            worker.stop().await;
        }
        result
    }
}

fn run(
    listener: TcpListener,
    pool: PgPool,
    settings: Settings,
    session_key: Key,
) -> Result<Server, StartupError> {
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let store = PgSessionStore::new(pool.clone(), settings.session_absolute_lifetime);
    let idle = actix_web::cookie::time::Duration::seconds(
        settings
            .session_idle_timeout
            .as_secs()
            .try_into()
            .unwrap_or(i64::MAX),
    );
    let pool_data = web::Data::new(pool);
    let settings_data = web::Data::new(settings.clone());
    let api_state = web::Data::new(crate::api::auth::ApiState::new(
        settings.api_environment,
        settings.api_rate_limit_per_minute,
    ));
    let workers = settings.http_workers;
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(store.clone(), session_key.clone())
            .cookie_name(SESSION_COOKIE.to_owned())
            .cookie_secure(settings.cookie_secure)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .session_lifecycle(
                PersistentSession::default()
                    .session_ttl(idle)
                    .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
            )
            .build();
        // Middleware runs outermost-last: the request log sees everything,
        // including responses refused by the inner layers.
        App::new()
            .app_data(pool_data.clone())
            .app_data(settings_data.clone())
            .app_data(api_state.clone())
            .wrap(from_fn(reject_cross_site))
            .wrap(sessions)
            .wrap(from_fn(security_headers))
            .wrap(from_fn(request_log))
            .route("/static/{file}", web::get().to(crate::web::assets::serve))
            .configure(crate::api::routes)
            .configure(crate::api::openapi::routes)
            .configure(crate::web::routes)
            .default_service(web::to(crate::web::not_found))
    })
    .workers(workers)
    .listen(listener)
    .map_err(|e| StartupError::Bind {
        address,
        reason: e.to_string(),
    })?
    .shutdown_timeout(10)
    .run();
    Ok(server)
}

/// The cookie key: `SESSION_KEY`, or `<data_dir>/session.key` (created once).
fn load_session_key(settings: &Settings) -> Result<Key, StartupError> {
    if let Some(key) = &settings.session_key {
        return Ok(Key::from(key.expose()));
    }
    let path = settings.data_dir.join("session.key");
    let error = |reason: String| StartupError::SessionKey {
        path: path.display().to_string(),
        reason,
    };
    if let Ok(existing) = std::fs::read_to_string(&path)
        && let Ok(bytes) = hex::decode(existing.trim())
        && bytes.len() >= 64
    {
        return Ok(Key::from(&bytes));
    }
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| error(e.to_string()))?;
    let bytes = crate::crypto::random_bytes::<64>();
    write_private_file(&path, hex::encode(bytes).as_bytes()).map_err(|e| error(e.to_string()))?;
    Ok(Key::from(&bytes))
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}

/// Housekeeping: expired sessions and old sign-in failures.
async fn periodic_cleanup(pool: PgPool, session_lifetime: Duration) {
    let store = PgSessionStore::new(pool.clone(), session_lifetime);
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        if let Err(e) = store.delete_expired().await {
            tracing::warn!(error = %e, "could not delete expired sessions");
        }
        if let Err(e) = crate::db::sign_in::delete_old(&pool).await {
            tracing::warn!(error = %e, "could not delete old sign-in failures");
        }
    }
}
