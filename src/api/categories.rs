//! The catalogue of event categories, shipped with the application.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::header;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::AuthenticatedProvider;
use super::error::{ApiError, ErrorBody};

/// One category: which extra fields an event of this category takes, and
/// whether each is mandatory.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventCategory {
    pub id: String,
    pub label: String,
    /// Extra fields an event of this category takes: `true` when mandatory.
    #[schema(value_type = Object, example = json!({"musicType": true, "performer": false}))]
    pub conditional_fields: serde_json::Map<String, serde_json::Value>,
}

const CATALOGUE_JSON: &str = include_str!("event_categories.json");

/// Parsed once; serialised once.
static CATALOGUE_BODY: LazyLock<String> = LazyLock::new(|| {
    let categories: Vec<EventCategory> =
        serde_json::from_str(CATALOGUE_JSON).expect("event_categories.json is valid");
    serde_json::to_string(&categories).expect("categories serialise")
});

/// The catalogue of event categories.
#[utoipa::path(
    get,
    path = "/public/offers/v1/events/categories",
    tag = "Events",
    operation_id = "GetEventCategories",
    responses(
        (status = 200, description = "Every event category", body = Vec<EventCategory>),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn event_categories(_provider: AuthenticatedProvider) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(CATALOGUE_BODY.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_parses_and_has_unique_ids() {
        let categories: Vec<EventCategory> = serde_json::from_str(CATALOGUE_JSON).unwrap();
        assert!(categories.len() >= 20);
        let mut ids: Vec<&str> = categories.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), categories.len());
        assert!(categories.iter().any(|c| c.id == "CONCERT"));
        assert!(CATALOGUE_BODY.contains("\"conditionalFields\""));
    }
}
