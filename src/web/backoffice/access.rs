//! Private access: support gives any provider (public or private) access to
//! chosen venues of any offerer, and withdraws any grant. Grants made here
//! are marked as made by support (`backoffice` channel).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::{FromRow, PgPool};

use super::{IdPath, agent_of};
use crate::auth::csrf::{EmptyForm, ProtectedForm};
use crate::auth::session::{FlashKind, SupportAgent};
use crate::db::grants::GrantChannel;
use crate::db::offerers::{Offerer, OffererStatus, contains_pattern};
use crate::db::providers::{self, Provider};
use crate::web::access::{self, ProviderRef, VenueRef};
use crate::web::error::PageError;
use crate::web::{Layout, redirect, render, render_invalid, search_text};

/// An offerer found by the search box.
#[derive(FromRow)]
struct OffererHit {
    id: i64,
    name: String,
    siren: String,
    is_active: bool,
}

/// One venue of the chosen offerer, with whether the provider has access.
#[derive(FromRow)]
struct VenuePick {
    id: i64,
    name: String,
    siret: Option<String>,
    city: String,
    has_access: bool,
}

#[derive(Template)]
#[template(path = "backoffice/provider_access.html")]
struct AccessPage {
    layout: Layout,
    section: &'static str,
    provider: Provider,
    q: String,
    hits: Vec<OffererHit>,
    offerer: Option<Offerer>,
    venues: Vec<VenuePick>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct AccessQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offerer: String,
}

async fn load_provider(pool: &PgPool, id: i64) -> Result<Provider, PageError> {
    providers::find(pool, id).await?.ok_or(PageError::NotFound)
}

async fn find_offerer(pool: &PgPool, id: i64) -> Result<Option<Offerer>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, siren, status FROM offerer WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

async fn search_offerers(pool: &PgPool, q: &str) -> Result<Vec<OffererHit>, sqlx::Error> {
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let digits: String = q.chars().filter(|c| !c.is_whitespace()).collect();
    let siren_prefix = if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        format!("{digits}%")
    } else {
        String::new()
    };
    sqlx::query_as(
        "SELECT id, name, siren, is_active FROM offerer
          WHERE lower(name) LIKE $1 ESCAPE '\\' OR ($2 <> '' AND siren LIKE $2)
          ORDER BY lower(name), id LIMIT 20",
    )
    .bind(contains_pattern(q))
    .bind(siren_prefix)
    .fetch_all(pool)
    .await
}

async fn venue_picks(
    pool: &PgPool,
    provider_id: i64,
    offerer_id: i64,
) -> Result<Vec<VenuePick>, sqlx::Error> {
    sqlx::query_as(
        "SELECT v.id, v.name, v.siret, v.city,
                EXISTS (SELECT 1 FROM venue_access_grant g
                         WHERE g.venue_id = v.id AND g.provider_id = $1 AND g.revoked_at IS NULL) AS has_access
           FROM venue v
          WHERE v.offerer_id = $2 AND v.is_active
          ORDER BY lower(v.name), v.id",
    )
    .bind(provider_id)
    .bind(offerer_id)
    .fetch_all(pool)
    .await
}

async fn page_with(
    pool: &PgPool,
    user: &crate::auth::CurrentUser,
    provider: Provider,
    q: String,
    offerer_id: Option<i64>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let hits = search_offerers(pool, &q).await?;
    let offerer = match offerer_id {
        Some(id) => find_offerer(pool, id).await?,
        // A search that finds exactly one offerer opens it.
        None if hits.len() == 1 => find_offerer(pool, hits[0].id).await?,
        None => None,
    };
    let venues = match &offerer {
        Some(o) => venue_picks(pool, provider.id, o.id).await?,
        None => Vec::new(),
    };
    let page = AccessPage {
        layout: Layout::for_user(user, format!("Give {} access", provider.name)),
        section: "providers",
        provider,
        q,
        hits,
        offerer,
        venues,
        error,
    };
    if page.error.is_some() {
        render_invalid(&page)
    } else {
        render(&page)
    }
}

pub async fn access_page(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    query: web::Query<AccessQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let provider = load_provider(&pool, path.id).await?;
    let q = search_text(&query.q);
    let offerer_id = query.offerer.trim().parse::<i64>().ok();
    page_with(&pool, &user, provider, q, offerer_id, None).await
}

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    offerer_id: String,
    #[serde(default)]
    venue_id: Vec<String>,
}

