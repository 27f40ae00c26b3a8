//! Who belongs to the offerer, and inviting a colleague: an existing pro
//! account is attached at once; a new person gets a single-use link to set
//! a password, and is a member ("invitation pending") until then.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use super::{OffererPath, Tab, require_membership};
use crate::auth::csrf::ProtectedForm;
use crate::auth::session::{FlashKind, ProUser};
use crate::config::Settings;
use crate::db::offerers::{self, Member, Offerer};
use crate::domain::Email;
use crate::web::access::ActingUser;
use crate::web::account::client_info;
use crate::web::error::PageError;
use crate::web::membership::{AddMemberError, AddMemberOutcome, add_member};
use crate::web::{Layout, redirect, render, render_invalid};

#[derive(Template)]
#[template(path = "pro/members.html")]
struct MembersPage {
    layout: Layout,
    offerer: Offerer,
    tab: Tab,
    members: Vec<Member>,
    invite_email: String,
    invite_error: Option<String>,
}

pub async fn members_page(
    user: ProUser,
    path: web::Path<OffererPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let offerer = require_membership(&pool, user.id(), path.offerer_id).await?;
    let members = offerers::members(pool.get_ref(), offerer.id).await?;
    render(&MembersPage {
        layout: Layout::for_user(&user, format!("Members · {}", offerer.name)),
        offerer,
        tab: Tab::Members,
        members,
        invite_email: String::new(),
        invite_error: None,
    })
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
}

pub async fn invite(
    req: HttpRequest,
    user: ProUser,
    path: web::Path<OffererPath>,
    pool: web::Data<PgPool>,
    settings: web::Data<Settings>,
    form: ProtectedForm<InviteForm>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let offerer = require_membership(&pool, user.id(), path.offerer_id).await?;
    let typed = form.into_inner().email.trim().to_owned();
    let refuse = |offerer: Offerer, message: String, members: Vec<Member>| {
        render_invalid(&MembersPage {
            layout: Layout::for_user(&user, format!("Members · {}", offerer.name)),
            offerer,
            tab: Tab::Members,
            members,
            invite_email: typed.clone(),
            invite_error: Some(message),
        })
    };
    let email = match Email::parse(&typed) {
        Ok(email) => email,
        Err(e) => {
            let members = offerers::members(pool.get_ref(), offerer.id).await?;
            return refuse(offerer, e.to_string(), members);
        }
    };
    let by = ActingUser {
        account: &user.account,
        client: client_info(&req),
    };
    let outcome = add_member(&pool, &settings.base_url, &by, &offerer, &email).await;
    match outcome {
        Ok(AddMemberOutcome::AlreadyMember) => {
            user.session.flash(
                FlashKind::Info,
                format!("{} is already a member.", email.as_str()),
            );
            return Ok(redirect(&format!("/pro/offerers/{}/members", offerer.id)));
        }
        Ok(AddMemberOutcome::Attached { .. } | AddMemberOutcome::Invited { .. }) => {}
        Err(e @ AddMemberError::SupportAccount) => {
            let members = offerers::members(pool.get_ref(), offerer.id).await?;
            return refuse(offerer, e.to_string(), members);
        }
        Err(AddMemberError::Unexpected(e)) => return Err(PageError::Unexpected(e)),
    }
    // The same words whether or not the address has an account, so the
    // form cannot be used to find out who uses pass Culture.
    user.session.flash(
        FlashKind::Success,
        format!(
            "{} is invited to {}: a person new to pass Culture receives a link to choose a password (valid 7 days).",
            email.as_str(),
            offerer.name
        ),
    );
    Ok(redirect(&format!("/pro/offerers/{}/members", offerer.id)))
}
