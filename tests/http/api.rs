//! The provider REST API: authentication, scoping, endpoints, bookings.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use venue_access::domain::Environment;

use crate::fixtures;
use crate::helpers::TestApp;

/// Everything a test of the API needs.
struct World {
    app: TestApp,
    /// Key of the active public provider.
    key: String,
    provider_id: i64,
    venue_granted: (i64, String),
    venue_revoked: (i64, String),
    venue_other_offerer: (i64, String),
    revoked_key: String,
    expired_key: String,
    production_key: String,
    inactive_provider_key: String,
}

async fn world_with(adjust: impl FnOnce(&mut venue_access::config::Settings)) -> World {
    let app = TestApp::spawn_with(adjust).await;
    let pool = &app.db.pool;
    let theatre = fixtures::offerer(pool, "Théâtre des Célestins", "732829320").await;
    let other = fixtures::offerer(pool, "Autre Société", "055800296").await;
    let venue_granted = fixtures::venue(pool, theatre, "Grande salle", 1).await;
    let venue_revoked = fixtures::venue(pool, theatre, "Petite salle", 2).await;
    let venue_other_offerer = fixtures::venue(pool, other, "Ailleurs", 1).await;
    let provider_id = fixtures::provider(pool, "Ticketis", "public").await;
    let (_, key) = fixtures::key(pool, provider_id, Environment::Integration).await;
    let (revoked_id, revoked_key) =
        fixtures::key(pool, provider_id, Environment::Integration).await;
    sqlx::query("UPDATE api_key SET revoked_at = now() WHERE id = $1")
        .bind(revoked_id)
        .execute(pool)
        .await
        .unwrap();
    let (expired_id, expired_key) =
        fixtures::key(pool, provider_id, Environment::Integration).await;
    sqlx::query("UPDATE api_key SET expires_at = now() - interval '1 minute' WHERE id = $1")
        .bind(expired_id)
        .execute(pool)
        .await
        .unwrap();
    let (_, production_key) = fixtures::key(pool, provider_id, Environment::Production).await;
    let inactive = fixtures::provider(pool, "Gone Software", "public").await;
    let (_, inactive_provider_key) = fixtures::key(pool, inactive, Environment::Integration).await;
    sqlx::query("UPDATE provider SET is_active = false WHERE id = $1")
        .bind(inactive)
        .execute(pool)
        .await
        .unwrap();
    fixtures::grant(pool, provider_id, venue_granted.0).await;
    fixtures::grant(pool, provider_id, venue_revoked.0).await;
    fixtures::revoke(pool, provider_id, venue_revoked.0).await;
    fixtures::grant(pool, inactive, venue_granted.0).await;
    fixtures::booking(pool, venue_granted.0, "GRANT1", "confirmed").await;
    fixtures::booking(pool, venue_revoked.0, "REVOK1", "confirmed").await;
    fixtures::booking(pool, venue_other_offerer.0, "OTHER1", "confirmed").await;
    World {
        app,
        key,
        provider_id,
        venue_granted,
        venue_revoked,
        venue_other_offerer,
        revoked_key,
        expired_key,
        production_key,
        inactive_provider_key,
    }
}

async fn world() -> World {
    world_with(|_| {}).await
}

impl World {
    async fn call(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self.app.client.request(method, self.app.url(path));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, headers, body)
    }

    async fn with_key(&self, method: Method, path: &str) -> (u16, Value) {
        let (status, _, body) = self
            .call(method, path, Some(&format!("Bearer {}", self.key)))
            .await;
        (status, body)
    }
}

fn endpoints(w: &World) -> Vec<(Method, String)> {
    vec![
        (Method::GET, "/public/offers/v1/offerer_venues".into()),
        (
            Method::GET,
            "/public/offers/v1/offerer_venues?siren=732829320".into(),
        ),
        (
            Method::GET,
            format!("/public/offers/v1/venues/{}", w.venue_granted.1),
        ),
        (Method::GET, "/public/offers/v1/events/categories".into()),
        (Method::GET, "/public/providers/v1/provider".into()),
        (Method::GET, "/public/bookings/v1/token/GRANT1".into()),
        (Method::PATCH, "/public/bookings/v1/use/token/GRANT1".into()),
        (
            Method::PATCH,
            "/public/bookings/v1/keep/token/GRANT1".into(),
        ),
        (
            Method::PATCH,
            "/public/bookings/v1/cancel/token/GRANT1".into(),
        ),
    ]
}

