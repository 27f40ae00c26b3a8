//! actix-session store over the `web_session` table, so any instance can
//! serve any user and a session can be ended from the server (sign-out,
//! password change). Rows are keyed by a SHA-256 hash of the cookie value.
//! Sessions end after the idle timeout (the TTL actix-session passes in)
//! and, whatever the activity, after an absolute lifetime.

use std::collections::HashMap;
use std::time::Duration;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration as CookieDuration;
use sqlx::PgPool;

use crate::crypto::{random_bytes, sha256};

/// Session state key holding the signed-in user's id (see [`super::session`]).
pub const USER_ID_KEY: &str = "user_id";

#[derive(Clone)]
pub struct PgSessionStore {
    pool: PgPool,
    absolute_lifetime: Duration,
}

impl PgSessionStore {
    pub fn new(pool: PgPool, absolute_lifetime: Duration) -> Self {
        Self {
            pool,
            absolute_lifetime,
        }
    }

    /// End every session of a user, except the one whose key hash is `keep`.
    pub async fn delete_user_sessions(
        pool: &PgPool,
        user_id: i64,
        keep: Option<&[u8]>,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM web_session WHERE user_id = $1 AND ($2::bytea IS NULL OR id_hash <> $2)",
        )
        .bind(user_id)
        .bind(keep)
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Remove expired rows (called periodically by the server).
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM web_session WHERE expires_at <= now()
                OR created_at <= now() - make_interval(secs => $1)",
        )
        .bind(self.absolute_lifetime.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

fn new_session_key() -> SessionKey {
    hex::encode(random_bytes::<32>())
        .try_into()
        .expect("64 characters fit in a session key")
}

fn key_hash(key: &SessionKey) -> [u8; 32] {
    sha256(key.as_ref().as_bytes())
}

fn user_id_of(state: &HashMap<String, String>) -> Option<i64> {
    state
        .get(USER_ID_KEY)
        .and_then(|v| serde_json::from_str::<i64>(v).ok())
}

fn ttl_seconds(ttl: &CookieDuration) -> f64 {
    ttl.as_seconds_f64().max(1.0)
}

impl SessionStore for PgSessionStore {
    async fn load(
        &self,
        session_key: &SessionKey,
    ) -> Result<Option<HashMap<String, String>>, LoadError> {
        let row: Option<(sqlx::types::Json<HashMap<String, String>>,)> = sqlx::query_as(
            "SELECT state FROM web_session
              WHERE id_hash = $1 AND expires_at > now()
                AND created_at > now() - make_interval(secs => $2)",
        )
        .bind(key_hash(session_key).as_slice())
        .bind(self.absolute_lifetime.as_secs_f64())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| LoadError::Other(e.into()))?;
        Ok(row.map(|(state,)| state.0))
    }

    async fn save(
        &self,
        session_state: HashMap<String, String>,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, SaveError> {
        let key = new_session_key();
        sqlx::query(
            "INSERT INTO web_session (id_hash, state, user_id, expires_at)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        )
        .bind(key_hash(&key).as_slice())
        .bind(sqlx::types::Json(&session_state))
        .bind(user_id_of(&session_state))
        .bind(ttl_seconds(ttl))
        .execute(&self.pool)
        .await
        .map_err(|e| SaveError::Other(e.into()))?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: HashMap<String, String>,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let updated = sqlx::query(
            "UPDATE web_session SET state = $2, user_id = $3, expires_at = now() + make_interval(secs => $4)
              WHERE id_hash = $1 AND expires_at > now()",
        )
        .bind(key_hash(&session_key).as_slice())
        .bind(sqlx::types::Json(&session_state))
        .bind(user_id_of(&session_state))
        .bind(ttl_seconds(ttl))
        .execute(&self.pool)
        .await
        .map_err(|e| UpdateError::Other(e.into()))?;
        if updated.rows_affected() == 1 {
            Ok(session_key)
        } else {
            // The session ended meanwhile (signed out, ended by a password
            // change, expired): never resurrect its state; start afresh.
            drop(session_state);
            self.save(HashMap::new(), ttl).await.map_err(|e| match e {
                SaveError::Serialization(e) => UpdateError::Serialization(e),
                SaveError::Other(e) => UpdateError::Other(e),
            })
        }
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &CookieDuration,
    ) -> Result<(), anyhow::Error> {
        sqlx::query(
            "UPDATE web_session SET expires_at = now() + make_interval(secs => $2)
              WHERE id_hash = $1 AND expires_at > now()",
        )
        .bind(key_hash(session_key).as_slice())
        .bind(ttl_seconds(ttl))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        sqlx::query("DELETE FROM web_session WHERE id_hash = $1")
            .bind(key_hash(session_key).as_slice())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
