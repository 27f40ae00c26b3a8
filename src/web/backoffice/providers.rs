//! Providers in the back-office: list and search, create, edit, deactivate
//! and reactivate, and the provider's page (keys, venues it can access).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use sqlx::{PgPool, Postgres, Transaction};

use super::keys::PendingLinks;
use super::{IdPath, agent_of};
use crate::auth::CurrentUser;
use crate::auth::csrf::{EmptyForm, ProtectedForm};
use crate::auth::session::{FlashKind, SupportAgent};
use crate::config::Settings;
use crate::db::audit::AuditEvent;
use crate::db::constraint::is_violation;
use crate::db::keys::{self, KeyLine};
use crate::db::providers::{
    self, AccessibleVenue, Provider, ProviderFilter, ProviderKind, ProviderLine,
};
use crate::domain::{Email, Environment, Siren, required_line};
use crate::web::error::PageError;
use crate::web::pro::{PER_PAGE, Pager, query_value};
use crate::web::{Layout, redirect, render, render_invalid, search_text};

// ---------------------------------------------------------------------------
// The form shared by "create", "edit" and "approve a request"
// ---------------------------------------------------------------------------

/// What support typed, kept as typed to fill the form again.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProviderForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub contact_email: String,
    /// The owning offerer's SIREN (optional).
    #[serde(default)]
    pub offerer_siren: String,
}

/// One message per field that was refused.
#[derive(Debug, Clone, Default)]
pub struct ProviderFormErrors {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub contact_email: Option<String>,
    pub offerer_siren: Option<String>,
}

impl ProviderFormErrors {
    pub fn any(&self) -> bool {
        self.name.is_some()
            || self.kind.is_some()
            || self.contact_email.is_some()
            || self.offerer_siren.is_some()
    }
}

/// A provider's details, checked.
pub struct ProviderInput {
    pub name: String,
    pub kind: ProviderKind,
    pub contact: Email,
    /// `(id, name)` of the owning offerer.
    pub offerer: Option<(i64, String)>,
}

impl ProviderForm {
    pub fn from_provider(provider: &Provider, offerer_siren: Option<String>) -> Self {
        Self {
            name: provider.name.clone(),
            kind: provider.kind.as_str().to_owned(),
            contact_email: provider.contact_email.clone(),
            offerer_siren: offerer_siren.unwrap_or_default(),
        }
    }

    /// Check every field; the owning offerer must exist.
    pub async fn validate(
        &self,
        db: &PgPool,
    ) -> Result<Result<ProviderInput, ProviderFormErrors>, sqlx::Error> {
        let mut errors = ProviderFormErrors::default();
        let name = required_line(&self.name, "The provider's name", 140)
            .map_err(|e| errors.name = Some(e.to_string()))
            .ok();
        let kind = self
            .kind
            .parse::<ProviderKind>()
            .map_err(|_| errors.kind = Some("Choose public or private integration.".into()))
            .ok();
        let contact = Email::parse(&self.contact_email)
            .map_err(|e| errors.contact_email = Some(e.to_string()))
            .ok();
        let mut offerer = None;
        if !self.offerer_siren.trim().is_empty() {
            match Siren::parse(&self.offerer_siren) {
                Err(e) => errors.offerer_siren = Some(e.to_string()),
                Ok(siren) => {
                    let found: Option<(i64, String)> =
                        sqlx::query_as("SELECT id, name FROM offerer WHERE siren = $1")
                            .bind(siren.as_str())
                            .fetch_optional(db)
                            .await?;
                    match found {
                        Some(o) => offerer = Some(o),
                        None => {
                            errors.offerer_siren = Some(format!(
                                "No offerer has the SIREN {siren}. Create it first, or leave this empty."
                            ))
                        }
                    }
                }
            }
        }
        if kind == Some(ProviderKind::Private) && self.offerer_siren.trim().is_empty() {
            errors.offerer_siren =
                Some("A private integration belongs to an offerer: give its SIREN.".into());
        }
        Ok(match (name, kind, contact) {
            (Some(name), Some(kind), Some(contact)) if !errors.any() => Ok(ProviderInput {
                name,
                kind,
                contact,
                offerer,
            }),
            _ => Err(errors),
        })
    }
}

pub fn kind_label(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Public => "Public integration",
        ProviderKind::Private => "Private integration",
    }
}

/// Translate "name already taken" into the form's message.
fn name_taken(e: &sqlx::Error) -> Option<String> {
    is_violation(e, "provider_name_key")
        .then(|| "Another provider already has this name.".to_owned())
}

