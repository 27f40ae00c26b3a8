//! One venue as its offerer sees it: who has access, who could be given
//! access, and the grants themselves.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor, Row};

use super::grants::GrantChannel;
use super::offerers::contains_pattern;
use super::providers::ProviderKind;

#[derive(Debug, Clone, FromRow)]
pub struct Venue {
    pub id: i64,
    pub offerer_id: i64,
    pub name: String,
    pub public_name: Option<String>,
    pub siret: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub city: String,
}

/// The active venue `venue_id`, only if it belongs to `offerer_id`.
pub async fn find_of_offerer<'e>(
    db: impl PgExecutor<'e>,
    offerer_id: i64,
    venue_id: i64,
) -> Result<Option<Venue>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, offerer_id, name, public_name, siret, address, postal_code, city
           FROM venue WHERE id = $1 AND offerer_id = $2 AND is_active",
    )
    .bind(venue_id)
    .bind(offerer_id)
    .fetch_optional(db)
    .await
}

/// An active grant on a venue, with who gave it.
#[derive(Debug, Clone, FromRow)]
pub struct ActiveGrant {
    pub id: i64,
    pub provider_id: i64,
    pub provider_name: String,
    pub provider_kind: ProviderKind,
    pub provider_is_active: bool,
    pub granted_at: DateTime<Utc>,
    pub channel: GrantChannel,
    pub granted_by: Option<String>,
}

impl ActiveGrant {
    pub fn is_private(&self) -> bool {
        self.provider_kind == ProviderKind::Private
    }
}

const ACTIVE_GRANT_SELECT: &str =
    "SELECT g.id, p.id AS provider_id, p.name AS provider_name, p.kind AS provider_kind,
            p.is_active AS provider_is_active, g.granted_at, g.channel, u.display_name AS granted_by
       FROM venue_access_grant g
       JOIN provider p ON p.id = g.provider_id
       LEFT JOIN user_account u ON u.id = g.granted_by_user_id
      WHERE g.venue_id = $1 AND g.revoked_at IS NULL";

pub async fn active_grants<'e>(
    db: impl PgExecutor<'e>,
    venue_id: i64,
) -> Result<Vec<ActiveGrant>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ACTIVE_GRANT_SELECT} ORDER BY lower(p.name), g.id"
    )))
    .bind(venue_id)
    .fetch_all(db)
    .await
}

/// The grant `grant_id` if it is on this venue (active or not).
#[derive(Debug, Clone, FromRow)]
pub struct GrantOnVenue {
    pub id: i64,
    pub provider_id: i64,
    pub provider_name: String,
    pub provider_kind: ProviderKind,
    pub granted_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn find_grant_on_venue<'e>(
    db: impl PgExecutor<'e>,
    venue_id: i64,
    grant_id: i64,
) -> Result<Option<GrantOnVenue>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.id, p.id AS provider_id, p.name AS provider_name, p.kind AS provider_kind,
                g.granted_at, g.revoked_at
           FROM venue_access_grant g JOIN provider p ON p.id = g.provider_id
          WHERE g.id = $1 AND g.venue_id = $2",
    )
    .bind(grant_id)
    .bind(venue_id)
    .fetch_optional(db)
    .await
}

/// A provider an offerer may choose to give access to.
#[derive(Debug, Clone, FromRow)]
pub struct GrantableProvider {
    pub id: i64,
    pub name: String,
    pub contact_email: String,
}

/// Active public providers without an active grant on the venue whose name
/// contains `search`, by name.
pub async fn grantable_providers<'e>(
    db: impl PgExecutor<'e>,
    venue_id: i64,
    search: &str,
) -> Result<Vec<GrantableProvider>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.id, p.name, p.contact_email FROM provider p
          WHERE p.kind = 'public' AND p.is_active AND lower(p.name) LIKE $2
            AND NOT EXISTS (SELECT 1 FROM venue_access_grant g
                             WHERE g.provider_id = p.id AND g.venue_id = $1 AND g.revoked_at IS NULL)
          ORDER BY lower(p.name), p.id",
    )
    .bind(venue_id)
    .bind(contains_pattern(search))
    .fetch_all(db)
    .await
}

/// All active public providers (the only ones an offerer may grant), by name.
pub async fn public_providers<'e>(
    db: impl PgExecutor<'e>,
) -> Result<Vec<GrantableProvider>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, contact_email FROM provider
          WHERE kind = 'public' AND is_active ORDER BY lower(name), id",
    )
    .fetch_all(db)
    .await
}

