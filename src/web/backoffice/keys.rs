//! The key issuance workflow, support's side: issue a pair (one key per
//! environment), re-send a reveal link, roll with a grace period, revoke.
//!
//! Support never sees a secret: a key is created without one, and the
//! technical contact receives a single-use link per key; the secret is made
//! when the link is opened (see `web::key_reveal`). Every change, its audit
//! event and its emails commit in one transaction.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use sqlx::{PgPool, Postgres, Transaction};

use super::{IdPath, agent_of};
use crate::auth::CurrentUser;
use crate::auth::csrf::{EmptyForm, ProtectedForm};
use crate::auth::session::{FlashKind, SupportAgent};
use crate::config::Settings;
use crate::db::audit::AuditEvent;
use crate::db::keys::{self, KeyLine, KeyState};
use crate::db::providers::{self, Provider};
use crate::db::tokens;
use crate::domain::{Email, Environment};
use crate::mail::{self, ApiKeyChangedEmail, KeyChange};
use crate::web::access::ActingUser;
use crate::web::error::PageError;
use crate::web::{Layout, redirect, render, render_invalid};

/// How the technical contact is named as the author of a change.
const SUPPORT_NAME: &str = "pass Culture support";

fn provider_href(provider_id: i64) -> String {
    format!("/backoffice/providers/{provider_id}")
}

fn contact_of(provider: &Provider) -> Result<Email, PageError> {
    Email::parse(&provider.contact_email).map_err(|e| {
        PageError::Unexpected(anyhow::anyhow!(
            "provider {} has an unusable contact email: {e}",
            provider.id
        ))
    })
}

/// Queue the reveal link of a key to the provider's contact, voiding the
/// key's earlier links.
async fn send_reveal_link(
    tx: &mut Transaction<'_, Postgres>,
    settings: &Settings,
    provider: &Provider,
    key_id: i64,
    environment: Environment,
    prefix: &str,
) -> Result<(), PageError> {
    tokens::void_for_api_key(&mut **tx, key_id).await?;
    mail::queue_api_key_reveal(
        tx,
        &settings.base_url,
        &contact_of(provider)?,
        key_id,
        &provider.name,
        environment,
        prefix,
    )
    .await
    .map_err(|e| PageError::Unexpected(e.into()))?;
    Ok(())
}

/// One key per environment, each revealed through its own emailed link:
/// both for a new provider, or the one environment whose key was revoked
/// or has expired (the other keeps working).
pub async fn issue_pair(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    settings: web::Data<Settings>,
    _form: ProtectedForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let mut tx = pool.begin().await?;
    // The provider row is locked so two clicks cannot issue two pairs.
    let provider = providers::find_for_update(&mut *tx, path.id)
        .await?
        .ok_or(PageError::NotFound)?;
    let href = provider_href(provider.id);
    if !provider.is_active {
        user.session.flash(
            FlashKind::Error,
            format!(
                "{} is deactivated: reactivate it before issuing keys.",
                provider.name
            ),
        );
        return Ok(redirect(&href));
    }
    let existing = keys::list_for_provider(&mut *tx, provider.id).await?;
    let missing = keys::environments_without_live_key(&existing, Utc::now());
    if missing.is_empty() {
        user.session.flash(
            FlashKind::Info,
            format!(
                "{} already has a key in use or awaiting reveal in each environment: roll a key to replace it, or re-send its link.",
                provider.name
            ),
        );
        return Ok(redirect(&href));
    }
    let by = agent_of(&user, &req);
    let mut prefixes = Vec::new();
    for &environment in &missing {
        let (key_id, prefix) =
            keys::insert_unrevealed(&mut *tx, provider.id, environment, user.id(), None).await?;
        send_reveal_link(
            &mut tx,
            &settings,
            &provider,
            key_id,
            environment,
            prefix.as_str(),
        )
        .await?;
        AuditEvent::new(by.actor(), "api_key.issue")
            .target("api_key", key_id)
            .provider(provider.id)
            .details(serde_json::json!({
                "prefix": prefix.as_str(),
                "environment": environment.as_str(),
                "reveal_link_sent_to": provider.contact_email,
            }))
            .client(&by.client)
            .record(&mut *tx)
            .await?;
        prefixes.push(prefix.as_str().to_owned());
    }
    tx.commit().await?;
    let what = match missing.as_slice() {
        [environment] => format!("A new {} key was issued", environment.as_str()),
        _ => "A key pair was issued".to_owned(),
    };
    user.session.flash(
        FlashKind::Success,
        format!(
            "{what} ({}). {} receives one single-use link per key, valid {}.",
            prefixes.join(", "),
            provider.contact_email,
            mail::templates::human_duration(mail::API_KEY_REVEAL_TTL),
        ),
    );
    Ok(redirect(&href))
}

