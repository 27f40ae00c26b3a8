//! The demo data: seeded once into an empty database, and usable.

use venue_access::demo::{DEMO_ACCOUNTS, DEMO_PASSWORD, SeedOutcome, seed_demo_if_empty};

use crate::helpers::{TestApp, location};

#[actix_web::test]
async fn demo_data_seeds_once_and_its_accounts_sign_in() {
    let app = TestApp::spawn().await;
    assert!(matches!(
        seed_demo_if_empty(&app.db.pool).await.unwrap(),
        SeedOutcome::Seeded
    ));
    assert!(matches!(
        seed_demo_if_empty(&app.db.pool).await.unwrap(),
        SeedOutcome::AlreadyPopulated
    ));

    let (offerers, max_venues, without_siret, public_providers, private_providers): (
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM offerer),
                    (SELECT max(n) FROM (SELECT count(*) AS n FROM venue GROUP BY offerer_id) c),
                    (SELECT count(*) FROM venue WHERE siret IS NULL AND siret_comment IS NOT NULL),
                    (SELECT count(*) FROM provider WHERE kind = 'public'),
                    (SELECT count(*) FROM provider WHERE kind = 'private')",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(offerers >= 4);
    assert!(max_venues >= 100);
    assert_eq!(without_siret, 1);
    assert!(public_providers >= 5);
    assert!(private_providers >= 1);

    let statuses: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT status::text FROM booking ORDER BY 1")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let statuses: Vec<String> = statuses.into_iter().map(|s| s.0).collect();
    assert_eq!(statuses, ["cancelled", "confirmed", "reimbursed", "used"]);

    let channels: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT channel::text FROM venue_access_grant WHERE revoked_at IS NULL ORDER BY 1",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        channels.len(),
        2,
        "grants through both channels: {channels:?}"
    );

    for account in DEMO_ACCOUNTS {
        let client = crate::helpers::new_client();
        let response = app
            .sign_in_with(&client, account.email, DEMO_PASSWORD)
            .await;
        assert_eq!(response.status(), 303, "{} signs in", account.email);
        let expected = if account.role == "support" {
            "/backoffice"
        } else {
            "/pro"
        };
        assert_eq!(location(&response), expected);
        let landing = client.get(app.url(expected)).send().await.unwrap();
        assert_eq!(landing.status(), 200);
        if account.role == "pro" {
            let html = landing.text().await.unwrap();
            assert!(
                !html.contains("not a member of any offerer"),
                "{} has offerers",
                account.email
            );
        }
    }
}
