//! Single-use link tokens for emailed links (password reset, invitation, API
//! key reveal). The token goes into the link; only its SHA-256 hash is
//! stored, so a database dump hands out no live link.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::crypto::{new_token, token_hash};

/// What a token lets its holder do (the `token_purpose` type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    PasswordReset,
    Invitation,
    ApiKeyReveal,
}

impl TokenPurpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenPurpose::PasswordReset => "password_reset",
            TokenPurpose::Invitation => "invitation",
            TokenPurpose::ApiKeyReveal => "api_key_reveal",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "password_reset" => Some(TokenPurpose::PasswordReset),
            "invitation" => Some(TokenPurpose::Invitation),
            "api_key_reveal" => Some(TokenPurpose::ApiKeyReveal),
            _ => None,
        }
    }
}

/// A purpose with the ids it is about: only valid combinations exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSubject {
    /// Set a new password for this account.
    PasswordReset { user_id: i64 },
    /// Join this offerer, as this (possibly password-less) account.
    Invitation { user_id: i64, offerer_id: i64 },
    /// Show this API key's secret once.
    ApiKeyReveal { api_key_id: i64 },
}

impl TokenSubject {
    pub fn purpose(&self) -> TokenPurpose {
        match self {
            TokenSubject::PasswordReset { .. } => TokenPurpose::PasswordReset,
            TokenSubject::Invitation { .. } => TokenPurpose::Invitation,
            TokenSubject::ApiKeyReveal { .. } => TokenPurpose::ApiKeyReveal,
        }
    }

    fn ids(&self) -> (Option<i64>, Option<i64>, Option<i64>) {
        match *self {
            TokenSubject::PasswordReset { user_id } => (Some(user_id), None, None),
            TokenSubject::Invitation {
                user_id,
                offerer_id,
            } => (Some(user_id), Some(offerer_id), None),
            TokenSubject::ApiKeyReveal { api_key_id } => (None, None, Some(api_key_id)),
        }
    }
}

/// A token found valid (and, through [`consume`], now used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: i64,
    pub subject: TokenSubject,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

type RawRow = (
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    DateTime<Utc>,
    DateTime<Utc>,
);

fn from_raw(
    (id, purpose, user_id, offerer_id, api_key_id, created_at, expires_at): RawRow,
) -> Result<TokenRow, sqlx::Error> {
    let broken = || sqlx::Error::Protocol(format!("one_time_token {id} has no valid subject"));
    let subject = match TokenPurpose::parse(&purpose).ok_or_else(broken)? {
        TokenPurpose::PasswordReset => TokenSubject::PasswordReset {
            user_id: user_id.ok_or_else(broken)?,
        },
        TokenPurpose::Invitation => TokenSubject::Invitation {
            user_id: user_id.ok_or_else(broken)?,
            offerer_id: offerer_id.ok_or_else(broken)?,
        },
        TokenPurpose::ApiKeyReveal => TokenSubject::ApiKeyReveal {
            api_key_id: api_key_id.ok_or_else(broken)?,
        },
    };
    Ok(TokenRow {
        id,
        subject,
        created_at,
        expires_at,
    })
}

const RETURNED_COLUMNS: &str =
    "id, purpose::text, user_id, offerer_id, api_key_id, created_at, expires_at";

/// Create a token valid for `ttl` and return it, for the link only: it is
/// not stored and cannot be recovered. Call it in the transaction that
/// queues the email carrying the link.
pub async fn issue<'e>(
    executor: impl PgExecutor<'e>,
    subject: TokenSubject,
    ttl: Duration,
) -> Result<String, sqlx::Error> {
    let token = new_token();
    let (user_id, offerer_id, api_key_id) = subject.ids();
    let ttl_seconds = ttl.as_secs_f64();
    sqlx::query(
        "INSERT INTO one_time_token (token_hash, purpose, user_id, offerer_id, api_key_id, expires_at)
         VALUES ($1, $2::token_purpose, $3, $4, $5, now() + make_interval(secs => $6))",
    )
    .bind(token_hash(&token).as_slice())
    .bind(subject.purpose().as_str())
    .bind(user_id)
    .bind(offerer_id)
    .bind(api_key_id)
    .bind(ttl_seconds)
    .execute(executor)
    .await?;
    Ok(token)
}

