//! Who belongs to the offerer.

use actix_web::{HttpResponse, web};
use askama::Template;
use sqlx::PgPool;

use super::{OffererPath, Tab, require_membership};
use crate::auth::session::ProUser;
use crate::db::offerers::{self, Member, Offerer};
use crate::web::error::PageError;
use crate::web::{Layout, render};

#[derive(Template)]
#[template(path = "pro/members.html")]
struct MembersPage {
    layout: Layout,
    offerer: Offerer,
    tab: Tab,
    members: Vec<Member>,
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
    })
}