/// Create a provider and record it, in the caller's transaction.
pub async fn create_provider(
    tx: &mut Transaction<'_, Postgres>,
    agent: &CurrentUser,
    req: &HttpRequest,
    input: &ProviderInput,
    from_request: Option<i64>,
) -> Result<Result<i64, String>, PageError> {
    let inserted = providers::insert(
        &mut **tx,
        &input.name,
        input.kind,
        &input.contact,
        input.offerer.as_ref().map(|o| o.0),
    )
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) => {
            return match name_taken(&e) {
                Some(message) => Ok(Err(message)),
                None => Err(e.into()),
            };
        }
    };
    let mut event = AuditEvent::new(agent_of(agent, req).actor(), "provider.create")
        .target("provider", id)
        .provider(id)
        .details(serde_json::json!({
            "name": input.name,
            "kind": input.kind.as_str(),
            "contact_email": input.contact.as_str(),
            "provider_account_request_id": from_request,
        }))
        .client(&agent_of(agent, req).client);
    if let Some((offerer_id, _)) = input.offerer {
        event = event.offerer(offerer_id);
    }
    event.record(&mut **tx).await?;
    Ok(Ok(id))
}

// ---------------------------------------------------------------------------
// List
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    active: String,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "backoffice/providers.html")]
struct ListPage {
    layout: Layout,
    section: &'static str,
    q: String,
    kind: String,
    active: String,
    providers: Vec<ProviderLine>,
    pager: Pager,
    filtered: bool,
}

impl ListPage {
    fn kind_label(&self, kind: &ProviderKind) -> &'static str {
        kind_label(*kind)
    }
}

pub async fn list(
    agent: SupportAgent,
    query: web::Query<ListQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let query = query.into_inner();
    let q = search_text(&query.q);
    let kind = query.kind.parse::<ProviderKind>().ok();
    let active = match query.active.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let kind_text = kind.map(|k| k.as_str()).unwrap_or("").to_owned();
    let active_text = match active {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
    .to_owned();
    let base = format!(
        "/backoffice/providers?q={}&kind={kind_text}&active={active_text}&",
        query_value(&q)
    );
    let mut pager = Pager::new(query.page.as_deref(), base);
    let filter = ProviderFilter {
        text: q.clone(),
        kind,
        active,
    };
    let (lines, total) = providers::search(&pool, &filter, PER_PAGE, pager.offset()).await?;
    pager.total = total;
    render(&ListPage {
        layout: Layout::for_user(&user, "Providers"),
        section: "providers",
        filtered: !q.is_empty() || kind.is_some() || active.is_some(),
        q,
        kind: kind_text,
        active: active_text,
        providers: lines,
        pager,
    })
}

// ---------------------------------------------------------------------------
// Create and edit
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "backoffice/provider_form.html")]
struct FormPage {
    layout: Layout,
    section: &'static str,
    /// `None` when creating.
    provider: Option<Provider>,
    form: ProviderForm,
    errors: ProviderFormErrors,
}

impl FormPage {
    fn action(&self) -> String {
        match &self.provider {
            Some(p) => format!("/backoffice/providers/{}/edit", p.id),
            None => "/backoffice/providers".to_owned(),
        }
    }
}

pub async fn new_form(agent: SupportAgent) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    render(&FormPage {
        layout: Layout::for_user(&user, "New provider"),
        section: "providers",
        provider: None,
        form: ProviderForm {
            kind: "public".into(),
            ..ProviderForm::default()
        },
        errors: ProviderFormErrors::default(),
    })
}

pub async fn create(
    agent: SupportAgent,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    form: ProtectedForm<ProviderForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let form = form.into_inner();
    let refuse = |user: &CurrentUser, form: ProviderForm, errors: ProviderFormErrors| {
        render_invalid(&FormPage {
            layout: Layout::for_user(user, "New provider"),
            section: "providers",
            provider: None,
            form,
            errors,
        })
    };
    let input = match form.validate(&pool).await? {
        Ok(input) => input,
        Err(errors) => return refuse(&user, form, errors),
    };
    let mut tx = pool.begin().await?;
    let id = match create_provider(&mut tx, &user, &req, &input, None).await? {
        Ok(id) => id,
        Err(message) => {
            drop(tx);
            let errors = ProviderFormErrors {
                name: Some(message),
                ..ProviderFormErrors::default()
            };
            return refuse(&user, form, errors);
        }
    };
    tx.commit().await?;
    user.session.flash(
        FlashKind::Success,
        format!(
            "{} was created. Issue its key pair when its technical contact is ready.",
            input.name
        ),
    );
    Ok(redirect(&format!("/backoffice/providers/{id}")))
}

async fn load(pool: &PgPool, id: i64) -> Result<Provider, PageError> {
    providers::find(pool, id).await?.ok_or(PageError::NotFound)
}

