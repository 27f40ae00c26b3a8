//! "Forgot password": a single-use, expiring link by email. The request
//! page never reveals whether an account exists; setting a new password
//! ends every session of the account.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use super::account::client_info;
use super::error::PageError;
use super::{Layout, redirect, render, render_invalid};
use crate::auth::csrf::ProtectedForm;
use crate::auth::password;
use crate::auth::session::{FlashKind, TypedSession};
use crate::auth::session_store::PgSessionStore;
use crate::config::{Secret, Settings};
use crate::db::audit::{Actor, AuditEvent};
use crate::db::tokens::{self, TokenPurpose, TokenSubject};
use crate::db::users;
use crate::domain::Email;
use crate::mail;

#[derive(Template)]
#[template(path = "account/forgot_password.html")]
struct ForgotPasswordPage {
    layout: Layout,
    email: String,
    error: Option<String>,
    sent: bool,
}

#[derive(Template)]
#[template(path = "account/reset_password.html")]
struct ResetPasswordPage {
    layout: Layout,
    /// `None` when the link is unknown, used or expired.
    token: Option<String>,
    error: Option<String>,
}

async fn forgot_password_page(session: TypedSession) -> Result<HttpResponse, PageError> {
    render(&ForgotPasswordPage {
        layout: Layout::anonymous(&session, "Reset your password"),
        email: String::new(),
        error: None,
        sent: false,
    })
}

#[derive(Deserialize)]
struct ForgotPasswordForm {
    #[serde(default)]
    email: String,
}

async fn request_reset(
    req: HttpRequest,
    session: TypedSession,
    pool: web::Data<PgPool>,
    settings: web::Data<Settings>,
    form: ProtectedForm<ForgotPasswordForm>,
) -> Result<HttpResponse, PageError> {
    let typed = form.into_inner().email.trim().to_owned();
    let email = match Email::parse(&typed) {
        Ok(email) => email,
        Err(e) => {
            return render_invalid(&ForgotPasswordPage {
                layout: Layout::anonymous(&session, "Reset your password"),
                email: typed,
                error: Some(e.to_string()),
                sent: false,
            });
        }
    };
    if let Some(user) = users::find_by_email(pool.get_ref(), &email).await?
        && user.is_active
        && !too_many_recent_links(pool.get_ref(), user.id).await?
    {
        let mut tx = pool.begin().await?;
        mail::queue_password_reset(
            &mut tx,
            &settings.base_url,
            user.id,
            &email,
            &user.display_name,
        )
        .await
        .map_err(|e| PageError::Unexpected(e.into()))?;
        AuditEvent::new(
            Actor::User {
                id: user.id,
                email: user.email.clone(),
            },
            "user.password_reset_request",
        )
        .target("user_account", user.id)
        .client(&client_info(&req))
        .record(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    // The same answer whether or not the account exists.
    render(&ForgotPasswordPage {
        layout: Layout::anonymous(&session, "Reset your password"),
        email: String::new(),
        error: None,
        sent: true,
    })
}

/// At most this many reset links per account in ten minutes: the form
/// cannot be used to flood someone's mailbox. (The answer stays the same.)
const MAX_LINKS_PER_TEN_MINUTES: i64 = 3;

async fn too_many_recent_links(pool: &PgPool, user_id: i64) -> Result<bool, sqlx::Error> {
    let (recent,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM one_time_token
          WHERE user_id = $1 AND purpose = 'password_reset'
            AND created_at > now() - interval '10 minutes'",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await?;
    Ok(recent >= MAX_LINKS_PER_TEN_MINUTES)
}

async fn reset_page(
    session: TypedSession,
    pool: web::Data<PgPool>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let valid = tokens::find_valid(pool.get_ref(), &token, TokenPurpose::PasswordReset)
        .await?
        .is_some();
    render(&ResetPasswordPage {
        layout: Layout::anonymous(&session, "Choose a new password"),
        token: valid.then_some(token),
        error: None,
    })
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

async fn reset_password(
    req: HttpRequest,
    session: TypedSession,
    pool: web::Data<PgPool>,
    token: web::Path<String>,
    form: ProtectedForm<ResetForm>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let form = form.into_inner();
    let invalid = |token: Option<String>, message: &str| {
        render_invalid(&ResetPasswordPage {
            layout: Layout::anonymous(&session, "Choose a new password"),
            token,
            error: Some(message.to_owned()),
        })
    };
    if let Err(message) =
        password::check_new_password_pair(&form.password, &form.password_confirmation)
    {
        return invalid(Some(token), message);
    }
    let hash = password::hash(Secret::new(form.password)).await?;
    let mut tx = pool.begin().await?;
    let Some(row) = tokens::consume(&mut *tx, &token, TokenPurpose::PasswordReset).await? else {
        return invalid(None, "This link has expired or was already used.");
    };
    let TokenSubject::PasswordReset { user_id } = row.subject else {
        return invalid(None, "This link has expired or was already used.");
    };
    let Some(user) = users::find_by_id(&mut *tx, user_id).await? else {
        return invalid(None, "This link has expired or was already used.");
    };
    users::set_password(&mut *tx, user.id, &hash).await?;
    AuditEvent::new(
        Actor::User {
            id: user.id,
            email: user.email.clone(),
        },
        "user.password_reset",
    )
    .target("user_account", user.id)
    .client(&client_info(&req))
    .record(&mut *tx)
    .await?;
    tx.commit().await?;
    // Every session of the account ends: whoever knew the old password is out.
    PgSessionStore::delete_user_sessions(pool.get_ref(), user.id, None).await?;
    session.flash(
        FlashKind::Success,
        "Your password has been changed. Sign in with your new password.",
    );
    Ok(redirect("/sign-in"))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        mail::PASSWORD_RESET_PATH,
        web::get().to(forgot_password_page),
    )
    .route(mail::PASSWORD_RESET_PATH, web::post().to(request_reset))
    .route(
        &format!("{}/{{token}}", mail::PASSWORD_RESET_PATH),
        web::get().to(reset_page),
    )
    .route(
        &format!("{}/{{token}}", mail::PASSWORD_RESET_PATH),
        web::post().to(reset_password),
    );
}
