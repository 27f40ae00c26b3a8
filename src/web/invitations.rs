//! Accepting an invitation: the invited person chooses a name and a
//! password through the emailed single-use link, then signs in as a member.

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
use crate::config::Secret;
use crate::db::audit::{Actor, AuditEvent};
use crate::db::tokens::{self, TokenPurpose, TokenSubject};
use crate::db::users;
use crate::domain::required_line;
use crate::mail;

#[derive(Template)]
#[template(path = "account/accept_invitation.html")]
struct AcceptPage {
    layout: Layout,
    /// `None` when the link is unknown, used or expired.
    token: Option<String>,
    offerer_name: String,
    display_name: String,
    error: Option<String>,
}

const EXPIRED: &str =
    "This invitation has expired or was already used: ask your colleague to invite you again.";

async fn invitation_context(
    pool: &PgPool,
    token: &str,
) -> Result<Option<(i64, i64, String)>, sqlx::Error> {
    let Some(row) = tokens::find_valid(pool, token, TokenPurpose::Invitation).await? else {
        return Ok(None);
    };
    let TokenSubject::Invitation {
        user_id,
        offerer_id,
    } = row.subject
    else {
        return Ok(None);
    };
    let name: Option<(String,)> = sqlx::query_as("SELECT name FROM offerer WHERE id = $1")
        .bind(offerer_id)
        .fetch_optional(pool)
        .await?;
    Ok(name.map(|(name,)| (user_id, offerer_id, name)))
}

async fn accept_page(
    session: TypedSession,
    pool: web::Data<PgPool>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let context = invitation_context(pool.get_ref(), &token).await?;
    let page = match context {
        Some((_, _, offerer_name)) => AcceptPage {
            layout: Layout::anonymous(&session, "Join your colleagues"),
            token: Some(token),
            offerer_name,
            display_name: String::new(),
            error: None,
        },
        None => AcceptPage {
            layout: Layout::anonymous(&session, "Join your colleagues"),
            token: None,
            offerer_name: String::new(),
            display_name: String::new(),
            error: Some(EXPIRED.into()),
        },
    };
    render(&page)
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

async fn accept(
    req: HttpRequest,
    session: TypedSession,
    pool: web::Data<PgPool>,
    token: web::Path<String>,
    form: ProtectedForm<AcceptForm>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let form = form.into_inner();
    let Some((_, _, offerer_name)) = invitation_context(pool.get_ref(), &token).await? else {
        return render_invalid(&AcceptPage {
            layout: Layout::anonymous(&session, "Join your colleagues"),
            token: None,
            offerer_name: String::new(),
            display_name: String::new(),
            error: Some(EXPIRED.into()),
        });
    };
    let again = |message: String| {
        render_invalid(&AcceptPage {
            layout: Layout::anonymous(&session, "Join your colleagues"),
            token: Some(token.clone()),
            offerer_name: offerer_name.clone(),
            display_name: form.display_name.clone(),
            error: Some(message),
        })
    };
    let display_name = match required_line(&form.display_name, "Your name", 100) {
        Ok(name) => name,
        Err(e) => return again(e.to_string()),
    };
    if let Err(message) =
        password::check_new_password_pair(&form.password, &form.password_confirmation)
    {
        return again(message.to_owned());
    }
    let hash = password::hash(Secret::new(form.password.clone())).await?;
    let mut tx = pool.begin().await?;
    let consumed = tokens::consume(&mut *tx, &token, TokenPurpose::Invitation).await?;
    let Some(TokenSubject::Invitation {
        user_id,
        offerer_id,
    }) = consumed.map(|r| r.subject)
    else {
        return again(EXPIRED.into());
    };
    let Some(user) = users::find_by_id(&mut *tx, user_id).await? else {
        return again(EXPIRED.into());
    };
    users::set_password(&mut *tx, user.id, &hash).await?;
    sqlx::query("UPDATE user_account SET display_name = $2 WHERE id = $1")
        .bind(user.id)
        .bind(&display_name)
        .execute(&mut *tx)
        .await?;
    AuditEvent::new(
        Actor::User {
            id: user.id,
            email: user.email.clone(),
        },
        "membership.join",
    )
    .target("user_account", user.id)
    .offerer(offerer_id)
    .client(&client_info(&req))
    .record(&mut *tx)
    .await?;
    tx.commit().await?;
    session.flash(
        FlashKind::Success,
        format!("Welcome! Sign in to see {offerer_name}."),
    );
    Ok(redirect("/sign-in"))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    let path = format!("{}/{{token}}", mail::INVITATION_PATH);
    cfg.route(&path, web::get().to(accept_page))
        .route(&path, web::post().to(accept));
}
