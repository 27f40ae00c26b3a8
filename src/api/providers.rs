//! Who am I: the provider behind the key.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::AuthenticatedProvider;
use super::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Provider)]
pub struct ProviderJson {
    id: i64,
    name: String,
    environment: &'static str,
    api_key_prefix: String,
}

/// The provider behind the API key, and the key's environment.
#[utoipa::path(
    get,
    path = "/public/providers/v1/provider",
    tag = "Provider",
    operation_id = "GetProvider",
    responses(
        (status = 200, description = "Your provider", body = ProviderJson),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn current_provider(provider: AuthenticatedProvider) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ProviderJson {
        id: provider.provider_id,
        name: provider.provider_name,
        environment: provider.environment.as_str(),
        api_key_prefix: provider.key_prefix,
    }))
}
