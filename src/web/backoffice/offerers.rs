//! Offerers in the back-office: search, creation (SIREN checked, duplicates
//! pointed to), validation or rejection, deactivation, and an offerer's page
//! with its venues, members and the providers with access to its venues.
//! Every change records its audit event in the same transaction.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use super::agent_of;

use crate::auth::CurrentUser;
use crate::auth::csrf::{EmptyForm, ProtectedForm};
use crate::auth::session::{FlashKind, SupportAgent};
use crate::config::Settings;
use crate::db::audit::AuditEvent;
use crate::db::constraint;
use crate::db::offerers::{
    self, BackofficeVenueLine, Member, Offerer, OffererListLine, OffererRecord, OffererStatus,
    ProviderWithAccess, StatusFilter,
};
use crate::domain::{Email, Siren, required_line, required_text};
use crate::web::access::ActingUser;
use crate::web::error::PageError;
use crate::web::membership::{AddMemberError, AddMemberOutcome, add_member};
use crate::web::pro::{PER_PAGE, Pager, query_value};
use crate::web::{Layout, redirect, render, render_invalid, search_text};

/// `/backoffice/offerers/{offerer_id}/...`
#[derive(Deserialize)]
pub struct OffererPath {
    pub offerer_id: i64,
}

pub fn offerer_href(id: i64) -> String {
    format!("/backoffice/offerers/{id}")
}

/// The offerer `id`, or the 404 page.
pub async fn load_offerer(pool: &PgPool, id: i64) -> Result<OffererRecord, PageError> {
    offerers::find(pool, id).await?.ok_or(PageError::NotFound)
}

// ---------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "backoffice/offerers.html")]
struct OfferersPage {
    layout: Layout,
    q: String,
    status: Option<StatusFilter>,
    statuses: [StatusFilter; 4],
    offerers: Vec<OffererListLine>,
    pager: Pager,
}

impl OfferersPage {
    fn is_filtered(&self) -> bool {
        !self.q.is_empty() || self.status.is_some()
    }
    fn status_is(&self, filter: &StatusFilter) -> bool {
        self.status == Some(*filter)
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    page: Option<String>,
}

async fn list(
    agent: SupportAgent,
    query: web::Query<ListQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let q = search_text(&query.q);
    let status = StatusFilter::parse(&query.status);
    let mut base = String::from("/backoffice/offerers?");
    if !q.is_empty() {
        base.push_str(&format!("q={}&", query_value(&q)));
    }
    if let Some(status) = status {
        base.push_str(&format!("status={}&", status.code()));
    }
    let mut pager = Pager::new(query.page.as_deref(), base);
    let (offerers, total) = offerers::search(&pool, &q, status, PER_PAGE, pager.offset()).await?;
    pager.total = total;
    render(&OfferersPage {
        layout: Layout::for_user(&user, "Offerers"),
        q,
        status,
        statuses: StatusFilter::ALL,
        offerers,
        pager,
    })
}

// ---------------------------------------------------------------------------
// Creation
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "backoffice/offerer_new.html")]
struct NewOffererPage {
    layout: Layout,
    name: String,
    siren: String,
    name_error: Option<String>,
    siren_error: Option<String>,
    /// The offerer that already has this SIREN.
    existing: Option<OffererRecord>,
}

async fn new_page(agent: SupportAgent) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    render(&NewOffererPage {
        layout: Layout::for_user(&user, "New offerer"),
        name: String::new(),
        siren: String::new(),
        name_error: None,
        siren_error: None,
        existing: None,
    })
}

const DUPLICATE_SIREN: &str = "An offerer with this SIREN already exists.";

#[derive(Deserialize)]
pub struct NewOffererForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    siren: String,
}