/// What became of the reveal links of keys nobody had revealed when the
/// provider's contact changed.
pub(super) enum PendingLinks {
    /// Fresh links went to the new contact (prefixes of the keys).
    Resent(Vec<String>),
    /// The provider is deactivated: the old links were voided and none sent;
    /// support re-sends them after reactivation.
    Voided(Vec<String>),
}

/// Called when the contact changes, so a former contact's link cannot
/// reveal a key: each key awaiting reveal gets a fresh link to the current
/// contact (none while the provider is deactivated), and its earlier links
/// stop working.
pub(super) async fn hand_pending_links_to_contact(
    tx: &mut Transaction<'_, Postgres>,
    settings: &Settings,
    provider: &Provider,
    by: &ActingUser<'_>,
) -> Result<PendingLinks, PageError> {
    let mut prefixes = Vec::new();
    // Locked, so a reveal racing this change waits for it.
    for key in keys::unrevealed_for_update(&mut **tx, provider.id).await? {
        if key.state() != KeyState::AwaitingReveal {
            continue;
        }
        let event = if provider.is_active {
            send_reveal_link(
                tx,
                settings,
                provider,
                key.id,
                key.environment(),
                &key.prefix,
            )
            .await?;
            AuditEvent::new(by.actor(), "api_key.resend_link").details(serde_json::json!({
                "prefix": key.prefix,
                "reveal_link_sent_to": provider.contact_email,
                "reason": "contact_email changed",
            }))
        } else {
            tokens::void_for_api_key(&mut **tx, key.id).await?;
            AuditEvent::new(by.actor(), "api_key.void_links").details(serde_json::json!({
                "prefix": key.prefix,
                "reason": "contact_email changed while the provider is deactivated",
            }))
        };
        event
            .target("api_key", key.id)
            .provider(provider.id)
            .client(&by.client)
            .record(&mut **tx)
            .await?;
        prefixes.push(key.prefix);
    }
    Ok(if provider.is_active {
        PendingLinks::Resent(prefixes)
    } else {
        PendingLinks::Voided(prefixes)
    })
}

/// The key `id` and its provider, the key locked for the transaction.
async fn load_key(
    tx: &mut Transaction<'_, Postgres>,
    key_id: i64,
) -> Result<(KeyLine, Provider), PageError> {
    let key = keys::find(&mut **tx, key_id, true)
        .await?
        .ok_or(PageError::NotFound)?;
    let provider = providers::find(&mut **tx, key.provider_id)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok((key, provider))
}

/// A fresh reveal link for a key nobody has revealed yet; the old link
/// stops working.
pub async fn resend_link(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    settings: web::Data<Settings>,
    _form: ProtectedForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let mut tx = pool.begin().await?;
    let (key, provider) = load_key(&mut tx, path.id).await?;
    let href = provider_href(provider.id);
    if key.state() != KeyState::AwaitingReveal {
        user.session.flash(
            FlashKind::Info,
            format!(
                "{} is {}: only a key awaiting reveal gets a new link. Roll it to replace it.",
                key.prefix,
                key.state().label().to_lowercase()
            ),
        );
        return Ok(redirect(&href));
    }
    if !provider.is_active {
        user.session.flash(
            FlashKind::Error,
            format!(
                "{} is deactivated: reactivate it before sending a link.",
                provider.name
            ),
        );
        return Ok(redirect(&href));
    }
    send_reveal_link(
        &mut tx,
        &settings,
        &provider,
        key.id,
        key.environment(),
        &key.prefix,
    )
    .await?;
    let by = agent_of(&user, &req);
    AuditEvent::new(by.actor(), "api_key.resend_link")
        .target("api_key", key.id)
        .provider(provider.id)
        .details(serde_json::json!({
            "prefix": key.prefix,
            "reveal_link_sent_to": provider.contact_email,
        }))
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    tx.commit().await?;
    user.session.flash(
        FlashKind::Success,
        format!(
            "A new link for {} was sent to {}; the previous one no longer works.",
            key.prefix, provider.contact_email
        ),
    );
    Ok(redirect(&href))
}

