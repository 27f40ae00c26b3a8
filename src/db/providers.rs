//! Providers: the technical partners that call the API.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};

use crate::domain::Email;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(type_name = "provider_kind", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Public,
    Private,
}

impl std::str::FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "public" => Ok(ProviderKind::Public),
            "private" => Ok(ProviderKind::Private),
            other => Err(format!("kind must be public or private, not {other:?}")),
        }
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct Provider {
    pub id: i64,
    pub name: String,
    pub kind: ProviderKind,
    pub is_active: bool,
    pub contact_email: String,
    pub offerer_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, kind, is_active, contact_email, offerer_id, created_at";

pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    name: &str,
    kind: ProviderKind,
    contact: &Email,
    offerer_id: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO provider (name, kind, contact_email, offerer_id) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(kind)
    .bind(contact.as_str())
    .bind(offerer_id)
    .fetch_one(db)
    .await?;
    Ok(id)
}

/// By id (when `id_or_name` is a number) or by name, case-insensitively.
pub async fn find_by_id_or_name<'e>(
    db: impl PgExecutor<'e>,
    id_or_name: &str,
) -> Result<Option<Provider>, sqlx::Error> {
    let id: Option<i64> = id_or_name.trim().parse().ok();
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM provider WHERE id = $1 OR ($1 IS NULL AND lower(name) = lower($2))"
    )))
    .bind(id)
    .bind(id_or_name.trim())
    .fetch_optional(db)
    .await
}