async fn create(
    agent: SupportAgent,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    form: ProtectedForm<NewOffererForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let form = form.into_inner();
    let mut page = NewOffererPage {
        layout: Layout::for_user(&user, "New offerer"),
        name: form.name.trim().to_owned(),
        siren: form.siren.trim().to_owned(),
        name_error: None,
        siren_error: None,
        existing: None,
    };
    let name = required_line(&form.name, "The name", 140)
        .map_err(|e| page.name_error = Some(e.to_string()))
        .ok();
    let siren = Siren::parse(&form.siren)
        .map_err(|e| page.siren_error = Some(e.to_string()))
        .ok();
    let (Some(name), Some(siren)) = (name, siren) else {
        return render_invalid(&page);
    };
    if let Some(existing) = offerers::find_by_siren(pool.get_ref(), siren.as_str()).await? {
        page.siren_error = Some(DUPLICATE_SIREN.into());
        page.existing = Some(existing);
        return render_invalid(&page);
    }

    let mut tx = pool.begin().await?;
    let id = match offerers::insert(&mut *tx, &name, siren.as_str()).await {
        Ok(id) => id,
        Err(e) if constraint::is_violation(&e, "offerer_siren_key") => {
            // Created by someone else in the meantime.
            drop(tx);
            page.siren_error = Some(DUPLICATE_SIREN.into());
            page.existing = offerers::find_by_siren(pool.get_ref(), siren.as_str()).await?;
            return render_invalid(&page);
        }
        Err(e) => return Err(e.into()),
    };
    let by = agent_of(&user, &req);
    AuditEvent::new(by.actor(), "offerer.create")
        .target("offerer", id)
        .offerer(id)
        .details(serde_json::json!({ "name": name, "siren": siren.as_str() }))
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    tx.commit().await?;
    user.session.flash(
        FlashKind::Success,
        format!("{name} is created. It awaits validation."),
    );
    Ok(redirect(&offerer_href(id)))
}

// ---------------------------------------------------------------------------
// An offerer's page
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "backoffice/offerer.html")]
struct OffererPage {
    layout: Layout,
    offerer: OffererRecord,
    rejection_reason: Option<String>,
    venues: Vec<BackofficeVenueLine>,
    members: Vec<Member>,
    providers: Vec<ProviderWithAccess>,
    forms: DetailForms,
}

impl OffererPage {
    fn href(&self) -> String {
        offerer_href(self.offerer.id)
    }
}

/// What was typed in the page's forms, and their errors.
#[derive(Default)]
struct DetailForms {
    reject_reason: String,
    reject_error: Option<String>,
    member_email: String,
    member_error: Option<String>,
}

async fn detail_with(
    pool: &PgPool,
    user: &CurrentUser,
    offerer: OffererRecord,
    forms: DetailForms,
) -> Result<HttpResponse, PageError> {
    let rejection_reason = if offerer.status.is_rejected() {
        offerers::rejection_reason(pool, offerer.id).await?
    } else {
        None
    };
    let page = OffererPage {
        layout: Layout::for_user(user, offerer.name.clone()),
        rejection_reason,
        venues: offerers::backoffice_venues(pool, offerer.id).await?,
        members: offerers::members(pool, offerer.id).await?,
        providers: offerers::providers_with_access(pool, offerer.id).await?,
        offerer,
        forms,
    };
    if page.forms.reject_error.is_some() || page.forms.member_error.is_some() {
        render_invalid(&page)
    } else {
        render(&page)
    }
}

async fn detail(
    agent: SupportAgent,
    path: web::Path<OffererPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let offerer = load_offerer(&pool, path.offerer_id).await?;
    detail_with(&pool, &user, offerer, DetailForms::default()).await
}

// ---------------------------------------------------------------------------
// Validation, rejection, deactivation
// ---------------------------------------------------------------------------

/// A change of an offerer's state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Validate,
    Reject,
    Deactivate,
    Reactivate,
}

