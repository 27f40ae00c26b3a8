//! Reviewing provider account requests: approve (creates the provider,
//! prefilled from the request) or reject with a reason, emailed to the
//! requester.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::{FromRow, PgPool};

use super::providers::{ProviderForm, ProviderFormErrors, create_provider, kind_label};
use super::{IdPath, agent_of};
use crate::auth::CurrentUser;
use crate::auth::csrf::ProtectedForm;
use crate::auth::session::{FlashKind, SupportAgent};
use crate::db::audit::AuditEvent;
use crate::db::providers::ProviderKind;
use crate::domain::{Email, required_text};
use crate::mail::{self, AccountRequestApprovedEmail, AccountRequestRejectedEmail};
use crate::web::error::PageError;
use crate::web::pro::{PER_PAGE, Pager};
use crate::web::{Layout, redirect, render, render_invalid};

#[derive(Debug, Clone, FromRow)]
pub struct AccountRequest {
    pub id: i64,
    pub company_name: String,
    pub siren: String,
    pub contact_email: String,
    pub kind: ProviderKind,
    pub offerer_siren: Option<String>,
    pub offerer_name: Option<String>,
    pub description: String,
    pub status: String,
    pub rejection_reason: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub provider_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl AccountRequest {
    pub fn kind_label(&self) -> &'static str {
        kind_label(self.kind)
    }
    pub fn is_pending(&self) -> bool {
        self.status == "pending"
    }
}

const SELECT: &str = "
    SELECT r.id, r.company_name, r.siren, r.contact_email, r.kind, r.offerer_siren,
           o.name AS offerer_name, r.description, r.status::text AS status, r.rejection_reason,
           u.display_name AS reviewed_by, r.reviewed_at, r.provider_id, r.created_at
      FROM provider_account_request r
      LEFT JOIN offerer o ON o.siren = r.offerer_siren
      LEFT JOIN user_account u ON u.id = r.reviewed_by_user_id";

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "backoffice/requests.html")]
struct ListPage {
    layout: Layout,
    section: &'static str,
    status: String,
    requests: Vec<AccountRequest>,
    pager: Pager,
}

pub async fn list(
    agent: SupportAgent,
    query: web::Query<ListQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let status = match query.status.as_str() {
        "approved" | "rejected" | "all" => query.status.clone(),
        _ => "pending".to_owned(),
    };
    let mut pager = Pager::new(
        query.page.as_deref(),
        format!("/backoffice/requests?status={status}&"),
    );
    // Pending requests oldest first (first come, first served); reviewed
    // ones newest first.
    let order = if status == "pending" {
        "r.created_at, r.id"
    } else {
        "r.created_at DESC, r.id DESC"
    };
    let requests: Vec<AccountRequest> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE ($1 = 'all' OR r.status::text = $1) ORDER BY {order} LIMIT $2 OFFSET $3"
    )))
    .bind(&status)
    .bind(PER_PAGE)
    .bind(pager.offset())
    .fetch_all(pool.get_ref())
    .await?;
    let (total,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM provider_account_request r WHERE ($1 = 'all' OR r.status::text = $1)",
    )
    .bind(&status)
    .fetch_one(pool.get_ref())
    .await?;
    pager.total = total;
    render(&ListPage {
        layout: Layout::for_user(&user, "Provider account requests"),
        section: "requests",
        status,
        requests,
        pager,
    })
}

async fn load(pool: &PgPool, id: i64) -> Result<AccountRequest, PageError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE r.id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(PageError::NotFound)
}

#[derive(Template)]
#[template(path = "backoffice/request.html")]
struct RequestPage {
    layout: Layout,
    section: &'static str,
    request: AccountRequest,
    form: ProviderForm,
    errors: ProviderFormErrors,
    reason: String,
    reason_error: Option<String>,
}

fn page(
    user: &CurrentUser,
    request: AccountRequest,
    form: ProviderForm,
    errors: ProviderFormErrors,
    reason: String,
    reason_error: Option<String>,
) -> RequestPage {
    RequestPage {
        layout: Layout::for_user(user, format!("Request from {}", request.company_name)),
        section: "requests",
        request,
        form,
        errors,
        reason,
        reason_error,
    }
}

fn prefilled(request: &AccountRequest) -> ProviderForm {
    ProviderForm {
        name: request.company_name.clone(),
        kind: request.kind.as_str().to_owned(),
        contact_email: request.contact_email.clone(),
        offerer_siren: request.offerer_siren.clone().unwrap_or_default(),
    }
}

pub async fn show(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let request = load(&pool, path.id).await?;
    let form = prefilled(&request);
    render(&page(
        &user,
        request,
        form,
        ProviderFormErrors::default(),
        String::new(),
        None,
    ))
}

fn already_reviewed(user: &CurrentUser, request: &AccountRequest) -> HttpResponse {
    user.session.flash(
        FlashKind::Info,
        format!(
            "This request was already {} by {}: nothing changed.",
            request.status,
            request.reviewed_by.as_deref().unwrap_or("someone")
        ),
    );
    redirect(&format!("/backoffice/requests/{}", request.id))
}

