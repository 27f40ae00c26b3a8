//! The back-office audit page (filters, pagination, newest first) and the
//! failed-emails page (list, retry one, retry all), both audited.

use sqlx::PgPool;

use crate::backoffice_offerers::failed_email;
use crate::fixtures;
use crate::helpers::{PASSWORD, TestApp, location, new_client};

const AGENT: &str = "agent@example.org";

async fn signed_in_agent() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_user(AGENT, PASSWORD, "support").await;
    assert_eq!(app.sign_in(AGENT, PASSWORD).await.status(), 303);
    app
}

/// Record an event as if it happened at `at` (an RFC 3339 instant).
#[allow(clippy::too_many_arguments)]
async fn event(
    pool: &PgPool,
    at: &str,
    actor: &str,
    action: &str,
    offerer: Option<i64>,
    provider: Option<i64>,
    details: serde_json::Value,
) {
    sqlx::query(
        "INSERT INTO audit_event (occurred_at, actor_kind, actor_label, action, offerer_id,
                                  provider_id, details, client_ip)
         VALUES ($1::timestamptz, 'user', $2, $3, $4, $5, $6, '203.0.113.7')",
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(offerer)
    .bind(provider)
    .bind(details)
    .execute(pool)
    .await
    .unwrap();
}

/// The actions of the listed events, in page order.
fn listed_actions(html: &str) -> Vec<String> {
    html.split("<td><code>")
        .skip(1)
        .map(|rest| rest[..rest.find("</code>").unwrap()].to_owned())
        .collect()
}

#[actix_web::test]
async fn backoffice_audit_filters_by_actor_offerer_provider_action_and_dates() {
    let app = signed_in_agent().await;
    let pool = &app.db.pool;
    let theatre = fixtures::offerer(pool, "Théâtre", "732829320").await;
    let cinema = fixtures::offerer(pool, "Cinéma", "055800296").await;
    let ticketis = fixtures::provider(pool, "Billetterie Ticketis", "public").await;
    let stock = fixtures::provider(pool, "Stock Plus", "public").await;
    event(
        pool,
        "2026-11-01T10:00:00Z",
        "claire@example.org",
        "venue_access.grant",
        Some(theatre),
        Some(ticketis),
        serde_json::json!({"venues": 2}),
    )
    .await;
    event(
        pool,
        "2026-11-15T23:30:00Z",
        "claire@example.org",
        "venue_access.withdraw",
        Some(theatre),
        Some(ticketis),
        serde_json::json!({}),
    )
    .await;
    event(
        pool,
        "2026-11-20T08:00:00Z",
        "agent@example.org",
        "api_key.issue",
        None,
        Some(stock),
        serde_json::json!({"environment": "production"}),
    )
    .await;
    event(
        pool,
        "2026-11-21T08:00:00Z",
        "agent@example.org",
        "api_key.revoke",
        None,
        Some(stock),
        serde_json::json!({}),
    )
    .await;
    event(
        pool,
        "2026-11-22T08:00:00Z",
        "julien@example.org",
        "offerer.validate",
        Some(cinema),
        None,
        serde_json::json!({}),
    )
    .await;

    let all = app.get_html("/backoffice/audit").await;
    let mut listed = listed_actions(&all);
    // The agent's own sign-in is recorded too.
    listed.retain(|a| a != "user.sign_in");
    assert_eq!(
        listed,
        [
            "offerer.validate",
            "api_key.revoke",
            "api_key.issue",
            "venue_access.withdraw",
            "venue_access.grant"
        ],
        "newest first"
    );
    assert!(
        all.contains("203.0.113.7") && all.contains("venues:</span> 2"),
        "{all}"
    );
    assert!(all.contains(&format!("href=\"/backoffice/offerers/{theatre}\"")));
    assert!(all.contains(&format!("href=\"/backoffice/providers/{ticketis}\"")));
    assert!(
        all.contains("<option value=\"api_key.issue\">"),
        "known actions offered"
    );

    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            "actor=CLAIRE".into(),
            vec!["venue_access.withdraw", "venue_access.grant"],
        ),
        (format!("offerer={cinema}"), vec!["offerer.validate"]),
        (
            "offerer=732+829+320".into(),
            vec!["venue_access.withdraw", "venue_access.grant"],
        ),
        (
            format!("provider={stock}"),
            vec!["api_key.revoke", "api_key.issue"],
        ),
        (
            "provider=ticketis".into(),
            vec!["venue_access.withdraw", "venue_access.grant"],
        ),
        (
            "action=api_key.".into(),
            vec!["api_key.revoke", "api_key.issue"],
        ),
        (
            "action=api_key".into(),
            vec!["api_key.revoke", "api_key.issue"],
        ),
        ("action=api_key.issue".into(), vec!["api_key.issue"]),
        (
            "from=2026-11-15&to=2026-11-20".into(),
            vec!["api_key.issue", "venue_access.withdraw"],
        ),
        ("to=2026-11-01".into(), vec!["venue_access.grant"]),
        (
            "actor=agent&action=api_key.&from=2026-11-21".into(),
            vec!["api_key.revoke"],
        ),
        ("actor=nobody".into(), vec![]),
    ];
    for (query, expected) in cases {
        let html = app.get_html(&format!("/backoffice/audit?{query}")).await;
        assert_eq!(listed_actions(&html), expected, "{query}");
    }
    let kept = app
        .get_html("/backoffice/audit?actor=claire&action=venue_access.")
        .await;
    assert!(kept.contains("value=\"claire\"") && kept.contains("value=\"venue_access.\""));

    for (query, message) in [
        ("from=2026-13-01", "is not a date"),
        ("to=yesterday", "is not a date"),
        ("from=-5000-01-01", "is not a date"),
        ("to=-4714-11-23", "is not a date"),
        ("from=12026-01-01", "is not a date"),
        ("offerer=abc", "9-digit SIREN"),
        ("offerer=552100554", "No offerer has the SIREN"),
        ("from=2026-12-02&to=2026-12-01", "after"),
    ] {
        let response = app.get(&format!("/backoffice/audit?{query}")).await;
        assert_eq!(response.status(), 200, "{query}");
        let html = response.text().await.unwrap();
        assert!(html.contains(message), "{query}: {html}");
        assert!(listed_actions(&html).is_empty(), "{query}");
    }
    for odd in [
        "/backoffice/audit?actor=%00&provider=a%00b&action=%25_",
        "/backoffice/audit?page=abc",
        "/backoffice/audit?offerer=99999999999999999999",
    ] {
        assert_eq!(app.get(odd).await.status(), 200, "{odd}");
    }
}

