//! Sign-in, sign-out and the role-based landing redirect.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use super::error::PageError;
use super::{Layout, redirect, render, render_invalid};
use crate::auth::csrf::{EmptyForm, ProtectedForm};
use crate::auth::password;
use crate::auth::session::{Flash, FlashKind, TypedSession};
use crate::config::Secret;
use crate::db::audit::{Actor, AuditEvent, ClientInfo};
use crate::db::sign_in;
use crate::db::users::{self, Role};
use crate::domain::Email;

/// From this many recent failures on, each attempt waits a little longer.
const SLOW_DOWN_AFTER: i64 = 3;
/// Per account: attempts stop until the window has passed.
const BLOCK_ACCOUNT_AFTER: i64 = 10;
/// Per client address (several accounts).
const BLOCK_ADDRESS_AFTER: i64 = 30;

const SAME_MESSAGE: &str = "Wrong email or password.";

/// The client's address as the server sees it (not X-Forwarded-For, which
/// any client can forge).
pub fn client_info(req: &HttpRequest) -> ClientInfo {
    ClientInfo {
        ip: req.peer_addr().map(|a| a.ip().to_string()),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// Where a user lands after sign-in.
pub fn landing_for(role: Role) -> &'static str {
    match role {
        Role::Pro => "/pro",
        Role::Support => "/backoffice",
    }
}

/// Only same-site paths are followed after sign-in.
fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && n.chars().all(|c| c.is_ascii_graphic())
            && !n.contains('\\')
            && !n.contains("://")
    })
}

#[derive(Template)]
#[template(path = "account/sign_in.html")]
struct SignInPage {
    layout: Layout,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

async fn root(session: TypedSession, pool: web::Data<PgPool>) -> Result<HttpResponse, PageError> {
    if let Some(id) = session.user_id()
        && let Some(user) = users::find_by_id(pool.get_ref(), id).await?
        && user.is_active
    {
        return Ok(redirect(landing_for(user.role)));
    }
    Ok(redirect("/sign-in"))
}

async fn sign_in_page(
    session: TypedSession,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let mut layout = Layout::anonymous(&session, "Sign in");
    if query.signed_out.is_some() && layout.flash.is_none() {
        layout.flash = Some(Flash {
            kind: FlashKind::Info,
            message: "You are signed out.".into(),
        });
    }
    render(&SignInPage {
        layout,
        email: String::new(),
        next: safe_next(query.next.as_deref())
            .unwrap_or_default()
            .to_owned(),
        error: None,
    })
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn sign_in(
    req: HttpRequest,
    session: TypedSession,
    pool: web::Data<PgPool>,
    form: ProtectedForm<SignInForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let client = client_info(&req);
    let ip = client.ip.clone().unwrap_or_else(|| "unknown".into());
    let typed_email = form.email.trim().to_owned();
    let again = |message: &str| {
        render_invalid(&SignInPage {
            layout: Layout::anonymous(&session, "Sign in"),
            email: typed_email.clone(),
            next: safe_next(Some(&form.next)).unwrap_or_default().to_owned(),
            error: Some(message.to_owned()),
        })
    };
    // Failures are counted under a hash of what was typed: the table never
    // holds addresses (or passwords typed into the wrong field) in clear.
    let email_key = hex::encode(crate::crypto::sha256(typed_email.to_lowercase().as_bytes()));

    // The attempt is recorded before the password is checked (and forgotten
    // on success), so guesses sent in parallel all count.
    sign_in::record_failure(pool.get_ref(), &email_key, &ip).await?;
    let (attempts_on_account, attempts_from_address) =
        sign_in::recent_failures(pool.get_ref(), &email_key, &ip).await?;
    let (account_failures, address_failures) = (attempts_on_account - 1, attempts_from_address - 1);
    if account_failures >= BLOCK_ACCOUNT_AFTER || address_failures >= BLOCK_ADDRESS_AFTER {
        return again(&format!(
            "Too many failed attempts. For your security, sign-in is paused for {} minutes. \
             You can also reset your password (\"Forgot your password?\").",
            sign_in::WINDOW_MINUTES
        ));
    }
    let slow_down = account_failures.max(address_failures / 3) - SLOW_DOWN_AFTER + 1;
    if slow_down > 0 {
        tokio::time::sleep(Duration::from_millis(250 * slow_down.min(8) as u64)).await;
    }

    let credentials = match Email::parse(&typed_email) {
        Ok(email) => users::credentials(pool.get_ref(), &email).await?,
        Err(_) => None,
    };
    // Nobody's password is longer: do not spend argon2 time on megabytes.
    let form_password = if form.password.chars().count() > password::MAX_PASSWORD_CHARS {
        String::new()
    } else {
        form.password.clone()
    };
    let stored_hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
    let password_ok = password::verify(Secret::new(form_password), stored_hash).await?;
    let user_id = match credentials {
        Some(c) if password_ok && c.is_active => c.id,
        _ => {
            let domain = typed_email.rsplit_once('@').map(|(_, d)| d.to_lowercase());
            AuditEvent::new(Actor::System, "user.sign_in_failed")
                .details(serde_json::json!({ "email_domain": domain }))
                .client(&client)
                .record(pool.get_ref())
                .await?;
            return again(SAME_MESSAGE);
        }
    };
    let Some(user) = users::find_by_id(pool.get_ref(), user_id).await? else {
        return again(SAME_MESSAGE);
    };
    let mut tx = pool.begin().await?;
    users::record_login(&mut *tx, user.id).await?;
    sign_in::clear_failures(&mut *tx, &email_key).await?;
    AuditEvent::new(
        Actor::User {
            id: user.id,
            email: user.email.clone(),
        },
        "user.sign_in",
    )
    .target("user_account", user.id)
    .client(&client)
    .record(&mut *tx)
    .await?;
    tx.commit().await?;

    session.sign_in(user.id)?;
    let destination = safe_next(Some(&form.next))
        .filter(|n| !n.is_empty())
        .unwrap_or(landing_for(user.role));
    Ok(redirect(destination))
}

async fn sign_out(
    req: HttpRequest,
    session: TypedSession,
    pool: web::Data<PgPool>,
    _form: ProtectedForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    if let Some(id) = session.user_id()
        && let Some(user) = users::find_by_id(pool.get_ref(), id).await?
    {
        AuditEvent::new(
            Actor::User {
                id: user.id,
                email: user.email,
            },
            "user.sign_out",
        )
        .target("user_account", id)
        .client(&client_info(&req))
        .record(pool.get_ref())
        .await?;
    }
    session.sign_out();
    Ok(redirect("/sign-in?signed_out=1"))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root))
        .route("/sign-in", web::get().to(sign_in_page))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out));
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/pro/offerers/1")), Some("/pro/offerers/1"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
    }
}
