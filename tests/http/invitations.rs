//! Inviting a colleague, end to end through the emailed link.

use crate::fixtures;
use crate::helpers::{PASSWORD, TestApp, csrf_token, location, new_client};
use crate::smtp::SmtpServer;

async fn member_of(app: &TestApp, email: &str, offerer_id: i64) -> i64 {
    let id = app.create_user(email, PASSWORD, "pro").await;
    sqlx::query("INSERT INTO membership (user_id, offerer_id) VALUES ($1, $2)")
        .bind(id)
        .bind(offerer_id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    id
}

#[actix_web::test]
async fn a_new_colleague_joins_through_the_emailed_link() {
    let smtp = SmtpServer::start().await;
    let transport = smtp.transport();
    let app = TestApp::spawn_with(|s| {
        s.run_mail_worker = true;
        s.mail.transport = transport;
    })
    .await;
    let pool = &app.db.pool;
    let theatre = fixtures::offerer(pool, "Théâtre des Célestins", "732829320").await;
    let other = fixtures::offerer(pool, "Autre Société", "055800296").await;
    member_of(&app, "claire@example.org", theatre).await;
    app.create_user("agent@example.org", PASSWORD, "support")
        .await;
    app.sign_in("claire@example.org", PASSWORD).await;
    let members = format!("/pro/offerers/{theatre}/members");

    let bad = app
        .post_form(&members, &members, &[("email", "not an email")])
        .await;
    assert_eq!(bad.status(), 422);
    assert!(
        bad.text().await.unwrap().contains("value=\"not an email\""),
        "what was typed is kept"
    );
    let support = app
        .post_form(&members, &members, &[("email", "agent@example.org")])
        .await;
    assert_eq!(support.status(), 422);
    let foreign = app
        .post_form(
            &format!("/pro/offerers/{other}/members"),
            &members,
            &[("email", "x@example.org")],
        )
        .await;
    assert_eq!(
        foreign.status(),
        404,
        "another offerer's members are not yours"
    );

    let invited = app
        .post_form(&members, &members, &[("email", "Julien@Example.org")])
        .await;
    assert_eq!(invited.status(), 303);
    let page = app.get_html(&members).await;
    assert!(
        page.contains("julien@example.org") && page.contains("Invitation pending"),
        "{page}"
    );
    let again = app
        .post_form(&members, &members, &[("email", "julien@example.org")])
        .await;
    assert_eq!(again.status(), 303);
    assert!(app.get_html(&members).await.contains("already a member"));
    let (pending,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM email_outbox WHERE template = 'invitation'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(pending, 1, "one invitation, however often the form is sent");

    let messages = smtp.wait_for_messages(1).await;
    assert_eq!(messages[0].rcpt_tos, ["julien@example.org"]);
    let text = messages[0].text();
    let start = text.find("/invitations/").expect("an invitation link");
    let path = text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(['.', ')', '>'])
        .to_owned();

    let julien = new_client();
    let html = julien
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Théâtre des Célestins"));
    let token = csrf_token(&html);
    let mismatch = julien
        .post(app.url(&path))
        .form(&[
            ("csrf_token", token.as_str()),
            ("display_name", "Julien Moreau"),
            ("password", PASSWORD),
            ("password_confirmation", "other password!!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), 422);
    let joined = julien
        .post(app.url(&path))
        .form(&[
            ("csrf_token", token.as_str()),
            ("display_name", "Julien Moreau"),
            ("password", PASSWORD),
            ("password_confirmation", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 303);
    let used = julien
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(used.contains("expired or was already used"));

    let signed_in = app
        .sign_in_with(&julien, "julien@example.org", PASSWORD)
        .await;
    assert_eq!(location(&signed_in), "/pro");
    let home = julien
        .get(app.url("/pro"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Théâtre des Célestins"));
    assert!(app.get_html(&members).await.contains("Julien Moreau"));
}

#[actix_web::test]
async fn an_existing_account_is_attached_at_once() {
    let app = TestApp::spawn().await;
    let pool = &app.db.pool;
    let theatre = fixtures::offerer(pool, "Théâtre", "732829320").await;
    let cinema = fixtures::offerer(pool, "Cinéma", "055800296").await;
    member_of(&app, "claire@example.org", theatre).await;
    member_of(&app, "julien@example.org", cinema).await;
    app.sign_in("claire@example.org", PASSWORD).await;
    let members = format!("/pro/offerers/{theatre}/members");
    let response = app
        .post_form(&members, &members, &[("email", "julien@example.org")])
        .await;
    assert_eq!(response.status(), 303);
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM membership m JOIN user_account u ON u.id = m.user_id WHERE u.email = 'julien@example.org'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(count, 2, "a member of both offerers now");
    let (emails,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM email_outbox WHERE template = 'invitation'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(emails, 0, "no link for someone who already has a password");
}

#[actix_web::test]
async fn search_boxes_and_bulk_choices_refuse_odd_input_without_an_error_page() {
    let app = TestApp::spawn().await;
    let pool = &app.db.pool;
    let theatre = fixtures::offerer(pool, "Théâtre", "732829320").await;
    let (venue, _) = fixtures::venue(pool, theatre, "Salle", 1).await;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    member_of(&app, "claire@example.org", theatre).await;
    app.sign_in("claire@example.org", PASSWORD).await;
    for path in [
        format!("/pro/offerers/{theatre}?q=%00"),
        format!("/pro/offerers/{theatre}/venues/{venue}?provider_q=a%00b"),
    ] {
        assert_eq!(app.get(&path).await.status(), 200, "{path}");
    }
    let bulk = format!("/pro/offerers/{theatre}/bulk-access");
    let preview = app
        .post_form(
            &format!("{bulk}/preview"),
            &bulk,
            &[("provider_id", &provider.to_string()), ("scope", "weird")],
        )
        .await;
    assert_eq!(
        preview.status(),
        422,
        "an unknown scope is not 'all venues'"
    );
    let (grants,): (i64,) = sqlx::query_as("SELECT count(*) FROM venue_access_grant")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(grants, 0);
}