pub async fn grant(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    form: ProtectedForm<GrantForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let provider = load_provider(&pool, path.id).await?;
    let form = form.into_inner();
    let offerer = match form.offerer_id.trim().parse::<i64>() {
        Ok(id) => find_offerer(&pool, id).await?,
        Err(_) => None,
    };
    let Some(offerer) = offerer else {
        return page_with(
            &pool,
            &user,
            provider,
            String::new(),
            None,
            Some("Find the offerer first, then choose its venues.".into()),
        )
        .await;
    };
    // Only the offerer's own active venues count, whatever the form says.
    let picks = venue_picks(&pool, provider.id, offerer.id).await?;
    let wanted: std::collections::HashSet<i64> = form
        .venue_id
        .iter()
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let chosen: Vec<VenueRef> = picks
        .iter()
        .filter(|v| wanted.contains(&v.id))
        .map(|v| VenueRef {
            id: v.id,
            name: v.name.clone(),
            siret: v.siret.clone(),
            city: v.city.clone(),
        })
        .collect();
    if chosen.is_empty() {
        let offerer_id = offerer.id;
        return page_with(
            &pool,
            &user,
            provider,
            String::new(),
            Some(offerer_id),
            Some("Choose at least one of this offerer's venues.".into()),
        )
        .await;
    }
    let by = agent_of(&user, &req);
    let provider_ref = ProviderRef {
        id: provider.id,
        name: provider.name.clone(),
        contact_email: provider.contact_email.clone(),
    };
    let changed = access::give_access(
        &pool,
        &by,
        GrantChannel::Backoffice,
        &offerer,
        &provider_ref,
        &chosen,
    )
    .await?;
    let message = match changed.len() {
        0 => format!(
            "{} already had access to the chosen venues: nothing changed.",
            provider.name
        ),
        1 => format!(
            "{} now has access to {} ({}). Its technical contact is told by email.",
            provider.name, changed[0].name, offerer.name
        ),
        n => format!(
            "{} now has access to {n} venues of {}. Its technical contact is told by email.",
            provider.name, offerer.name
        ),
    };
    let kind = if changed.is_empty() {
        FlashKind::Info
    } else {
        FlashKind::Success
    };
    user.session.flash(kind, message);
    Ok(redirect(&format!("/backoffice/providers/{}", provider.id)))
}

/// A grant, with what the confirmation page and the withdrawal need.
#[derive(FromRow)]
struct GrantRow {
    id: i64,
    provider_id: i64,
    provider_name: String,
    contact_email: String,
    venue_id: i64,
    venue_name: String,
    siret: Option<String>,
    city: String,
    offerer_id: i64,
    offerer_name: String,
    offerer_siren: String,
    offerer_status: OffererStatus,
    channel: GrantChannel,
    revoked: bool,
}

async fn load_grant(pool: &PgPool, id: i64) -> Result<GrantRow, PageError> {
    sqlx::query_as(
        "SELECT g.id, p.id AS provider_id, p.name AS provider_name, p.contact_email,
                v.id AS venue_id, v.name AS venue_name, v.siret, v.city,
                o.id AS offerer_id, o.name AS offerer_name, o.siren AS offerer_siren,
                o.status AS offerer_status, g.channel, g.revoked_at IS NOT NULL AS revoked
           FROM venue_access_grant g
           JOIN provider p ON p.id = g.provider_id
           JOIN venue v ON v.id = g.venue_id
           JOIN offerer o ON o.id = v.offerer_id
          WHERE g.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(PageError::NotFound)
}

#[derive(Template)]
#[template(path = "backoffice/withdraw.html")]
struct WithdrawPage {
    layout: Layout,
    section: &'static str,
    grant: GrantRow,
}

pub async fn withdraw_page(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let grant = load_grant(&pool, path.id).await?;
    if grant.revoked {
        user.session.flash(
            FlashKind::Info,
            format!(
                "{} no longer had access to {}: nothing changed.",
                grant.provider_name, grant.venue_name
            ),
        );
        return Ok(redirect(&format!(
            "/backoffice/providers/{}",
            grant.provider_id
        )));
    }
    render(&WithdrawPage {
        layout: Layout::for_user(&user, format!("Withdraw {}'s access", grant.provider_name)),
        section: "providers",
        grant,
    })
}

pub async fn withdraw(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    _form: ProtectedForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let grant = load_grant(&pool, path.id).await?;
    let by = agent_of(&user, &req);
    let offerer = Offerer {
        id: grant.offerer_id,
        name: grant.offerer_name.clone(),
        siren: grant.offerer_siren.clone(),
        status: grant.offerer_status,
    };
    let withdrawn = access::withdraw_access(
        &pool,
        &by,
        GrantChannel::Backoffice,
        &offerer,
        &VenueRef {
            id: grant.venue_id,
            name: grant.venue_name.clone(),
            siret: grant.siret.clone(),
            city: grant.city.clone(),
        },
        grant.id,
        &ProviderRef {
            id: grant.provider_id,
            name: grant.provider_name.clone(),
            contact_email: grant.contact_email.clone(),
        },
    )
    .await?;
    let (kind, message) = if withdrawn {
        (
            FlashKind::Success,
            format!(
                "{} no longer has access to {}. Its technical contact is told by email.",
                grant.provider_name, grant.venue_name
            ),
        )
    } else {
        (
            FlashKind::Info,
            format!(
                "{} no longer had access to {}: nothing changed.",
                grant.provider_name, grant.venue_name
            ),
        )
    };
    user.session.flash(kind, message);
    Ok(redirect(&format!(
        "/backoffice/providers/{}",
        grant.provider_id
    )))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/providers/{id}/access", web::get().to(access_page))
        .route("/providers/{id}/access", web::post().to(grant))
        .route("/grants/{id}/withdraw", web::get().to(withdraw_page))
        .route("/grants/{id}/withdraw", web::post().to(withdraw));
}
