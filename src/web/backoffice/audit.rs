//! The audit page: every recorded event, newest first, narrowed by actor,
//! offerer, provider, action and dates. Events never hold secrets.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use sqlx::PgPool;

use crate::auth::session::SupportAgent;
use crate::db::audit_log::{self, ActionMatch, AuditFilter, AuditLine, ProviderMatch};
use crate::db::offerers;
use crate::web::error::PageError;
use crate::web::pro::{PER_PAGE, Pager, query_value};
use crate::web::{Layout, render, search_text};

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    offerer: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    page: Option<String>,
}

/// The filters as typed, cleaned, to show them again and carry them in links.
struct Typed {
    actor: String,
    offerer: String,
    provider: String,
    action: String,
    from: String,
    to: String,
}

impl Typed {
    fn from_query(query: &AuditQuery) -> Self {
        Self {
            actor: search_text(&query.actor),
            offerer: search_text(&query.offerer),
            provider: search_text(&query.provider),
            action: search_text(&query.action),
            from: search_text(&query.from),
            to: search_text(&query.to),
        }
    }

    fn pairs(&self) -> [(&'static str, &str); 6] {
        [
            ("actor", &self.actor),
            ("offerer", &self.offerer),
            ("provider", &self.provider),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ]
    }

    fn is_empty(&self) -> bool {
        self.pairs().iter().all(|(_, v)| v.is_empty())
    }

    /// The page's URL with these filters, ready for `page=`.
    fn base_href(&self) -> String {
        let mut base = String::from("/backoffice/audit?");
        for (name, value) in self.pairs() {
            if !value.is_empty() {
                base.push_str(&format!("{name}={}&", query_value(value)));
            }
        }
        base
    }
}

fn parse_date(typed: &str, label: &str, errors: &mut Vec<String>) -> Option<NaiveDate> {
    if typed.is_empty() {
        return None;
    }
    // Four-digit years only: chrono reads signed and five-digit years that
    // PostgreSQL timestamps cannot hold.
    let four_digit_year = typed
        .split('-')
        .next()
        .is_some_and(|year| year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()));
    match NaiveDate::parse_from_str(typed, "%Y-%m-%d") {
        Ok(date) if four_digit_year => Some(date),
        _ => {
            errors.push(format!(
                "{label}: “{typed}” is not a date; write it as YYYY-MM-DD, e.g. 2026-12-03."
            ));
            None
        }
    }
}

/// The filter the typed values mean, or the messages explaining what is wrong.
async fn filter_of(
    pool: &PgPool,
    typed: &Typed,
) -> Result<Result<AuditFilter, Vec<String>>, PageError> {
    let mut errors = Vec::new();
    let mut filter = AuditFilter {
        actor: Some(typed.actor.clone()).filter(|a| !a.is_empty()),
        action: ActionMatch::parse(&typed.action),
        ..AuditFilter::default()
    };
    if !typed.offerer.is_empty() {
        let digits: String = typed
            .offerer
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit()) {
            match offerers::find_by_siren(pool, &digits).await? {
                Some(offerer) => filter.offerer_id = Some(offerer.id),
                None => errors.push(format!("No offerer has the SIREN {digits}.")),
            }
        } else {
            match digits.parse::<i64>() {
                Ok(id) => filter.offerer_id = Some(id),
                Err(_) => errors.push(
                    "Offerer: type the offerer's number (as in its page's address) or its 9-digit SIREN."
                        .to_owned(),
                ),
            }
        }
    }
    if !typed.provider.is_empty() {
        filter.provider = Some(match typed.provider.parse::<i64>() {
            Ok(id) => ProviderMatch::Id(id),
            Err(_) => ProviderMatch::Name(typed.provider.clone()),
        });
    }
    let from = parse_date(&typed.from, "From", &mut errors);
    let to = parse_date(&typed.to, "To", &mut errors);
    filter.from = from.map(|d| Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)));
    filter.before = to
        .and_then(|d| d.succ_opt())
        .map(|d| Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)));
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        errors.push("The “from” date is after the “to” date.".to_owned());
    }
    Ok(if errors.is_empty() {
        Ok(filter)
    } else {
        Err(errors)
    })
}

#[derive(Template)]
#[template(path = "backoffice/audit.html")]
struct AuditPage {
    layout: Layout,
    typed: Typed,
    actions: Vec<String>,
    errors: Vec<String>,
    events: Vec<AuditLine>,
    pager: Pager,
}

async fn audit_page(
    agent: SupportAgent,
    query: web::Query<AuditQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, PageError> {
    let SupportAgent(user) = agent;
    let typed = Typed::from_query(&query);
    let mut pager = Pager::new(query.page.as_deref(), typed.base_href());
    let (events, errors) = match filter_of(&pool, &typed).await? {
        Ok(filter) => {
            let (events, total) =
                audit_log::search(&pool, &filter, PER_PAGE, pager.offset()).await?;
            pager.total = total;
            (events, Vec::new())
        }
        Err(errors) => (Vec::new(), errors),
    };
    render(&AuditPage {
        layout: Layout::for_user(&user, "Audit"),
        actions: audit_log::actions(&pool).await?,
        typed,
        errors,
        events,
        pager,
    })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_page));
}