fn secret_of(key: &str) -> &str {
    key.rsplit('_').next().unwrap()
}

#[actix_web::test]
async fn every_endpoint_refuses_every_bad_key() {
    let w = world().await;
    let prefix = w.key.rsplit_once('_').unwrap().0.to_owned();
    let wrong_secret = format!("{prefix}_{}", "0".repeat(64));
    let unknown_prefix = format!("integration_ffffffffffff_{}", secret_of(&w.key));
    let cases: Vec<(&str, Option<String>, u16, &str)> = vec![
        ("no header", None, 401, "missing"),
        (
            "wrong scheme",
            Some(format!("Basic {}", w.key)),
            401,
            "missing",
        ),
        ("empty bearer", Some("Bearer ".into()), 401, "missing"),
        (
            "malformed key",
            Some("Bearer not-a-key".into()),
            401,
            "invalid",
        ),
        (
            "unknown prefix",
            Some(format!("Bearer {unknown_prefix}")),
            401,
            "invalid",
        ),
        (
            "wrong secret",
            Some(format!("Bearer {wrong_secret}")),
            401,
            "invalid",
        ),
        (
            "revoked key",
            Some(format!("Bearer {}", w.revoked_key)),
            401,
            "invalid",
        ),
        (
            "expired key",
            Some(format!("Bearer {}", w.expired_key)),
            401,
            "invalid",
        ),
        (
            "production key",
            Some(format!("Bearer {}", w.production_key)),
            401,
            "environment",
        ),
        (
            "inactive provider",
            Some(format!("Bearer {}", w.inactive_provider_key)),
            403,
            "deactivated",
        ),
    ];
    for (method, path) in endpoints(&w) {
        for (case, header, status, kind) in &cases {
            let (got, headers, body) = w.call(method.clone(), &path, header.as_deref()).await;
            assert_eq!(got, *status, "{method} {path}: {case}");
            let message = body["auth"][0]
                .as_str()
                .unwrap_or_else(|| panic!("{case}: {body}"));
            assert_eq!(body.as_object().unwrap().len(), 1, "{case}: {body}");
            let challenge = headers
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            match *kind {
                "missing" => {
                    assert!(message.starts_with("API key required"), "{case}: {message}");
                    assert_eq!(
                        challenge.as_deref(),
                        Some("Bearer realm=\"pass Culture API\""),
                        "{case}"
                    );
                }
                "invalid" => {
                    assert!(message.starts_with("Invalid API key"), "{case}: {message}");
                    assert_eq!(
                        challenge.as_deref(),
                        Some("Bearer realm=\"pass Culture API\", error=\"invalid_token\""),
                        "{case}"
                    );
                }
                "environment" => {
                    assert!(
                        message.contains("production") && message.contains("integration"),
                        "{message}"
                    );
                    assert!(challenge.unwrap().contains("invalid_token"));
                }
                _ => {
                    assert!(message.contains("deactivated"), "{message}");
                    assert!(challenge.is_none());
                }
            }
        }
        // The scheme is case-insensitive and whitespace around the key is ignored.
        let (status, _, _) = w
            .call(
                method.clone(),
                &path,
                Some(&format!("  bEaReR   {}  ", w.key)),
            )
            .await;
        assert!(
            status < 400 || status == 403,
            "{method} {path}: valid key gives {status}"
        );
    }
    let (booking_status,): (String,) =
        sqlx::query_as("SELECT status::text FROM booking WHERE token = 'GRANT1'")
            .fetch_one(&w.app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        booking_status, "cancelled",
        "use, keep then cancel went through with the valid key"
    );
}