/// Lock the request for this transaction; false unless it is still pending.
async fn lock_pending(tx: &mut sqlx::PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM provider_account_request WHERE id = $1 AND status = 'pending' FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(tx)
    .await?;
    Ok(row.is_some())
}

/// Mark the request reviewed if it is still pending; `false` if someone
/// reviewed it meanwhile.
async fn close_request(
    tx: &mut sqlx::PgConnection,
    id: i64,
    status: &str,
    reviewer: i64,
    provider_id: Option<i64>,
    reason: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE provider_account_request
            SET status = $2::request_status, reviewed_by_user_id = $3, reviewed_at = now(),
                provider_id = $4, rejection_reason = $5
          WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(status)
    .bind(reviewer)
    .bind(provider_id)
    .bind(reason)
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn requester(request: &AccountRequest) -> Result<Email, PageError> {
    Email::parse(&request.contact_email).map_err(|e| {
        PageError::Unexpected(anyhow::anyhow!(
            "request {} has an unusable contact email: {e}",
            request.id
        ))
    })
}

pub async fn approve(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    form: ProtectedForm<ProviderForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let request = load(&pool, path.id).await?;
    if !request.is_pending() {
        return Ok(already_reviewed(&user, &request));
    }
    let form = form.into_inner();
    let input = match form.validate(&pool).await? {
        Ok(input) => input,
        Err(errors) => {
            return render_invalid(&page(&user, request, form, errors, String::new(), None));
        }
    };
    let mut tx = pool.begin().await?;
    // Locked first: of two approvals at once, the second waits, then says
    // the request was reviewed (rather than "the name is taken").
    if !lock_pending(&mut tx, request.id).await? {
        drop(tx);
        let request = load(&pool, path.id).await?;
        return Ok(already_reviewed(&user, &request));
    }
    let provider_id = match create_provider(&mut tx, &user, &req, &input, Some(request.id)).await? {
        Ok(id) => id,
        Err(message) => {
            drop(tx);
            let errors = ProviderFormErrors {
                name: Some(message),
                ..ProviderFormErrors::default()
            };
            return render_invalid(&page(&user, request, form, errors, String::new(), None));
        }
    };
    if !close_request(
        &mut tx,
        request.id,
        "approved",
        user.id(),
        Some(provider_id),
        None,
    )
    .await?
    {
        drop(tx);
        let request = load(&pool, path.id).await?;
        return Ok(already_reviewed(&user, &request));
    }
    let by = agent_of(&user, &req);
    AuditEvent::new(by.actor(), "provider_request.approve")
        .target("provider_account_request", request.id)
        .provider(provider_id)
        .details(serde_json::json!({
            "company_name": request.company_name,
            "provider_name": input.name,
        }))
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    let email = AccountRequestApprovedEmail {
        company_name: request.company_name.clone(),
        provider_name: input.name.clone(),
    };
    mail::enqueue(&mut *tx, &requester(&request)?, &email)
        .await
        .map_err(|e| PageError::Unexpected(e.into()))?;
    tx.commit().await?;
    user.session.flash(
        FlashKind::Success,
        format!(
            "Approved: {} is now a provider and {} was told by email. Next: issue its key pair.",
            input.name, request.contact_email
        ),
    );
    Ok(redirect(&format!("/backoffice/providers/{provider_id}")))
}

#[derive(Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    reason: String,
}

pub async fn reject(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    form: ProtectedForm<RejectForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let request = load(&pool, path.id).await?;
    if !request.is_pending() {
        return Ok(already_reviewed(&user, &request));
    }
    let typed = form.into_inner().reason;
    let reason = match required_text(&typed, "The reason", 2000) {
        Ok(reason) => reason,
        Err(e) => {
            let form = prefilled(&request);
            return render_invalid(&page(
                &user,
                request,
                form,
                ProviderFormErrors::default(),
                typed,
                Some(format!("{e}: the requester reads it in the email.")),
            ));
        }
    };
    let mut tx = pool.begin().await?;
    if !close_request(
        &mut tx,
        request.id,
        "rejected",
        user.id(),
        None,
        Some(&reason),
    )
    .await?
    {
        drop(tx);
        let request = load(&pool, path.id).await?;
        return Ok(already_reviewed(&user, &request));
    }
    let by = agent_of(&user, &req);
    AuditEvent::new(by.actor(), "provider_request.reject")
        .target("provider_account_request", request.id)
        .details(serde_json::json!({
            "company_name": request.company_name,
            "reason": reason,
        }))
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    let email = AccountRequestRejectedEmail {
        company_name: request.company_name.clone(),
        reason,
    };
    mail::enqueue(&mut *tx, &requester(&request)?, &email)
        .await
        .map_err(|e| PageError::Unexpected(e.into()))?;
    tx.commit().await?;
    user.session.flash(
        FlashKind::Success,
        format!(
            "The request of {} was rejected; {} was told why by email.",
            request.company_name, request.contact_email
        ),
    );
    Ok(redirect("/backoffice/requests"))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/requests", web::get().to(list))
        .route("/requests/{id}", web::get().to(show))
        .route("/requests/{id}/approve", web::post().to(approve))
        .route("/requests/{id}/reject", web::post().to(reject));
}
