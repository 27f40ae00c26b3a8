//! Emails the worker gave up on, and queueing them again (one or all),
//! audited as `email.retry` like the `mail retry` command.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use super::agent_of;

use crate::auth::csrf::{EmptyForm, ProtectedForm};
use crate::auth::session::{FlashKind, SupportAgent};
use crate::db::audit::AuditEvent;
use crate::mail::outbox::{self, FailedEmail};
use crate::web::error::PageError;
use crate::web::{Layout, redirect, render};

const EMAILS: &str = "/backoffice/emails";

#[derive(Template)]
#[template(path = "backoffice/emails.html")]
struct EmailsPage {
    layout: Layout,
    emails: Vec<FailedEmail>,
}

async fn emails_page(
    agent: SupportAgent,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let emails = outbox::list_failed(pool.get_ref()).await?;
    render(&EmailsPage {
        layout: Layout::for_user(&user, "Failed emails"),
        emails,
    })
}

#[derive(Deserialize)]
pub struct EmailPath {
    email_id: i64,
}

/// Queue again the failed emails `ids` (all when `None`), one audit event
/// each, in one transaction. Returns how many were queued.
async fn retry_failed(
    pool: &PgPool,
    agent: &SupportAgent,
    req: &HttpRequest,
    ids: Option<&[i64]>,
) -> Result<usize, PageError> {
    let SupportAgent(user) = agent;
    let by = agent_of(user, req);
    let mut tx = pool.begin().await?;
    let requeued = outbox::requeue_failed(&mut tx, ids).await?;
    for email in &requeued {
        AuditEvent::new(by.actor(), "email.retry")
            .target("email_outbox", email.id)
            .details(serde_json::json!({
                "template": email.template,
                "failed_attempts": email.attempts,
            }))
            .client(&by.client)
            .record(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(requeued.len())
}

async fn retry(
    agent: SupportAgent,
    path: web::Path<EmailPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    _form: ProtectedForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let requeued = retry_failed(&pool, &agent, &req, Some(&[path.email_id])).await?;
    let SupportAgent(user) = agent;
    if requeued == 0 {
        user.session.flash(
            FlashKind::Info,
            format!(
                "Email {} is not waiting for a retry (already queued again, sent, or unknown): nothing changed.",
                path.email_id
            ),
        );
    } else {
        user.session.flash(
            FlashKind::Success,
            format!("Email {} is queued again.", path.email_id),
        );
    }
    Ok(redirect(EMAILS))
}

async fn retry_all(
    agent: SupportAgent,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    _form: ProtectedForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let requeued = retry_failed(&pool, &agent, &req, None).await?;
    let SupportAgent(user) = agent;
    if requeued == 0 {
        user.session.flash(
            FlashKind::Info,
            "No failed email to retry: nothing changed.",
        );
    } else {
        user.session.flash(
            FlashKind::Success,
            format!(
                "{requeued} email{} queued again.",
                if requeued == 1 { " is" } else { "s are" }
            ),
        );
    }
    Ok(redirect(EMAILS))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/emails", web::get().to(emails_page))
        .route("/emails/retry-all", web::post().to(retry_all))
        .route("/emails/{email_id}/retry", web::post().to(retry));
}
