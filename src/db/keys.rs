//! API keys: issued, revealed once, rolled, revoked. Only a salted SHA-256
//! hash of a secret is ever stored.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};

use crate::domain::{ApiKeyPrefix, ApiKeySecret, Environment, PlaintextApiKey, generate_salt};

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

/// Where a key stands in its life, as support sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Issued; its secret does not exist until the contact opens the link.
    AwaitingReveal,
    /// Revealed and working.
    Active,
    /// Replaced by a roll: works until its expiry date.
    Expiring,
    /// Past its expiry date.
    Expired,
    /// Ended by support.
    Revoked,
}

impl KeyState {
    pub fn label(&self) -> &'static str {
        match self {
            KeyState::AwaitingReveal => "Awaiting reveal",
            KeyState::Active => "Active",
            KeyState::Expiring => "Expiring",
            KeyState::Expired => "Expired",
            KeyState::Revoked => "Revoked",
        }
    }
    /// The badge class for pages.
    pub fn css(&self) -> &'static str {
        match self {
            KeyState::AwaitingReveal | KeyState::Expiring => "warn",
            KeyState::Active => "ok",
            KeyState::Expired | KeyState::Revoked => "off",
        }
    }
    /// Still able to work (now or once revealed).
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            KeyState::AwaitingReveal | KeyState::Active | KeyState::Expiring
        )
    }
}

/// A key as support sees it (no secret: there is none to see).
#[derive(Debug, Clone, FromRow)]
pub struct KeyLine {
    pub id: i64,
    pub provider_id: i64,
    pub environment: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub revealed_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub replaces_prefix: Option<String>,
    /// When the newest reveal link sent for it stops working.
    pub link_expires_at: Option<DateTime<Utc>>,
}

impl KeyLine {
    pub fn state_at(&self, now: DateTime<Utc>) -> KeyState {
        if self.revoked_at.is_some() {
            KeyState::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            KeyState::Expired
        } else if self.revealed_at.is_none() {
            KeyState::AwaitingReveal
        } else if self.expires_at.is_some() {
            KeyState::Expiring
        } else {
            KeyState::Active
        }
    }
    pub fn state(&self) -> KeyState {
        self.state_at(Utc::now())
    }
    pub fn environment(&self) -> Environment {
        Environment::parse(&self.environment).unwrap_or(Environment::Integration)
    }
}

/// The environments in which none of `keys` works or will work once
/// revealed: what "issue keys" gives a provider (both, for a new one).
pub fn environments_without_live_key(keys: &[KeyLine], now: DateTime<Utc>) -> Vec<Environment> {
    Environment::ALL
        .into_iter()
        .filter(|environment| {
            !keys
                .iter()
                .any(|k| k.environment() == *environment && k.state_at(now).is_live())
        })
        .collect()
}

const KEY_LINE_SELECT: &str = "
    SELECT k.id, k.provider_id, k.environment::text AS environment, k.prefix, k.created_at,
           cu.display_name AS created_by, k.revealed_at, k.expires_at, k.revoked_at,
           ru.display_name AS revoked_by, k.last_used_at, old.prefix AS replaces_prefix,
           (SELECT max(t.expires_at) FROM one_time_token t
             WHERE t.api_key_id = k.id AND t.used_at IS NULL AND t.voided_at IS NULL) AS link_expires_at
      FROM api_key k
      LEFT JOIN user_account cu ON cu.id = k.created_by_user_id
      LEFT JOIN user_account ru ON ru.id = k.revoked_by_user_id
      LEFT JOIN api_key old ON old.id = k.replaces_key_id";

/// A provider's keys, newest first.
pub async fn list_for_provider<'e>(
    db: impl PgExecutor<'e>,
    provider_id: i64,
) -> Result<Vec<KeyLine>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{KEY_LINE_SELECT} WHERE k.provider_id = $1 ORDER BY k.created_at DESC, k.id DESC"
    )))
    .bind(provider_id)
    .fetch_all(db)
    .await
}

/// The provider's keys nobody has revealed and nobody revoked, locked for
/// the rest of the transaction (a reveal waits until it ends).
pub async fn unrevealed_for_update<'e>(
    db: impl PgExecutor<'e>,
    provider_id: i64,
) -> Result<Vec<KeyLine>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{KEY_LINE_SELECT} WHERE k.provider_id = $1 AND k.revealed_at IS NULL
            AND k.revoked_at IS NULL ORDER BY k.id FOR UPDATE OF k"
    )))
    .bind(provider_id)
    .fetch_all(db)
    .await
}

/// One key, locked for the rest of the transaction when `for_update`.
pub async fn find<'e>(
    db: impl PgExecutor<'e>,
    key_id: i64,
    for_update: bool,
) -> Result<Option<KeyLine>, sqlx::Error> {
    let lock = if for_update { " FOR UPDATE OF k" } else { "" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{KEY_LINE_SELECT} WHERE k.id = $1{lock}"
    )))
    .bind(key_id)
    .fetch_optional(db)
    .await
}

