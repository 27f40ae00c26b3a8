//! Single-use link tokens: stored hashed, used once, refused when expired,
//! voided or presented for another purpose.

use std::time::Duration;

use venue_access::crypto::token_hash;
use venue_access::db::tokens::{self, TokenPurpose, TokenSubject};
use venue_access::domain::Email;
use venue_access::mail;

use crate::helpers::TestDatabase;

const HOUR: Duration = Duration::from_secs(3600);

async fn user(db: &TestDatabase, address: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO user_account (email, display_name) VALUES ($1, 'Someone') RETURNING id",
    )
    .bind(address)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    id
}

async fn api_key(db: &TestDatabase) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "WITH p AS (INSERT INTO provider (name, kind, contact_email)
                    VALUES ('Billetterie Test', 'public', 'tech@billetterie.example') RETURNING id)
         INSERT INTO api_key (provider_id, environment, prefix)
         SELECT id, 'integration', 'integration_0123456789ab' FROM p RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    id
}

#[actix_web::test]
async fn a_token_is_stored_as_its_hash_and_works_once() {
    let db = TestDatabase::create().await;
    let user_id = user(&db, "zoe@example.org").await;
    let subject = TokenSubject::PasswordReset { user_id };
    let token = tokens::issue(&db.pool, subject, HOUR).await.unwrap();

    let (stored, seconds_left): (Vec<u8>, f64) = sqlx::query_as(
        "SELECT token_hash, extract(epoch FROM expires_at - now())::float8 FROM one_time_token",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(stored, token_hash(&token));
    assert!((3590.0..=3600.0).contains(&seconds_left), "{seconds_left}");

    let found = tokens::find_valid(&db.pool, &token, TokenPurpose::PasswordReset)
        .await
        .unwrap()
        .expect("valid");
    assert_eq!(found.subject, subject);
    let used = tokens::consume(&db.pool, &token, TokenPurpose::PasswordReset)
        .await
        .unwrap()
        .expect("used once");
    assert_eq!(used.id, found.id);
    assert!(
        tokens::consume(&db.pool, &token, TokenPurpose::PasswordReset)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        tokens::find_valid(&db.pool, &token, TokenPurpose::PasswordReset)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        tokens::consume(&db.pool, "not-a-token", TokenPurpose::PasswordReset)
            .await
            .unwrap()
            .is_none()
    );
}

#[actix_web::test]
async fn two_concurrent_uses_of_a_token_succeed_once() {
    let db = TestDatabase::create().await;
    let user_id = user(&db, "zoe@example.org").await;
    for _ in 0..5 {
        let token = tokens::issue(&db.pool, TokenSubject::PasswordReset { user_id }, HOUR)
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            tokens::consume(&db.pool, &token, TokenPurpose::PasswordReset),
            tokens::consume(&db.pool, &token, TokenPurpose::PasswordReset),
        );
        let successes = [a.unwrap(), b.unwrap()]
            .iter()
            .filter(|r| r.is_some())
            .count();
        assert_eq!(successes, 1);
    }
}

#[actix_web::test]
async fn tokens_for_another_purpose_expired_or_voided_are_refused() {
    let db = TestDatabase::create().await;
    let user_id = user(&db, "zoe@example.org").await;
    let key_id = api_key(&db).await;

    // Another purpose: refused, and left usable for its own.
    let reveal = tokens::issue(
        &db.pool,
        TokenSubject::ApiKeyReveal { api_key_id: key_id },
        HOUR,
    )
    .await
    .unwrap();
    assert!(
        tokens::consume(&db.pool, &reveal, TokenPurpose::PasswordReset)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        tokens::find_valid(&db.pool, &reveal, TokenPurpose::ApiKeyReveal)
            .await
            .unwrap()
            .is_some()
    );

    // Voided with its key (rolled or revoked).
    let second = tokens::issue(
        &db.pool,
        TokenSubject::ApiKeyReveal { api_key_id: key_id },
        HOUR,
    )
    .await
    .unwrap();
    assert_eq!(tokens::void_for_api_key(&db.pool, key_id).await.unwrap(), 2);
    for token in [&reveal, &second] {
        assert!(
            tokens::consume(&db.pool, token, TokenPurpose::ApiKeyReveal)
                .await
                .unwrap()
                .is_none()
        );
    }

    // Expired.
    let expired = tokens::issue(&db.pool, TokenSubject::PasswordReset { user_id }, HOUR)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE one_time_token SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
    )
    .bind(token_hash(&expired).as_slice())
    .execute(&db.pool)
    .await
    .unwrap();
    assert!(
        tokens::consume(&db.pool, &expired, TokenPurpose::PasswordReset)
            .await
            .unwrap()
            .is_none()
    );
}

#[actix_web::test]
async fn a_new_password_reset_link_voids_the_previous_one() {
    let db = TestDatabase::create().await;
    let user_id = user(&db, "zoe@example.org").await;
    let to = Email::parse("zoe@example.org").unwrap();
    let mut links = Vec::new();
    for _ in 0..2 {
        let mut tx = db.pool.begin().await.unwrap();
        let id = mail::queue_password_reset(&mut tx, "https://va.example", user_id, &to, "Zoé")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (body,): (String,) = sqlx::query_as("SELECT body_text FROM email_outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let prefix = "https://va.example/password-reset/";
        let start = body.find(prefix).unwrap() + prefix.len();
        links.push(body[start..start + 43].to_owned());
    }
    assert!(
        tokens::consume(&db.pool, &links[0], TokenPurpose::PasswordReset)
            .await
            .unwrap()
            .is_none(),
        "the older link no longer works"
    );
    assert!(
        tokens::consume(&db.pool, &links[1], TokenPurpose::PasswordReset)
            .await
            .unwrap()
            .is_some()
    );
}
