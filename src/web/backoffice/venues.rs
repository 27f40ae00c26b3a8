//! Creating and editing an offerer's venues in the back-office. A SIRET
//! must be valid and belong to the offerer's SIREN; a venue without SIRET
//! needs a comment saying why. The schema enforces the same rules, and its
//! named constraints become field errors too.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use super::agent_of;
use super::offerers::{OffererPath, load_offerer, offerer_href};
use crate::auth::CurrentUser;
use crate::auth::csrf::ProtectedForm;
use crate::auth::session::{FlashKind, SupportAgent};
use crate::db::audit::AuditEvent;
use crate::db::constraint;
use crate::db::offerers::OffererRecord;
use crate::db::venues::{self, VenueFields, VenueRecord};
use crate::domain::{
    ActivityDomain, PostalCode, Siret, optional_line, optional_text, required_line,
};
use crate::web::error::PageError;
use crate::web::{Layout, redirect, render, render_invalid};

/// `/backoffice/venues/{venue_id}/...`
#[derive(Deserialize)]
pub struct VenuePath {
    pub venue_id: i64,
}

fn edit_href(venue_id: i64) -> String {
    format!("/backoffice/venues/{venue_id}/edit")
}

/// The form's fields as typed (kept when the form comes back with errors).
#[derive(Deserialize, Default, Clone)]
pub struct VenueForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    public_name: String,
    #[serde(default)]
    siret: String,
    #[serde(default)]
    siret_comment: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    activity_domain: String,
    /// A checkbox: present when ticked (edit form only).
    is_active: Option<String>,
}

impl VenueForm {
    fn from_record(venue: &VenueRecord) -> Self {
        Self {
            name: venue.name.clone(),
            public_name: venue.public_name.clone().unwrap_or_default(),
            siret: venue.siret.clone().unwrap_or_default(),
            siret_comment: venue.siret_comment.clone().unwrap_or_default(),
            address: venue.address.clone(),
            postal_code: venue.postal_code.clone(),
            city: venue.city.clone(),
            activity_domain: venue.activity_domain.clone(),
            is_active: venue.is_active.then(|| "on".to_owned()),
        }
    }
}

