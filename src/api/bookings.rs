//! Bookings of the venues the provider can reach: read one, mark it used,
//! undo "used", cancel it. Transitions lock the booking row, so two
//! concurrent transitions on one booking never both succeed.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgPool};
use utoipa::ToSchema;

use super::auth::AuthenticatedProvider;
use super::error::{ApiError, ErrorBody};
use super::iso_datetime;
use crate::db::audit::{Actor, AuditEvent};
use crate::domain::BookingToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, Serialize, ToSchema)]
#[sqlx(type_name = "booking_status", rename_all = "lowercase")]
#[serde(rename_all = "UPPERCASE")]
pub enum BookingStatus {
    Confirmed,
    Used,
    Cancelled,
    Reimbursed,
}

/// What a provider may do to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingAction {
    Use,
    Keep,
    Cancel,
}

impl BookingAction {
    fn audit_action(self) -> &'static str {
        match self {
            BookingAction::Use => "booking.use",
            BookingAction::Keep => "booking.keep",
            BookingAction::Cancel => "booking.cancel",
        }
    }
}

/// The state machine: the new status, or why the action is refused.
pub fn transition(
    status: BookingStatus,
    action: BookingAction,
) -> Result<BookingStatus, &'static str> {
    use BookingAction::*;
    use BookingStatus::*;
    match (action, status) {
        (Use, Confirmed) => Ok(Used),
        (Use, Used) => Err("This booking has already been used"),
        (Use, Cancelled) => Err("This booking has been cancelled"),
        (Use, Reimbursed) => Err("This booking has already been reimbursed"),
        (Keep, Used) => Ok(Confirmed),
        (Keep, Confirmed) => Err("This booking has not been used: there is nothing to undo"),
        (Keep, Cancelled) => Err("This booking has been cancelled: it was not used"),
        (Keep, Reimbursed) => Err("This booking has been reimbursed: its use cannot be undone"),
        (Cancel, Confirmed) => Ok(Cancelled),
        (Cancel, Used) => Err("This booking has been used and cannot be cancelled"),
        (Cancel, Cancelled) => Err("This booking has already been cancelled"),
        (Cancel, Reimbursed) => Err("This booking has been reimbursed and cannot be cancelled"),
    }
}

#[derive(FromRow)]
struct BookingRow {
    id: i64,
    token: String,
    status: BookingStatus,
    offer_id: i64,
    offer_name: String,
    venue_id: i64,
    venue_name: String,
    offerer_id: i64,
    price_cents: i32,
    quantity: i32,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    beneficiary_first_name: String,
    beneficiary_last_name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Booking)]
pub struct BookingJson {
    id: i64,
    token: String,
    status: BookingStatus,
    offer_id: i64,
    offer_name: String,
    venue_id: i64,
    venue_name: String,
    /// In euro cents.
    price: i32,
    quantity: i32,
    #[serde(with = "iso_datetime")]
    creation_date: DateTime<Utc>,
    #[serde(with = "iso_datetime::option")]
    confirmation_date: Option<DateTime<Utc>>,
    user_first_name: String,
    user_last_name: String,
}

impl From<BookingRow> for BookingJson {
    fn from(row: BookingRow) -> Self {
        Self {
            id: row.id,
            token: row.token,
            status: row.status,
            offer_id: row.offer_id,
            offer_name: row.offer_name,
            venue_id: row.venue_id,
            venue_name: row.venue_name,
            price: row.price_cents,
            quantity: row.quantity,
            creation_date: row.created_at,
            confirmation_date: row.confirmed_at,
            user_first_name: row.beneficiary_first_name,
            user_last_name: row.beneficiary_last_name,
        }
    }
}

/// A booking the provider can reach (active grant on its venue); `lock`
/// adds `FOR UPDATE OF b`.
const REACHABLE_BOOKING: &str = "
    SELECT b.id, b.token, b.status, o.id AS offer_id, o.name AS offer_name, v.id AS venue_id,
           coalesce(v.public_name, v.name) AS venue_name, v.offerer_id, b.price_cents,
           b.quantity, b.created_at, b.confirmed_at, b.beneficiary_first_name,
           b.beneficiary_last_name
      FROM booking b
      JOIN offer o ON o.id = b.offer_id
      JOIN venue v ON v.id = o.venue_id AND v.is_active
      JOIN offerer f ON f.id = v.offerer_id AND f.is_active
     WHERE b.token = $1
       AND EXISTS (SELECT 1 FROM venue_access_grant g
                    WHERE g.venue_id = v.id AND g.provider_id = $2 AND g.revoked_at IS NULL)";

/// Tokens are case-insensitive; anything that cannot be a token is simply not found.
fn parse_token(raw: &str) -> Result<BookingToken, ApiError> {
    BookingToken::parse(raw).map_err(|_| ApiError::NotFound)
}

