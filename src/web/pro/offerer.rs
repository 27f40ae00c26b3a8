//! The offerer page: its venues (search, pagination) and, for each, the
//! providers that currently have access.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use super::{OffererPath, PER_PAGE, Pager, Tab, query_value, require_membership};
use crate::auth::session::ProUser;
use crate::db::offerers::{self, Offerer, VenueLine};
use crate::web::error::PageError;
use crate::web::{Layout, render};

#[derive(Template)]
#[template(path = "pro/offerer.html")]
struct OffererPage {
    layout: Layout,
    offerer: Offerer,
    tab: Tab,
    q: String,
    venues: Vec<VenueLine>,
    pager: Pager,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<String>,
}

pub async fn venues_page(
    user: ProUser,
    path: web::Path<OffererPath>,
    query: web::Query<ListQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let offerer = require_membership(&pool, user.id(), path.offerer_id).await?;
    let q: String = crate::web::search_text(&query.q);
    let base = if q.is_empty() {
        format!("/pro/offerers/{}?", offerer.id)
    } else {
        format!("/pro/offerers/{}?q={}&", offerer.id, query_value(&q))
    };
    let mut pager = Pager::new(query.page.as_deref(), base);
    let (venues, total) =
        offerers::venues_page(&pool, offerer.id, &q, PER_PAGE, pager.offset()).await?;
    pager.total = total;
    render(&OffererPage {
        layout: Layout::for_user(&user, offerer.name.clone()),
        offerer,
        tab: Tab::Venues,
        q,
        venues,
        pager,
    })
}
