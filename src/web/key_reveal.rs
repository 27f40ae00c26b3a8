//! The page behind an emailed key reveal link. Opening the link shows a
//! button (so a mail scanner that follows links cannot use it up); pressing
//! it creates the key's secret, stores only its hash, and shows the key
//! once on a `no-store` page. The link then stops working: opening it again
//! says it was used, when, and whom to contact.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgPool;

use crate::auth::csrf::ProtectedForm;
use crate::auth::session::TypedSession;
use crate::db::audit::{Actor, AuditEvent};
use crate::db::tokens::{self, SpentLink, TokenPurpose, TokenSubject};
use crate::db::{keys, providers};
use crate::domain::Environment;
use crate::mail::API_KEY_REVEAL_PATH;
use crate::web::account::client_info;
use crate::web::error::PageError;
use crate::web::{Layout, render};

/// What the key is, without its secret.
struct KeyInfo {
    provider_name: String,
    environment: Environment,
    prefix: String,
}

async fn key_info(pool: &PgPool, api_key_id: i64) -> Result<Option<KeyInfo>, PageError> {
    let Some(key) = keys::find(pool, api_key_id, false).await? else {
        return Ok(None);
    };
    let Some(provider) = providers::find(pool, key.provider_id).await? else {
        return Ok(None);
    };
    Ok(Some(KeyInfo {
        provider_name: provider.name,
        environment: key.environment(),
        prefix: key.prefix,
    }))
}

/// The states of the page.
enum View {
    /// The link works: a button reveals the key.
    Ready { token: String, key: KeyInfo },
    /// Shown once.
    Revealed { key: KeyInfo, plaintext: String },
    /// Used already (at that time).
    Used { used_at: DateTime<Utc> },
    /// Expired, replaced by a newer link, unknown, or the key ended.
    Dead,
}

#[derive(Template)]
#[template(path = "account/key_reveal.html")]
struct RevealPage {
    layout: Layout,
    view: View,
    reveal_path: &'static str,
    support_contact: String,
}

fn page(
    session: &TypedSession,
    view: View,
    support_contact: String,
) -> Result<HttpResponse, PageError> {
    let title = match &view {
        View::Ready { .. } => "Reveal your API key",
        View::Revealed { .. } => "Your API key",
        View::Used { .. } => "This link was already used",
        View::Dead => "This link no longer works",
    };
    let mut response = render(&RevealPage {
        layout: Layout::anonymous(session, title),
        view,
        reveal_path: API_KEY_REVEAL_PATH,
        support_contact,
    })?;
    // `render` already forbids caching; nobody may store this page either.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store, max-age=0"),
    );
    response
        .headers_mut()
        .insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The address people are told to write to.
fn support_contact(settings: &crate::config::Settings) -> String {
    settings.mail.support_email.clone()
}

async fn spent_view(pool: &PgPool, token: &str) -> Result<View, PageError> {
    Ok(
        match tokens::why_spent(pool, token, TokenPurpose::ApiKeyReveal).await? {
            Some((_, SpentLink::Used(at))) => View::Used { used_at: at },
            _ => View::Dead,
        },
    )
}

#[derive(Deserialize)]
pub struct TokenPath {
    token: String,
}

pub async fn open(
    session: TypedSession,
    path: web::Path<TokenPath>,
    pool: web::Data<PgPool>,
    settings: web::Data<crate::config::Settings>,
) -> Result<HttpResponse, PageError> {
    let token = path.into_inner().token;
    let view = match tokens::find_valid(pool.get_ref(), &token, TokenPurpose::ApiKeyReveal).await? {
        Some(row) => match row.subject {
            TokenSubject::ApiKeyReveal { api_key_id } => match key_info(&pool, api_key_id).await? {
                Some(key) => View::Ready { token, key },
                None => View::Dead,
            },
            _ => View::Dead,
        },
        None => spent_view(&pool, &token).await?,
    };
    page(&session, view, support_contact(&settings))
}

#[derive(Deserialize)]
pub struct RevealForm {}

pub async fn reveal(
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<TokenPath>,
    pool: web::Data<PgPool>,
    settings: web::Data<crate::config::Settings>,
    _form: ProtectedForm<RevealForm>,
) -> Result<HttpResponse, PageError> {
    let token = path.into_inner().token;
    let contact = support_contact(&settings);
    let mut tx = pool.begin().await?;
    // Locks are taken key first, then link, the order re-send and revoke
    // use: a reveal racing them waits for them instead of deadlocking.
    let found = tokens::find_valid(&mut *tx, &token, TokenPurpose::ApiKeyReveal).await?;
    let Some(TokenSubject::ApiKeyReveal { api_key_id }) = found.map(|row| row.subject) else {
        drop(tx);
        let view = spent_view(&pool, &token).await?;
        return page(&session, view, contact);
    };
    let Some(key) = keys::find(&mut *tx, api_key_id, true).await? else {
        drop(tx);
        return page(&session, View::Dead, contact);
    };
    let consumed = tokens::consume(&mut *tx, &token, TokenPurpose::ApiKeyReveal).await?;
    if consumed.is_none() {
        // Voided or used while this request waited for the key.
        drop(tx);
        let view = spent_view(&pool, &token).await?;
        return page(&session, view, contact);
    }
    // The secret is created now; only its hash is stored.
    let Some(plaintext) = keys::reveal(&mut *tx, api_key_id).await? else {
        // Revoked, expired or revealed meanwhile: the link is not spent.
        drop(tx);
        return page(&session, View::Dead, contact);
    };
    tokens::void_for_api_key(&mut *tx, api_key_id).await?;
    let provider = providers::find(&mut *tx, key.provider_id)
        .await?
        .ok_or_else(|| {
            PageError::Unexpected(anyhow::anyhow!("provider of key {api_key_id} vanished"))
        })?;
    AuditEvent::new(
        Actor::Visitor {
            email: provider.contact_email.clone(),
        },
        "api_key.reveal",
    )
    .target("api_key", api_key_id)
    .provider(provider.id)
    .details(serde_json::json!({
        "prefix": key.prefix,
        "environment": key.environment,
    }))
    .client(&client_info(&req))
    .record(&mut *tx)
    .await?;
    tx.commit().await?;
    let info = KeyInfo {
        provider_name: provider.name,
        environment: key.environment(),
        prefix: key.prefix,
    };
    page(
        &session,
        View::Revealed {
            key: info,
            plaintext: plaintext.expose_secret_string(),
        },
        contact,
    )
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        &format!("{API_KEY_REVEAL_PATH}/{{token}}"),
        web::get().to(open),
    )
    .route(
        &format!("{API_KEY_REVEAL_PATH}/{{token}}"),
        web::post().to(reveal),
    );
}
