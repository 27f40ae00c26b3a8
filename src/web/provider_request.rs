//! The public "Request a provider account" page: no sign-in. A company asks
//! to become a technical partner; support reviews the request in the
//! back-office. Spam-resistant: every field is validated, a hidden field
//! catches form-filling robots, and each client address may send only a
//! few requests an hour.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sqlx::PgPool;

use crate::auth::csrf::ProtectedForm;
use crate::auth::session::TypedSession;
use crate::db::audit::{Actor, AuditEvent};
use crate::db::providers::ProviderKind;
use crate::domain::{Email, Siren, required_line, required_text};
use crate::mail::{self, AccountRequestReceivedEmail};
use crate::web::account::client_info;
use crate::web::error::PageError;
use crate::web::{Layout, redirect, render, render_invalid};

pub const PATH: &str = "/provider-account-request";

/// Requests accepted per client address in [`WINDOW_MINUTES`].
const MAX_PER_ADDRESS: i64 = 3;
const WINDOW_MINUTES: i64 = 60;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    siren: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    offerer_siren: String,
    #[serde(default)]
    description: String,
    /// Hidden from people; robots fill it in.
    #[serde(default)]
    website: String,
}

#[derive(Debug, Default)]
struct Errors {
    company_name: Option<String>,
    siren: Option<String>,
    contact_email: Option<String>,
    kind: Option<String>,
    offerer_siren: Option<String>,
    description: Option<String>,
}

impl Errors {
    fn any(&self) -> bool {
        self.company_name.is_some()
            || self.siren.is_some()
            || self.contact_email.is_some()
            || self.kind.is_some()
            || self.offerer_siren.is_some()
            || self.description.is_some()
    }
}

#[derive(Template)]
#[template(path = "account/provider_request.html")]
struct FormPage {
    layout: Layout,
    form: RequestForm,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "account/provider_request_sent.html")]
struct SentPage {
    layout: Layout,
}

pub async fn form_page(session: TypedSession) -> Result<HttpResponse, PageError> {
    render(&FormPage {
        layout: Layout::anonymous(&session, "Request a provider account"),
        form: RequestForm {
            kind: "public".into(),
            ..RequestForm::default()
        },
        errors: Errors::default(),
    })
}

struct Valid {
    company_name: String,
    siren: Siren,
    contact: Email,
    kind: ProviderKind,
    offerer_siren: Option<Siren>,
    description: String,
}

fn validate(form: &RequestForm) -> Result<Valid, Box<Errors>> {
    let mut errors = Errors::default();
    let company_name = required_line(&form.company_name, "The company name", 140)
        .map_err(|e| errors.company_name = Some(e.to_string()))
        .ok();
    let siren = Siren::parse(&form.siren)
        .map_err(|e| errors.siren = Some(e.to_string()))
        .ok();
    let contact = Email::parse(&form.contact_email)
        .map_err(|e| errors.contact_email = Some(e.to_string()))
        .ok();
    let kind = form
        .kind
        .parse::<ProviderKind>()
        .map_err(|_| errors.kind = Some("Choose public or private integration.".into()))
        .ok();
    let offerer_siren = match kind {
        Some(ProviderKind::Private) => Siren::parse(&form.offerer_siren)
            .map_err(|e| {
                errors.offerer_siren = Some(format!(
                    "{e}. A private integration works for one offerer: give the SIREN of the company whose venues it will manage."
                ))
            })
            .ok(),
        _ => None,
    };
    let description = match required_text(&form.description, "A description", 4000) {
        Ok(text) if text.chars().count() < 20 => {
            errors.description = Some(
                "Tell us a little more (at least 20 characters): what your software does and for whom."
                    .into(),
            );
            None
        }
        Ok(text) => Some(text),
        Err(e) => {
            errors.description = Some(e.to_string());
            None
        }
    };
    match (company_name, siren, contact, kind, description) {
        (Some(company_name), Some(siren), Some(contact), Some(kind), Some(description))
            if !errors.any() =>
        {
            Ok(Valid {
                company_name,
                siren,
                contact,
                kind,
                offerer_siren,
                description,
            })
        }
        _ => Err(Box::new(errors)),
    }
}

pub async fn submit(
    req: HttpRequest,
    session: TypedSession,
    pool: web::Data<PgPool>,
    form: ProtectedForm<RequestForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let client = client_info(&req);
    // A robot filled the hidden field: answer as if it worked, keep nothing.
    if !form.website.trim().is_empty() {
        return Ok(redirect(&format!("{PATH}/sent")));
    }
    let valid = match validate(&form) {
        Ok(valid) => valid,
        Err(errors) => {
            return render_invalid(&FormPage {
                layout: Layout::anonymous(&session, "Request a provider account"),
                form,
                errors: *errors,
            });
        }
    };
    let mut tx = pool.begin().await?;
    // Serialise the requests of one address so the count below holds.
    let address = client.ip.clone().unwrap_or_default();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('provider_account_request:' || $1))")
        .bind(&address)
        .execute(&mut *tx)
        .await?;
    let (recent,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM provider_account_request
          WHERE requester_ip = $1 AND created_at > now() - make_interval(mins => $2)",
    )
    .bind(&address)
    .bind(WINDOW_MINUTES as i32)
    .fetch_one(&mut *tx)
    .await?;
    if recent >= MAX_PER_ADDRESS {
        return Err(PageError::TooManyRequests {
            retry_after_secs: (WINDOW_MINUTES * 60) as u64,
        });
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO provider_account_request
             (company_name, siren, contact_email, kind, offerer_siren, description, requester_ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&valid.company_name)
    .bind(valid.siren.as_str())
    .bind(valid.contact.as_str())
    .bind(valid.kind)
    .bind(valid.offerer_siren.as_ref().map(|s| s.as_str().to_owned()))
    .bind(&valid.description)
    .bind(&address)
    .fetch_one(&mut *tx)
    .await?;
    AuditEvent::new(
        Actor::Visitor {
            email: valid.contact.as_str().to_owned(),
        },
        "provider_request.create",
    )
    .target("provider_account_request", id)
    .details(serde_json::json!({
        "company_name": valid.company_name,
        "siren": valid.siren.as_str(),
        "kind": valid.kind,
    }))
    .client(&client)
    .record(&mut *tx)
    .await?;
    let email = AccountRequestReceivedEmail {
        company_name: valid.company_name.clone(),
        request_id: id,
    };
    mail::enqueue(&mut *tx, &valid.contact, &email)
        .await
        .map_err(|e| PageError::Unexpected(e.into()))?;
    tx.commit().await?;
    Ok(redirect(&format!("{PATH}/sent")))
}

pub async fn sent_page(session: TypedSession) -> Result<HttpResponse, PageError> {
    render(&SentPage {
        layout: Layout::anonymous(&session, "Request received"),
    })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(form_page))
        .route(PATH, web::post().to(submit))
        .route(&format!("{PATH}/sent"), web::get().to(sent_page));
}
