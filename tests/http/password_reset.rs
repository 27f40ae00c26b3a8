//! "Forgot password", end to end: the link is read from the email the SMTP
//! server received.

use crate::helpers::{PASSWORD, TestApp, location, new_client};
use crate::smtp::SmtpServer;

async fn app_with_smtp(smtp: &SmtpServer) -> TestApp {
    let transport = smtp.transport();
    TestApp::spawn_with(|settings| {
        settings.run_mail_worker = true;
        settings.mail.transport = transport;
    })
    .await
}

/// The reset path (`/password-reset/<token>`) in an email's text part.
fn reset_path(text: &str) -> String {
    let start = text.find("/password-reset/").expect("a reset link");
    text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(['.', ')', '>'])
        .to_owned()
}

#[actix_web::test]
async fn a_forgotten_password_is_reset_through_the_emailed_link_and_other_sessions_end() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(&smtp).await;
    app.create_user("zoe@example.org", PASSWORD, "pro").await;
    // Zoé is signed in elsewhere (another browser).
    let other_browser = new_client();
    app.sign_in_with(&other_browser, "zoe@example.org", PASSWORD)
        .await;
    assert_eq!(
        other_browser
            .get(app.url("/pro"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let sign_in = app.get_html("/sign-in").await;
    assert!(sign_in.contains("href=\"/password-reset\""));
    let sent = app
        .post_form(
            "/password-reset",
            "/password-reset",
            &[("email", "Zoe@Example.org")],
        )
        .await;
    assert_eq!(sent.status(), 200);
    let known = sent.text().await.unwrap();
    let unknown = app
        .post_form(
            "/password-reset",
            "/password-reset",
            &[("email", "nobody@example.org")],
        )
        .await
        .text()
        .await
        .unwrap();
    let message = "If an account exists for this address";
    assert!(
        known.contains(message) && unknown.contains(message),
        "the same answer either way"
    );

    let messages = smtp.wait_for_messages(1).await;
    assert_eq!(messages.len(), 1, "only the existing account gets an email");
    assert_eq!(messages[0].rcpt_tos, ["zoe@example.org"]);
    let path = reset_path(&messages[0].text());

    // A weak or mismatched password is refused, and the link still works.
    let form = app.get_html(&path).await;
    assert!(form.contains("Choose a new password"));
    let weak = app
        .post_form(
            &path,
            &path,
            &[("password", "short"), ("password_confirmation", "short")],
        )
        .await;
    assert_eq!(weak.status(), 422);
    let new_password = "a brand new long password";
    let differ = app
        .post_form(
            &path,
            &path,
            &[
                ("password", new_password),
                ("password_confirmation", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(differ.status(), 422);
    let done = app
        .post_form(
            &path,
            &path,
            &[
                ("password", new_password),
                ("password_confirmation", new_password),
            ],
        )
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/sign-in");

    // Single use; the other session has ended; the new password works, the old one not.
    let again = app.get_html(&path).await;
    assert!(again.contains("This link has expired or was already used."));
    assert_eq!(
        other_browser
            .get(app.url("/pro"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    assert_eq!(app.sign_in("zoe@example.org", PASSWORD).await.status(), 422);
    assert_eq!(
        app.sign_in("zoe@example.org", new_password).await.status(),
        303
    );
    let (audits,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM audit_event WHERE action IN ('user.password_reset_request', 'user.password_reset')",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(audits, 2);
}

#[actix_web::test]
async fn an_unknown_reset_link_says_so() {
    let app = TestApp::spawn().await;
    let html = app.get_html("/password-reset/not-a-real-token").await;
    assert!(html.contains("This link has expired or was already used."));
    let refused = app
        .post_form(
            "/password-reset/not-a-real-token",
            "/password-reset",
            &[
                ("password", "a brand new long password"),
                ("password_confirmation", "a brand new long password"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
}

#[actix_web::test]
async fn reset_requests_cannot_flood_a_mailbox() {
    let app = TestApp::spawn().await;
    app.create_user("zoe@example.org", PASSWORD, "pro").await;
    for _ in 0..6 {
        let page = app
            .post_form(
                "/password-reset",
                "/password-reset",
                &[("email", "zoe@example.org")],
            )
            .await;
        assert_eq!(page.status(), 200);
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("If an account exists for this address")
        );
    }
    let (queued,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM email_outbox WHERE template = 'password_reset'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(queued, 3);
}
