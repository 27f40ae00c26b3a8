//! Invariants the schema enforces even if code forgot to.

use venue_access::db::constraint::field_error;

use crate::helpers::TestDatabase;

async fn offerer(db: &TestDatabase, siren: &str) -> i64 {
    let (id,): (i64,) =
        sqlx::query_as("INSERT INTO offerer (name, siren) VALUES ('Test', $1) RETURNING id")
            .bind(siren)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    id
}

const VENUE_INSERT: &str = "INSERT INTO venue (offerer_id, name, siret, siret_comment, address, postal_code, city, activity_domain)
     VALUES ($1, 'Venue', $2, $3, '1 rue de la Paix', '75002', 'Paris', 'MUSEUM') RETURNING id";

#[actix_web::test]
async fn a_venue_siret_must_start_with_its_offerer_siren() {
    let db = TestDatabase::create().await;
    let id = offerer(&db, "732829320").await;
    let err = sqlx::query(VENUE_INSERT)
        .bind(id)
        .bind("11004601800013")
        .bind(None::<String>)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(field_error(&err).map(|f| f.0), Some("siret"));
    sqlx::query(VENUE_INSERT)
        .bind(id)
        .bind("73282932000074")
        .bind(None::<String>)
        .execute(&db.pool)
        .await
        .unwrap();
}

#[actix_web::test]
async fn a_venue_without_siret_needs_a_comment() {
    let db = TestDatabase::create().await;
    let id = offerer(&db, "732829320").await;
    let err = sqlx::query(VENUE_INSERT)
        .bind(id)
        .bind(None::<String>)
        .bind("  ")
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(field_error(&err).map(|f| f.0), Some("siret_comment"));
    sqlx::query(VENUE_INSERT)
        .bind(id)
        .bind(None::<String>)
        .bind("Municipal hall run directly by the town")
        .execute(&db.pool)
        .await
        .unwrap();
}

#[actix_web::test]
async fn siren_is_unique_and_immutable() {
    let db = TestDatabase::create().await;
    let id = offerer(&db, "732829320").await;
    let dup = sqlx::query("INSERT INTO offerer (name, siren) VALUES ('Other', '732829320')")
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(field_error(&dup).map(|f| f.0), Some("siren"));
    let change = sqlx::query("UPDATE offerer SET siren = '055800296' WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await;
    assert!(change.is_err());
}

#[actix_web::test]
async fn at_most_one_active_grant_per_provider_and_venue() {
    let db = TestDatabase::create().await;
    let offerer_id = offerer(&db, "732829320").await;
    let (venue_id,): (i64,) = sqlx::query_as(VENUE_INSERT)
        .bind(offerer_id)
        .bind("73282932000074")
        .bind(None::<String>)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let (provider_id,): (i64,) = sqlx::query_as(
        "INSERT INTO provider (name, kind, contact_email) VALUES ('Soft', 'public', 'tech@soft.example') RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let grant =
        "INSERT INTO venue_access_grant (provider_id, venue_id, channel) VALUES ($1, $2, 'cli')";
    sqlx::query(grant)
        .bind(provider_id)
        .bind(venue_id)
        .execute(&db.pool)
        .await
        .unwrap();
    let dup = sqlx::query(grant)
        .bind(provider_id)
        .bind(venue_id)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(field_error(&dup).map(|f| f.0), Some("provider"));
    sqlx::query("UPDATE venue_access_grant SET revoked_at = now(), revoked_channel = 'cli'")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(grant)
        .bind(provider_id)
        .bind(venue_id)
        .execute(&db.pool)
        .await
        .unwrap();
    let (history,): (i64,) = sqlx::query_as("SELECT count(*) FROM venue_access_grant")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(history, 2, "the revoked grant stays as history");
}

#[actix_web::test]
async fn the_audit_trail_is_append_only() {
    let db = TestDatabase::create().await;
    sqlx::query(
        "INSERT INTO audit_event (actor_kind, actor_label, action) VALUES ('system', 'system', 'test.event')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    assert!(
        sqlx::query("UPDATE audit_event SET action = 'test.other'")
            .execute(&db.pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM audit_event")
            .execute(&db.pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("TRUNCATE audit_event")
            .execute(&db.pool)
            .await
            .is_err()
    );
    let bad_action = sqlx::query(
        "INSERT INTO audit_event (actor_kind, actor_label, action) VALUES ('system', 'system', 'no verb')",
    )
    .execute(&db.pool)
    .await;
    assert!(bad_action.is_err());
}

#[actix_web::test]
async fn emails_are_unique_whatever_their_case_and_stored_normalised() {
    let db = TestDatabase::create().await;
    let insert = "INSERT INTO user_account (email, display_name) VALUES ($1, 'Someone')";
    sqlx::query(insert)
        .bind("someone@example.org")
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(
        sqlx::query(insert)
            .bind("Someone@Example.org")
            .execute(&db.pool)
            .await
            .is_err()
    );
    let dup = sqlx::query(insert)
        .bind("someone@example.org")
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(field_error(&dup).map(|f| f.0), Some("email"));
}

#[actix_web::test]
async fn api_keys_never_hold_a_secret_in_clear() {
    let db = TestDatabase::create().await;
    let (columns,): (Vec<String>,) = sqlx::query_as(
        "SELECT array_agg(column_name::text) FROM information_schema.columns WHERE table_name = 'api_key'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(columns.contains(&"secret_hash".to_owned()));
    assert!(
        !columns.iter().any(|c| c == "secret" || c == "key"),
        "{columns:?}"
    );
}
