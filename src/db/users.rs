//! User accounts: pro users (members of offerers) and support agents.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};

use crate::domain::Email;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(type_name = "user_role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Pro,
    Support,
}

impl Role {
    pub fn label(&self) -> &'static str {
        match self {
            Role::Pro => "Pro user",
            Role::Support => "Support agent",
        }
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct UserAccount {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub is_active: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An account with its password hash, for sign-in only.
#[derive(FromRow)]
pub struct Credentials {
    pub id: i64,
    pub password_hash: Option<String>,
    pub is_active: bool,
}

const USER_COLUMNS: &str = "id, email, display_name, role, is_active, last_login_at, created_at";

pub async fn find_by_id<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<UserAccount>, sqlx::Error> {
    sqlx::query_as::<_, UserAccount>(const_format(USER_COLUMNS, "WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn find_by_email<'e>(
    db: impl PgExecutor<'e>,
    email: &Email,
) -> Result<Option<UserAccount>, sqlx::Error> {
    sqlx::query_as::<_, UserAccount>(const_format(USER_COLUMNS, "WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(db)
        .await
}

/// The statement text is assembled from constants only.
fn const_format(columns: &'static str, filter: &'static str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("SELECT {columns} FROM user_account {filter}"))
}

pub async fn credentials<'e>(
    db: impl PgExecutor<'e>,
    email: &Email,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as::<_, Credentials>(
        "SELECT id, password_hash, is_active FROM user_account WHERE email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(db)
    .await
}

pub async fn record_login<'e>(db: impl PgExecutor<'e>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE user_account SET last_login_at = now() WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Create an account; `password_hash` is `None` for an invited person who
/// has not chosen a password yet.
pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    email: &Email,
    display_name: &str,
    role: Role,
    password_hash: Option<&str>,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO user_account (email, display_name, role, password_hash)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(email.as_str())
    .bind(display_name)
    .bind(role)
    .bind(password_hash)
    .fetch_one(db)
    .await?;
    Ok(id)
}

pub async fn set_password<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE user_account SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .execute(db)
        .await?;
    Ok(())
}
