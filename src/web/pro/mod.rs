//! The pro interface: what an offerer's members see and do.
//!
//! Every route under `/pro/offerers/{offerer_id}` starts with the
//! [`ProUser`] extractor and [`require_membership`]; routes naming a venue
//! then go through [`load_venue_of`]. Anything that is missing or not the
//! user's answers the same 404 page.

mod bulk;
mod history;
mod members;
mod offerer;
mod venue;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::{FromRow, PgPool};

use super::error::PageError;
use super::{Layout, render};
use crate::auth::session::ProUser;
use crate::db::offerers::{self, Offerer, OffererStatus};
use crate::db::venues::{self, Venue};

/// Lines per page in long lists.
pub const PER_PAGE: i64 = 50;

#[derive(FromRow)]
pub struct OffererSummary {
    pub id: i64,
    pub name: String,
    pub siren: String,
    pub status: OffererStatus,
    pub venue_count: i64,
    pub provider_count: i64,
}

#[derive(Template)]
#[template(path = "pro/home.html")]
struct ProHome {
    layout: Layout,
    offerers: Vec<OffererSummary>,
}

/// The offerers the user belongs to, with how many venues they have and
/// how many providers can act on them.
async fn home(user: ProUser, pool: web::Data<PgPool>) -> Result<HttpResponse, PageError> {
    let ProUser(user) = user;
    let offerers: Vec<OffererSummary> = sqlx::query_as(
        "SELECT o.id, o.name, o.siren, o.status,
                (SELECT count(*) FROM venue v WHERE v.offerer_id = o.id AND v.is_active) AS venue_count,
                (SELECT count(DISTINCT g.provider_id) FROM venue_access_grant g
                   JOIN venue v ON v.id = g.venue_id
                  WHERE v.offerer_id = o.id AND g.revoked_at IS NULL) AS provider_count
           FROM offerer o
           JOIN membership m ON m.offerer_id = o.id
          WHERE m.user_id = $1 AND o.is_active
          ORDER BY o.name, o.id",
    )
    .bind(user.id())
    .fetch_all(pool.get_ref())
    .await?;
    render(&ProHome {
        layout: Layout::for_user(&user, "Your offerers"),
        offerers,
    })
}

/// The offerer `offerer_id` if the user belongs to it; otherwise the same
/// 404 as a missing one.
pub async fn require_membership(
    pool: &PgPool,
    user_id: i64,
    offerer_id: i64,
) -> Result<Offerer, PageError> {
    offerers::find_for_member(pool, user_id, offerer_id)
        .await?
        .ok_or(PageError::NotFound)
}

/// The venue `venue_id` if it belongs to the offerer (whose membership was
/// checked); otherwise 404.
pub async fn load_venue_of(
    pool: &PgPool,
    offerer: &Offerer,
    venue_id: i64,
) -> Result<Venue, PageError> {
    venues::find_of_offerer(pool, offerer.id, venue_id)
        .await?
        .ok_or(PageError::NotFound)
}

/// `/pro/offerers/{offerer_id}/...`
#[derive(Deserialize)]
pub struct OffererPath {
    pub offerer_id: i64,
}

/// `/pro/offerers/{offerer_id}/venues/{venue_id}/...`
#[derive(Deserialize)]
pub struct VenuePath {
    pub offerer_id: i64,
    pub venue_id: i64,
}

/// `/pro/offerers/{offerer_id}/venues/{venue_id}/access/{grant_id}/...`
#[derive(Deserialize)]
pub struct GrantPath {
    pub offerer_id: i64,
    pub venue_id: i64,
    pub grant_id: i64,
}

/// Which tab of the offerer's pages is open.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Venues,
    Bulk,
    History,
    Members,
}

impl Tab {
    /// For the templates: `aria-current` goes on the open tab.
    pub fn name(&self) -> &'static str {
        match self {
            Tab::Venues => "venues",
            Tab::Bulk => "bulk",
            Tab::History => "history",
            Tab::Members => "members",
        }
    }
}

/// Page numbers and result counts of a paginated list.
pub struct Pager {
    pub page: i64,
    pub total: i64,
    /// The list's URL with its other query parameters, ending in `?` or `&`.
    base: String,
}

impl Pager {
    /// `page` as typed in the URL: anything unreadable is the first page.
    pub fn new(page: Option<&str>, base: String) -> Self {
        let page = page
            .and_then(|p| p.trim().parse::<i64>().ok())
            .unwrap_or(1)
            .clamp(1, 1_000_000);
        Self {
            page,
            total: 0,
            base,
        }
    }
    pub fn offset(&self) -> i64 {
        (self.page - 1) * PER_PAGE
    }
    pub fn first_item(&self) -> i64 {
        (self.offset() + 1).min(self.total)
    }
    pub fn last_item(&self) -> i64 {
        (self.offset() + PER_PAGE).min(self.total)
    }
    pub fn last_page(&self) -> i64 {
        ((self.total + PER_PAGE - 1) / PER_PAGE).max(1)
    }
    pub fn has_prev(&self) -> bool {
        self.page > 1
    }
    pub fn has_next(&self) -> bool {
        self.page < self.last_page()
    }
    pub fn is_past_end(&self) -> bool {
        self.page > self.last_page()
    }
    pub fn prev_href(&self) -> String {
        format!(
            "{}page={}",
            self.base,
            (self.page - 1).min(self.last_page())
        )
    }
    pub fn next_href(&self) -> String {
        format!("{}page={}", self.base, self.page + 1)
    }
    pub fn first_href(&self) -> String {
        format!("{}page=1", self.base)
    }
}

/// Percent-encode a query parameter value.
pub fn query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/pro", web::get().to(home)).service(
        web::scope("/pro/offerers/{offerer_id}")
            // An id that is not a number is just another missing page.
            .app_data(web::PathConfig::default().error_handler(|_, _| PageError::NotFound.into()))
            .route("", web::get().to(offerer::venues_page))
            .route("/venues/{venue_id}", web::get().to(venue::venue_page))
            .route(
                "/venues/{venue_id}/access",
                web::post().to(venue::give_access),
            )
            .route(
                "/venues/{venue_id}/access/{grant_id}/withdraw",
                web::get().to(venue::withdraw_page),
            )
            .route(
                "/venues/{venue_id}/access/{grant_id}/withdraw",
                web::post().to(venue::withdraw),
            )
            .route("/bulk-access", web::get().to(bulk::form_page))
            .route("/bulk-access/preview", web::post().to(bulk::preview))
            .route("/bulk-access", web::post().to(bulk::apply))
            .route("/history", web::get().to(history::history_page))
            .route("/members", web::get().to(members::members_page))
            .route("/members", web::post().to(members::invite)),
    );
}
