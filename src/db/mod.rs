//! Database access: connection resolution (DATABASE_URL or the embedded
//! cluster), migrations, and queries grouped per table family. Query
//! functions take an executor or a transaction so a change, its audit event
//! and its emails commit together.

pub mod audit;
pub mod audit_log;
pub mod constraint;
pub mod embedded;
pub mod grants;
pub mod keys;
pub mod offerers;
pub mod providers;
pub mod sign_in;
pub mod tokens;
pub mod users;
pub mod venues;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::config::Settings;
use embedded::EmbeddedPostgres;

/// Whether a read locks the row until the end of the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    None,
    ForUpdate,
}

/// The row of `table` with this `id` (its `columns`), locked if asked.
/// `table` and `columns` are the caller's constants, never user input.
async fn row_by_id<'e, T>(
    db: impl sqlx::PgExecutor<'e>,
    table: &'static str,
    columns: &'static str,
    id: i64,
    lock: Lock,
) -> Result<Option<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let lock = match lock {
        Lock::None => "",
        Lock::ForUpdate => " FOR UPDATE",
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {columns} FROM {table} WHERE id = $1{lock}"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Migrations compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Name of the application database inside the embedded cluster.
pub const EMBEDDED_DATABASE: &str = "venue_access";

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("DATABASE_URL is not a valid PostgreSQL URL ({0})")]
    InvalidUrl(String),
    #[error(
        "cannot reach the database{where_}: {reason} (check that PostgreSQL runs and DATABASE_URL is right)"
    )]
    Unreachable { where_: String, reason: String },
    #[error("{0}")]
    Embedded(#[from] embedded::EmbeddedError),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

/// The resolved database: a pool, and the embedded cluster if one is used.
pub struct Database {
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
    description: String,
}

impl Database {
    /// Resolve and connect: `DATABASE_URL` when set, else the embedded cluster
    /// in `<data_dir>/postgres` (started here, or attached to if it runs).
    pub async fn connect(settings: &Settings) -> Result<Self, DatabaseError> {
        let (options, embedded, description) = match &settings.database_url {
            Some(url) => {
                let options = PgConnectOptions::from_str(url.expose())
                    .map_err(|e| DatabaseError::InvalidUrl(e.to_string()))?;
                let description = format!(
                    "PostgreSQL at {}:{} (database {}, from DATABASE_URL)",
                    options.get_host(),
                    options.get_port(),
                    options.get_database().unwrap_or("default")
                );
                (options, None, description)
            }
            None => {
                let cluster =
                    EmbeddedPostgres::ensure_running(&settings.data_dir.join("postgres")).await?;
                cluster.ensure_database(EMBEDDED_DATABASE).await?;
                let description = format!(
                    "embedded PostgreSQL in {} ({})",
                    cluster.root_dir().display(),
                    if cluster.started_here() {
                        "started by this process"
                    } else {
                        "already running, attached"
                    }
                );
                (
                    cluster.connect_options(EMBEDDED_DATABASE),
                    Some(cluster),
                    description,
                )
            }
        };
        let pool = match connect_pool(options, &description).await {
            Ok(pool) => pool,
            Err(e) => {
                if let Some(cluster) = embedded {
                    let _ = cluster.stop().await;
                }
                return Err(e);
            }
        };
        Ok(Self {
            pool,
            embedded,
            description,
        })
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// The URL of the embedded cluster's database, if one is used (for display).
    pub fn embedded_url(&self) -> Option<String> {
        self.embedded
            .as_ref()
            .map(|c| c.database_url(EMBEDDED_DATABASE))
    }

    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Close the pool and stop the embedded cluster if this process started it.
    pub async fn shutdown(self) {
        self.pool.close().await;
        if let Some(cluster) = self.embedded
            && let Err(e) = cluster.stop().await
        {
            tracing::warn!(error = %e, "could not stop the embedded PostgreSQL cluster");
        }
    }
}

/// Build a pool and prove the server answers.
pub async fn connect_pool(
    options: PgConnectOptions,
    description: &str,
) -> Result<PgPool, DatabaseError> {
    let unreachable = |reason: String| DatabaseError::Unreachable {
        where_: format!(" ({description})"),
        reason,
    };
    // One direct connection first: its error names the real cause
    // (connection refused, unknown database...), where a pool only times out.
    match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
        Ok(Err(e)) => return Err(unreachable(e.to_string())),
        Err(_) => return Err(unreachable("no answer within 5 seconds".to_owned())),
    }
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| DatabaseError::Unreachable {
            where_: format!(" ({description})"),
            reason: e.to_string(),
        })
}
