//! The operator commands, run as a real process against the test database.

use std::process::Command;

use reqwest::Method;
use venue_access::domain::Environment;

use crate::fixtures;
use crate::helpers::TestApp;

fn venue_access(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_venue-access"))
        .args(args)
        .env("DATABASE_URL", app.db.url())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[actix_web::test]
async fn operators_create_a_provider_issue_a_key_grant_and_revoke() {
    let app = TestApp::spawn().await;
    let pool = &app.db.pool;
    let offerer = fixtures::offerer(pool, "Théâtre", "732829320").await;
    let (_, siret) = fixtures::venue(pool, offerer, "Salle", 1).await;

    let (ok, out, err) = venue_access(
        &app,
        &[
            "provider",
            "create",
            "--name",
            "Ticketis",
            "--kind",
            "public",
            "--contact",
            "Tech@Ticketis.example",
        ],
    );
    assert!(ok, "{err}");
    let provider_id: i64 = out.trim().parse().expect("prints the id");

    let (ok, key, err) = venue_access(
        &app,
        &[
            "key",
            "issue",
            "--provider",
            "ticketis",
            "--environment",
            "integration",
        ],
    );
    assert!(ok, "{err}");
    let key = key.trim().to_owned();
    assert!(
        key.starts_with("integration_") && key.len() == "integration_".len() + 12 + 1 + 64,
        "{key}"
    );

    let (ok, _, err) = venue_access(
        &app,
        &[
            "access",
            "grant",
            "--provider",
            &provider_id.to_string(),
            "--venue",
            &siret,
        ],
    );
    assert!(ok, "{err}");
    let response = app
        .client
        .request(
            Method::GET,
            app.url(&format!("/public/offers/v1/venues/{siret}")),
        )
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let (ok, out, _) = venue_access(
        &app,
        &[
            "access",
            "grant",
            "--provider",
            "Ticketis",
            "--venue",
            &siret,
        ],
    );
    assert!(
        ok && out.contains("already has"),
        "granting twice is a no-op: {out}"
    );
    let (ok, _, err) = venue_access(
        &app,
        &[
            "access",
            "revoke",
            "--provider",
            "Ticketis",
            "--venue",
            &siret,
        ],
    );
    assert!(ok, "{err}");
    let prefix = key.rsplit_once('_').unwrap().0.to_owned();
    let (ok, _, err) = venue_access(&app, &["key", "revoke", "--prefix", &prefix]);
    assert!(ok, "{err}");
    let response = app
        .client
        .request(Method::GET, app.url("/public/providers/v1/provider"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let (actions,): (Vec<String>,) = sqlx::query_as(
        "SELECT array_agg(action ORDER BY id) FROM audit_event WHERE actor_kind = 'cli'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "provider.create",
            "api_key.issue",
            "venue_access.grant",
            "venue_access.revoke",
            "api_key.revoke"
        ]
    );
    let (stored,): (String,) =
        sqlx::query_as("SELECT string_agg(encode(secret_hash, 'hex'), ',') FROM api_key")
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(
        !stored.contains(key.rsplit('_').next().unwrap()),
        "only a hash is stored"
    );
}

#[actix_web::test]
async fn bad_operator_input_fails_with_one_clear_line() {
    let app = TestApp::spawn().await;
    fixtures::provider(&app.db.pool, "Ticketis", "public").await;
    for (args, expected) in [
        (
            vec![
                "provider",
                "create",
                "--name",
                "X",
                "--kind",
                "public",
                "--contact",
                "not-an-email",
            ],
            "--contact",
        ),
        (
            vec![
                "provider",
                "create",
                "--name",
                "ticketis",
                "--kind",
                "public",
                "--contact",
                "a@b.example",
            ],
            "already exists",
        ),
        (
            vec![
                "key",
                "issue",
                "--provider",
                "Nobody",
                "--environment",
                "integration",
            ],
            "no provider",
        ),
        (
            vec!["key", "revoke", "--prefix", "integration_zzz"],
            "--prefix",
        ),
        (
            vec![
                "access",
                "grant",
                "--provider",
                "Ticketis",
                "--venue",
                "11004601800014",
            ],
            "--venue",
        ),
        (
            vec![
                "access",
                "grant",
                "--provider",
                "Ticketis",
                "--venue",
                "11004601800013",
            ],
            "no venue",
        ),
        (
            vec!["serve", "--bind", "localhost:8096"],
            "--bind must look like",
        ),
    ] {
        let (ok, _, err) = venue_access(&app, &args);
        assert!(!ok, "{args:?} should fail");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {err}");
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(expected),
            "{args:?}: {err}"
        );
    }
    let other_env = fixtures::key(&app.db.pool, 1, Environment::Production).await;
    assert!(other_env.1.starts_with("production_"));
}