/// Create a key with no secret yet (revealed later through an emailed
/// link). `replaces`: the key it takes over from, for a roll.
pub async fn insert_unrevealed<'e>(
    db: impl PgExecutor<'e>,
    provider_id: i64,
    environment: Environment,
    created_by_user_id: i64,
    replaces: Option<i64>,
) -> Result<(i64, ApiKeyPrefix), sqlx::Error> {
    let prefix = ApiKeyPrefix::generate(environment);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO api_key (provider_id, environment, prefix, created_by_user_id, replaces_key_id)
         VALUES ($1, $2::api_environment, $3, $4, $5) RETURNING id",
    )
    .bind(provider_id)
    .bind(environment.as_str())
    .bind(prefix.as_str())
    .bind(created_by_user_id)
    .bind(replaces)
    .fetch_one(db)
    .await?;
    Ok((id, prefix))
}

/// Create the key's secret now and store only its salted hash. `None` when
/// the key was already revealed, or revoked or expired meanwhile: nothing
/// changes. The caller shows the returned key once and forgets it.
pub async fn reveal<'e>(
    db: impl PgExecutor<'e>,
    key_id: i64,
) -> Result<Option<PlaintextApiKey>, sqlx::Error> {
    // The hash covers the salt and the secret only, so it is computed
    // before the prefix is read back, in one statement.
    let secret = ApiKeySecret::generate();
    let salt = generate_salt();
    let hash = secret.hash_with_salt(&salt);
    let row: Option<(String,)> = sqlx::query_as(
        "UPDATE api_key SET secret_salt = $2, secret_hash = $3, revealed_at = now()
          WHERE id = $1 AND revealed_at IS NULL AND revoked_at IS NULL
            AND (expires_at IS NULL OR expires_at > now())
          RETURNING prefix",
    )
    .bind(key_id)
    .bind(salt.as_slice())
    .bind(hash.as_slice())
    .fetch_optional(db)
    .await?;
    row.map(|(prefix,)| {
        ApiKeyPrefix::parse(&prefix)
            .map(|prefix| PlaintextApiKey::from_parts(prefix, secret))
            .map_err(|e| sqlx::Error::Protocol(format!("api_key {key_id} has a bad prefix: {e}")))
    })
    .transpose()
}

/// Ends a key at once. `false` when it had already ended.
pub async fn revoke<'e>(
    db: impl PgExecutor<'e>,
    key_id: i64,
    revoked_by_user_id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE api_key SET revoked_at = now(), revoked_by_user_id = $2
          WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(key_id)
    .bind(revoked_by_user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A rolled key keeps working for `grace` (zero: it stops now). Returns
/// the expiry set, or `None` when the key was no longer live.
pub async fn expire_after<'e>(
    db: impl PgExecutor<'e>,
    key_id: i64,
    grace: std::time::Duration,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let row: Option<(DateTime<Utc>,)> = sqlx::query_as(
        "UPDATE api_key SET expires_at = now() + make_interval(secs => $2)
          WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
          RETURNING expires_at",
    )
    .bind(key_id)
    .bind(grace.as_secs_f64())
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.0))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn key(environment: Environment) -> KeyLine {
        KeyLine {
            id: 1,
            provider_id: 1,
            environment: environment.as_str().to_owned(),
            prefix: format!("{}_000000000000", environment.as_str()),
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            created_by: None,
            revealed_at: None,
            expires_at: None,
            revoked_at: None,
            revoked_by: None,
            last_used_at: None,
            replaces_prefix: None,
            link_expires_at: None,
        }
    }

    #[test]
    fn a_key_state_follows_revocation_expiry_and_reveal() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let unrevealed = key(Environment::Integration);
        let revealed = KeyLine {
            revealed_at: Some(now - Duration::days(1)),
            ..unrevealed.clone()
        };
        let cases = [
            (unrevealed.clone(), KeyState::AwaitingReveal),
            (revealed.clone(), KeyState::Active),
            (
                KeyLine {
                    expires_at: Some(now + Duration::hours(1)),
                    ..revealed.clone()
                },
                KeyState::Expiring,
            ),
            (
                KeyLine {
                    expires_at: Some(now),
                    ..revealed.clone()
                },
                KeyState::Expired,
            ),
            (
                KeyLine {
                    revoked_at: Some(now),
                    ..revealed.clone()
                },
                KeyState::Revoked,
            ),
            (
                KeyLine {
                    revoked_at: Some(now),
                    ..unrevealed
                },
                KeyState::Revoked,
            ),
        ];
        for (line, state) in cases {
            assert_eq!(line.state_at(now), state, "{line:?}");
        }
    }

    #[test]
    fn only_environments_without_a_live_key_get_a_new_one() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let live = key(Environment::Production);
        let revoked = KeyLine {
            revoked_at: Some(now),
            ..key(Environment::Production)
        };
        let expired = KeyLine {
            revealed_at: Some(now - Duration::days(9)),
            expires_at: Some(now - Duration::days(1)),
            ..key(Environment::Integration)
        };
        let both = vec![Environment::Integration, Environment::Production];
        let cases: [(Vec<KeyLine>, Vec<Environment>); 5] = [
            (vec![], both.clone()),
            (vec![revoked.clone(), expired.clone()], both),
            (vec![live.clone()], vec![Environment::Integration]),
            (
                vec![revoked, expired.clone(), live.clone()],
                vec![Environment::Integration],
            ),
            (
                vec![
                    live,
                    KeyLine {
                        expires_at: None,
                        ..expired
                    },
                ],
                vec![],
            ),
        ];
        for (keys, missing) in cases {
            assert_eq!(
                environments_without_live_key(&keys, now),
                missing,
                "{keys:?}"
            );
        }
    }
}
