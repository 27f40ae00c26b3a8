//! A venue: the providers with access, giving access to one more, and
//! withdrawing access (with a confirmation step).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use super::{GrantPath, Tab, VenuePath, load_venue_of, require_membership};
use crate::auth::CurrentUser;
use crate::auth::csrf::ProtectedForm;
use crate::auth::session::{FlashKind, ProUser};
use crate::db::grants::GrantChannel;
use crate::db::offerers::Offerer;
use crate::db::providers::ProviderKind;
use crate::db::venues::{self, ActiveGrant, GrantOnVenue, GrantableProvider, Venue};
use crate::web::access::{self, ActingUser, ProviderRef, VenueRef};
use crate::web::account::client_info;
use crate::web::error::PageError;
use crate::web::{Layout, redirect, render, render_invalid};

#[derive(Template)]
#[template(path = "pro/venue.html")]
struct VenuePage {
    layout: Layout,
    offerer: Offerer,
    tab: Tab,
    venue: Venue,
    grants: Vec<ActiveGrant>,
    providers: Vec<GrantableProvider>,
    provider_q: String,
    error: Option<String>,
}

impl VenuePage {
    fn href(&self) -> String {
        venue_href(&self.offerer, &self.venue)
    }
}

fn venue_href(offerer: &Offerer, venue: &Venue) -> String {
    format!("/pro/offerers/{}/venues/{}", offerer.id, venue.id)
}

#[derive(Deserialize)]
pub struct VenueQuery {
    #[serde(default)]
    provider_q: String,
}

async fn venue_page_with(
    pool: &PgPool,
    user: &CurrentUser,
    offerer: Offerer,
    venue: Venue,
    provider_q: String,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let grants = venues::active_grants(pool, venue.id).await?;
    let providers = venues::grantable_providers(pool, venue.id, &provider_q).await?;
    let page = VenuePage {
        layout: Layout::for_user(user, venue.name.clone()),
        offerer,
        tab: Tab::Venues,
        venue,
        grants,
        providers,
        provider_q,
        error,
    };
    if page.error.is_some() {
        render_invalid(&page)
    } else {
        render(&page)
    }
}

pub async fn venue_page(
    user: ProUser,
    path: web::Path<VenuePath>,
    query: web::Query<VenueQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let offerer = require_membership(&pool, user.id(), path.offerer_id).await?;
    let venue = load_venue_of(&pool, &offerer, path.venue_id).await?;
    let provider_q = crate::web::search_text(&query.provider_q);
    venue_page_with(&pool, &user, offerer, venue, provider_q, None).await
}

#[derive(Deserialize)]
pub struct GiveAccessForm {
    #[serde(default)]
    provider_id: String,
    #[serde(default)]
    provider_q: String,
}

pub async fn give_access(
    user: ProUser,
    path: web::Path<VenuePath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    form: ProtectedForm<GiveAccessForm>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let offerer = require_membership(&pool, user.id(), path.offerer_id).await?;
    let venue = load_venue_of(&pool, &offerer, path.venue_id).await?;
    let form = form.into_inner();
    let provider_q: String = crate::web::search_text(&form.provider_q);

    let provider = match form.provider_id.trim() {
        "" => None,
        id => match id.parse::<i64>() {
            Ok(id) => venues::find_grantable_provider(pool.get_ref(), id).await?,
            Err(_) => None,
        },
    };
    let Some(provider) = provider else {
        let message = if form.provider_id.trim().is_empty() {
            "Choose the provider to give access to."
        } else {
            "This provider cannot be given access here: it does not exist, is no longer active, \
             or is a private integration that only support can set up. Choose one from the list."
        };
        return venue_page_with(
            &pool,
            &user,
            offerer,
            venue,
            provider_q,
            Some(message.to_owned()),
        )
        .await;
    };

    let by = ActingUser {
        account: &user.account,
        client: client_info(&req),
    };
    let provider = ProviderRef {
        id: provider.id,
        name: provider.name,
        contact_email: provider.contact_email,
    };
    let changed = access::give_access(
        &pool,
        &by,
        GrantChannel::ProInterface,
        &offerer,
        &provider,
        &[VenueRef::from(&venue)],
    )
    .await?;
    if changed.is_empty() {
        user.session.flash(
            FlashKind::Info,
            format!(
                "{} already had access to {}: nothing changed.",
                provider.name, venue.name
            ),
        );
    } else {
        user.session.flash(
            FlashKind::Success,
            format!(
                "{} now has access to {}. Its technical contact is told by email.",
                provider.name, venue.name
            ),
        );
    }
    Ok(redirect(&venue_href(&offerer, &venue)))
}

#[derive(Template)]
#[template(path = "pro/withdraw.html")]
struct WithdrawPage {
    layout: Layout,
    offerer: Offerer,
    tab: Tab,
    venue: Venue,
    grant: GrantOnVenue,
}

impl WithdrawPage {
    fn venue_href(&self) -> String {
        venue_href(&self.offerer, &self.venue)
    }
    fn is_private(&self) -> bool {
        self.grant.provider_kind == ProviderKind::Private
    }
}

/// The grant `grant_id` on the user's venue; 404 otherwise.
async fn load_grant(
    pool: &PgPool,
    user: &CurrentUser,
    path: &GrantPath,
) -> Result<(Offerer, Venue, GrantOnVenue), PageError> {
    let offerer = require_membership(pool, user.id(), path.offerer_id).await?;
    let venue = load_venue_of(pool, &offerer, path.venue_id).await?;
    let grant = venues::find_grant_on_venue(pool, venue.id, path.grant_id)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok((offerer, venue, grant))
}

fn already_withdrawn(user: &CurrentUser, grant: &GrantOnVenue, venue: &Venue) {
    user.session.flash(
        FlashKind::Info,
        format!(
            "{} no longer had access to {}: nothing changed.",
            grant.provider_name, venue.name
        ),
    );
}

pub async fn withdraw_page(
    user: ProUser,
    path: web::Path<GrantPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let (offerer, venue, grant) = load_grant(&pool, &user, &path).await?;
    if grant.revoked_at.is_some() {
        already_withdrawn(&user, &grant, &venue);
        return Ok(redirect(&venue_href(&offerer, &venue)));
    }
    render(&WithdrawPage {
        layout: Layout::for_user(&user, format!("Withdraw {}'s access", grant.provider_name)),
        offerer,
        tab: Tab::Venues,
        venue,
        grant,
    })
}

#[derive(Deserialize)]
pub struct WithdrawForm {}

pub async fn withdraw(
    user: ProUser,
    path: web::Path<GrantPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    _form: ProtectedForm<WithdrawForm>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let (offerer, venue, grant) = load_grant(&pool, &user, &path).await?;
    let (name, contact_email) = venues::provider_contact(pool.get_ref(), grant.provider_id)
        .await?
        .ok_or(PageError::NotFound)?;
    let by = ActingUser {
        account: &user.account,
        client: client_info(&req),
    };
    let withdrawn = access::withdraw_access(
        &pool,
        &by,
        GrantChannel::ProInterface,
        &offerer,
        &VenueRef::from(&venue),
        grant.id,
        &ProviderRef {
            id: grant.provider_id,
            name,
            contact_email,
        },
    )
    .await?;
    if withdrawn {
        user.session.flash(
            FlashKind::Success,
            format!(
                "{} no longer has access to {}. Its technical contact is told by email.",
                grant.provider_name, venue.name
            ),
        );
    } else {
        already_withdrawn(&user, &grant, &venue);
    }
    Ok(redirect(&venue_href(&offerer, &venue)))
}
