//! Offerers as their members see them: membership, venues (searchable,
//! paginated), members and the history of access changes on their venues;
//! and as support sees them: search, creation, validation, deactivation.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};

use super::grants::GrantChannel;
use super::providers::ProviderKind;

#[derive(Debug, Clone, FromRow)]
pub struct Offerer {
    pub id: i64,
    pub name: String,
    pub siren: String,
    pub status: OffererStatus,
}

/// The active offerer `offerer_id`, only if `user_id` belongs to it.
pub async fn find_for_member<'e>(
    db: impl PgExecutor<'e>,
    user_id: i64,
    offerer_id: i64,
) -> Result<Option<Offerer>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, o.name, o.siren, o.status
           FROM offerer o
           JOIN membership m ON m.offerer_id = o.id AND m.user_id = $1
          WHERE o.id = $2 AND o.is_active",
    )
    .bind(user_id)
    .bind(offerer_id)
    .fetch_optional(db)
    .await
}

/// One line of the offerer's venue list.
#[derive(Debug, Clone, FromRow)]
pub struct VenueLine {
    pub id: i64,
    pub name: String,
    pub public_name: Option<String>,
    pub siret: Option<String>,
    pub city: String,
    /// Names of the providers that currently have access, sorted.
    pub providers: Vec<String>,
}

/// Turn what the user typed into a `LIKE` pattern matching it anywhere.
pub fn contains_pattern(typed: &str) -> String {
    let mut pattern = String::from("%");
    for c in typed.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The offerer's active venues whose name, public name or SIRET contains
/// `search` (everything when empty), by name; and how many match in all.
pub async fn venues_page(
    db: &sqlx::PgPool,
    offerer_id: i64,
    search: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<VenueLine>, i64), sqlx::Error> {
    let pattern = contains_pattern(search);
    let filter = "v.offerer_id = $1 AND v.is_active
        AND (lower(v.name) LIKE $2 OR lower(coalesce(v.public_name, '')) LIKE $2
             OR coalesce(v.siret, '') LIKE replace($2, ' ', ''))";
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM venue v WHERE {filter}"
    )))
    .bind(offerer_id)
    .bind(&pattern)
    .fetch_one(db)
    .await?;
    let lines = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT v.id, v.name, v.public_name, v.siret, v.city,
                coalesce(array_agg(p.name ORDER BY lower(p.name)) FILTER (WHERE p.id IS NOT NULL),
                         '{{}}') AS providers
           FROM venue v
           LEFT JOIN venue_access_grant g ON g.venue_id = v.id AND g.revoked_at IS NULL
           LEFT JOIN provider p ON p.id = g.provider_id
          WHERE {filter}
          GROUP BY v.id
          ORDER BY lower(v.name), v.id
          LIMIT $3 OFFSET $4"
    )))
    .bind(offerer_id)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok((lines, total))
}

/// All active venues of the offerer (id, name, SIRET), by name: for
/// choosing several at once.
#[derive(Debug, Clone, FromRow)]
pub struct VenueChoice {
    pub id: i64,
    pub name: String,
    pub siret: Option<String>,
    pub city: String,
}

pub async fn all_venues<'e>(
    db: impl PgExecutor<'e>,
    offerer_id: i64,
) -> Result<Vec<VenueChoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, siret, city FROM venue
          WHERE offerer_id = $1 AND is_active
          ORDER BY lower(name), id",
    )
    .bind(offerer_id)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct Member {
    pub id: i64,
    pub display_name: String,
    pub email: String,
    pub joined_at: DateTime<Utc>,
    pub invited_by: Option<String>,
    /// False while an invited person has not chosen a password yet.
    pub has_password: bool,
    pub last_login_at: Option<DateTime<Utc>>,
}

pub async fn members<'e>(
    db: impl PgExecutor<'e>,
    offerer_id: i64,
) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.display_name, u.email, m.created_at AS joined_at,
                inviter.display_name AS invited_by,
                u.password_hash IS NOT NULL AS has_password, u.last_login_at
           FROM membership m
           JOIN user_account u ON u.id = m.user_id
           LEFT JOIN user_account inviter ON inviter.id = m.invited_by_user_id
          WHERE m.offerer_id = $1 AND u.is_active
          ORDER BY lower(u.display_name), u.id",
    )
    .bind(offerer_id)
    .fetch_all(db)
    .await
}

/// One grant or withdrawal on one of the offerer's venues.
#[derive(Debug, Clone, FromRow)]
pub struct AccessChange {
    pub at: DateTime<Utc>,
    pub granted: bool,
    pub venue_id: i64,
    pub venue_name: String,
    pub provider_name: String,
    pub channel: GrantChannel,
    pub by_name: Option<String>,
    pub by_email: Option<String>,
}

