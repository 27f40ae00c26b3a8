//! The `email_outbox` table: queueing in the caller's transaction, and the
//! worker's claim / mark-sent / mark-failed steps, and the support views
//! (failed messages, retry).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::templates::OutgoingEmail;
use crate::domain::Email;

/// The channel `enqueue` notifies (at commit) so an idle worker wakes.
pub const NOTIFY_CHANNEL: &str = "email_outbox";

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("email template {template} did not render")]
    Render {
        template: &'static str,
        #[source]
        source: askama::Error,
    },
    #[error("could not queue the email")]
    Database(#[from] sqlx::Error),
}

/// Render `email` and queue it for `recipient`. Call it with the transaction
/// of the change that causes the email: if it rolls back, no email exists;
/// if it commits, the worker delivers it. Returns the outbox id.
pub async fn enqueue<'e>(
    executor: impl PgExecutor<'e>,
    recipient: &Email,
    email: &impl OutgoingEmail,
) -> Result<i64, EnqueueError> {
    let template = email.template_name();
    let rendered = email
        .render()
        .map_err(|source| EnqueueError::Render { template, source })?;
    // pg_notify is transactional: listeners hear it only once the row is
    // committed, and never if the transaction rolls back.
    let (id,): (i64,) = sqlx::query_as(
        "WITH queued AS (
             INSERT INTO email_outbox (template, recipient, subject, body_text, body_html)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING id)
         SELECT id FROM queued, LATERAL (SELECT pg_notify('email_outbox', queued.id::text)) AS notified",
    )
    .bind(template)
    .bind(recipient.as_str())
    .bind(&rendered.subject)
    .bind(&rendered.text)
    .bind(&rendered.html)
    .fetch_one(executor)
    .await?;
    tracing::info!(
        email_id = id,
        template,
        recipient_domain = recipient.domain(),
        "email queued"
    );
    Ok(id)
}

/// A message claimed by a worker, ready to send.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedEmail {
    pub id: i64,
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// Attempts made before this one.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

impl ClaimedEmail {
    /// The recipient's domain, for logs.
    pub fn recipient_domain(&self) -> &str {
        self.recipient
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain)
    }
}

/// Claim up to `limit` due messages for `worker` for `lease`. Rows another
/// worker is claiming right now are skipped (`SKIP LOCKED`), and a claimed
/// row is not due again before its lease ends, so two workers never hold the
/// same message.
pub async fn claim_due<'e>(
    executor: impl PgExecutor<'e>,
    worker: &str,
    limit: i64,
    lease: Duration,
) -> Result<Vec<ClaimedEmail>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE email_outbox
         SET locked_until = now() + make_interval(secs => $3), locked_by = $1
         WHERE id IN (
             SELECT id FROM email_outbox
             WHERE status = 'pending' AND next_attempt_at <= now()
               AND (locked_until IS NULL OR locked_until < now())
             ORDER BY id
             LIMIT $2
             FOR UPDATE SKIP LOCKED)
         RETURNING id, template, recipient, subject, body_text, body_html, attempts, created_at",
    )
    .bind(worker)
    .bind(limit)
    .bind(lease.as_secs_f64())
    .fetch_all(executor)
    .await
}

/// What replaces a link token in a sent message's stored bodies.
pub const REDACTED_TOKEN: &str = "[token removed after sending]";

/// A PostgreSQL regular expression matching the token part of every emailed
/// link (`{PATH}/{token}`), keeping the path in group 1.
fn link_token_pattern() -> String {
    format!(
        "({}|{}|{})/[A-Za-z0-9_-]{{20,}}",
        super::PASSWORD_RESET_PATH,
        super::INVITATION_PATH,
        super::API_KEY_REVEAL_PATH
    )
}

/// Record a delivery, and remove link tokens from the stored bodies: the
/// rendered link (and so its token) is kept in clear only while the message
/// waits to be sent. `false` if the lease was lost meanwhile (another
/// worker may have the message now), which only a send slower than the
/// lease can cause.
pub async fn mark_sent<'e>(
    executor: impl PgExecutor<'e>,
    id: i64,
    worker: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE email_outbox
         SET status = 'sent', sent_at = now(), attempts = attempts + 1,
             locked_until = NULL, last_error = NULL,
             body_text = regexp_replace(body_text, $3, '\\1/' || $4, 'g'),
             body_html = regexp_replace(body_html, $3, '\\1/' || $4, 'g')
         WHERE id = $1 AND locked_by = $2 AND status = 'pending'",
    )
    .bind(id)
    .bind(worker)
    .bind(link_token_pattern())
    .bind(REDACTED_TOKEN)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a failed attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Tried again after this delay.
    RetryIn(Duration),
    /// No attempts left: support sees it and can retry it.
    GaveUp,
    /// The lease was lost meanwhile; nothing recorded.
    LeaseLost,
}

