//! Offerers and venues the provider has access to.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgPool};
use utoipa::ToSchema;

use super::auth::AuthenticatedProvider;
use super::error::{ApiError, ErrorBody};
use super::iso_datetime;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Offerer)]
pub struct OffererJson {
    pub id: i64,
    #[serde(with = "iso_datetime")]
    pub created_datetime: DateTime<Utc>,
    pub name: String,
    pub siren: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Location)]
pub struct LocationJson {
    /// Always `physical`.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "physical")]
    pub kind: &'static str,
    pub address: String,
    pub city: String,
    pub postal_code: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Accessibility)]
pub struct AccessibilityJson {
    pub audio_disability_compliant: Option<bool>,
    pub mental_disability_compliant: Option<bool>,
    pub motor_disability_compliant: Option<bool>,
    pub visual_disability_compliant: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Venue)]
pub struct VenueJson {
    pub id: i64,
    pub siret: Option<String>,
    pub siret_comment: Option<String>,
    #[serde(with = "iso_datetime")]
    pub created_datetime: DateTime<Utc>,
    pub location: LocationJson,
    pub legal_name: String,
    pub public_name: Option<String>,
    pub activity_domain: String,
    pub accessibility: AccessibilityJson,
}

#[derive(Serialize, ToSchema)]
#[schema(as = OffererVenues)]
pub struct OffererVenuesJson {
    pub offerer: OffererJson,
    pub venues: Vec<VenueJson>,
}

/// A venue the provider can reach, with its offerer.
#[derive(FromRow)]
struct VenueRow {
    offerer_id: i64,
    offerer_created_at: DateTime<Utc>,
    offerer_name: String,
    offerer_siren: String,
    id: i64,
    siret: Option<String>,
    siret_comment: Option<String>,
    created_at: DateTime<Utc>,
    address: String,
    city: String,
    postal_code: String,
    name: String,
    public_name: Option<String>,
    activity_domain: String,
    audio_disability_compliant: Option<bool>,
    mental_disability_compliant: Option<bool>,
    motor_disability_compliant: Option<bool>,
    visual_disability_compliant: Option<bool>,
}

impl VenueRow {
    fn venue_json(self) -> VenueJson {
        VenueJson {
            id: self.id,
            siret: self.siret,
            siret_comment: self.siret_comment,
            created_datetime: self.created_at,
            location: LocationJson {
                kind: "physical",
                address: self.address,
                city: self.city,
                postal_code: self.postal_code,
            },
            legal_name: self.name,
            public_name: self.public_name,
            activity_domain: self.activity_domain,
            accessibility: AccessibilityJson {
                audio_disability_compliant: self.audio_disability_compliant,
                mental_disability_compliant: self.mental_disability_compliant,
                motor_disability_compliant: self.motor_disability_compliant,
                visual_disability_compliant: self.visual_disability_compliant,
            },
        }
    }
}

/// Venues reachable by a provider: an active grant, on an active venue of
/// an active offerer. Every query of this module goes through this filter.
const REACHABLE_VENUES: &str = "
    SELECT o.id AS offerer_id, o.created_at AS offerer_created_at, o.name AS offerer_name,
           o.siren AS offerer_siren, v.id, v.siret, v.siret_comment, v.created_at, v.address,
           v.city, v.postal_code, v.name, v.public_name, v.activity_domain,
           v.audio_disability_compliant, v.mental_disability_compliant,
           v.motor_disability_compliant, v.visual_disability_compliant
      FROM venue_access_grant g
      JOIN venue v ON v.id = g.venue_id AND v.is_active
      JOIN offerer o ON o.id = v.offerer_id AND o.is_active
     WHERE g.provider_id = $1 AND g.revoked_at IS NULL";

#[derive(Deserialize)]
pub struct OffererVenuesQuery {
    siren: Option<String>,
}

fn well_formed(value: &str, digits: usize) -> bool {
    value.len() == digits && value.bytes().all(|b| b.is_ascii_digit())
}

/// The venues your provider has access to, grouped by offerer.
#[utoipa::path(
    get,
    path = "/public/offers/v1/offerer_venues",
    tag = "Offerer and Venues",
    operation_id = "GetOffererVenues",
    params(("siren" = Option<String>, Query, description = "Only the venues of the offerer with this SIREN (exactly 9 digits)", example = "123456789")),
    responses(
        (status = 200, description = "Venues grouped by offerer, ordered by offerer then venue; `[]` when none", body = Vec<OffererVenuesJson>),
        (status = 400, description = "`siren` is not 9 digits", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Provider deactivated", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn offerer_venues(
    provider: AuthenticatedProvider,
    pool: web::Data<PgPool>,
    query: web::Query<OffererVenuesQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Some(siren) = &query.siren
        && !well_formed(siren, 9)
    {
        return Err(ApiError::bad_request(
            "siren",
            "A SIREN is exactly 9 digits, e.g. 123456789",
        ));
    }
    let rows: Vec<VenueRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REACHABLE_VENUES} AND ($2::text IS NULL OR o.siren = $2) ORDER BY o.id, v.id"
    )))
    .bind(provider.provider_id)
    .bind(query.siren.as_deref())
    .fetch_all(pool.get_ref())
    .await?;
    let mut grouped: Vec<OffererVenuesJson> = Vec::new();
    for row in rows {
        if grouped
            .last()
            .is_none_or(|g| g.offerer.id != row.offerer_id)
        {
            grouped.push(OffererVenuesJson {
                offerer: OffererJson {
                    id: row.offerer_id,
                    created_datetime: row.offerer_created_at,
                    name: row.offerer_name.clone(),
                    siren: row.offerer_siren.clone(),
                },
                venues: Vec::new(),
            });
        }
        if let Some(group) = grouped.last_mut() {
            group.venues.push(row.venue_json());
        }
    }
    Ok(HttpResponse::Ok().json(grouped))
}

/// One venue your provider has access to.
#[utoipa::path(
    get,
    path = "/public/offers/v1/venues/{siret}",
    tag = "Offerer and Venues",
    operation_id = "GetVenueBySiret",
    params(("siret" = String, Path, description = "The venue's SIRET (14 digits)")),
    responses(
        (status = 200, description = "The venue", body = VenueJson),
        (status = 400, description = "Not 14 digits", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 404, description = "No such venue, or no access to it", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn venue_by_siret(
    provider: AuthenticatedProvider,
    pool: web::Data<PgPool>,
    siret: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let siret = siret.into_inner();
    if !well_formed(&siret, 14) {
        return Err(ApiError::bad_request(
            "siret",
            "A SIRET is exactly 14 digits, e.g. 12345678900012",
        ));
    }
    let row: Option<VenueRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REACHABLE_VENUES} AND v.siret = $2"
    )))
    .bind(provider.provider_id)
    .bind(&siret)
    .fetch_optional(pool.get_ref())
    .await?;
    let row = row.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(row.venue_json()))
}