#[actix_web::test]
async fn venues_and_bookings_outside_the_grants_are_not_found() {
    let w = world().await;
    let not_found = json!({"global": ["The resource you requested does not exist"]});
    for (label, siret, token) in [
        ("revoked grant", &w.venue_revoked.1, "REVOK1"),
        ("other offerer", &w.venue_other_offerer.1, "OTHER1"),
    ] {
        let (status, body) = w
            .with_key(Method::GET, &format!("/public/offers/v1/venues/{siret}"))
            .await;
        assert_eq!((status, &body), (404, &not_found), "{label}");
        for (method, path) in [
            (Method::GET, format!("/public/bookings/v1/token/{token}")),
            (
                Method::PATCH,
                format!("/public/bookings/v1/use/token/{token}"),
            ),
            (
                Method::PATCH,
                format!("/public/bookings/v1/keep/token/{token}"),
            ),
            (
                Method::PATCH,
                format!("/public/bookings/v1/cancel/token/{token}"),
            ),
        ] {
            let (status, body) = w.with_key(method, &path).await;
            assert_eq!((status, &body), (404, &not_found), "{label}: {path}");
        }
    }
    // A venue or booking that does not exist at all answers the same.
    let (status, body) = w
        .with_key(Method::GET, "/public/offers/v1/venues/11004601800013")
        .await;
    assert_eq!((status, &body), (404, &not_found));
    let (status, body) = w
        .with_key(Method::GET, "/public/bookings/v1/token/ZZZZZZ")
        .await;
    assert_eq!((status, &body), (404, &not_found));
    // No grant at all: another provider with a key sees nothing.
    let lonely = fixtures::provider(&w.app.db.pool, "Lonely", "public").await;
    let (_, lonely_key) = fixtures::key(&w.app.db.pool, lonely, Environment::Integration).await;
    let (status, _, body) = w
        .call(
            Method::GET,
            "/public/offers/v1/offerer_venues",
            Some(&format!("Bearer {lonely_key}")),
        )
        .await;
    assert_eq!((status, body), (200, json!([])));
    let (status, _, _) = w
        .call(
            Method::GET,
            &format!("/public/offers/v1/venues/{}", w.venue_granted.1),
            Some(&format!("Bearer {lonely_key}")),
        )
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn offerer_venues_lists_granted_venues_grouped_by_offerer() {
    let w = world().await;
    let (status, body) = w
        .with_key(Method::GET, "/public/offers/v1/offerer_venues")
        .await;
    assert_eq!(status, 200);
    let groups = body.as_array().unwrap();
    assert_eq!(groups.len(), 1);
    let offerer = &groups[0]["offerer"];
    assert_eq!(offerer["name"], "Théâtre des Célestins");
    assert_eq!(offerer["siren"], "732829320");
    assert!(offerer["id"].is_i64());
    let created = offerer["createdDatetime"].as_str().unwrap();
    assert_eq!(created.len(), 20, "{created}");
    assert!(created.ends_with('Z') && created.as_bytes()[10] == b'T');
    let venues = groups[0]["venues"].as_array().unwrap();
    assert_eq!(venues.len(), 1);
    let venue = &venues[0];
    assert_eq!(venue["id"], w.venue_granted.0);
    assert_eq!(venue["siret"], w.venue_granted.1.as_str());
    assert_eq!(venue["siretComment"], Value::Null);
    assert_eq!(venue["legalName"], "Grande salle");
    assert_eq!(venue["publicName"], Value::Null);
    assert_eq!(venue["activityDomain"], "PERFORMING_ARTS");
    assert_eq!(
        venue["location"],
        json!({"type": "physical", "address": "12 rue des Lilas", "city": "Lyon", "postalCode": "69001"})
    );
    assert_eq!(
        venue["accessibility"],
        json!({"audioDisabilityCompliant": true, "mentalDisabilityCompliant": null,
               "motorDisabilityCompliant": false, "visualDisabilityCompliant": null})
    );
    let keys: HashSet<&str> = venue
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: HashSet<&str> = [
        "id",
        "siret",
        "siretComment",
        "createdDatetime",
        "location",
        "legalName",
        "publicName",
        "activityDomain",
        "accessibility",
    ]
    .into();
    assert_eq!(keys, expected);

    let (status, filtered) = w
        .with_key(
            Method::GET,
            "/public/offers/v1/offerer_venues?siren=732829320",
        )
        .await;
    assert_eq!((status, filtered), (200, body));
    let (status, body) = w
        .with_key(
            Method::GET,
            "/public/offers/v1/offerer_venues?siren=123456789",
        )
        .await;
    assert_eq!(
        (status, body),
        (200, json!([])),
        "a well-formed SIREN matching nothing"
    );
    let (status, body) = w
        .with_key(
            Method::GET,
            "/public/offers/v1/offerer_venues?siren=055800296",
        )
        .await;
    assert_eq!(
        (status, body),
        (200, json!([])),
        "an offerer the provider has no venue of"
    );
    for bad in ["12345678", "1234567890", "12345678a", "", "%20123456789"] {
        let (status, body) = w
            .with_key(
                Method::GET,
                &format!("/public/offers/v1/offerer_venues?siren={bad}"),
            )
            .await;
        assert_eq!(status, 400, "siren={bad}");
        assert!(
            body["siren"][0].as_str().unwrap().contains("9 digits"),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn venue_by_siret_and_who_am_i() {
    let w = world().await;
    let (status, venue) = w
        .with_key(
            Method::GET,
            &format!("/public/offers/v1/venues/{}", w.venue_granted.1),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(venue["id"], w.venue_granted.0);
    let (status, body) = w
        .with_key(Method::GET, "/public/offers/v1/venues/1234")
        .await;
    assert_eq!(status, 400);
    assert!(body["siret"][0].as_str().unwrap().contains("14 digits"));
    let (status, me) = w
        .with_key(Method::GET, "/public/providers/v1/provider")
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], w.provider_id);
    assert_eq!(me["name"], "Ticketis");
    assert_eq!(me["environment"], "integration");
    assert!(!me.to_string().contains(secret_of(&w.key)));
    let (status, categories) = w
        .with_key(Method::GET, "/public/offers/v1/events/categories")
        .await;
    assert_eq!(status, 200);
    let concert = categories
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "CONCERT")
        .unwrap();
    assert_eq!(concert["label"], "Concert");
    assert_eq!(concert["conditionalFields"]["musicType"], true);
}

#[actix_web::test]
async fn unknown_paths_and_methods_answer_json() {
    let w = world().await;
    let (status, _, body) = w.call(Method::GET, "/public/nothing/here", None).await;
    assert_eq!(status, 401, "authentication comes first");
    assert!(body["auth"].is_array());
    let (status, body) = w.with_key(Method::GET, "/public/nothing/here").await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"global": ["The resource you requested does not exist"]})
        )
    );
    let (status, body) = w
        .with_key(Method::DELETE, "/public/offers/v1/offerer_venues")
        .await;
    assert_eq!(status, 405);
    assert!(body["global"][0].as_str().unwrap().contains("not allowed"));
    let (status, _) = w
        .with_key(Method::GET, "/public/bookings/v1/use/token/GRANT1")
        .await;
    assert_eq!(status, 405);
}