/// The provider `provider_id` if an offerer may give it access: active and public.
pub async fn find_grantable_provider<'e>(
    db: impl PgExecutor<'e>,
    provider_id: i64,
) -> Result<Option<GrantableProvider>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, contact_email FROM provider
          WHERE id = $1 AND kind = 'public' AND is_active",
    )
    .bind(provider_id)
    .fetch_optional(db)
    .await
}

/// Of the given venues, the ids of those where the provider has an active grant.
pub async fn venues_with_access<'e>(
    db: impl PgExecutor<'e>,
    provider_id: i64,
    venue_ids: &[i64],
) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT venue_id FROM venue_access_grant
          WHERE provider_id = $1 AND venue_id = ANY($2) AND revoked_at IS NULL",
    )
    .bind(provider_id)
    .bind(venue_ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The provider's technical contact, for the emails that tell it about changes.
pub async fn provider_contact<'e>(
    db: impl PgExecutor<'e>,
    provider_id: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT name, contact_email FROM provider WHERE id = $1")
        .bind(provider_id)
        .fetch_optional(db)
        .await
}

/// A venue as support sees and edits it, active or not.
#[derive(Debug, Clone, FromRow)]
pub struct VenueRecord {
    pub id: i64,
    pub offerer_id: i64,
    pub name: String,
    pub public_name: Option<String>,
    pub siret: Option<String>,
    pub siret_comment: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub activity_domain: String,
    pub is_active: bool,
}

/// What support types to create or change a venue, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueFields {
    pub name: String,
    pub public_name: Option<String>,
    pub siret: Option<String>,
    pub siret_comment: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub activity_domain: String,
    pub is_active: bool,
}

impl VenueFields {
    /// The names of the fields that differ from `before`, for the audit trail.
    pub fn changed_from(&self, before: &VenueRecord) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut check = |name: &'static str, differs: bool| {
            if differs {
                changed.push(name);
            }
        };
        check("name", self.name != before.name);
        check("public_name", self.public_name != before.public_name);
        check("siret", self.siret != before.siret);
        check("siret_comment", self.siret_comment != before.siret_comment);
        check("address", self.address != before.address);
        check("postal_code", self.postal_code != before.postal_code);
        check("city", self.city != before.city);
        check(
            "activity_domain",
            self.activity_domain != before.activity_domain,
        );
        check("is_active", self.is_active != before.is_active);
        changed
    }
}

const RECORD_COLUMNS: &str = "id, offerer_id, name, public_name, siret, siret_comment, address,
    postal_code, city, activity_domain, is_active";

/// The venue `id`, active or not.
pub async fn find<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<VenueRecord>, sqlx::Error> {
    super::row_by_id(db, "venue", RECORD_COLUMNS, id, super::Lock::None).await
}

/// The venue `id`, locked until the end of the transaction.
pub async fn find_for_update<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<VenueRecord>, sqlx::Error> {
    super::row_by_id(db, "venue", RECORD_COLUMNS, id, super::Lock::ForUpdate).await
}

/// The id of the venue with this SIRET, if there is one.
pub async fn find_id_by_siret<'e>(
    db: impl PgExecutor<'e>,
    siret: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM venue WHERE siret = $1")
        .bind(siret)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| r.0))
}

/// `fields` as `$2`…`$10` of a venue statement (`$1` is the caller's).
fn bind_fields<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    fields: &'q VenueFields,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(&fields.name)
        .bind(&fields.public_name)
        .bind(&fields.siret)
        .bind(&fields.siret_comment)
        .bind(&fields.address)
        .bind(&fields.postal_code)
        .bind(&fields.city)
        .bind(&fields.activity_domain)
        .bind(fields.is_active)
}

/// Create a venue of the offerer. The schema refuses a taken SIRET, a SIRET
/// of another SIREN and a venue without SIRET nor comment (named constraints).
pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    offerer_id: i64,
    fields: &VenueFields,
) -> Result<i64, sqlx::Error> {
    let query = sqlx::query(
        "INSERT INTO venue (offerer_id, name, public_name, siret, siret_comment, address,
                            postal_code, city, activity_domain, is_active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(offerer_id);
    bind_fields(query, fields)
        .fetch_one(db)
        .await?
        .try_get("id")
}

pub async fn update<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
    fields: &VenueFields,
) -> Result<(), sqlx::Error> {
    let query = sqlx::query(
        "UPDATE venue SET name = $2, public_name = $3, siret = $4, siret_comment = $5,
                address = $6, postal_code = $7, city = $8, activity_domain = $9, is_active = $10
          WHERE id = $1",
    )
    .bind(id);
    bind_fields(query, fields).execute(db).await?;
    Ok(())
}
