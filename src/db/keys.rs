//! API keys: issued, revealed once, rolled, revoked. Only a salted SHA-256
//! hash of a secret is ever stored.

use sqlx::PgExecutor;

use crate::domain::{ApiKeyPrefix, Environment, PlaintextApiKey, generate_salt};

/// A key row created and revealed at once (operator command, tests): the
/// plaintext goes to the caller, its hash to the database.
pub async fn issue_revealed<'e>(
    db: impl PgExecutor<'e>,
    provider_id: i64,
    environment: Environment,
    created_by_user_id: Option<i64>,
) -> Result<(i64, PlaintextApiKey), sqlx::Error> {
    let key = PlaintextApiKey::generate(environment);
    let salt = generate_salt();
    let hash = key.secret().hash_with_salt(&salt);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO api_key (provider_id, environment, prefix, secret_salt, secret_hash,
                              created_by_user_id, revealed_at)
         VALUES ($1, $2::api_environment, $3, $4, $5, $6, now()) RETURNING id",
    )
    .bind(provider_id)
    .bind(environment.as_str())
    .bind(key.prefix().as_str())
    .bind(salt.as_slice())
    .bind(hash.as_slice())
    .bind(created_by_user_id)
    .fetch_one(db)
    .await?;
    Ok((id, key))
}

/// Revoke a key at once. Returns `(key id, provider id)` if a live key had that prefix.
pub async fn revoke_by_prefix<'e>(
    db: impl PgExecutor<'e>,
    prefix: &ApiKeyPrefix,
    revoked_by_user_id: Option<i64>,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE api_key SET revoked_at = now(), revoked_by_user_id = $2
          WHERE prefix = $1 AND revoked_at IS NULL
          RETURNING id, provider_id",
    )
    .bind(prefix.as_str())
    .bind(revoked_by_user_id)
    .fetch_optional(db)
    .await
}