#[actix_web::test]
async fn booking_details_and_every_transition() {
    let w = world().await;
    let pool = &w.app.db.pool;
    let (status, booking) = w
        .with_key(Method::GET, "/public/bookings/v1/token/grant1")
        .await;
    assert_eq!(status, 200, "tokens are case-insensitive");
    assert_eq!(booking["token"], "GRANT1");
    assert_eq!(booking["status"], "CONFIRMED");
    assert_eq!(booking["offerName"], "Le Misanthrope");
    assert_eq!(booking["venueId"], w.venue_granted.0);
    assert_eq!(booking["venueName"], "Grande salle");
    assert_eq!(booking["price"], 1500);
    assert_eq!(booking["quantity"], 1);
    assert_eq!(booking["userFirstName"], "Inès");
    assert_eq!(booking["userLastName"], "Durand");
    assert!(booking["creationDate"].as_str().unwrap().ends_with('Z'));
    assert!(booking["confirmationDate"].as_str().is_some());

    let actions = ["use", "keep", "cancel"];
    let statuses = ["confirmed", "used", "cancelled", "reimbursed"];
    let expected = |status: &str, action: &str| -> Option<&'static str> {
        match (status, action) {
            ("confirmed", "use") => Some("used"),
            ("used", "keep") => Some("confirmed"),
            ("confirmed", "cancel") => Some("cancelled"),
            _ => None,
        }
    };
    for (i, status) in statuses.iter().enumerate() {
        for (j, action) in actions.iter().enumerate() {
            let token = format!("T{i}{j}AAA");
            fixtures::booking(pool, w.venue_granted.0, &token, status).await;
            let (code, body) = w
                .with_key(
                    Method::PATCH,
                    &format!("/public/bookings/v1/{action}/token/{token}"),
                )
                .await;
            let (after,): (String,) =
                sqlx::query_as("SELECT status::text FROM booking WHERE token = $1")
                    .bind(&token)
                    .fetch_one(pool)
                    .await
                    .unwrap();
            match expected(status, action) {
                Some(new_status) => {
                    assert_eq!(code, 204, "{action} on {status}: {body}");
                    assert_eq!(after, new_status, "{action} on {status}");
                }
                None => {
                    assert_eq!(code, 403, "{action} on {status}");
                    assert!(
                        body["global"][0].as_str().is_some_and(|m| m.len() > 10),
                        "{body}"
                    );
                    assert_eq!(after, *status, "{action} on {status} changes nothing");
                }
            }
        }
    }
    let (audits,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM audit_event WHERE actor_kind = 'provider' AND action LIKE 'booking.%'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(audits, 3, "one audit event per successful transition");
}