/// Every grant and withdrawal on the offerer's venues, newest first, from
/// the grants themselves (revoked grants stay as history), whatever the
/// channel; and how many there are in all.
pub async fn access_history(
    db: &sqlx::PgPool,
    offerer_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AccessChange>, i64), sqlx::Error> {
    let (total,): (i64,) = sqlx::query_as(
        "SELECT count(*) + count(g.revoked_at)
           FROM venue_access_grant g JOIN venue v ON v.id = g.venue_id
          WHERE v.offerer_id = $1",
    )
    .bind(offerer_id)
    .fetch_one(db)
    .await?;
    let changes = sqlx::query_as(
        "SELECT c.at, c.granted, v.id AS venue_id, v.name AS venue_name, p.name AS provider_name,
                c.channel, u.display_name AS by_name, u.email AS by_email
           FROM venue_access_grant g
           JOIN venue v ON v.id = g.venue_id
           JOIN provider p ON p.id = g.provider_id
           CROSS JOIN LATERAL (
                 SELECT g.granted_at AS at, true AS granted, g.channel, g.granted_by_user_id AS by_id, 0 AS step
                 UNION ALL
                 SELECT g.revoked_at, false, g.revoked_channel, g.revoked_by_user_id, 1
                  WHERE g.revoked_at IS NOT NULL
           ) c
           LEFT JOIN user_account u ON u.id = c.by_id
          WHERE v.offerer_id = $1
          ORDER BY c.at DESC, g.id DESC, c.step DESC
          LIMIT $2 OFFSET $3",
    )
    .bind(offerer_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok((changes, total))
}

/// Where an offerer is in its validation by support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "offerer_status", rename_all = "lowercase")]
pub enum OffererStatus {
    New,
    Validated,
    Rejected,
}

impl OffererStatus {
    pub fn is_new(&self) -> bool {
        *self == OffererStatus::New
    }
    pub fn is_validated(&self) -> bool {
        *self == OffererStatus::Validated
    }
    pub fn is_rejected(&self) -> bool {
        *self == OffererStatus::Rejected
    }
    pub fn label(&self) -> &'static str {
        match self {
            OffererStatus::New => "awaiting validation",
            OffererStatus::Validated => "validated",
            OffererStatus::Rejected => "rejected",
        }
    }
    /// The CSS class of its badge.
    pub fn badge(&self) -> &'static str {
        match self {
            OffererStatus::New => "",
            OffererStatus::Validated => "ok",
            OffererStatus::Rejected => "err",
        }
    }
}

/// What the back-office's offerer list can be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    New,
    Validated,
    Rejected,
    Inactive,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 4] = [
        StatusFilter::New,
        StatusFilter::Validated,
        StatusFilter::Rejected,
        StatusFilter::Inactive,
    ];
    /// As in the URL; anything else is no filter.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == value.trim())
    }
    pub fn code(&self) -> &'static str {
        match self {
            StatusFilter::New => "new",
            StatusFilter::Validated => "validated",
            StatusFilter::Rejected => "rejected",
            StatusFilter::Inactive => "inactive",
        }
    }
    pub fn label(&self) -> &'static str {
        match self {
            StatusFilter::New => "Awaiting validation",
            StatusFilter::Validated => "Validated",
            StatusFilter::Rejected => "Rejected",
            StatusFilter::Inactive => "Deactivated",
        }
    }
}

/// An offerer as support sees it, active or not.
#[derive(Debug, Clone, FromRow)]
pub struct OffererRecord {
    pub id: i64,
    pub name: String,
    pub siren: String,
    pub status: OffererStatus,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

/// One line of the back-office's offerer list.
#[derive(Debug, Clone, FromRow)]
pub struct OffererListLine {
    pub id: i64,
    pub name: String,
    pub siren: String,
    pub status: OffererStatus,
    pub is_active: bool,
    pub venue_count: i64,
}

/// Offerers whose name contains `search`, or whose SIREN starts with it
/// when it is made of digits (spaces ignored), narrowed by `status`; by
/// name; and how many match in all.
pub async fn search(
    db: &sqlx::PgPool,
    search: &str,
    status: Option<StatusFilter>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OffererListLine>, i64), sqlx::Error> {
    let digits: String = search.chars().filter(|c| !c.is_whitespace()).collect();
    let siren_prefix = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        format!("{digits}%")
    } else {
        String::new()
    };
    let filter = "(lower(o.name) LIKE $1 OR ($2 <> '' AND o.siren LIKE $2))
        AND (CASE $3::text WHEN 'inactive' THEN NOT o.is_active
                           WHEN '' THEN true
                           ELSE o.status::text = $3 END)";
    let status = status.map_or("", |s| s.code());
    let pattern = contains_pattern(search);
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM offerer o WHERE {filter}"
    )))
    .bind(&pattern)
    .bind(&siren_prefix)
    .bind(status)
    .fetch_one(db)
    .await?;
    let lines = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT o.id, o.name, o.siren, o.status, o.is_active,
                (SELECT count(*) FROM venue v WHERE v.offerer_id = o.id) AS venue_count
           FROM offerer o
          WHERE {filter}
          ORDER BY lower(o.name), o.id
          LIMIT $4 OFFSET $5"
    )))
    .bind(&pattern)
    .bind(&siren_prefix)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok((lines, total))
}