/// The token's row if it is valid for `purpose` (not expired, used or
/// voided), without using it: for a page that shows a form before the
/// action that [`consume`]s the token.
pub async fn find_valid<'e>(
    executor: impl PgExecutor<'e>,
    token: &str,
    purpose: TokenPurpose,
) -> Result<Option<TokenRow>, sqlx::Error> {
    let row: Option<RawRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RETURNED_COLUMNS} FROM one_time_token
         WHERE token_hash = $1 AND purpose = $2::token_purpose
           AND used_at IS NULL AND voided_at IS NULL AND expires_at > now()"
    )))
    .bind(token_hash(token).as_slice())
    .bind(purpose.as_str())
    .fetch_optional(executor)
    .await?;
    row.map(from_raw).transpose()
}

/// Use the token: marks it used and returns its row, in one statement, so
/// two concurrent requests cannot both use it. `None` when the token is
/// unknown, for another purpose, expired, already used or voided. Call it in
/// the transaction of the action the link performs, so a failed action
/// leaves the token usable.
pub async fn consume<'e>(
    executor: impl PgExecutor<'e>,
    token: &str,
    purpose: TokenPurpose,
) -> Result<Option<TokenRow>, sqlx::Error> {
    let row: Option<RawRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE one_time_token SET used_at = now()
         WHERE token_hash = $1 AND purpose = $2::token_purpose
           AND used_at IS NULL AND voided_at IS NULL AND expires_at > now()
         RETURNING {RETURNED_COLUMNS}"
    )))
    .bind(token_hash(token).as_slice())
    .bind(purpose.as_str())
    .fetch_optional(executor)
    .await?;
    row.map(from_raw).transpose()
}

/// Void every unused reveal link of an API key (rolled, revoked, or revealed
/// through another link). Returns how many were voided.
pub async fn void_for_api_key<'e>(
    executor: impl PgExecutor<'e>,
    api_key_id: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE one_time_token SET voided_at = now()
         WHERE api_key_id = $1 AND used_at IS NULL AND voided_at IS NULL",
    )
    .bind(api_key_id)
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Void a user's unused tokens for one purpose (a new reset link replaces
/// the previous ones; a password change voids pending resets).
pub async fn void_for_user<'e>(
    executor: impl PgExecutor<'e>,
    user_id: i64,
    purpose: TokenPurpose,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE one_time_token SET voided_at = now()
         WHERE user_id = $1 AND purpose = $2::token_purpose
           AND used_at IS NULL AND voided_at IS NULL",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// What became of a link that no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpentLink {
    Used(DateTime<Utc>),
    /// Replaced by a newer link, or the thing it was for ended.
    Voided,
    Expired,
}

/// Why a token of `purpose` is not valid, with its subject's ids; `None`
/// when no such token exists or it is still valid. Lets a page say "this
/// link was already used" rather than "unknown link".
pub async fn why_spent<'e>(
    executor: impl PgExecutor<'e>,
    token: &str,
    purpose: TokenPurpose,
) -> Result<Option<(TokenSubject, SpentLink)>, sqlx::Error> {
    type SpentRow = (
        i64,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        DateTime<Utc>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        bool,
    );
    let row: Option<SpentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RETURNED_COLUMNS}, used_at, voided_at, expires_at <= now()
           FROM one_time_token WHERE token_hash = $1 AND purpose = $2::token_purpose"
    )))
    .bind(token_hash(token).as_slice())
    .bind(purpose.as_str())
    .fetch_optional(executor)
    .await?;
    let Some((id, p, u, o, a, created, expires, used_at, voided_at, expired)) = row else {
        return Ok(None);
    };
    let spent = match (used_at, voided_at, expired) {
        (Some(at), _, _) => SpentLink::Used(at),
        (None, Some(_), _) => SpentLink::Voided,
        (None, None, true) => SpentLink::Expired,
        (None, None, false) => return Ok(None),
    };
    let row = from_raw((id, p, u, o, a, created, expires))?;
    Ok(Some((row.subject, spent)))
}
