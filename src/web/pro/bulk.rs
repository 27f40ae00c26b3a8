//! Give one provider access to several (or all) venues of the offerer in
//! one action: choose, preview which venues change, confirm.

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use super::{OffererPath, Tab, require_membership};
use crate::auth::CurrentUser;
use crate::auth::csrf::ProtectedForm;
use crate::auth::session::{FlashKind, ProUser};
use crate::db::grants::GrantChannel;
use crate::db::offerers::{self, Offerer, VenueChoice};
use crate::db::venues::{self, GrantableProvider};
use crate::web::access::{self, ActingUser, ProviderRef, VenueRef};
use crate::web::account::client_info;
use crate::web::error::PageError;
use crate::web::{Layout, redirect, render, render_invalid};

#[derive(Template)]
#[template(path = "pro/bulk.html")]
struct BulkFormPage {
    layout: Layout,
    offerer: Offerer,
    tab: Tab,
    providers: Vec<GrantableProvider>,
    venues: Vec<VenueChoice>,
    provider_id: Option<i64>,
    all_venues: bool,
    selected: HashSet<i64>,
    error: Option<String>,
}

impl BulkFormPage {
    fn is_selected(&self, venue_id: &i64) -> bool {
        self.selected.contains(venue_id)
    }
    fn is_provider(&self, provider_id: &i64) -> bool {
        self.provider_id == Some(*provider_id)
    }
}

#[derive(Template)]
#[template(path = "pro/bulk_preview.html")]
struct BulkPreviewPage {
    layout: Layout,
    offerer: Offerer,
    tab: Tab,
    provider: GrantableProvider,
    all_venues: bool,
    chosen: Vec<i64>,
    to_change: Vec<VenueChoice>,
    unchanged: Vec<VenueChoice>,
}

#[derive(Deserialize, Default)]
pub struct BulkForm {
    #[serde(default)]
    provider_id: String,
    /// `all` or `selected`.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    venue_id: Vec<String>,
}

impl BulkForm {
    /// Only an explicit `all` means every venue; anything else is a choice.
    fn all_venues(&self) -> bool {
        self.scope == "all"
    }
    fn provider_id(&self) -> Option<i64> {
        self.provider_id.trim().parse().ok()
    }
    fn venue_ids(&self) -> Vec<i64> {
        self.venue_id
            .iter()
            .filter_map(|v| v.trim().parse().ok())
            .collect()
    }
}

#[derive(Deserialize)]
pub struct BulkQuery {
    provider_id: Option<String>,
}

async fn form_page_with(
    pool: &PgPool,
    user: &CurrentUser,
    offerer: Offerer,
    form: &BulkForm,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let providers = venues::public_providers(pool).await?;
    let venues = offerers::all_venues(pool, offerer.id).await?;
    let page = BulkFormPage {
        layout: Layout::for_user(user, "Give access to several venues"),
        offerer,
        tab: Tab::Bulk,
        providers,
        venues,
        provider_id: form.provider_id(),
        all_venues: form.all_venues(),
        selected: form.venue_ids().into_iter().collect(),
        error,
    };
    if page.error.is_some() {
        render_invalid(&page)
    } else {
        render(&page)
    }
}

pub async fn form_page(
    user: ProUser,
    path: web::Path<OffererPath>,
    query: web::Query<BulkQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let offerer = require_membership(&pool, user.id(), path.offerer_id).await?;
    let form = BulkForm {
        provider_id: query.provider_id.clone().unwrap_or_default(),
        ..BulkForm::default()
    };
    form_page_with(&pool, &user, offerer, &form, None).await
}

