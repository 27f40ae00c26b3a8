//! Failed sign-ins, counted per account and per client address over a
//! sliding window, so guessing slows down and then stops for a while
//! without locking the real user out for good.

use sqlx::PgExecutor;

/// Failures are counted over this window (minutes).
pub const WINDOW_MINUTES: i32 = 15;

pub async fn record_failure<'e>(
    db: impl PgExecutor<'e>,
    email_hash: &str,
    client_ip: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sign_in_failure (email_hash, client_ip) VALUES ($1, $2)")
        .bind(email_hash)
        .bind(client_ip)
        .execute(db)
        .await?;
    Ok(())
}

/// Recent failures for (this account, this client address).
pub async fn recent_failures<'e>(
    db: impl PgExecutor<'e>,
    email_hash: &str,
    client_ip: &str,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE email_hash = $1), count(*) FILTER (WHERE client_ip = $2)
           FROM sign_in_failure
          WHERE (email_hash = $1 OR client_ip = $2)
            AND failed_at > now() - make_interval(mins => $3)",
    )
    .bind(email_hash)
    .bind(client_ip)
    .bind(WINDOW_MINUTES)
    .fetch_one(db)
    .await
}

/// A successful sign-in forgets the account's failures.
pub async fn clear_failures<'e>(
    db: impl PgExecutor<'e>,
    email_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_failure WHERE email_hash = $1")
        .bind(email_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Old rows are of no use (called periodically).
pub async fn delete_old<'e>(db: impl PgExecutor<'e>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM sign_in_failure WHERE failed_at < now() - make_interval(mins => $1)",
    )
    .bind(WINDOW_MINUTES * 4)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