impl Change {
    fn action(&self) -> &'static str {
        match self {
            Change::Validate => "offerer.validate",
            Change::Reject => "offerer.reject",
            Change::Deactivate => "offerer.deactivate",
            Change::Reactivate => "offerer.reactivate",
        }
    }

    /// Why the change does not apply to the offerer as it is, if it does not.
    fn refusal(&self, offerer: &OffererRecord) -> Option<String> {
        let name = &offerer.name;
        match self {
            Change::Validate | Change::Reject if !offerer.status.is_new() => Some(format!(
                "{name} is already {}: nothing changed.",
                offerer.status.label()
            )),
            Change::Deactivate if !offerer.is_active => {
                Some(format!("{name} is already deactivated: nothing changed."))
            }
            Change::Reactivate if offerer.is_active => {
                Some(format!("{name} is already active: nothing changed."))
            }
            _ => None,
        }
    }

    fn done(&self, name: &str) -> String {
        match self {
            Change::Validate => format!("{name} is validated."),
            Change::Reject => format!("{name} is rejected."),
            Change::Deactivate => format!(
                "{name} is deactivated: its members no longer see it and providers can no longer act on its venues."
            ),
            Change::Reactivate => format!("{name} is active again."),
        }
    }
}

/// Apply `change` with its audit event, unless the offerer is already in
/// that state (then nothing is written and the agent is told so).
async fn change_offerer(
    pool: &PgPool,
    user: &CurrentUser,
    by: &ActingUser<'_>,
    offerer_id: i64,
    change: Change,
    details: serde_json::Value,
) -> Result<HttpResponse, PageError> {
    let mut tx = pool.begin().await?;
    let offerer = offerers::find_for_update(&mut *tx, offerer_id)
        .await?
        .ok_or(PageError::NotFound)?;
    if let Some(refusal) = change.refusal(&offerer) {
        drop(tx);
        user.session.flash(FlashKind::Info, refusal);
        return Ok(redirect(&offerer_href(offerer.id)));
    }
    match change {
        Change::Validate => {
            offerers::set_status(&mut *tx, offerer.id, OffererStatus::Validated).await?
        }
        Change::Reject => {
            offerers::set_status(&mut *tx, offerer.id, OffererStatus::Rejected).await?
        }
        Change::Deactivate => offerers::set_active(&mut *tx, offerer.id, false).await?,
        Change::Reactivate => offerers::set_active(&mut *tx, offerer.id, true).await?,
    }
    AuditEvent::new(by.actor(), change.action())
        .target("offerer", offerer.id)
        .offerer(offerer.id)
        .details(details)
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    tx.commit().await?;
    user.session
        .flash(FlashKind::Success, change.done(&offerer.name));
    Ok(redirect(&offerer_href(offerer.id)))
}

/// `/backoffice/offerers/{id}/{change}` for the changes that need no input.
#[derive(Deserialize)]
pub struct SimpleChangePath {
    offerer_id: i64,
    change: String,
}

/// Validate, deactivate or reactivate (the route admits only these).
async fn simple_change(
    agent: SupportAgent,
    path: web::Path<SimpleChangePath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    _form: ProtectedForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let change = match path.change.as_str() {
        "validate" => Change::Validate,
        "deactivate" => Change::Deactivate,
        "reactivate" => Change::Reactivate,
        _ => return Err(PageError::NotFound),
    };
    change_offerer(
        &pool,
        &user,
        &agent_of(&user, &req),
        path.offerer_id,
        change,
        serde_json::json!({}),
    )
    .await
}

#[derive(Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    reason: String,
}

async fn reject(
    agent: SupportAgent,
    path: web::Path<OffererPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    form: ProtectedForm<RejectForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let offerer = load_offerer(&pool, path.offerer_id).await?;
    let typed = form.into_inner().reason;
    let reason = match required_text(&typed, "The reason", 1000) {
        Ok(reason) => reason,
        // Already decided: say so rather than ask for a reason.
        Err(_) if Change::Reject.refusal(&offerer).is_some() => String::new(),
        Err(e) => {
            let forms = DetailForms {
                reject_reason: typed.trim().to_owned(),
                reject_error: Some(e.to_string()),
                ..DetailForms::default()
            };
            return detail_with(&pool, &user, offerer, forms).await;
        }
    };
    let details = serde_json::json!({ "reason": reason });
    change_offerer(
        &pool,
        &user,
        &agent_of(&user, &req),
        offerer.id,
        Change::Reject,
        details,
    )
    .await
}

