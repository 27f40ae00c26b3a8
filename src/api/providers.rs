//! Who am I: the provider behind the key.

use actix_web::HttpResponse;
use serde::Serialize;

use super::auth::AuthenticatedProvider;
use super::error::ApiError;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProviderJson {
    id: i64,
    name: String,
    environment: &'static str,
    api_key_prefix: String,
}

/// `GET /public/providers/v1/provider`
pub async fn current_provider(provider: AuthenticatedProvider) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ProviderJson {
        id: provider.provider_id,
        name: provider.provider_name,
        environment: provider.environment.as_str(),
        api_key_prefix: provider.key_prefix,
    }))
}