/// Field name → message.
#[derive(Default)]
struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }
    fn get(&self, field: &str) -> Option<&String> {
        self.0.get(field)
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Check what was typed for a venue of `offerer`; `is_active` is what the
/// form means by it (always true at creation).
fn check(
    form: &VenueForm,
    offerer: &OffererRecord,
    is_active: bool,
) -> Result<VenueFields, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut take = |field: &'static str, result: Result<String, String>| match result {
        Ok(value) => value,
        Err(message) => {
            errors.add(field, message);
            String::new()
        }
    };
    let name = take(
        "name",
        required_line(&form.name, "The venue's name", 140).map_err(|e| e.to_string()),
    );
    let address = take(
        "address",
        required_line(&form.address, "The address", 200).map_err(|e| e.to_string()),
    );
    let postal_code = take(
        "postal_code",
        PostalCode::parse(&form.postal_code)
            .map(|p| p.as_str().to_owned())
            .map_err(|e| e.to_string()),
    );
    let city = take(
        "city",
        required_line(&form.city, "The city", 100).map_err(|e| e.to_string()),
    );
    let activity_domain = take(
        "activity_domain",
        ActivityDomain::parse(form.activity_domain.trim())
            .map(|d| d.code().to_owned())
            .map_err(|_| "Choose the venue's main activity.".to_owned()),
    );
    let public_name = optional_line(&form.public_name, "The public name", 140)
        .map_err(|e| errors.add("public_name", e.to_string()))
        .unwrap_or_default();
    let siret_comment = optional_text(&form.siret_comment, "The comment", 1000)
        .map_err(|e| errors.add("siret_comment", e.to_string()))
        .unwrap_or_default();
    let siret = if form.siret.trim().is_empty() {
        if siret_comment.is_none() && errors.get("siret_comment").is_none() {
            errors.add(
                "siret_comment",
                "Without a SIRET, explain why this venue has none.",
            );
        }
        None
    } else {
        match Siret::parse(&form.siret) {
            Ok(siret) if siret.siren() != offerer.siren => {
                errors.add(
                    "siret",
                    format!(
                        "This SIRET does not belong to the offerer: it must start with its SIREN {}.",
                        offerer.siren
                    ),
                );
                None
            }
            Ok(siret) => Some(siret.as_str().to_owned()),
            Err(e) => {
                errors.add("siret", e.to_string());
                None
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(VenueFields {
        name,
        public_name,
        siret,
        siret_comment,
        address,
        postal_code,
        city,
        activity_domain,
        is_active,
    })
}

#[derive(Template)]
#[template(path = "backoffice/venue_form.html")]
struct VenueFormPage {
    layout: Layout,
    offerer: OffererRecord,
    /// `None` when creating.
    venue_id: Option<i64>,
    form: VenueForm,
    errors: FieldErrors,
    /// The venue that already has the typed SIRET.
    duplicate_of: Option<i64>,
    domains: &'static [ActivityDomain],
}

impl VenueFormPage {
    fn new(
        user: &CurrentUser,
        offerer: OffererRecord,
        venue_id: Option<i64>,
        form: VenueForm,
    ) -> Self {
        let title = match venue_id {
            Some(_) => format!("Edit {}", form.name),
            None => format!("New venue · {}", offerer.name),
        };
        Self {
            layout: Layout::for_user(user, title),
            offerer,
            venue_id,
            form,
            errors: FieldErrors::default(),
            duplicate_of: None,
            domains: ActivityDomain::ALL,
        }
    }
    fn action(&self) -> String {
        match self.venue_id {
            Some(id) => format!("/backoffice/venues/{id}"),
            None => format!("{}/venues", offerer_href(self.offerer.id)),
        }
    }
    fn offerer_href(&self) -> String {
        offerer_href(self.offerer.id)
    }
    fn duplicate_href(&self) -> Option<String> {
        self.duplicate_of.map(edit_href)
    }
    fn is_selected(&self, domain: &ActivityDomain) -> bool {
        self.form.activity_domain.trim() == domain.code()
    }
    fn is_active_checked(&self) -> bool {
        self.form.is_active.is_some()
    }
}

/// Show the form again with `errors` (422).
fn refuse(mut page: VenueFormPage, errors: FieldErrors) -> Result<HttpResponse, PageError> {
    page.errors = errors;
    render_invalid(&page)
}

/// Show the form again with the SIRET refused as `existing`'s (linked).
fn refuse_duplicate(mut page: VenueFormPage, existing: i64) -> Result<HttpResponse, PageError> {
    page.duplicate_of = Some(existing);
    let mut errors = FieldErrors::default();
    errors.add("siret", DUPLICATE_SIRET);
    refuse(page, errors)
}

/// The venue already holding `siret` (another one than `except`), as a field error.
async fn siret_taken(
    pool: &PgPool,
    siret: Option<&str>,
    except: Option<i64>,
) -> Result<Option<i64>, PageError> {
    let Some(siret) = siret else {
        return Ok(None);
    };
    Ok(venues::find_id_by_siret(pool, siret)
        .await?
        .filter(|id| Some(*id) != except))
}

const DUPLICATE_SIRET: &str = "A venue with this SIRET already exists.";

/// A database refusal we know, as a field error; anything else is unexpected.
fn constraint_errors(error: sqlx::Error) -> Result<FieldErrors, PageError> {
    match constraint::field_error(&error) {
        Some((field, message)) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            Ok(errors)
        }
        None => Err(error.into()),
    }
}

async fn new_page(
    agent: SupportAgent,
    path: web::Path<OffererPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let offerer = load_offerer(&pool, path.offerer_id).await?;
    render(&VenueFormPage::new(
        &user,
        offerer,
        None,
        VenueForm::default(),
    ))
}

async fn create(
    agent: SupportAgent,
    path: web::Path<OffererPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    form: ProtectedForm<VenueForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let offerer = load_offerer(&pool, path.offerer_id).await?;
    let form = form.into_inner();
    let fields = check(&form, &offerer, true);
    let mut page = VenueFormPage::new(&user, offerer, None, form);
    let fields = match fields {
        Ok(fields) => fields,
        Err(errors) => return refuse(page, errors),
    };
    if let Some(existing) = siret_taken(&pool, fields.siret.as_deref(), None).await? {
        return refuse_duplicate(page, existing);
    }
    let mut tx = pool.begin().await?;
    let id = match venues::insert(&mut *tx, page.offerer.id, &fields).await {
        Ok(id) => id,
        Err(e) => {
            drop(tx);
            let errors = constraint_errors(e)?;
            page.duplicate_of = siret_taken(&pool, fields.siret.as_deref(), None).await?;
            return refuse(page, errors);
        }
    };
    let by = agent_of(&user, &req);
    AuditEvent::new(by.actor(), "venue.create")
        .target("venue", id)
        .offerer(page.offerer.id)
        .venue(id)
        .details(serde_json::json!({ "name": fields.name, "siret": fields.siret }))
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    tx.commit().await?;
    user.session.flash(
        FlashKind::Success,
        format!("The venue {} is created.", fields.name),
    );
    Ok(redirect(&format!("{}#venues", page.offerer_href())))
}

/// The venue `id` and its offerer, or the 404 page.
async fn load_venue(pool: &PgPool, id: i64) -> Result<(VenueRecord, OffererRecord), PageError> {
    let venue = venues::find(pool, id).await?.ok_or(PageError::NotFound)?;
    let offerer = load_offerer(pool, venue.offerer_id).await?;
    Ok((venue, offerer))
}

async fn edit_page(
    agent: SupportAgent,
    path: web::Path<VenuePath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let (venue, offerer) = load_venue(&pool, path.venue_id).await?;
    let form = VenueForm::from_record(&venue);
    render(&VenueFormPage::new(&user, offerer, Some(venue.id), form))
}

async fn update(
    agent: SupportAgent,
    path: web::Path<VenuePath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    form: ProtectedForm<VenueForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let (venue, offerer) = load_venue(&pool, path.venue_id).await?;
    let form = form.into_inner();
    let fields = check(&form, &offerer, form.is_active.is_some());
    let mut page = VenueFormPage::new(&user, offerer, Some(venue.id), form);
    let fields = match fields {
        Ok(fields) => fields,
        Err(errors) => return refuse(page, errors),
    };
    if let Some(existing) = siret_taken(&pool, fields.siret.as_deref(), Some(venue.id)).await? {
        return refuse_duplicate(page, existing);
    }
    let mut tx = pool.begin().await?;
    let before = venues::find_for_update(&mut *tx, venue.id)
        .await?
        .ok_or(PageError::NotFound)?;
    let changed = fields.changed_from(&before);
    if changed.is_empty() {
        drop(tx);
        user.session.flash(
            FlashKind::Info,
            format!("Nothing changed on {}.", before.name),
        );
        return Ok(redirect(&format!("{}#venues", page.offerer_href())));
    }
    if let Err(e) = venues::update(&mut *tx, venue.id, &fields).await {
        drop(tx);
        let errors = constraint_errors(e)?;
        page.duplicate_of = siret_taken(&pool, fields.siret.as_deref(), Some(venue.id)).await?;
        return refuse(page, errors);
    }
    let by = agent_of(&user, &req);
    AuditEvent::new(by.actor(), "venue.update")
        .target("venue", venue.id)
        .offerer(page.offerer.id)
        .venue(venue.id)
        .details(serde_json::json!({ "changed": changed }))
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    tx.commit().await?;
    user.session.flash(
        FlashKind::Success,
        format!("The venue {} is updated.", fields.name),
    );
    Ok(redirect(&format!("{}#venues", page.offerer_href())))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/offerers/{offerer_id}/venues/new", web::get().to(new_page))
        .route("/offerers/{offerer_id}/venues", web::post().to(create))
        .route("/venues/{venue_id}/edit", web::get().to(edit_page))
        .route("/venues/{venue_id}", web::post().to(update));
}
