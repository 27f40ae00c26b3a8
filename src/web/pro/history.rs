//! Every grant and withdrawal on the offerer's venues, newest first.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use super::{OffererPath, PER_PAGE, Pager, Tab, require_membership};
use crate::auth::session::ProUser;
use crate::db::offerers::{self, AccessChange, Offerer};
use crate::web::error::PageError;
use crate::web::{Layout, render};

#[derive(Template)]
#[template(path = "pro/history.html")]
struct HistoryPage {
    layout: Layout,
    offerer: Offerer,
    tab: Tab,
    changes: Vec<AccessChange>,
    pager: Pager,
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    page: Option<String>,
}

pub async fn history_page(
    user: ProUser,
    path: web::Path<OffererPath>,
    query: web::Query<HistoryQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let offerer = require_membership(&pool, user.id(), path.offerer_id).await?;
    let mut pager = Pager::new(
        query.page.as_deref(),
        format!("/pro/offerers/{}/history?", offerer.id),
    );
    let (changes, total) =
        offerers::access_history(&pool, offerer.id, PER_PAGE, pager.offset()).await?;
    pager.total = total;
    render(&HistoryPage {
        layout: Layout::for_user(&user, format!("History · {}", offerer.name)),
        offerer,
        tab: Tab::History,
        changes,
        pager,
    })
}
