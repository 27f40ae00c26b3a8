//! Errors of the server-rendered pages. Users see a plain page with the
//! request id; only unexpected errors are logged, with their cause chain.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::middleware::current_request_id;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Missing, or not yours: the same answer either way.
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    SignInRequired { next: Option<String> },
    #[error("the form's security token is missing or stale")]
    CsrfRejected,
    #[error("malformed request")]
    BadRequest,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        PageError::Unexpected(e.into())
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Unexpected(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    request_id: String,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            PageError::CsrfRejected => StatusCode::FORBIDDEN,
            PageError::BadRequest => StatusCode::BAD_REQUEST,
            PageError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            PageError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, message) = match self {
            PageError::SignInRequired { next } => {
                let location = match next {
                    Some(next) => format!(
                        "/sign-in?next={}",
                        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    ),
                    None => "/sign-in".to_owned(),
                };
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .finish();
            }
            PageError::NotFound => (
                "Page not found",
                "This page does not exist, or you do not have access to it.",
            ),
            PageError::CsrfRejected => (
                "This form has expired",
                "For your security, the form could not be accepted. Go back, reload the page and try again.",
            ),
            PageError::BadRequest => (
                "Request not understood",
                "The request could not be read. Go back and try again.",
            ),
            PageError::TooManyRequests { .. } => (
                "Too many requests",
                "You sent too many requests in a short time. Wait a moment and try again.",
            ),
            PageError::Unexpected(e) => {
                tracing::error!(error = ?e, "unexpected error while serving a page");
                (
                    "Something went wrong",
                    "An unexpected error occurred. Nothing was changed. Try again in a moment; if it persists, contact support with the reference below.",
                )
            }
        };
        let page = ErrorPage {
            title,
            message,
            request_id: current_request_id().unwrap_or_default(),
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("<!doctype html><title>{title}</title><p>{message}</p>"));
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"));
        if let PageError::TooManyRequests { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after_secs)));
        }
        response.body(body)
    }
}
