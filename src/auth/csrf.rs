//! CSRF protection, in two layers:
//! 1. [`ProtectedForm`]: every state-changing form carries the session's
//!    token in a hidden `csrf_token` field, compared in constant time; a
//!    request without a valid one is refused before the handler runs.
//! 2. `reject_cross_site` (in `web::middleware`): unsafe requests whose
//!    `Origin` is another site, or that the browser marks `Sec-Fetch-Site:
//!    cross-site`, are refused outright.

use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::session::TypedSession;
use crate::crypto::constant_time_eq;
use crate::web::error::PageError;

/// Largest form body accepted.
const MAX_FORM_BYTES: usize = 256 * 1024;

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

/// The fields of a form that is only a button: nothing but its token.
#[derive(serde::Deserialize)]
pub struct EmptyForm {}

/// A form whose CSRF token was checked. `T` sees the other fields
/// (repeated fields deserialize into `Vec`s).
pub struct ProtectedForm<T>(pub T);

impl<T> ProtectedForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

fn check_token(session: &TypedSession, submitted: &str) -> bool {
    match session.existing_csrf_token() {
        Some(expected) => constant_time_eq(expected.as_bytes(), submitted.as_bytes()),
        None => false,
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ProtectedForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|_| PageError::BadRequest)?;
            if body.len() > MAX_FORM_BYTES {
                return Err(PageError::BadRequest);
            }
            let session = TypedSession::from_session(req.get_session());
            let csrf: CsrfField =
                serde_html_form::from_bytes(&body).map_err(|_| PageError::BadRequest)?;
            if csrf.csrf_token.is_empty() || !check_token(&session, &csrf.csrf_token) {
                return Err(PageError::CsrfRejected);
            }
            let form: T = serde_html_form::from_bytes(&body).map_err(|e| {
                tracing::debug!(error = %e, "form did not deserialize");
                PageError::BadRequest
            })?;
            Ok(ProtectedForm(form))
        })
    }
}