#[actix_web::test]
async fn sign_ins_and_failed_sign_ins_show_on_the_audit_page_without_the_password() {
    let app = signed_in_agent().await;
    app.create_user("claire@example.org", PASSWORD, "pro").await;
    let wrong = "Not-Her-Password-2026";
    let other = new_client();
    let refused = app.sign_in_with(&other, "claire@example.org", wrong).await;
    assert_ne!(refused.status(), 303, "a wrong password does not sign in");
    assert_eq!(
        app.sign_in_with(&other, "claire@example.org", PASSWORD)
            .await
            .status(),
        303
    );

    let failed = app
        .get_html("/backoffice/audit?action=user.sign_in_failed")
        .await;
    assert_eq!(listed_actions(&failed), ["user.sign_in_failed"], "{failed}");
    // A failed attempt names only the domain typed: the address may be a
    // mistyped password.
    assert!(
        failed.contains("email domain:</span> example.org"),
        "{failed}"
    );
    let signed_in = app
        .get_html("/backoffice/audit?action=user.sign_in&actor=claire")
        .await;
    assert_eq!(listed_actions(&signed_in), ["user.sign_in"], "{signed_in}");
    let everything = app.get_html("/backoffice/audit?action=user.").await;
    assert!(!everything.contains(wrong) && !everything.contains(PASSWORD));
}