/// The wait before the next attempt, after `attempts_so_far` failed ones
/// (counting this one): `base * 2^(attempts_so_far - 1)`, at most `max`.
pub fn backoff(attempts_so_far: i32, base: Duration, max: Duration) -> Duration {
    let exponent = attempts_so_far.saturating_sub(1).clamp(0, 30) as u32;
    base.saturating_mul(1u32 << exponent).min(max)
}

/// Record a failed attempt: the message waits (exponential backoff), or,
/// when it has had `max_attempts`, is marked failed.
pub async fn mark_attempt_failed<'e>(
    executor: impl PgExecutor<'e>,
    email: &ClaimedEmail,
    worker: &str,
    error: &str,
    max_attempts: i32,
    retry_base: Duration,
    retry_max: Duration,
) -> Result<AfterFailure, sqlx::Error> {
    let attempts = email.attempts.saturating_add(1);
    let gave_up = attempts >= max_attempts;
    // A message given up on keeps the time of its last attempt.
    let delay = if gave_up {
        Duration::ZERO
    } else {
        backoff(attempts, retry_base, retry_max)
    };
    let error: String = error.chars().take(2000).collect();
    let done = sqlx::query(
        "UPDATE email_outbox
         SET attempts = $3, last_error = $4, locked_until = NULL,
             status = CASE WHEN $5 THEN 'failed'::email_status ELSE 'pending'::email_status END,
             next_attempt_at = now() + make_interval(secs => $6)
         WHERE id = $1 AND locked_by = $2 AND status = 'pending'",
    )
    .bind(email.id)
    .bind(worker)
    .bind(attempts)
    .bind(error)
    .bind(gave_up)
    .bind(delay.as_secs_f64())
    .execute(executor)
    .await?;
    Ok(if done.rows_affected() == 0 {
        AfterFailure::LeaseLost
    } else if gave_up {
        AfterFailure::GaveUp
    } else {
        AfterFailure::RetryIn(delay)
    })
}

/// A message the worker gave up on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FailedEmail {
    pub id: i64,
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the last attempt failed.
    pub failed_at: DateTime<Utc>,
}

/// Every failed message, oldest first.
pub async fn list_failed<'e>(
    executor: impl PgExecutor<'e>,
) -> Result<Vec<FailedEmail>, sqlx::Error> {
    // The last failed attempt set next_attempt_at to its own time.
    sqlx::query_as(
        "SELECT id, template, recipient, subject, attempts, last_error, created_at,
                next_attempt_at AS failed_at
         FROM email_outbox WHERE status = 'failed' ORDER BY id",
    )
    .fetch_all(executor)
    .await
}

/// Put failed messages back in the queue with a fresh set of attempts (the
/// last error stays until the next attempt). `ids`: `None` for every failed
/// message. Returns the requeued messages as they were.
pub async fn requeue_failed(
    conn: &mut PgConnection,
    ids: Option<&[i64]>,
) -> Result<Vec<FailedEmail>, sqlx::Error> {
    let requeued: Vec<FailedEmail> = sqlx::query_as(
        "WITH before AS (
             SELECT id, template, recipient, subject, attempts, last_error, created_at,
                    next_attempt_at AS failed_at
             FROM email_outbox
             WHERE status = 'failed' AND ($1::bigint[] IS NULL OR id = ANY($1))
             FOR UPDATE),
         requeued AS (
             UPDATE email_outbox o
             SET status = 'pending', attempts = 0, next_attempt_at = now(),
                 locked_until = NULL, locked_by = NULL
             FROM before WHERE o.id = before.id
             RETURNING o.id)
         SELECT before.* FROM before JOIN requeued USING (id) ORDER BY id",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    if !requeued.is_empty() {
        sqlx::query("SELECT pg_notify('email_outbox', '')")
            .execute(&mut *conn)
            .await?;
    }
    Ok(requeued)
}

/// A message's status, for support and tests.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: i64,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub sent_at: Option<DateTime<Utc>>,
}

pub async fn find<'e>(
    executor: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<OutboxEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, template, status::text AS status, attempts, sent_at
         FROM email_outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(executor)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let base = Duration::from_secs(30);
        let max = Duration::from_secs(3600);
        let waits: Vec<u64> = (1..=9).map(|n| backoff(n, base, max).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(i32::MAX, base, max), max);
        assert_eq!(backoff(0, base, max), base);
    }
}