const RECORD_COLUMNS: &str = "id, name, siren, status, is_active, created_at";

/// The offerer `id`, active or not.
pub async fn find<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<OffererRecord>, sqlx::Error> {
    super::row_by_id(db, "offerer", RECORD_COLUMNS, id, super::Lock::None).await
}

/// The offerer `id`, locked until the end of the transaction, so a status
/// change and its audit event see the same state.
pub async fn find_for_update<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<OffererRecord>, sqlx::Error> {
    super::row_by_id(db, "offerer", RECORD_COLUMNS, id, super::Lock::ForUpdate).await
}

/// The offerer with this SIREN, if there is one.
pub async fn find_by_siren<'e>(
    db: impl PgExecutor<'e>,
    siren: &str,
) -> Result<Option<OffererRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RECORD_COLUMNS} FROM offerer WHERE siren = $1"
    )))
    .bind(siren)
    .fetch_optional(db)
    .await
}

/// Create an offerer awaiting validation. A taken SIREN violates
/// `offerer_siren_key`.
pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    name: &str,
    siren: &str,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO offerer (name, siren, status) VALUES ($1, $2, 'new') RETURNING id",
    )
    .bind(name)
    .bind(siren)
    .fetch_one(db)
    .await?;
    Ok(id)
}

pub async fn set_status<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
    status: OffererStatus,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE offerer SET status = $2 WHERE id = $1")
        .bind(id)
        .bind(status)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn set_active<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
    is_active: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE offerer SET is_active = $2 WHERE id = $1")
        .bind(id)
        .bind(is_active)
        .execute(db)
        .await?;
    Ok(())
}

/// The reason given when the offerer was last rejected (kept in the audit trail).
pub async fn rejection_reason<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT details->>'reason' FROM audit_event
          WHERE offerer_id = $1 AND action = 'offerer.reject'
          ORDER BY occurred_at DESC, id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|r| r.0))
}

/// One of the offerer's venues, active or not, as support sees it.
#[derive(Debug, Clone, FromRow)]
pub struct BackofficeVenueLine {
    pub id: i64,
    pub name: String,
    pub public_name: Option<String>,
    pub siret: Option<String>,
    pub siret_comment: Option<String>,
    pub city: String,
    pub is_active: bool,
    /// Providers with an active grant on the venue.
    pub provider_count: i64,
}

pub async fn backoffice_venues<'e>(
    db: impl PgExecutor<'e>,
    offerer_id: i64,
) -> Result<Vec<BackofficeVenueLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT v.id, v.name, v.public_name, v.siret, v.siret_comment, v.city, v.is_active,
                (SELECT count(DISTINCT g.provider_id) FROM venue_access_grant g
                  WHERE g.venue_id = v.id AND g.revoked_at IS NULL) AS provider_count
           FROM venue v
          WHERE v.offerer_id = $1
          ORDER BY NOT v.is_active, lower(v.name), v.id",
    )
    .bind(offerer_id)
    .fetch_all(db)
    .await
}

/// A provider with access to some of the offerer's venues.
#[derive(Debug, Clone, FromRow)]
pub struct ProviderWithAccess {
    pub id: i64,
    pub name: String,
    pub kind: ProviderKind,
    pub is_active: bool,
    pub venue_count: i64,
    /// How the active grants were given, without repeats.
    pub channels: Vec<GrantChannel>,
}

impl ProviderWithAccess {
    pub fn kind_label(&self) -> &'static str {
        self.kind.as_str()
    }
    pub fn channel_labels(&self) -> String {
        self.channels
            .iter()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Providers with an active grant on at least one of the offerer's venues, by name.
pub async fn providers_with_access<'e>(
    db: impl PgExecutor<'e>,
    offerer_id: i64,
) -> Result<Vec<ProviderWithAccess>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.id, p.name, p.kind, p.is_active, count(DISTINCT g.venue_id) AS venue_count,
                array_agg(DISTINCT g.channel) AS channels
           FROM venue_access_grant g
           JOIN venue v ON v.id = g.venue_id
           JOIN provider p ON p.id = g.provider_id
          WHERE v.offerer_id = $1 AND g.revoked_at IS NULL
          GROUP BY p.id
          ORDER BY lower(p.name), p.id",
    )
    .bind(offerer_id)
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn search_patterns_escape_like_wildcards() {
        assert_eq!(contains_pattern(" Lyon "), "%lyon%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