#[derive(Template)]
#[template(path = "backoffice/offerer_deactivate.html")]
struct DeactivatePage {
    layout: Layout,
    offerer: OffererRecord,
    venue_count: usize,
    provider_count: usize,
}

async fn deactivate_page(
    agent: SupportAgent,
    path: web::Path<OffererPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let offerer = load_offerer(&pool, path.offerer_id).await?;
    if let Some(refusal) = Change::Deactivate.refusal(&offerer) {
        user.session.flash(FlashKind::Info, refusal);
        return Ok(redirect(&offerer_href(offerer.id)));
    }
    let venue_count = offerers::backoffice_venues(pool.get_ref(), offerer.id)
        .await?
        .iter()
        .filter(|v| v.is_active)
        .count();
    let provider_count = offerers::providers_with_access(pool.get_ref(), offerer.id)
        .await?
        .len();
    render(&DeactivatePage {
        layout: Layout::for_user(&user, format!("Deactivate {}?", offerer.name)),
        offerer,
        venue_count,
        provider_count,
    })
}

// ---------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct AddMemberForm {
    #[serde(default)]
    email: String,
}

async fn add_member_to_offerer(
    agent: SupportAgent,
    path: web::Path<OffererPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    settings: web::Data<Settings>,
    form: ProtectedForm<AddMemberForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let offerer = load_offerer(&pool, path.offerer_id).await?;
    let typed = form.into_inner().email.trim().to_owned();
    let refuse = |offerer: OffererRecord, message: String| {
        let forms = DetailForms {
            member_email: typed.clone(),
            member_error: Some(message),
            ..DetailForms::default()
        };
        detail_with(&pool, &user, offerer, forms)
    };
    let email = match Email::parse(&typed) {
        Ok(email) => email,
        Err(e) => return refuse(offerer, e.to_string()).await,
    };
    let target = Offerer {
        id: offerer.id,
        name: offerer.name.clone(),
        siren: offerer.siren.clone(),
        status: offerer.status,
    };
    let outcome = add_member(
        &pool,
        &settings.base_url,
        &agent_of(&user, &req),
        &target,
        &email,
    )
    .await;
    let (kind, message) = match outcome {
        Ok(AddMemberOutcome::AlreadyMember) => (
            FlashKind::Info,
            format!(
                "{} is already a member of {}: nothing changed.",
                email, offerer.name
            ),
        ),
        Ok(AddMemberOutcome::Attached { .. }) => (
            FlashKind::Success,
            format!(
                "{} already had an account and is now a member of {}.",
                email, offerer.name
            ),
        ),
        Ok(AddMemberOutcome::Invited { .. }) => (
            FlashKind::Success,
            format!(
                "{} is invited to {}: they receive a link to choose a password (valid 7 days).",
                email, offerer.name
            ),
        ),
        Err(e @ AddMemberError::SupportAccount) => {
            return refuse(offerer, e.to_string()).await;
        }
        Err(AddMemberError::Unexpected(e)) => return Err(PageError::Unexpected(e)),
    };
    user.session.flash(kind, message);
    Ok(redirect(&format!("{}#members", offerer_href(offerer.id))))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/offerers", web::get().to(list))
        .route("/offerers", web::post().to(create))
        .route("/offerers/new", web::get().to(new_page))
        .route("/offerers/{offerer_id}", web::get().to(detail))
        .route("/offerers/{offerer_id}/reject", web::post().to(reject))
        .route(
            "/offerers/{offerer_id}/deactivate",
            web::get().to(deactivate_page),
        )
        .route(
            "/offerers/{offerer_id}/{change:validate|deactivate|reactivate}",
            web::post().to(simple_change),
        )
        .route(
            "/offerers/{offerer_id}/members",
            web::post().to(add_member_to_offerer),
        );
}
