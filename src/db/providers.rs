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

impl ProviderKind {
    /// As stored and as in forms and URLs.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProviderKind::Public => "public",
            ProviderKind::Private => "private",
        }
    }
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

pub async fn find<'e>(db: impl PgExecutor<'e>, id: i64) -> Result<Option<Provider>, sqlx::Error> {
    super::row_by_id(db, "provider", COLUMNS, id, super::Lock::None).await
}

/// The provider `id`, locked until the end of the transaction: what a
/// change compares against, and what issuing keys serialises on.
pub async fn find_for_update<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<Provider>, sqlx::Error> {
    super::row_by_id(db, "provider", COLUMNS, id, super::Lock::ForUpdate).await
}

/// One line of support's provider list.
#[derive(Debug, Clone, FromRow)]
pub struct ProviderLine {
    pub id: i64,
    pub name: String,
    pub kind: ProviderKind,
    pub is_active: bool,
    pub contact_email: String,
    pub offerer_name: Option<String>,
    /// Venues it can act on now.
    pub venue_count: i64,
    /// Keys that work or will once revealed.
    pub live_key_count: i64,
    pub created_at: DateTime<Utc>,
}

/// Filters of the provider list.
#[derive(Debug, Clone, Default)]
pub struct ProviderFilter {
    /// Part of the name or contact address.
    pub text: String,
    pub kind: Option<ProviderKind>,
    pub active: Option<bool>,
}

/// A page of providers matching `filter`, by name, and how many match.
pub async fn search(
    db: &sqlx::PgPool,
    filter: &ProviderFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ProviderLine>, i64), sqlx::Error> {
    let pattern = super::offerers::contains_pattern(&filter.text);
    const WHERE: &str =
        "($1 = '%%' OR lower(p.name) LIKE $1 ESCAPE '\\' OR p.contact_email LIKE $1 ESCAPE '\\')
           AND ($2::provider_kind IS NULL OR p.kind = $2)
           AND ($3::boolean IS NULL OR p.is_active = $3)";
    let lines: Vec<ProviderLine> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT p.id, p.name, p.kind, p.is_active, p.contact_email, o.name AS offerer_name,
                (SELECT count(*) FROM venue_access_grant g
                  WHERE g.provider_id = p.id AND g.revoked_at IS NULL) AS venue_count,
                (SELECT count(*) FROM api_key k
                  WHERE k.provider_id = p.id AND k.revoked_at IS NULL
                    AND (k.expires_at IS NULL OR k.expires_at > now())) AS live_key_count,
                p.created_at
           FROM provider p LEFT JOIN offerer o ON o.id = p.offerer_id
          WHERE {WHERE}
          ORDER BY lower(p.name), p.id
          LIMIT $4 OFFSET $5"
    )))
    .bind(&pattern)
    .bind(filter.kind)
    .bind(filter.active)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM provider p WHERE {WHERE}"
    )))
    .bind(&pattern)
    .bind(filter.kind)
    .bind(filter.active)
    .fetch_one(db)
    .await?;
    Ok((lines, total))
}

/// Change what support may edit. Returns the provider as changed; `None` when there is no such provider.
pub async fn update<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
    name: &str,
    kind: ProviderKind,
    contact: &Email,
    offerer_id: Option<i64>,
) -> Result<Option<Provider>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE provider SET name = $2, kind = $3, contact_email = $4, offerer_id = $5
          WHERE id = $1 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(name)
    .bind(kind)
    .bind(contact.as_str())
    .bind(offerer_id)
    .fetch_optional(db)
    .await
}

/// Deactivate or reactivate. `false` when it already was so.
pub async fn set_active<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
    active: bool,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE provider SET is_active = $2 WHERE id = $1 AND is_active <> $2")
        .bind(id)
        .bind(active)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// One venue a provider can act on, and how that access was given.
#[derive(Debug, Clone, FromRow)]
pub struct AccessibleVenue {
    pub grant_id: i64,
    pub offerer_id: i64,
    pub offerer_name: String,
    pub offerer_siren: String,
    pub venue_id: i64,
    pub venue_name: String,
    pub siret: Option<String>,
    pub city: String,
    pub channel: super::grants::GrantChannel,
    pub granted_at: DateTime<Utc>,
    pub granted_by: Option<String>,
}

/// Every venue the provider can act on, by offerer then venue name.
pub async fn accessible_venues<'e>(
    db: impl PgExecutor<'e>,
    provider_id: i64,
) -> Result<Vec<AccessibleVenue>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.id AS grant_id, o.id AS offerer_id, o.name AS offerer_name,
                o.siren AS offerer_siren, v.id AS venue_id, v.name AS venue_name, v.siret, v.city,
                g.channel, g.granted_at, u.display_name AS granted_by
           FROM venue_access_grant g
           JOIN venue v ON v.id = g.venue_id
           JOIN offerer o ON o.id = v.offerer_id
           LEFT JOIN user_account u ON u.id = g.granted_by_user_id
          WHERE g.provider_id = $1 AND g.revoked_at IS NULL
          ORDER BY lower(o.name), o.id, lower(v.name), v.id",
    )
    .bind(provider_id)
    .fetch_all(db)
    .await
}
