//! The provider REST API under `/public/`: JSON only, API-key authenticated
//! (see [`auth`]), scoped to the venues the provider has access to.

pub mod auth;
pub mod bookings;
pub mod categories;
pub mod error;
pub mod openapi;
pub mod providers;
pub mod venues;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};

use error::ApiError;

/// Datetimes as `YYYY-MM-DDTHH:MM:SSZ`.
pub mod iso_datetime {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    pub const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&value.format(FORMAT))
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            value: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => s.collect_str(&v.format(FORMAT)),
                None => s.serialize_none(),
            }
        }
    }
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// A resource whose other methods answer a JSON 405.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    let query_errors = web::QueryConfig::default().error_handler(|e, _| {
        ApiError::bad_request("global", format!("Invalid query string: {e}")).into()
    });
    let path_errors = web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into());
    cfg.service(
        web::scope("/public")
            .wrap(from_fn(auth::authenticate))
            .app_data(query_errors)
            .app_data(path_errors)
            .service(
                resource("/offers/v1/offerer_venues").route(web::get().to(venues::offerer_venues)),
            )
            .service(
                resource("/offers/v1/venues/{siret}").route(web::get().to(venues::venue_by_siret)),
            )
            .service(
                resource("/offers/v1/events/categories")
                    .route(web::get().to(categories::event_categories)),
            )
            .service(
                resource("/providers/v1/provider")
                    .route(web::get().to(providers::current_provider)),
            )
            .service(
                resource("/bookings/v1/token/{token}").route(web::get().to(bookings::get_booking)),
            )
            .service(
                resource("/bookings/v1/use/token/{token}")
                    .route(web::patch().to(bookings::use_booking)),
            )
            .service(
                resource("/bookings/v1/keep/token/{token}")
                    .route(web::patch().to(bookings::keep_booking)),
            )
            .service(
                resource("/bookings/v1/cancel/token/{token}")
                    .route(web::patch().to(bookings::cancel_booking)),
            )
            .default_service(web::to(not_found)),
    );
}
