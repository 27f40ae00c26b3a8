//! Offerers as their members see them: membership, venues (searchable,
//! paginated), members and the history of access changes on their venues.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};

use super::grants::GrantChannel;

#[derive(Debug, Clone, FromRow)]
pub struct Offerer {
    pub id: i64,
    pub name: String,
    pub siren: String,
}

/// The active offerer `offerer_id`, only if `user_id` belongs to it.
pub async fn find_for_member<'e>(
    db: impl PgExecutor<'e>,
    user_id: i64,
    offerer_id: i64,
) -> Result<Option<Offerer>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, o.name, o.siren
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