/// The provider and the venues a submitted form names, or what is wrong with it.
async fn resolve(
    pool: &PgPool,
    offerer: &Offerer,
    form: &BulkForm,
) -> Result<Result<(GrantableProvider, Vec<VenueChoice>), String>, PageError> {
    let provider = match form.provider_id() {
        Some(id) => venues::find_grantable_provider(pool, id).await?,
        None => None,
    };
    let Some(provider) = provider else {
        return Ok(Err(if form.provider_id.trim().is_empty() {
            "Choose the provider to give access to.".to_owned()
        } else {
            "This provider cannot be given access here: it does not exist, is no longer active, \
             or is a private integration that only support can set up."
                .to_owned()
        }));
    };
    let all = offerers::all_venues(pool, offerer.id).await?;
    if form.all_venues() {
        if all.is_empty() {
            return Ok(Err("This offerer has no venue yet.".to_owned()));
        }
        return Ok(Ok((provider, all)));
    }
    if form.venue_id.is_empty() {
        return Ok(Err(
            "Choose at least one venue, or choose \"All venues\".".to_owned()
        ));
    }
    let parsed = form.venue_ids();
    let wanted: HashSet<i64> = parsed.iter().copied().collect();
    let chosen: Vec<VenueChoice> = all.into_iter().filter(|v| wanted.contains(&v.id)).collect();
    if parsed.len() != form.venue_id.len() || chosen.len() != wanted.len() {
        return Ok(Err(
            "Some of the chosen venues are not venues of this offerer (the list may have changed). \
             Check the list and try again."
                .to_owned(),
        ));
    }
    Ok(Ok((provider, chosen)))
}

pub async fn preview(
    user: ProUser,
    path: web::Path<OffererPath>,
    pool: web::Data<PgPool>,
    form: ProtectedForm<BulkForm>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let offerer = require_membership(&pool, user.id(), path.offerer_id).await?;
    let form = form.into_inner();
    let (provider, chosen) = match resolve(&pool, &offerer, &form).await? {
        Ok(resolved) => resolved,
        Err(message) => return form_page_with(&pool, &user, offerer, &form, Some(message)).await,
    };
    let ids: Vec<i64> = chosen.iter().map(|v| v.id).collect();
    let already: HashSet<i64> = venues::venues_with_access(pool.get_ref(), provider.id, &ids)
        .await?
        .into_iter()
        .collect();
    let (unchanged, to_change): (Vec<_>, Vec<_>) =
        chosen.into_iter().partition(|v| already.contains(&v.id));
    render(&BulkPreviewPage {
        layout: Layout::for_user(&user, "Check before giving access"),
        offerer,
        tab: Tab::Bulk,
        provider,
        all_venues: form.all_venues(),
        chosen: if form.all_venues() { Vec::new() } else { ids },
        to_change,
        unchanged,
    })
}

pub async fn apply(
    user: ProUser,
    path: web::Path<OffererPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    form: ProtectedForm<BulkForm>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let offerer = require_membership(&pool, user.id(), path.offerer_id).await?;
    let form = form.into_inner();
    let (provider, chosen) = match resolve(&pool, &offerer, &form).await? {
        Ok(resolved) => resolved,
        Err(message) => return form_page_with(&pool, &user, offerer, &form, Some(message)).await,
    };
    let by = ActingUser {
        account: &user.account,
        client: client_info(&req),
    };
    let targets: Vec<VenueRef> = chosen.iter().map(VenueRef::from).collect();
    let changed = access::give_access(
        &pool,
        &by,
        GrantChannel::ProInterface,
        &offerer,
        &ProviderRef {
            id: provider.id,
            name: provider.name.clone(),
            contact_email: provider.contact_email.clone(),
        },
        &targets,
    )
    .await?;
    let unchanged = targets.len() - changed.len();
    let message = match (changed.len(), unchanged) {
        (0, _) => format!(
            "{} already had access to all the chosen venues: nothing changed.",
            provider.name
        ),
        (n, 0) => format!(
            "{} now has access to {n} more {}.",
            provider.name,
            venues_word(n)
        ),
        (n, u) => format!(
            "{} now has access to {n} more {} ({u} already had it).",
            provider.name,
            venues_word(n)
        ),
    };
    user.session.flash(
        if changed.is_empty() {
            FlashKind::Info
        } else {
            FlashKind::Success
        },
        message,
    );
    Ok(redirect(&format!("/pro/offerers/{}", offerer.id)))
}

fn venues_word(n: usize) -> &'static str {
    if n == 1 { "venue" } else { "venues" }
}
