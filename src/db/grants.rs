//! Venue access grants: a provider may act on a venue while it holds an
//! active one. Granting is idempotent; revoking keeps the row as history.

use sqlx::PgExecutor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(type_name = "grant_channel", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum GrantChannel {
    ProInterface,
    Backoffice,
    Cli,
}

impl GrantChannel {
    pub fn label(&self) -> &'static str {
        match self {
            GrantChannel::ProInterface => "pro interface",
            GrantChannel::Backoffice => "support",
            GrantChannel::Cli => "operator command",
        }
    }
}

/// Grant access; `Ok(None)` when an active grant already exists (nothing
/// changes, the caller records nothing).
pub async fn grant<'e>(
    db: impl PgExecutor<'e>,
    provider_id: i64,
    venue_id: i64,
    channel: GrantChannel,
    granted_by_user_id: Option<i64>,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO venue_access_grant (provider_id, venue_id, channel, granted_by_user_id)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (provider_id, venue_id) WHERE revoked_at IS NULL DO NOTHING
         RETURNING id",
    )
    .bind(provider_id)
    .bind(venue_id)
    .bind(channel)
    .bind(granted_by_user_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.0))
}

/// Withdraw the active grant; `Ok(None)` when there was none.
pub async fn revoke<'e>(
    db: impl PgExecutor<'e>,
    provider_id: i64,
    venue_id: i64,
    channel: GrantChannel,
    revoked_by_user_id: Option<i64>,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE venue_access_grant
            SET revoked_at = greatest(now(), granted_at), revoked_channel = $3, revoked_by_user_id = $4
          WHERE provider_id = $1 AND venue_id = $2 AND revoked_at IS NULL
          RETURNING id",
    )
    .bind(provider_id)
    .bind(venue_id)
    .bind(channel)
    .bind(revoked_by_user_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.0))
}

/// Withdraw the grant `grant_id` on `venue_id` if it is still active;
/// returns its provider's id, or `Ok(None)` when it was already withdrawn
/// (by someone else at the same moment, or a stale form).
pub async fn revoke_by_id<'e>(
    db: impl PgExecutor<'e>,
    grant_id: i64,
    venue_id: i64,
    channel: GrantChannel,
    revoked_by_user_id: Option<i64>,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE venue_access_grant
            SET revoked_at = greatest(now(), granted_at), revoked_channel = $3, revoked_by_user_id = $4
          WHERE id = $1 AND venue_id = $2 AND revoked_at IS NULL
          RETURNING provider_id",
    )
    .bind(grant_id)
    .bind(venue_id)
    .bind(channel)
    .bind(revoked_by_user_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.0))
}
