//! Data builders for tests: offerers, venues, providers, keys, grants,
//! bookings, written straight to the test database.

use sqlx::PgPool;
use venue_access::db::grants::{self, GrantChannel};
use venue_access::db::keys;
use venue_access::domain::{Environment, Siren, siret_from_siren_and_nic_prefix};

pub async fn offerer(pool: &PgPool, name: &str, siren: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO offerer (name, siren, status) VALUES ($1, $2, 'validated') RETURNING id",
    )
    .bind(name)
    .bind(siren)
    .fetch_one(pool)
    .await
    .unwrap();
    id
}

/// A venue with a valid SIRET under the offerer's SIREN; returns (id, siret).
pub async fn venue(pool: &PgPool, offerer_id: i64, name: &str, nic: u32) -> (i64, String) {
    let (siren,): (String,) = sqlx::query_as("SELECT siren FROM offerer WHERE id = $1")
        .bind(offerer_id)
        .fetch_one(pool)
        .await
        .unwrap();
    let siret = siret_from_siren_and_nic_prefix(&Siren::parse(&siren).unwrap(), nic);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO venue (offerer_id, name, public_name, siret, address, postal_code, city, activity_domain,
                            audio_disability_compliant, motor_disability_compliant)
         VALUES ($1, $2, NULL, $3, '12 rue des Lilas', '69001', 'Lyon', 'PERFORMING_ARTS', true, false)
         RETURNING id",
    )
    .bind(offerer_id)
    .bind(name)
    .bind(siret.as_str())
    .fetch_one(pool)
    .await
    .unwrap();
    (id, siret.as_str().to_owned())
}

pub async fn provider(pool: &PgPool, name: &str, kind: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO provider (name, kind, contact_email) VALUES ($1, $2::provider_kind, 'tech@provider.example') RETURNING id",
    )
    .bind(name)
    .bind(kind)
    .fetch_one(pool)
    .await
    .unwrap();
    id
}

/// A revealed key; returns (key id, the full key).
pub async fn key(pool: &PgPool, provider_id: i64, environment: Environment) -> (i64, String) {
    let (id, key) = keys::issue_revealed(pool, provider_id, environment, None)
        .await
        .unwrap();
    (id, key.expose_secret_string())
}

pub async fn grant(pool: &PgPool, provider_id: i64, venue_id: i64) -> i64 {
    grants::grant(pool, provider_id, venue_id, GrantChannel::Cli, None)
        .await
        .unwrap()
        .unwrap()
}

pub async fn revoke(pool: &PgPool, provider_id: i64, venue_id: i64) {
    grants::revoke(pool, provider_id, venue_id, GrantChannel::Cli, None)
        .await
        .unwrap()
        .unwrap();
}

/// A booking on a new offer of the venue; returns the booking id.
pub async fn booking(pool: &PgPool, venue_id: i64, token: &str, status: &str) -> i64 {
    let (offer_id,): (i64,) = sqlx::query_as(
        "INSERT INTO offer (venue_id, name, category_id) VALUES ($1, 'Le Misanthrope', 'SPECTACLE_REPRESENTATION') RETURNING id",
    )
    .bind(venue_id)
    .fetch_one(pool)
    .await
    .unwrap();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO booking (token, offer_id, status, price_cents, quantity, beneficiary_first_name,
                              beneficiary_last_name, confirmed_at, used_at, cancelled_at, reimbursed_at)
         VALUES ($1, $2, $3::booking_status, 1500, 1, 'Inès', 'Durand', now(),
                 CASE WHEN $3 IN ('used', 'reimbursed') THEN now() END,
                 CASE WHEN $3 = 'cancelled' THEN now() END,
                 CASE WHEN $3 = 'reimbursed' THEN now() END)
         RETURNING id",
    )
    .bind(token)
    .bind(offer_id)
    .bind(status)
    .fetch_one(pool)
    .await
    .unwrap();
    id
}

/// Make the user a member of the offerer.
pub async fn member(pool: &PgPool, user_id: i64, offerer_id: i64) {
    sqlx::query("INSERT INTO membership (user_id, offerer_id) VALUES ($1, $2)")
        .bind(user_id)
        .bind(offerer_id)
        .execute(pool)
        .await
        .unwrap();
}

/// The active grants of a provider on a venue (0 or 1).
pub async fn active_grants(pool: &PgPool, provider_id: i64, venue_id: i64) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM venue_access_grant WHERE provider_id = $1 AND venue_id = $2 AND revoked_at IS NULL",
    )
    .bind(provider_id)
    .bind(venue_id)
    .fetch_one(pool)
    .await
    .unwrap();
    n
}

pub async fn audit_count(pool: &PgPool, action: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_event WHERE action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap();
    n
}

/// Emails queued in the outbox with this template for this recipient.
pub async fn queued_emails(pool: &PgPool, template: &str, recipient: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT subject FROM email_outbox WHERE template = $1 AND recipient = $2 ORDER BY id",
    )
    .bind(template)
    .bind(recipient)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}
