//! The support back-office. Only support agents reach it; anyone else gets
//! the "not found" page.

use actix_web::{HttpResponse, web};
use askama::Template;
use sqlx::{FromRow, PgPool};

use super::error::PageError;
use super::{Layout, render};
use crate::auth::session::SupportAgent;

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

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/backoffice", web::get().to(home));
}
