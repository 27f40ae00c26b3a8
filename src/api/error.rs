//! Errors of the provider REST API. Every error body has one shape: an
//! object mapping a field (or `global`, or `auth`) to a list of messages.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::domain::Environment;
use crate::web::middleware::current_request_id;

/// The error body: a field (or `global`, or `auth`) mapped to messages.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"siren": ["A SIREN is exactly 9 digits, e.g. 123456789"]}))]
pub struct ErrorBody(pub BTreeMap<String, Vec<String>>);

/// What the `WWW-Authenticate` challenge says (RFC 6750).
const REALM: &str = "Bearer realm=\"pass Culture API\"";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer` header: no `error` parameter in the challenge.
    #[error("missing API key")]
    MissingKey,
    /// Malformed, unknown, wrong secret, revoked or expired: indistinguishable.
    #[error("invalid API key")]
    InvalidKey,
    /// A well-formed key of the other environment.
    #[error("API key of the wrong environment")]
    WrongEnvironment {
        key: Environment,
        server: Environment,
    },
    #[error("provider deactivated")]
    ProviderInactive,
    /// Missing, or outside the provider's access: the same answer.
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("invalid {field}: {message}")]
    BadRequest {
        field: &'static str,
        message: String,
    },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("rate limit exceeded")]
    RateLimited { retry_after_secs: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Unexpected(e.into())
    }
}

impl ApiError {
    pub fn bad_request(field: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field,
            message: message.into(),
        }
    }

    fn body(&self) -> BTreeMap<&'static str, Vec<String>> {
        let (field, message) = match self {
            ApiError::MissingKey => (
                "auth",
                "API key required: send it in the header `Authorization: Bearer <your API key>`"
                    .to_owned(),
            ),
            ApiError::InvalidKey => (
                "auth",
                "Invalid API key: it is malformed, unknown, revoked or expired".to_owned(),
            ),
            ApiError::WrongEnvironment { key, server } => (
                "auth",
                format!(
                    "This API key is for the {} environment, but this server is the {} environment: use your {} API key here",
                    key.as_str(),
                    server.as_str(),
                    server.as_str()
                ),
            ),
            ApiError::ProviderInactive => (
                "auth",
                "This provider account is deactivated: contact pass Culture support".to_owned(),
            ),
            ApiError::NotFound => (
                "global",
                "The resource you requested does not exist".to_owned(),
            ),
            ApiError::Forbidden(message) => ("global", message.clone()),
            ApiError::BadRequest { field, message } => (*field, message.clone()),
            ApiError::MethodNotAllowed => (
                "global",
                "This method is not allowed on this resource".to_owned(),
            ),
            ApiError::RateLimited { retry_after_secs } => (
                "global",
                format!("Rate limit exceeded: retry in {retry_after_secs} seconds"),
            ),
            ApiError::Unexpected(_) => (
                "global",
                format!(
                    "Internal error; contact support with the reference {}",
                    current_request_id().unwrap_or_default()
                ),
            ),
        };
        BTreeMap::from([(field, vec![message])])
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::MissingKey | ApiError::InvalidKey | ApiError::WrongEnvironment { .. } => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::ProviderInactive | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Unexpected(e) = self {
            tracing::error!(error = ?e, "unexpected error in the provider API");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::MissingKey => {
                response.insert_header((header::WWW_AUTHENTICATE, REALM));
            }
            ApiError::InvalidKey | ApiError::WrongEnvironment { .. } => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("{REALM}, error=\"invalid_token\""),
                ));
            }
            ApiError::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after_secs)));
            }
            _ => {}
        }
        response.json(self.body())
    }
}