// ---------------------------------------------------------------------------
// Roll and revoke, each with a confirmation page
// ---------------------------------------------------------------------------

/// How long a rolled key keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grace {
    None,
    OneDay,
    SevenDays,
}

impl Grace {
    pub const ALL: [Grace; 3] = [Grace::None, Grace::OneDay, Grace::SevenDays];

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(Grace::None),
            "24h" => Some(Grace::OneDay),
            "7d" => Some(Grace::SevenDays),
            _ => None,
        }
    }
    pub fn value(&self) -> &'static str {
        match self {
            Grace::None => "none",
            Grace::OneDay => "24h",
            Grace::SevenDays => "7d",
        }
    }
    pub fn label(&self) -> &'static str {
        match self {
            Grace::None => "None: the old key stops now",
            Grace::OneDay => "24 hours",
            Grace::SevenDays => "7 days",
        }
    }
    pub fn duration(&self) -> Duration {
        match self {
            Grace::None => Duration::ZERO,
            Grace::OneDay => Duration::from_secs(24 * 3600),
            Grace::SevenDays => Duration::from_secs(7 * 24 * 3600),
        }
    }
}

#[derive(Template)]
#[template(path = "backoffice/key_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    section: &'static str,
    provider: Provider,
    key: KeyLine,
    /// "roll" or "revoke".
    action: &'static str,
    graces: [Grace; 3],
    grace: String,
    error: Option<String>,
}

async fn confirm_page(
    user: &CurrentUser,
    pool: &PgPool,
    key_id: i64,
    action: &'static str,
) -> Result<HttpResponse, PageError> {
    let mut tx = pool.begin().await?;
    let (key, provider) = load_key(&mut tx, key_id).await?;
    drop(tx);
    let allowed = match action {
        "roll" => key.state() == KeyState::Active,
        _ => key.state().is_live(),
    };
    if !allowed {
        user.session.flash(
            FlashKind::Info,
            format!(
                "{} is {}: it cannot be {}.",
                key.prefix,
                key.state().label().to_lowercase(),
                if action == "roll" {
                    "rolled"
                } else {
                    "revoked"
                }
            ),
        );
        return Ok(redirect(&provider_href(provider.id)));
    }
    let title = if action == "roll" {
        format!("Roll {}", key.prefix)
    } else {
        format!("Revoke {}", key.prefix)
    };
    render(&ConfirmPage {
        layout: Layout::for_user(user, title),
        section: "providers",
        provider,
        key,
        action,
        graces: Grace::ALL,
        grace: "24h".into(),
        error: None,
    })
}

pub async fn roll_page(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    confirm_page(&agent.0, &pool, path.id, "roll").await
}

pub async fn revoke_page(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    confirm_page(&agent.0, &pool, path.id, "revoke").await
}

#[derive(Deserialize)]
pub struct RollForm {
    #[serde(default)]
    grace: String,
}