async fn offerer_siren(
    pool: &PgPool,
    offerer_id: Option<i64>,
) -> Result<Option<String>, PageError> {
    let Some(id) = offerer_id else {
        return Ok(None);
    };
    let siren: Option<(String,)> = sqlx::query_as("SELECT siren FROM offerer WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(siren.map(|s| s.0))
}

pub async fn edit_form(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let provider = load(&pool, path.id).await?;
    let siren = offerer_siren(&pool, provider.offerer_id).await?;
    render(&FormPage {
        layout: Layout::for_user(&user, format!("Edit {}", provider.name)),
        section: "providers",
        form: ProviderForm::from_provider(&provider, siren),
        provider: Some(provider),
        errors: ProviderFormErrors::default(),
    })
}

pub async fn update(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    settings: web::Data<Settings>,
    form: ProtectedForm<ProviderForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let provider = load(&pool, path.id).await?;
    let form = form.into_inner();
    let refuse = |user: &CurrentUser, provider: Provider, form: ProviderForm, errors| {
        render_invalid(&FormPage {
            layout: Layout::for_user(user, format!("Edit {}", provider.name)),
            section: "providers",
            provider: Some(provider),
            form,
            errors,
        })
    };
    let input = match form.validate(&pool).await? {
        Ok(input) => input,
        Err(errors) => return refuse(&user, provider, form, errors),
    };
    let mut tx = pool.begin().await?;
    // Compared with the provider as it is now, locked: of two edits at once
    // the second sees what the first did (and its contact change).
    let current = providers::find_for_update(&mut *tx, provider.id)
        .await?
        .ok_or(PageError::NotFound)?;
    let mut changed = Vec::new();
    if input.name != current.name {
        changed.push("name");
    }
    if input.kind != current.kind {
        changed.push("kind");
    }
    if input.contact.as_str() != current.contact_email {
        changed.push("contact_email");
    }
    if input.offerer.as_ref().map(|o| o.0) != current.offerer_id {
        changed.push("offerer");
    }
    if changed.is_empty() {
        drop(tx);
        user.session
            .flash(FlashKind::Info, "Nothing was changed.".to_owned());
        return Ok(redirect(&format!("/backoffice/providers/{}", provider.id)));
    }
    let updated = providers::update(
        &mut *tx,
        provider.id,
        &input.name,
        input.kind,
        &input.contact,
        input.offerer.as_ref().map(|o| o.0),
    )
    .await;
    let updated = match updated {
        Ok(Some(updated)) => updated,
        Ok(None) => return Err(PageError::NotFound),
        Err(e) => {
            if let Some(message) = name_taken(&e) {
                drop(tx);
                let errors = ProviderFormErrors {
                    name: Some(message),
                    ..ProviderFormErrors::default()
                };
                return refuse(&user, provider, form, errors);
            }
            return Err(e.into());
        }
    };
    let by = agent_of(&user, &req);
    AuditEvent::new(by.actor(), "provider.update")
        .target("provider", provider.id)
        .provider(provider.id)
        .details(serde_json::json!({
            "changed": changed,
            "name": input.name,
            "kind": input.kind.as_str(),
            "contact_email": input.contact.as_str(),
        }))
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    // Links sent to the former contact must not reveal a key any more.
    let mut links = None;
    if changed.contains(&"contact_email") {
        links = Some(
            super::keys::hand_pending_links_to_contact(&mut tx, &settings, &updated, &by).await?,
        );
    }
    tx.commit().await?;
    let mut message = format!("{} was updated.", input.name);
    match links {
        Some(PendingLinks::Resent(prefixes)) if !prefixes.is_empty() => {
            message.push_str(&format!(
                " The reveal links of {} were sent again to {}; the ones sent to {} no longer work.",
                prefixes.join(", "),
                input.contact.as_str(),
                current.contact_email
            ));
        }
        Some(PendingLinks::Voided(prefixes)) if !prefixes.is_empty() => {
            message.push_str(&format!(
                " The reveal links sent to {} for {} no longer work; re-send them once the provider is reactivated.",
                current.contact_email,
                prefixes.join(", "),
            ));
        }
        _ => {}
    }
    user.session.flash(FlashKind::Success, message);
    Ok(redirect(&format!("/backoffice/providers/{}", provider.id)))
}

// ---------------------------------------------------------------------------
// The provider's page
// ---------------------------------------------------------------------------

/// The venues of one offerer that a provider can access.
pub struct OffererAccess {
    pub offerer_id: i64,
    pub offerer_name: String,
    pub offerer_siren: String,
    pub venues: Vec<AccessibleVenue>,
}

fn group_by_offerer(venues: Vec<AccessibleVenue>) -> Vec<OffererAccess> {
    let mut groups: Vec<OffererAccess> = Vec::new();
    for venue in venues {
        match groups.last_mut() {
            Some(group) if group.offerer_id == venue.offerer_id => group.venues.push(venue),
            _ => groups.push(OffererAccess {
                offerer_id: venue.offerer_id,
                offerer_name: venue.offerer_name.clone(),
                offerer_siren: venue.offerer_siren.clone(),
                venues: vec![venue],
            }),
        }
    }
    groups
}

#[derive(Template)]
#[template(path = "backoffice/provider.html")]
struct ProviderPage {
    layout: Layout,
    section: &'static str,
    provider: Provider,
    offerer: Option<(i64, String, String)>,
    keys: Vec<KeyLine>,
    /// The environments "issue keys" would give a key to (none while
    /// deactivated or while each has a live key).
    to_issue: Vec<Environment>,
    access: Vec<OffererAccess>,
    venue_count: usize,
}

impl ProviderPage {
    fn kind_label(&self) -> &'static str {
        kind_label(self.provider.kind)
    }
}