#[actix_web::test]
async fn concurrent_transitions_on_one_booking_never_both_succeed() {
    let w = world().await;
    for round in 0..5 {
        let token = format!("RACE{round:02}");
        fixtures::booking(&w.app.db.pool, w.venue_granted.0, &token, "confirmed").await;
        let use_path = format!("/public/bookings/v1/use/token/{token}");
        let cancel_path = format!("/public/bookings/v1/cancel/token/{token}");
        let use_it = w.with_key(Method::PATCH, &use_path);
        let cancel_it = w.with_key(Method::PATCH, &cancel_path);
        let ((a, _), (b, _)) = futures_util::join!(use_it, cancel_it);
        let mut codes = [a, b];
        codes.sort_unstable();
        assert_eq!(codes, [204, 403], "round {round}");
    }
}

#[actix_web::test]
async fn revocations_take_effect_on_the_very_next_request() {
    let w = world().await;
    let pool = &w.app.db.pool;
    let venue_path = format!("/public/offers/v1/venues/{}", w.venue_granted.1);
    assert_eq!(w.with_key(Method::GET, &venue_path).await.0, 200);
    fixtures::revoke(pool, w.provider_id, w.venue_granted.0).await;
    assert_eq!(
        w.with_key(Method::GET, &venue_path).await.0,
        404,
        "grant revoked"
    );
    fixtures::grant(pool, w.provider_id, w.venue_granted.0).await;
    assert_eq!(
        w.with_key(Method::GET, &venue_path).await.0,
        200,
        "granted again"
    );
    sqlx::query("UPDATE provider SET is_active = false WHERE id = $1")
        .bind(w.provider_id)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        w.with_key(Method::GET, &venue_path).await.0,
        403,
        "provider deactivated"
    );
    sqlx::query("UPDATE provider SET is_active = true WHERE id = $1")
        .bind(w.provider_id)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        w.with_key(Method::GET, &venue_path).await.0,
        200,
        "reactivated: grants kept"
    );
    sqlx::query("UPDATE api_key SET revoked_at = now() WHERE prefix = $1")
        .bind(w.key.rsplit_once('_').unwrap().0)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        w.with_key(Method::GET, &venue_path).await.0,
        401,
        "key revoked"
    );
}

