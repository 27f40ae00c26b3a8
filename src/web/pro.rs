//! The pro interface: what an offerer's members see.

use actix_web::{HttpResponse, web};
use askama::Template;
use sqlx::{FromRow, PgPool};

use super::error::PageError;
use super::{Layout, render};
use crate::auth::session::ProUser;

#[derive(FromRow)]
pub struct OffererSummary {
    pub id: i64,
    pub name: String,
    pub siren: String,
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
        "SELECT o.id, o.name, o.siren,
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

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/pro", web::get().to(home));
}
