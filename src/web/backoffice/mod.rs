//! The support back-office. Only support agents reach it: a guard on the
//! whole `/backoffice` scope answers the "not found" page to anyone else,
//! before any handler, form or path is looked at, so no route can forget it
//! and the back-office does not even admit it exists.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, HttpResponse, web};
use askama::Template;
use sqlx::{FromRow, PgPool};

use super::access::ActingUser;
use super::account::client_info;
use super::error::PageError;
use super::{Layout, render};
use crate::auth::CurrentUser;
use crate::auth::session::SupportAgent;

mod access;
mod audit;
mod emails;
mod keys;
mod offerers;
mod providers;
mod requests;
mod venues;

/// `/backoffice/<things>/{id}/...`
#[derive(serde::Deserialize)]
pub struct IdPath {
    pub id: i64,
}

/// The agent acting, and from where, for audit events.
pub fn agent_of<'a>(user: &'a CurrentUser, req: &actix_web::HttpRequest) -> ActingUser<'a> {
    ActingUser {
        account: &user.account,
        client: client_info(req),
    }
}

#[derive(FromRow)]
struct Overview {
    offerers: i64,
    offerers_awaiting_validation: i64,
    venues: i64,
    providers: i64,
    active_grants: i64,
    pending_requests: i64,
    failed_emails: i64,
}

#[derive(Template)]
#[template(path = "backoffice/home.html")]
struct BackofficeHome {
    layout: Layout,
    overview: Overview,
}

async fn home(agent: SupportAgent, pool: web::Data<PgPool>) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let overview: Overview = sqlx::query_as(
        "SELECT (SELECT count(*) FROM offerer) AS offerers,
                (SELECT count(*) FROM offerer WHERE status = 'new') AS offerers_awaiting_validation,
                (SELECT count(*) FROM venue) AS venues,
                (SELECT count(*) FROM provider) AS providers,
                (SELECT count(*) FROM venue_access_grant WHERE revoked_at IS NULL) AS active_grants,
                (SELECT count(*) FROM provider_account_request WHERE status = 'pending') AS pending_requests,
                (SELECT count(*) FROM email_outbox WHERE status = 'failed') AS failed_emails",
    )
    .fetch_one(pool.get_ref())
    .await?;
    render(&BackofficeHome {
        layout: Layout::for_user(&user, "Back-office"),
        overview,
    })
}

/// The guard of the whole scope: support agents pass, anyone else (signed
/// out, pro user, deactivated account) gets the 404 page.
async fn support_only(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Err(e) = SupportAgent::extract(req.request()).await {
        return Ok(req.error_response(e).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/backoffice")
            .wrap(from_fn(support_only))
            // An id that is not a number is just another missing page.
            .app_data(web::PathConfig::default().error_handler(|_, _| PageError::NotFound.into()))
            .route("", web::get().to(home))
            .configure(providers::routes)
            .configure(keys::routes)
            .configure(access::routes)
            .configure(requests::routes)
            .configure(offerers::routes)
            .configure(venues::routes)
            .configure(audit::routes)
            .configure(emails::routes)
            .default_service(web::to(super::not_found)),
    );
}