#[actix_web::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let w = world_with(|s| s.api_rate_limit_per_minute = 3).await;
    let auth = format!("Bearer {}", w.key);
    for remaining in ["2", "1", "0"] {
        let (status, headers, _) = w
            .call(Method::GET, "/public/providers/v1/provider", Some(&auth))
            .await;
        assert_eq!(status, 200);
        assert_eq!(headers["x-ratelimit-limit"], "3");
        assert_eq!(headers["x-ratelimit-remaining"], remaining);
        assert!(headers.contains_key("x-ratelimit-reset"));
    }
    let (status, headers, body) = w
        .call(Method::GET, "/public/providers/v1/provider", Some(&auth))
        .await;
    assert_eq!(status, 429);
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert!(body["global"][0].as_str().unwrap().contains("Rate limit"));
}

#[actix_web::test]
async fn last_use_is_recorded_without_a_write_per_request() {
    let w = world().await;
    for _ in 0..5 {
        assert_eq!(
            w.with_key(Method::GET, "/public/providers/v1/provider")
                .await
                .0,
            200
        );
    }
    let prefix = w.key.rsplit_once('_').unwrap().0.to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (last_used,): (Option<chrono::DateTime<chrono::Utc>>,) =
            sqlx::query_as("SELECT last_used_at FROM api_key WHERE prefix = $1")
                .bind(&prefix)
                .fetch_one(&w.app.db.pool)
                .await
                .unwrap();
        if let Some(at) = last_used {
            assert!((chrono::Utc::now() - at).num_seconds() < 60);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "last_used_at was never written"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_production_server_refuses_integration_keys() {
    let w = world_with(|s| s.api_environment = Environment::Production).await;
    let (status, _, body) = w
        .call(
            Method::GET,
            "/public/providers/v1/provider",
            Some(&format!("Bearer {}", w.key)),
        )
        .await;
    assert_eq!(status, 401);
    let message = body["auth"][0].as_str().unwrap();
    assert_eq!(
        message,
        "This API key is for the integration environment, but this server is the production environment: use your production API key here"
    );
    let (status, _, body) = w
        .call(
            Method::GET,
            "/public/providers/v1/provider",
            Some(&format!("Bearer {}", w.production_key)),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["environment"], "production");
}

/// The partner documentation's curl examples, unchanged but for the host and the key.
#[actix_web::test]
async fn the_partner_documentation_curl_examples_work() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("curl is needed for this test (apt-get install curl)");
    }
    let w = world().await;
    let host = w.app.address.clone();
    let examples = [
        format!(
            "curl --location '{host}/public/offers/v1/events/categories' \\\n--header 'Accept: application/json' \\\n--header 'Authorization: Bearer {key}'",
            key = w.key
        ),
        format!(
            "curl --location '{host}/public/offers/v1/offerer_venues' \\\n--header 'Accept: application/json' \\\n--header 'Authorization: Bearer {key}'",
            key = w.key
        ),
        format!(
            "curl --location '{host}/public/offers/v1/offerer_venues?siren=123456789' \\\n--header 'Accept: application/json' \\\n--header 'Authorization: Bearer {key}'",
            key = w.key
        ),
    ];
    let mut outputs = Vec::new();
    for example in examples {
        let script = format!("{example} --silent --show-error --fail-with-body");
        let output = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "{script}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        outputs.push(serde_json::from_slice::<Value>(&output.stdout).unwrap());
    }
    assert!(
        outputs[0]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "CONCERT")
    );
    assert_eq!(outputs[1][0]["offerer"]["siren"], "732829320");
    assert_eq!(outputs[2], json!([]));
}

#[actix_web::test]
async fn head_is_allowed_where_get_is_and_nothing_is_cached() {
    let w = world().await;
    let response = w
        .app
        .client
        .head(w.app.url("/public/offers/v1/offerer_venues"))
        .bearer_auth(&w.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = w
        .app
        .client
        .get(w.app.url("/public/bookings/v1/token/GRANT1"))
        .bearer_auth(&w.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[actix_web::test]
async fn two_authorization_headers_are_refused() {
    let w = world().await;
    let response = w
        .app
        .client
        .get(w.app.url("/public/providers/v1/provider"))
        .header("Authorization", format!("Bearer {}", w.key))
        .header("Authorization", "Bearer someone-else")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