/// A booking of a venue your provider has access to.
#[utoipa::path(
    get,
    path = "/public/bookings/v1/token/{token}",
    tag = "Bookings",
    operation_id = "GetBookingByToken",
    params(("token" = String, Path, description = "The booking token (6 characters, case-insensitive)")),
    responses(
        (status = 200, description = "The booking", body = BookingJson),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "The action is forbidden for this booking's state", body = ErrorBody),
        (status = 404, description = "No such booking, or no access to its venue", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_booking(
    provider: AuthenticatedProvider,
    pool: web::Data<PgPool>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = parse_token(&token)?;
    let row: Option<BookingRow> = sqlx::query_as(REACHABLE_BOOKING)
        .bind(token.as_str())
        .bind(provider.provider_id)
        .fetch_optional(pool.get_ref())
        .await?;
    let row = row.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(BookingJson::from(row)))
}

async fn apply(
    provider: AuthenticatedProvider,
    pool: &PgPool,
    raw_token: &str,
    action: BookingAction,
) -> Result<HttpResponse, ApiError> {
    let token = parse_token(raw_token)?;
    let mut tx = pool.begin().await?;
    let row: Option<BookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REACHABLE_BOOKING} FOR UPDATE OF b"
    )))
    .bind(token.as_str())
    .bind(provider.provider_id)
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or(ApiError::NotFound)?;
    let new_status =
        transition(row.status, action).map_err(|why| ApiError::Forbidden(why.to_owned()))?;
    sqlx::query(
        "UPDATE booking SET status = $2,
                used_at = CASE WHEN $2 = 'used'::booking_status THEN now()
                               WHEN $2 = 'confirmed'::booking_status THEN NULL ELSE used_at END,
                cancelled_at = CASE WHEN $2 = 'cancelled'::booking_status THEN now() ELSE cancelled_at END
          WHERE id = $1",
    )
    .bind(row.id)
    .bind(new_status)
    .execute(&mut *tx)
    .await?;
    AuditEvent::new(
        Actor::Provider {
            id: provider.provider_id,
            name: provider.provider_name.clone(),
        },
        action.audit_action(),
    )
    .target("booking", row.id)
    .offerer(row.offerer_id)
    .venue(row.venue_id)
    .provider(provider.provider_id)
    .details(serde_json::json!({
        "token": row.token,
        "from": row.status,
        "to": new_status,
        "api_key_prefix": provider.key_prefix,
    }))
    .record(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mark a confirmed booking as used.
#[utoipa::path(
    patch,
    path = "/public/bookings/v1/use/token/{token}",
    tag = "Bookings",
    operation_id = "UseBooking",
    params(("token" = String, Path, description = "The booking token (6 characters, case-insensitive)")),
    responses(
        (status = 204, description = "Marked as used"),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "The action is forbidden for this booking's state", body = ErrorBody),
        (status = 404, description = "No such booking, or no access to its venue", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn use_booking(
    provider: AuthenticatedProvider,
    pool: web::Data<PgPool>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    apply(provider, &pool, &token, BookingAction::Use).await
}

/// Undo "used": the booking is confirmed again.
#[utoipa::path(
    patch,
    path = "/public/bookings/v1/keep/token/{token}",
    tag = "Bookings",
    operation_id = "KeepBooking",
    params(("token" = String, Path, description = "The booking token (6 characters, case-insensitive)")),
    responses(
        (status = 204, description = "Confirmed again"),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "The action is forbidden for this booking's state", body = ErrorBody),
        (status = 404, description = "No such booking, or no access to its venue", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn keep_booking(
    provider: AuthenticatedProvider,
    pool: web::Data<PgPool>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    apply(provider, &pool, &token, BookingAction::Keep).await
}

/// Cancel a confirmed booking.
#[utoipa::path(
    patch,
    path = "/public/bookings/v1/cancel/token/{token}",
    tag = "Bookings",
    operation_id = "CancelBooking",
    params(("token" = String, Path, description = "The booking token (6 characters, case-insensitive)")),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "The action is forbidden for this booking's state", body = ErrorBody),
        (status = 404, description = "No such booking, or no access to its venue", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn cancel_booking(
    provider: AuthenticatedProvider,
    pool: web::Data<PgPool>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    apply(provider, &pool, &token, BookingAction::Cancel).await
}

#[cfg(test)]
mod tests {
    use super::BookingAction::*;
    use super::BookingStatus::*;
    use super::*;

    #[test]
    fn every_status_and_action() {
        let table = [
            (Confirmed, Use, Some(Used)),
            (Confirmed, Keep, None),
            (Confirmed, Cancel, Some(Cancelled)),
            (Used, Use, None),
            (Used, Keep, Some(Confirmed)),
            (Used, Cancel, None),
            (Cancelled, Use, None),
            (Cancelled, Keep, None),
            (Cancelled, Cancel, None),
            (Reimbursed, Use, None),
            (Reimbursed, Keep, None),
            (Reimbursed, Cancel, None),
        ];
        for (status, action, expected) in table {
            assert_eq!(
                transition(status, action).ok(),
                expected,
                "{status:?} {action:?}"
            );
        }
    }
}
