//! Server-rendered pages: sign-in and account pages, the pro (offerer)
//! interface and the support back-office.

pub mod access;
pub mod account;
pub mod assets;
pub mod backoffice;
pub mod error;
pub mod health;
pub mod invitations;
pub mod key_reveal;
pub mod membership;
pub mod middleware;
pub mod password_reset;
pub mod pro;
pub mod provider_request;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::auth::session::{Flash, TypedSession};
use crate::db::users::Role;
use error::PageError;

/// Who is signed in, for the navigation bar.
pub struct NavUser {
    pub display_name: String,
    pub email: String,
    pub is_support: bool,
}

/// What every page's layout needs.
pub struct Layout {
    pub title: String,
    pub user: Option<NavUser>,
    pub csrf_token: String,
    pub flash: Option<Flash>,
}

impl Layout {
    pub fn anonymous(session: &TypedSession, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            user: None,
            csrf_token: session.csrf_token(),
            flash: session.take_flash(),
        }
    }

    pub fn for_user(user: &CurrentUser, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            user: Some(NavUser {
                display_name: user.account.display_name.clone(),
                email: user.account.email.clone(),
                is_support: user.account.role == Role::Support,
            }),
            csrf_token: user.session.csrf_token(),
            flash: user.session.take_flash(),
        }
    }
}

/// Render a page. Pages are personal, so nothing is cached.
pub fn render(page: &impl Template) -> Result<HttpResponse, PageError> {
    let body = page.render()?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// Render a form again with its errors (422 keeps browsers and tests honest).
pub fn render_invalid(page: &impl Template) -> Result<HttpResponse, PageError> {
    let mut response = render(page)?;
    *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Malformed query strings on pages get the HTML error page.
    cfg.app_data(web::QueryConfig::default().error_handler(|_, _| PageError::BadRequest.into()));
    health::routes(cfg);
    account::routes(cfg);
    password_reset::routes(cfg);
    invitations::routes(cfg);
    key_reveal::routes(cfg);
    provider_request::routes(cfg);
    pro::routes(cfg);
    backoffice::routes(cfg);
}

/// What a search box may hold: trimmed, no control characters (PostgreSQL
/// refuses NUL in text), at most 100 characters.
pub fn search_text(raw: &str) -> String {
    raw.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect()
}

/// Anything no route matched.
pub async fn not_found() -> Result<HttpResponse, PageError> {
    Err(PageError::NotFound)
}