pub async fn page(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let provider = load(&pool, path.id).await?;
    let offerer: Option<(i64, String, String)> = match provider.offerer_id {
        Some(id) => {
            sqlx::query_as("SELECT id, name, siren FROM offerer WHERE id = $1")
                .bind(id)
                .fetch_optional(pool.get_ref())
                .await?
        }
        None => None,
    };
    let keys = keys::list_for_provider(pool.get_ref(), provider.id).await?;
    let to_issue = if provider.is_active {
        keys::environments_without_live_key(&keys, Utc::now())
    } else {
        Vec::new()
    };
    let venues = providers::accessible_venues(pool.get_ref(), provider.id).await?;
    let venue_count = venues.len();
    render(&ProviderPage {
        layout: Layout::for_user(&user, provider.name.clone()),
        section: "providers",
        provider,
        offerer,
        keys,
        to_issue,
        access: group_by_offerer(venues),
        venue_count,
    })
}

// ---------------------------------------------------------------------------
// Deactivate and reactivate
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "backoffice/provider_deactivate.html")]
struct DeactivatePage {
    layout: Layout,
    section: &'static str,
    provider: Provider,
}

pub async fn deactivate_page(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let provider = load(&pool, path.id).await?;
    if !provider.is_active {
        user.session.flash(
            FlashKind::Info,
            format!("{} is already deactivated.", provider.name),
        );
        return Ok(redirect(&format!("/backoffice/providers/{}", provider.id)));
    }
    render(&DeactivatePage {
        layout: Layout::for_user(&user, format!("Deactivate {}", provider.name)),
        section: "providers",
        provider,
    })
}

async fn set_active(
    user: &CurrentUser,
    req: &HttpRequest,
    pool: &PgPool,
    id: i64,
    active: bool,
) -> Result<HttpResponse, PageError> {
    let provider = load(pool, id).await?;
    let mut tx = pool.begin().await?;
    if providers::set_active(&mut *tx, provider.id, active).await? {
        let by = agent_of(user, req);
        let action = if active {
            "provider.reactivate"
        } else {
            "provider.deactivate"
        };
        AuditEvent::new(by.actor(), action)
            .target("provider", provider.id)
            .provider(provider.id)
            .details(serde_json::json!({ "name": provider.name }))
            .client(&by.client)
            .record(&mut *tx)
            .await?;
        tx.commit().await?;
        let message = if active {
            format!(
                "{} is active again: its keys and venue accesses work again.",
                provider.name
            )
        } else {
            format!(
                "{} is deactivated: its keys are refused from now on. Its venue accesses are kept for a reactivation.",
                provider.name
            )
        };
        user.session.flash(FlashKind::Success, message);
    } else {
        let state = if active { "active" } else { "deactivated" };
        user.session.flash(
            FlashKind::Info,
            format!("{} was already {state}.", provider.name),
        );
    }
    Ok(redirect(&format!("/backoffice/providers/{}", provider.id)))
}

pub async fn deactivate(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    _form: ProtectedForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    set_active(&agent.0, &req, &pool, path.id, false).await
}

pub async fn reactivate(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    _form: ProtectedForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    set_active(&agent.0, &req, &pool, path.id, true).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/providers", web::get().to(list))
        .route("/providers", web::post().to(create))
        .route("/providers/new", web::get().to(new_form))
        .route("/providers/{id}", web::get().to(page))
        .route("/providers/{id}/edit", web::get().to(edit_form))
        .route("/providers/{id}/edit", web::post().to(update))
        .route("/providers/{id}/deactivate", web::get().to(deactivate_page))
        .route("/providers/{id}/deactivate", web::post().to(deactivate))
        .route("/providers/{id}/reactivate", web::post().to(reactivate));
}