#[actix_web::test]
async fn backoffice_audit_paginates_newest_first_keeping_filters() {
    let app = signed_in_agent().await;
    let pool = &app.db.pool;
    for n in 0..55 {
        event(
            pool,
            &format!("2026-10-01T00:{:02}:00Z", n),
            "claire@example.org",
            "venue_access.grant",
            None,
            None,
            serde_json::json!({ "n": n }),
        )
        .await;
    }
    event(
        pool,
        "2026-10-02T00:00:00Z",
        "other@example.org",
        "offerer.create",
        None,
        None,
        serde_json::json!({}),
    )
    .await;

    let first = app.get_html("/backoffice/audit?actor=claire").await;
    assert!(first.contains("1–50 of 55 events"), "{first}");
    assert_eq!(listed_actions(&first).len(), 50);
    assert!(first.contains("n:</span> 54<"), "the newest is first");
    assert!(!first.contains("n:</span> 4<"));
    assert!(
        first.contains("href=\"/backoffice/audit?actor=claire&#38;page=2\""),
        "the pager keeps the filters: {first}"
    );
    let second = app.get_html("/backoffice/audit?actor=claire&page=2").await;
    assert!(second.contains("51–55 of 55 events"));
    assert_eq!(listed_actions(&second).len(), 5);
    assert!(second.contains("n:</span> 0<") && !second.contains("other@example.org"));
    let past = app.get_html("/backoffice/audit?actor=claire&page=3").await;
    assert!(past.contains("this page is past the end"), "{past}");
    assert!(!past.contains("Page 3 of"), "no pager past the end");
}

#[actix_web::test]
async fn backoffice_failed_emails_are_listed_and_retried() {
    let app = signed_in_agent().await;
    let pool = &app.db.pool;
    let first = failed_email(&app, "claire@example.org").await;
    let second = failed_email(&app, "julien@example.org").await;
    let third = failed_email(&app, "nina@example.org").await;
    let page = "/backoffice/emails";
    let html = app.get_html(page).await;
    for needle in [
        "claire@example.org",
        "julien@example.org",
        "Reset your password",
        "password_reset",
        "connection refused",
        "Retry all (3)",
    ] {
        assert!(html.contains(needle), "{needle}: {html}");
    }

    let retried = app
        .post_form(&format!("/backoffice/emails/{first}/retry"), page, &[])
        .await;
    assert_eq!(retried.status(), 303);
    assert_eq!(location(&retried), page);
    let html = app.get_html(page).await;
    assert!(html.contains(&format!("Email {first} is queued again.")));
    assert!(!html.contains("claire@example.org") && html.contains("Retry all (2)"));
    let status = |id: i64| async move {
        let (status, attempts): (String, i32) =
            sqlx::query_as("SELECT status::text, attempts FROM email_outbox WHERE id = $1")
                .bind(id)
                .fetch_one(pool)
                .await
                .unwrap();
        (status, attempts)
    };
    assert_eq!(status(first).await, ("pending".into(), 0));

    for id in [first, 999_999] {
        let again = app
            .post_form(&format!("/backoffice/emails/{id}/retry"), page, &[])
            .await;
        assert_eq!(again.status(), 303);
        assert!(app.get_html(page).await.contains("not waiting for a retry"));
    }

    let all = app
        .post_form("/backoffice/emails/retry-all", page, &[])
        .await;
    assert_eq!(all.status(), 303);
    let html = app.get_html(page).await;
    assert!(html.contains("2 emails are queued again.") && html.contains("No failed email"));
    assert_eq!(status(second).await.0, "pending");
    assert_eq!(status(third).await.0, "pending");
    let none = app
        .post_form("/backoffice/emails/retry-all", page, &[])
        .await;
    assert_eq!(none.status(), 303);
    assert!(app.get_html(page).await.contains("nothing changed"));

    let audited: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT actor_label, action, target_id, (details->>'failed_attempts')::bigint
           FROM audit_event WHERE action = 'email.retry' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let expected: Vec<(String, String, String, i64)> = [first, second, third]
        .iter()
        .map(|id| {
            (
                AGENT.to_owned(),
                "email.retry".to_owned(),
                id.to_string(),
                3,
            )
        })
        .collect();
    assert_eq!(
        audited, expected,
        "one event per email actually queued again"
    );
}