/// Replace an active key: a new key of the same environment is issued (its
/// reveal link goes to the contact) and the old one expires after the
/// chosen grace period.
pub async fn roll(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    settings: web::Data<Settings>,
    form: ProtectedForm<RollForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let form = form.into_inner();
    let mut tx = pool.begin().await?;
    let (key, provider) = load_key(&mut tx, path.id).await?;
    let Some(grace) = Grace::parse(form.grace.trim()) else {
        drop(tx);
        return render_invalid(&ConfirmPage {
            layout: Layout::for_user(&user, format!("Roll {}", key.prefix)),
            section: "providers",
            provider,
            key,
            action: "roll",
            graces: Grace::ALL,
            grace: String::new(),
            error: Some("Choose how long the old key keeps working.".into()),
        });
    };
    let href = provider_href(provider.id);
    if key.state() != KeyState::Active {
        user.session.flash(
            FlashKind::Info,
            format!(
                "{} is {}: only an active key can be rolled. Nothing changed.",
                key.prefix,
                key.state().label().to_lowercase()
            ),
        );
        return Ok(redirect(&href));
    }
    if !provider.is_active {
        user.session.flash(
            FlashKind::Error,
            format!(
                "{} is deactivated: reactivate it before rolling its keys.",
                provider.name
            ),
        );
        return Ok(redirect(&href));
    }
    let environment = key.environment();
    let Some(valid_until) = keys::expire_after(&mut *tx, key.id, grace.duration()).await? else {
        return Err(PageError::Unexpected(anyhow::anyhow!(
            "key {} was active but could not be given an expiry",
            key.id
        )));
    };
    let (new_id, new_prefix) =
        keys::insert_unrevealed(&mut *tx, provider.id, environment, user.id(), Some(key.id))
            .await?;
    send_reveal_link(
        &mut tx,
        &settings,
        &provider,
        new_id,
        environment,
        new_prefix.as_str(),
    )
    .await?;
    let changed = ApiKeyChangedEmail {
        provider_name: provider.name.clone(),
        environment,
        key_prefix: key.prefix.clone(),
        change: KeyChange::Rolled {
            new_key_prefix: new_prefix.as_str().to_owned(),
            old_key_valid_until: (grace != Grace::None).then_some(valid_until),
        },
        by: SUPPORT_NAME.to_owned(),
        at: Utc::now(),
    };
    mail::enqueue(&mut *tx, &contact_of(&provider)?, &changed)
        .await
        .map_err(|e| PageError::Unexpected(e.into()))?;
    let by = agent_of(&user, &req);
    AuditEvent::new(by.actor(), "api_key.roll")
        .target("api_key", key.id)
        .provider(provider.id)
        .details(serde_json::json!({
            "prefix": key.prefix,
            "new_prefix": new_prefix.as_str(),
            "grace": grace.value(),
            "old_key_valid_until": valid_until,
            "reveal_link_sent_to": provider.contact_email,
        }))
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    tx.commit().await?;
    let until = if grace == Grace::None {
        "stopped working now".to_owned()
    } else {
        format!(
            "keeps working until {}",
            mail::templates::human_date(&valid_until)
        )
    };
    user.session.flash(
        FlashKind::Success,
        format!(
            "{} was rolled: {} replaces it (link sent to {}); the old key {until}.",
            key.prefix,
            new_prefix.as_str(),
            provider.contact_email
        ),
    );
    Ok(redirect(&href))
}

/// End a key at once (and void its unused reveal links).
pub async fn revoke(
    agent: SupportAgent,
    path: web::Path<IdPath>,
    req: HttpRequest,
    pool: web::Data<PgPool>,
    _form: ProtectedForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let mut tx = pool.begin().await?;
    let (key, provider) = load_key(&mut tx, path.id).await?;
    let href = provider_href(provider.id);
    if !keys::revoke(&mut *tx, key.id, user.id()).await? {
        user.session.flash(
            FlashKind::Info,
            format!(
                "{} had already stopped working: nothing changed.",
                key.prefix
            ),
        );
        return Ok(redirect(&href));
    }
    tokens::void_for_api_key(&mut *tx, key.id).await?;
    // A key nobody revealed never worked: no need to tell anyone it stopped.
    if key.revealed_at.is_some() {
        let changed = ApiKeyChangedEmail {
            provider_name: provider.name.clone(),
            environment: key.environment(),
            key_prefix: key.prefix.clone(),
            change: KeyChange::Revoked,
            by: SUPPORT_NAME.to_owned(),
            at: Utc::now(),
        };
        mail::enqueue(&mut *tx, &contact_of(&provider)?, &changed)
            .await
            .map_err(|e| PageError::Unexpected(e.into()))?;
    }
    let by = agent_of(&user, &req);
    AuditEvent::new(by.actor(), "api_key.revoke")
        .target("api_key", key.id)
        .provider(provider.id)
        .details(serde_json::json!({
            "prefix": key.prefix,
            "environment": key.environment,
            "was": key.state().label(),
        }))
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    tx.commit().await?;
    user.session.flash(
        FlashKind::Success,
        format!("{} is revoked: its next API call is refused.", key.prefix),
    );
    Ok(redirect(&href))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/providers/{id}/keys", web::post().to(issue_pair))
        .route("/keys/{id}/resend", web::post().to(resend_link))
        .route("/keys/{id}/roll", web::get().to(roll_page))
        .route("/keys/{id}/roll", web::post().to(roll))
        .route("/keys/{id}/revoke", web::get().to(revoke_page))
        .route("/keys/{id}/revoke", web::post().to(revoke));
}
