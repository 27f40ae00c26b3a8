//! The back-office, support's side of the key issuance workflow: account
//! requests, providers, key pairs revealed through emailed links, roll,
//! revoke, private access; and the 404 rule for everyone else.

use reqwest::Method;
use serde_json::Value;
use sqlx::PgPool;
use venue_access::domain::Environment;

use crate::fixtures;
use crate::helpers::{PASSWORD, TestApp, csrf_token, location, new_client};
use crate::smtp::SmtpServer;

const AGENT: &str = "agent@support.example";

async fn support_app() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_user(AGENT, PASSWORD, "support").await;
    assert_eq!(app.sign_in(AGENT, PASSWORD).await.status(), 303);
    app
}

/// The API answer to `GET path` with `key`.
async fn api(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url(path))
        .header("Authorization", format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn whoami(app: &TestApp, key: &str) -> u16 {
    api(app, key, "/public/providers/v1/provider").await.0
}

/// The link of the newest queued email with this template to `recipient`
/// whose subject contains `subject_part`.
pub(crate) async fn queued_link(pool: &PgPool, template: &str, subject_part: &str) -> String {
    let (body,): (String,) = sqlx::query_as(
        "SELECT body_text FROM email_outbox WHERE template = $1 AND subject LIKE '%' || $2 || '%'
          ORDER BY id DESC LIMIT 1",
    )
    .bind(template)
    .bind(subject_part)
    .fetch_one(pool)
    .await
    .unwrap();
    link_in(&body)
}

fn link_in(text: &str) -> String {
    let start = text.find("http").expect("a link in the email");
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .next()
        .unwrap()
        .to_owned()
}

/// The path part of an emailed link (emails carry the configured base URL).
pub(crate) fn path_of(link: &str) -> String {
    let after_scheme = link.split_once("://").unwrap().1;
    format!("/{}", after_scheme.split_once('/').unwrap().1)
}

/// Open a reveal link and press the button, as the technical contact does
/// (in its own browser). Returns the page with the key.
async fn reveal(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String, String) {
    let page = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    if !html.contains("Reveal the key") {
        return (200, String::new(), html);
    }
    let token = csrf_token(&html);
    let response = client
        .post(app.url(path))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let html = response.text().await.unwrap();
    (status, cache, html)
}

/// The key shown on a reveal page.
fn key_on(html: &str) -> String {
    let marker = "id=\"api-key\">";
    let start = html.find(marker).expect("a key on the page") + marker.len();
    let end = html[start..].find('<').unwrap() + start;
    html[start..end].to_owned()
}

/// Submit a public provider's edit form with this name and contact.
async fn edit_public_provider(
    app: &TestApp,
    page: &str,
    name: &str,
    contact: &str,
) -> reqwest::Response {
    let form = format!("{page}/edit");
    app.post_form(
        &form,
        &form,
        &[
            ("name", name),
            ("kind", "public"),
            ("contact_email", contact),
            ("offerer_siren", ""),
        ],
    )
    .await
}

async fn key_id(pool: &PgPool, provider_id: i64, environment: &str, state: &str) -> i64 {
    let condition = match state {
        "unrevealed" => "revealed_at IS NULL AND revoked_at IS NULL",
        _ => "revealed_at IS NOT NULL",
    };
    let (id,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM api_key WHERE provider_id = $1 AND environment = $2::api_environment
            AND {condition} ORDER BY id DESC LIMIT 1"
    )))
    .bind(provider_id)
    .bind(environment)
    .fetch_one(pool)
    .await
    .unwrap();
    id
}

/// Every text the database holds, table by table, as JSON.
async fn database_text(pool: &PgPool) -> String {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut all = String::new();
    for (table,) in tables {
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT row_to_json(t)::text FROM \"{table}\" t"
        )))
        .fetch_all(pool)
        .await
        .unwrap();
        for (row,) in rows {
            all.push_str(&row);
            all.push('\n');
        }
    }
    all
}

#[actix_web::test]
async fn request_approve_issue_reveal_and_call_the_api() {
    let log = crate::logs::captured_log();
    let smtp = SmtpServer::start().await;
    let transport = smtp.transport();
    let app = TestApp::spawn_with(|s| {
        s.run_mail_worker = true;
        s.mail.transport = transport;
    })
    .await;
    let pool = &app.db.pool;
    let offerer = fixtures::offerer(pool, "Cinéma Le Palace", "732829320").await;
    let (venue, siret) = fixtures::venue(pool, offerer, "Le Palace", 1).await;

    // A company asks, without an account.
    let visitor = new_client();
    let form = visitor
        .get(app.url("/provider-account-request"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_token(&form);
    let bad = visitor
        .post(app.url("/provider-account-request"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("company_name", "Billetel"),
            ("siren", "123456788"),
            ("contact_email", "tech@billetel.example"),
            ("kind", "private"),
            ("offerer_siren", ""),
            ("description", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let bad = bad.text().await.unwrap();
    assert!(bad.contains("value=\"Billetel\""), "what was typed is kept");
    assert!(bad.contains("check digit"), "the SIREN is checked: {bad}");
    assert!(bad.contains("at least 20 characters"));
    assert!(
        bad.contains("offerer&#x27;s SIREN")
            || bad.contains("private integration works for one offerer")
    );
    let sent = visitor
        .post(app.url("/provider-account-request"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("company_name", "Billetel"),
            ("siren", "552 100 554"),
            ("contact_email", "Tech@Billetel.example"),
            ("kind", "public"),
            (
                "description",
                "Ticketing software for 200 cinemas and theatres.",
            ),
            ("website", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    assert_eq!(location(&sent), "/provider-account-request/sent");
    let acknowledgement = smtp.wait_for_messages(1).await;
    assert_eq!(acknowledgement[0].rcpt_tos, ["tech@billetel.example"]);
    assert!(acknowledgement[0].subject().contains("Billetel"));

    // Support reviews it and approves it, prefilled from the request.
    app.create_user(AGENT, PASSWORD, "support").await;
    app.sign_in(AGENT, PASSWORD).await;
    let pending = app.get_html("/backoffice/requests").await;
    assert!(pending.contains("Billetel"), "{pending}");
    let (request_id,): (i64,) =
        sqlx::query_as("SELECT id FROM provider_account_request WHERE company_name = 'Billetel'")
            .fetch_one(pool)
            .await
            .unwrap();
    let request_page = format!("/backoffice/requests/{request_id}");
    let detail = app.get_html(&request_page).await;
    assert!(
        detail.contains("value=\"tech@billetel.example\""),
        "prefilled"
    );
    let approved = app
        .post_form(
            &format!("{request_page}/approve"),
            &request_page,
            &[
                ("name", "Billetel"),
                ("kind", "public"),
                ("contact_email", "tech@billetel.example"),
                ("offerer_siren", ""),
            ],
        )
        .await;
    assert_eq!(approved.status(), 303);
    let provider_page = location(&approved);
    let provider_id: i64 = provider_page.rsplit('/').next().unwrap().parse().unwrap();
    let again = app
        .post_form(
            &format!("{request_page}/approve"),
            &provider_page,
            &[
                ("name", "Billetel bis"),
                ("kind", "public"),
                ("contact_email", "tech@billetel.example"),
            ],
        )
        .await;
    assert_eq!(again.status(), 303, "a second approval changes nothing");
    let (providers,): (i64,) = sqlx::query_as("SELECT count(*) FROM provider")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(providers, 1);

    // One action issues the pair; each key's link goes to the contact.
    let issued = app
        .post_form(&format!("{provider_page}/keys"), &provider_page, &[])
        .await;
    assert_eq!(issued.status(), 303);
    let page = app.get_html(&provider_page).await;
    assert!(page.contains("A key pair was issued"), "{page}");
    assert_eq!(page.matches("Awaiting reveal").count(), 2, "{page}");
    let messages = smtp.wait_for_messages(4).await;
    let reveal_emails: Vec<_> = messages
        .iter()
        .filter(|m| m.subject().contains("API key for Billetel"))
        .collect();
    assert_eq!(reveal_emails.len(), 2);
    assert!(messages.iter().any(|m| {
        m.subject()
            .contains("is now a pass Culture technical partner")
    }));
    let integration_email = reveal_emails
        .iter()
        .find(|m| m.subject().contains("integration"))
        .unwrap();
    assert!(
        integration_email.text().contains("7 days"),
        "{}",
        integration_email.text()
    );
    let link = path_of(&link_in(&integration_email.text()));

    // The contact opens the link in its own browser and sees the key once.
    let contact = new_client();
    let (status, cache, shown) = reveal(&app, &contact, &link).await;
    assert_eq!(status, 200, "{shown}");
    assert!(cache.contains("no-store"));
    assert!(shown.contains("it will not be shown again"));
    let key = key_on(&shown);
    assert!(key.starts_with("integration_"), "{key}");
    let secret = key.rsplit('_').next().unwrap().to_owned();

    // The key works, on the venues the provider is given access to.
    assert_eq!(whoami(&app, &key).await, 200);
    let (status, _) = api(&app, &key, &format!("/public/offers/v1/venues/{siret}")).await;
    assert_eq!(status, 404, "no access yet");
    fixtures::grant(pool, provider_id, venue).await;
    let (status, body) = api(&app, &key, &format!("/public/offers/v1/venues/{siret}")).await;
    assert_eq!(status, 200, "{body}");

    // The link works once; opening it again says so and whom to contact.
    let second = contact.get(app.url(&link)).send().await.unwrap();
    let second = second.text().await.unwrap();
    assert!(second.contains("already used"), "{second}");
    assert!(second.contains("support@venue-access.test"));
    assert!(!second.contains(&secret));
    let sign_in = contact.get(app.url("/sign-in")).send().await.unwrap();
    let session_token = csrf_token(&sign_in.text().await.unwrap());
    let replay = contact
        .post(app.url(&link))
        .form(&[("csrf_token", session_token.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(replay.contains("already used") && !replay.contains(&secret));

    // The key's state shows for support, never its secret.
    let page = app.get_html(&provider_page).await;
    assert!(
        page.contains("Active") && page.contains("Awaiting reveal"),
        "{page}"
    );
    for path in [
        provider_page.clone(),
        "/backoffice/providers".to_owned(),
        format!("/backoffice/audit?provider={provider_id}"),
    ] {
        let html = app.get(&path).await.text().await.unwrap();
        assert!(!html.contains(&secret), "{path} shows the secret");
    }
    assert_eq!(fixtures::audit_count(pool, "api_key.issue").await, 2);
    assert_eq!(fixtures::audit_count(pool, "api_key.reveal").await, 1);
    assert_eq!(
        fixtures::audit_count(pool, "provider_request.approve").await,
        1
    );
    assert_eq!(
        fixtures::audit_count(pool, "provider_request.create").await,
        1
    );

    // Nothing holds the secret: database (outbox and audit included),
    // emails, log.
    let stored = database_text(pool).await;
    assert!(
        stored.contains(key.rsplit_once('_').unwrap().0),
        "the prefix is stored"
    );
    assert!(
        !stored.contains(&secret),
        "the database holds the secret in clear"
    );
    for message in smtp.messages() {
        assert!(!message.text().contains(&secret) && !message.html().contains(&secret));
    }
    let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(!logged.contains(&secret), "the log holds the secret");
}

#[actix_web::test]
async fn a_new_link_voids_the_old_one_until_the_key_is_revealed() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    let provider_page = format!("/backoffice/providers/{provider}");
    app.post_form(&format!("{provider_page}/keys"), &provider_page, &[])
        .await;
    let first = path_of(&queued_link(pool, "api_key_reveal", "integration").await);
    let key = key_id(pool, provider, "integration", "unrevealed").await;

    let resent = app
        .post_form(
            &format!("/backoffice/keys/{key}/resend"),
            &provider_page,
            &[],
        )
        .await;
    assert_eq!(resent.status(), 303);
    assert!(
        app.get_html(&provider_page)
            .await
            .contains("previous one no longer works")
    );
    let second = path_of(&queued_link(pool, "api_key_reveal", "integration").await);
    assert_ne!(first, second);

    let contact = new_client();
    let (_, _, old) = reveal(&app, &contact, &first).await;
    assert!(old.contains("no longer works"), "{old}");
    let (status, _, shown) = reveal(&app, &contact, &second).await;
    assert_eq!(status, 200);
    let plaintext = key_on(&shown);
    assert_eq!(whoami(&app, &plaintext).await, 200);

    // Once revealed, no new link: the key must be rolled instead.
    app.post_form(
        &format!("/backoffice/keys/{key}/resend"),
        &provider_page,
        &[],
    )
    .await;
    assert!(
        app.get_html(&provider_page)
            .await
            .contains("only a key awaiting reveal")
    );
    let (links,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM one_time_token WHERE api_key_id = $1")
            .bind(key)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(links, 2);

    // A second pair is refused while keys are in use.
    app.post_form(&format!("{provider_page}/keys"), &provider_page, &[])
        .await;
    assert!(
        app.get_html(&provider_page)
            .await
            .contains("already has a key in use or awaiting reveal in each environment")
    );
    let (keys,): (i64,) = sqlx::query_as("SELECT count(*) FROM api_key WHERE provider_id = $1")
        .bind(provider)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(keys, 2);
}

#[actix_web::test]
async fn a_rolled_key_works_during_its_grace_period_and_not_after() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    let provider_page = format!("/backoffice/providers/{provider}");
    let (old_id, old_key) = fixtures::key(pool, provider, Environment::Integration).await;
    let roll = format!("/backoffice/keys/{old_id}/roll");

    let page = app.get_html(&roll).await;
    assert!(page.contains("24 hours") && page.contains("7 days"));
    let missing = app.post_form(&roll, &roll, &[("grace", "forever")]).await;
    assert_eq!(missing.status(), 422);
    assert_eq!(whoami(&app, &old_key).await, 200, "nothing changed");

    let rolled = app.post_form(&roll, &roll, &[("grace", "24h")]).await;
    assert_eq!(rolled.status(), 303);
    let page = app.get_html(&provider_page).await;
    assert!(page.contains("keeps working until"), "{page}");
    assert!(page.contains("Expiring") && page.contains("Awaiting reveal"));
    assert_eq!(
        whoami(&app, &old_key).await,
        200,
        "works during the grace period"
    );
    assert_eq!(
        fixtures::queued_emails(pool, "api_key_changed", "tech@provider.example")
            .await
            .len(),
        1
    );

    // The new key comes through its link and works alongside.
    let link = path_of(&queued_link(pool, "api_key_reveal", "integration").await);
    let (_, _, shown) = reveal(&app, &new_client(), &link).await;
    let new_key = key_on(&shown);
    assert_eq!(whoami(&app, &new_key).await, 200);

    // A day later the old key has expired.
    sqlx::query("UPDATE api_key SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(old_id)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        whoami(&app, &old_key).await,
        401,
        "refused after the grace period"
    );
    assert_eq!(whoami(&app, &new_key).await, 200);
    assert!(app.get_html(&provider_page).await.contains("Expired"));
    let again = app
        .post_form(&roll, &provider_page, &[("grace", "24h")])
        .await;
    assert_eq!(again.status(), 303, "an expired key cannot be rolled again");
    let (keys,): (i64,) = sqlx::query_as("SELECT count(*) FROM api_key WHERE provider_id = $1")
        .bind(provider)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(keys, 2);

    // Without grace, the old key stops at once.
    let new_id = key_id(pool, provider, "integration", "revealed").await;
    let roll = format!("/backoffice/keys/{new_id}/roll");
    app.post_form(&roll, &roll, &[("grace", "none")]).await;
    assert_eq!(whoami(&app, &new_key).await, 401);
    assert_eq!(fixtures::audit_count(pool, "api_key.roll").await, 2);
}

#[actix_web::test]
async fn a_revoked_key_is_refused_on_its_next_call() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    let (key_id, key) = fixtures::key(pool, provider, Environment::Integration).await;
    assert_eq!(whoami(&app, &key).await, 200);
    let revoke = format!("/backoffice/keys/{key_id}/revoke");
    let confirm = app.get_html(&revoke).await;
    assert!(confirm.contains("cannot be undone"), "a confirmation step");
    assert_eq!(
        whoami(&app, &key).await,
        200,
        "opening the page changes nothing"
    );
    let revoked = app.post_form(&revoke, &revoke, &[]).await;
    assert_eq!(revoked.status(), 303);
    assert_eq!(whoami(&app, &key).await, 401);
    let page = app
        .get_html(&format!("/backoffice/providers/{provider}"))
        .await;
    assert!(page.contains("Revoked") && page.contains("its next API call is refused"));
    assert_eq!(
        fixtures::queued_emails(pool, "api_key_changed", "tech@provider.example").await,
        vec![format!(
            "Your integration API key {} was revoked",
            &key[..24]
        )]
    );
    assert_eq!(fixtures::audit_count(pool, "api_key.revoke").await, 1);
    // A second revocation changes nothing.
    app.post_form(&revoke, &format!("/backoffice/providers/{provider}"), &[])
        .await;
    assert_eq!(fixtures::audit_count(pool, "api_key.revoke").await, 1);
}

#[actix_web::test]
async fn a_revoked_key_is_replaced_alone_and_the_other_keeps_working() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    let page = format!("/backoffice/providers/{provider}");
    let (_, integration) = fixtures::key(pool, provider, Environment::Integration).await;
    let (production_id, _) = fixtures::key(pool, provider, Environment::Production).await;
    let html = app.get_html(&page).await;
    assert!(
        !html.contains("Issue a key pair") && !html.contains("Issue a new"),
        "both keys work: nothing to issue"
    );

    let revoke = format!("/backoffice/keys/{production_id}/revoke");
    app.post_form(&revoke, &revoke, &[]).await;
    let html = app.get_html(&page).await;
    assert!(html.contains("Issue a new production key"), "{html}");
    assert!(!html.contains("Issue a key pair"));

    let issued = app.post_form(&format!("{page}/keys"), &page, &[]).await;
    assert_eq!(issued.status(), 303);
    let html = app.get_html(&page).await;
    assert!(html.contains("A new production key was issued"), "{html}");
    assert!(!html.contains("Issue a new production key"));
    let keys: Vec<(String, bool)> = sqlx::query_as(
        "SELECT environment::text, revealed_at IS NULL AND revoked_at IS NULL
           FROM api_key WHERE provider_id = $1 ORDER BY id",
    )
    .bind(provider)
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        keys,
        [
            ("integration".to_owned(), false),
            ("production".to_owned(), false),
            ("production".to_owned(), true),
        ]
    );
    assert_eq!(whoami(&app, &integration).await, 200, "untouched");
    assert_eq!(
        fixtures::queued_emails(pool, "api_key_reveal", "tech@provider.example")
            .await
            .len(),
        1
    );
}

#[actix_web::test]
async fn a_new_contact_gets_fresh_links_and_the_former_one_cannot_reveal() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    let page = format!("/backoffice/providers/{provider}");
    app.post_form(&format!("{page}/keys"), &page, &[]).await;
    let former = path_of(&queued_link(pool, "api_key_reveal", "integration").await);

    let edited = edit_public_provider(&app, &page, "Ticketis", "new-tech@provider.example").await;
    assert_eq!(edited.status(), 303);
    let html = app.get_html(&page).await;
    assert!(
        html.contains("were sent again to new-tech@provider.example"),
        "{html}"
    );
    assert_eq!(
        fixtures::queued_emails(pool, "api_key_reveal", "new-tech@provider.example")
            .await
            .len(),
        2
    );
    let (_, _, old) = reveal(&app, &new_client(), &former).await;
    assert!(old.contains("no longer works"), "{old}");
    let fresh = path_of(&queued_link(pool, "api_key_reveal", "integration").await);
    let (status, _, shown) = reveal(&app, &new_client(), &fresh).await;
    assert_eq!(status, 200);
    assert_eq!(whoami(&app, &key_on(&shown)).await, 200);
    assert_eq!(fixtures::audit_count(pool, "api_key.resend_link").await, 2);

    // A change that keeps the contact sends nothing.
    edit_public_provider(&app, &page, "Ticketis SA", "new-tech@provider.example").await;
    assert_eq!(fixtures::audit_count(pool, "api_key.resend_link").await, 2);
}

#[actix_web::test]
async fn two_edits_at_once_leave_the_links_with_the_final_contact() {
    let app = support_app().await;
    let pool = &app.db.pool;
    for round in 0..5 {
        let provider = fixtures::provider(pool, &format!("Ticketis {round}"), "public").await;
        let page = format!("/backoffice/providers/{provider}");
        app.post_form(&format!("{page}/keys"), &page, &[]).await;
        let token = csrf_token(&app.get_html(&format!("{page}/edit")).await);
        let edit = |name: String, contact: &'static str| {
            let form = vec![
                ("csrf_token", token.clone()),
                ("name", name),
                ("kind", "public".to_owned()),
                ("contact_email", contact.to_owned()),
                ("offerer_siren", String::new()),
            ];
            app.client
                .post(app.url(&format!("{page}/edit")))
                .form(&form)
                .send()
        };
        let (a, b) = tokio::join!(
            edit(format!("Ticketis {round}"), "new@provider.example"),
            edit(format!("Ticketis {round} SA"), "tech@provider.example"),
        );
        assert_eq!(a.unwrap().status(), 303);
        assert_eq!(b.unwrap().status(), 303);
        let (contact,): (String,) =
            sqlx::query_as("SELECT contact_email FROM provider WHERE id = $1")
                .bind(provider)
                .fetch_one(pool)
                .await
                .unwrap();
        // Each key's one working link went to whoever is the contact now.
        let (live,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM one_time_token t JOIN api_key k ON k.id = t.api_key_id
              WHERE k.provider_id = $1 AND t.used_at IS NULL AND t.voided_at IS NULL",
        )
        .bind(provider)
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(live, 2, "round {round}: one live link per key");
        for environment in ["integration", "production"] {
            let (recipient, body): (String, String) = sqlx::query_as(
                "SELECT recipient, body_text FROM email_outbox
                  WHERE template = 'api_key_reveal' AND subject LIKE '%' || $1 || '%'
                    AND subject LIKE '%Ticketis ' || $2 || '%'
                  ORDER BY id DESC LIMIT 1",
            )
            .bind(environment)
            .bind(round.to_string())
            .fetch_one(pool)
            .await
            .unwrap();
            assert_eq!(recipient, contact, "round {round} {environment}");
            let link = path_of(&link_in(&body));
            let opened = new_client()
                .get(app.url(&link))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                opened.contains("Reveal the key"),
                "round {round} {environment}"
            );
        }
    }
}

#[actix_web::test]
async fn no_link_is_sent_for_a_deactivated_provider() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    let page = format!("/backoffice/providers/{provider}");
    app.post_form(&format!("{page}/keys"), &page, &[]).await;
    let key = key_id(pool, provider, "integration", "unrevealed").await;
    app.post_form(&format!("{page}/deactivate"), &page, &[])
        .await;
    let resent = app
        .post_form(&format!("/backoffice/keys/{key}/resend"), &page, &[])
        .await;
    assert_eq!(resent.status(), 303);
    assert!(
        app.get_html(&page)
            .await
            .contains("reactivate it before sending a link")
    );
    assert_eq!(fixtures::audit_count(pool, "api_key.resend_link").await, 0);

    // A new contact while deactivated: the former contact's links die and
    // none is sent until support re-sends them after reactivation.
    let former = path_of(&queued_link(pool, "api_key_reveal", "integration").await);
    edit_public_provider(&app, &page, "Ticketis", "new-tech@provider.example").await;
    assert!(
        app.get_html(&page)
            .await
            .contains("re-send them once the provider is reactivated")
    );
    let (_, _, old) = reveal(&app, &new_client(), &former).await;
    assert!(old.contains("no longer works"), "{old}");
    assert!(
        fixtures::queued_emails(pool, "api_key_reveal", "new-tech@provider.example")
            .await
            .is_empty()
    );
    assert_eq!(fixtures::audit_count(pool, "api_key.void_links").await, 2);
    app.post_form(&format!("{page}/reactivate"), &page, &[])
        .await;
    app.post_form(&format!("/backoffice/keys/{key}/resend"), &page, &[])
        .await;
    assert_eq!(
        fixtures::queued_emails(pool, "api_key_reveal", "new-tech@provider.example")
            .await
            .len(),
        1
    );
}

#[actix_web::test]
async fn a_deactivated_provider_is_refused_with_403_and_keeps_its_grants() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    let offerer = fixtures::offerer(pool, "Cinéma Le Palace", "732829320").await;
    let (venue, siret) = fixtures::venue(pool, offerer, "Le Palace", 1).await;
    fixtures::grant(pool, provider, venue).await;
    let (_, key) = fixtures::key(pool, provider, Environment::Integration).await;
    let page = format!("/backoffice/providers/{provider}");
    let confirm = app.get_html(&format!("{page}/deactivate")).await;
    assert!(confirm.contains("refused (403)"));
    let done = app
        .post_form(&format!("{page}/deactivate"), &page, &[])
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(whoami(&app, &key).await, 403);
    assert!(
        app.get_html(&page).await.contains("Le Palace"),
        "grants kept"
    );
    app.post_form(&format!("{page}/reactivate"), &page, &[])
        .await;
    let (status, _) = api(&app, &key, &format!("/public/offers/v1/venues/{siret}")).await;
    assert_eq!(status, 200);
    assert_eq!(fixtures::audit_count(pool, "provider.deactivate").await, 1);
    assert_eq!(fixtures::audit_count(pool, "provider.reactivate").await, 1);
}

#[actix_web::test]
async fn providers_are_created_searched_and_edited() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let offerer = fixtures::offerer(pool, "Opéra de Lyon", "732829320").await;
    let new = "/backoffice/providers/new";
    let refused = app
        .post_form(
            "/backoffice/providers",
            new,
            &[
                ("name", "Maison"),
                ("kind", "private"),
                ("contact_email", "nope"),
                ("offerer_siren", ""),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("value=\"Maison\"") && html.contains("value=\"nope\""));
    assert!(html.contains("give its SIREN"));
    let unknown = app
        .post_form(
            "/backoffice/providers",
            new,
            &[
                ("name", "Maison"),
                ("kind", "private"),
                ("contact_email", "dev@opera.example"),
                ("offerer_siren", "552100554"),
            ],
        )
        .await;
    assert_eq!(unknown.status(), 422);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("No offerer has the SIREN")
    );
    let created = app
        .post_form(
            "/backoffice/providers",
            new,
            &[
                ("name", "Équipe Opéra"),
                ("kind", "private"),
                ("contact_email", "Dev@Opera.example"),
                ("offerer_siren", "732 829 320"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let page = location(&created);
    let html = app.get_html(&page).await;
    assert!(html.contains("Équipe Opéra") && html.contains("Opéra de Lyon"));
    assert!(html.contains("dev@opera.example"));
    let (owner,): (Option<i64>,) =
        sqlx::query_as("SELECT offerer_id FROM provider WHERE name = 'Équipe Opéra'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(owner, Some(offerer));

    fixtures::provider(pool, "Ticketis", "public").await;
    let duplicate = app
        .post_form(
            &format!("{page}/edit"),
            &format!("{page}/edit"),
            &[
                ("name", "TICKETIS"),
                ("kind", "private"),
                ("contact_email", "dev@opera.example"),
                ("offerer_siren", "732829320"),
            ],
        )
        .await;
    assert_eq!(duplicate.status(), 422);
    assert!(
        duplicate
            .text()
            .await
            .unwrap()
            .contains("already has this name")
    );
    let edited = app
        .post_form(
            &format!("{page}/edit"),
            &format!("{page}/edit"),
            &[
                ("name", "Équipe numérique Opéra"),
                ("kind", "private"),
                ("contact_email", "it@opera.example"),
                ("offerer_siren", "732829320"),
            ],
        )
        .await;
    assert_eq!(edited.status(), 303);
    let (details,): (Value,) =
        sqlx::query_as("SELECT details FROM audit_event WHERE action = 'provider.update'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        details["changed"],
        serde_json::json!(["name", "contact_email"])
    );

    let all = app.get_html("/backoffice/providers").await;
    assert!(all.contains("Ticketis") && all.contains("Équipe numérique Opéra"));
    let private = app.get_html("/backoffice/providers?kind=private").await;
    assert!(!private.contains("Ticketis") && private.contains("Équipe numérique Opéra"));
    let search = app.get_html("/backoffice/providers?q=ticket").await;
    assert!(search.contains("Ticketis") && !search.contains("Équipe numérique"));
    let none = app.get_html("/backoffice/providers?q=zzz%00").await;
    assert!(none.contains("Nothing matches"), "{none}");
}

#[actix_web::test]
async fn support_gives_private_access_to_chosen_venues_and_withdraws_it() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Équipe Opéra", "private").await;
    let offerer = fixtures::offerer(pool, "Opéra de Lyon", "732829320").await;
    let other = fixtures::offerer(pool, "Autre Société", "055800296").await;
    let (grand, grand_siret) = fixtures::venue(pool, offerer, "Grand Théâtre", 1).await;
    let (_studio, _) = fixtures::venue(pool, offerer, "Studio", 2).await;
    let (foreign, _) = fixtures::venue(pool, other, "Ailleurs", 1).await;
    let (_, key) = fixtures::key(pool, provider, Environment::Integration).await;
    let access = format!("/backoffice/providers/{provider}/access");

    let found = app.get_html(&format!("{access}?q=732829")).await;
    assert!(
        found.contains("Grand Théâtre") && found.contains("Studio"),
        "one match opens it"
    );
    // A venue of another offerer slipped into the form is ignored.
    let granted = app
        .post_form(
            &access,
            &format!("{access}?offerer={offerer}"),
            &[
                ("offerer_id", &offerer.to_string()),
                ("venue_id", &grand.to_string()),
                ("venue_id", &foreign.to_string()),
            ],
        )
        .await;
    assert_eq!(granted.status(), 303);
    let page = app
        .get_html(&format!("/backoffice/providers/{provider}"))
        .await;
    assert!(page.contains("Opéra de Lyon") && page.contains("Grand Théâtre"));
    assert!(page.contains("By support"));
    assert!(!page.contains("Ailleurs"));
    let (channel,): (String,) = sqlx::query_as(
        "SELECT channel::text FROM venue_access_grant WHERE provider_id = $1 AND venue_id = $2",
    )
    .bind(provider)
    .bind(grand)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(channel, "backoffice");
    assert_eq!(fixtures::active_grants(pool, provider, foreign).await, 0);
    let (status, venues) = api(&app, &key, "/public/offers/v1/offerer_venues").await;
    assert_eq!(status, 200);
    assert_eq!(venues.as_array().unwrap().len(), 1, "{venues}");
    assert_eq!(
        fixtures::queued_emails(pool, "provider_access_granted", "tech@provider.example")
            .await
            .len(),
        1
    );

    let nothing = app
        .post_form(
            &access,
            &format!("{access}?offerer={offerer}"),
            &[("offerer_id", &offerer.to_string())],
        )
        .await;
    assert_eq!(nothing.status(), 422);

    let (grant_id,): (i64,) = sqlx::query_as(
        "SELECT id FROM venue_access_grant WHERE provider_id = $1 AND revoked_at IS NULL",
    )
    .bind(provider)
    .fetch_one(pool)
    .await
    .unwrap();
    let withdraw = format!("/backoffice/grants/{grant_id}/withdraw");
    assert!(app.get_html(&withdraw).await.contains("Withdraw access"));
    let done = app.post_form(&withdraw, &withdraw, &[]).await;
    assert_eq!(done.status(), 303);
    let (status, _) = api(
        &app,
        &key,
        &format!("/public/offers/v1/venues/{grand_siret}"),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(fixtures::audit_count(pool, "venue_access.grant").await, 1);
    assert_eq!(fixtures::audit_count(pool, "venue_access.revoke").await, 1);
    // A public provider can be given access by support too.
    let public = fixtures::provider(pool, "Ticketis", "public").await;
    let to_public = format!("/backoffice/providers/{public}/access");
    let ok = app
        .post_form(
            &to_public,
            &to_public,
            &[
                ("offerer_id", &offerer.to_string()),
                ("venue_id", &grand.to_string()),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
    assert_eq!(fixtures::active_grants(pool, public, grand).await, 1);
}

#[actix_web::test]
async fn two_approvals_at_once_make_one_provider_and_the_second_is_told() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO provider_account_request (company_name, siren, contact_email, kind, description)
         VALUES ('Billetel', '552100554', 'tech@billetel.example', 'public', 'Ticketing for cinemas') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let page = format!("/backoffice/requests/{id}");
    let token = csrf_token(&app.get_html(&page).await);
    let approve = || {
        app.client
            .post(app.url(&format!("{page}/approve")))
            .form(&[
                ("csrf_token", token.as_str()),
                ("name", "Billetel"),
                ("kind", "public"),
                ("contact_email", "tech@billetel.example"),
                ("offerer_siren", ""),
            ])
            .send()
    };
    let (first, second) = tokio::join!(approve(), approve());
    assert_eq!(first.unwrap().status(), 303);
    assert_eq!(second.unwrap().status(), 303);
    let (providers,): (i64,) = sqlx::query_as("SELECT count(*) FROM provider")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(providers, 1);
    assert_eq!(
        fixtures::audit_count(pool, "provider_request.approve").await,
        1
    );
}

#[actix_web::test]
async fn a_rejected_request_tells_the_requester_why() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO provider_account_request (company_name, siren, contact_email, kind, description)
         VALUES ('Spam SARL', '552100554', 'x@spam.example', 'public', 'we sell things') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let page = format!("/backoffice/requests/{id}");
    let empty = app
        .post_form(&format!("{page}/reject"), &page, &[("reason", "  ")])
        .await;
    assert_eq!(empty.status(), 422);
    let rejected = app
        .post_form(
            &format!("{page}/reject"),
            &page,
            &[("reason", "Your software does not handle culture offers.")],
        )
        .await;
    assert_eq!(rejected.status(), 303);
    let (body,): (String,) = sqlx::query_as(
        "SELECT body_text FROM email_outbox WHERE template = 'provider_request_rejected' AND recipient = 'x@spam.example'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(body.contains("does not handle culture offers"));
    assert!(app.get_html(&page).await.contains("Rejected"));
    assert!(
        app.get_html("/backoffice/requests?status=rejected")
            .await
            .contains("Spam SARL")
    );
    assert!(
        !app.get_html("/backoffice/requests")
            .await
            .contains("Spam SARL")
    );
    assert_eq!(
        fixtures::audit_count(pool, "provider_request.reject").await,
        1
    );
}

#[actix_web::test]
async fn the_request_form_is_rate_limited_per_address_and_ignores_robots() {
    let app = TestApp::spawn().await;
    let pool = &app.db.pool;
    let form = app.get_html("/provider-account-request").await;
    let token = csrf_token(&form);
    let send = |company: &'static str, website: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            app.client
                .post(app.url("/provider-account-request"))
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("company_name", company),
                    ("siren", "552100554"),
                    ("contact_email", "tech@example.org"),
                    ("kind", "public"),
                    ("description", "Ticketing software for venues of all sizes."),
                    ("website", website),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(send("Robot", "http://spam.example").await, 303);
    for company in ["One", "Two", "Three"] {
        assert_eq!(send(company, "").await, 303);
    }
    assert_eq!(send("Four", "").await, 429);
    let (stored,): (i64,) = sqlx::query_as("SELECT count(*) FROM provider_account_request")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(stored, 3, "the robot's request and the fourth are not kept");
    let no_token = app
        .client
        .post(app.url("/provider-account-request"))
        .form(&[("company_name", "X")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403);
}

/// Every back-office route, with an id that exists where there is one.
fn routes(provider: i64, key: i64, grant: i64, request: i64) -> Vec<(Method, String)> {
    let get = |p: String| (Method::GET, p);
    let post = |p: String| (Method::POST, p);
    vec![
        get("/backoffice".into()),
        get("/backoffice/providers".into()),
        get("/backoffice/providers/new".into()),
        post("/backoffice/providers".into()),
        get(format!("/backoffice/providers/{provider}")),
        get(format!("/backoffice/providers/{provider}/edit")),
        post(format!("/backoffice/providers/{provider}/edit")),
        get(format!("/backoffice/providers/{provider}/deactivate")),
        post(format!("/backoffice/providers/{provider}/deactivate")),
        post(format!("/backoffice/providers/{provider}/reactivate")),
        post(format!("/backoffice/providers/{provider}/keys")),
        get(format!("/backoffice/providers/{provider}/access")),
        post(format!("/backoffice/providers/{provider}/access")),
        post(format!("/backoffice/keys/{key}/resend")),
        get(format!("/backoffice/keys/{key}/roll")),
        post(format!("/backoffice/keys/{key}/roll")),
        get(format!("/backoffice/keys/{key}/revoke")),
        post(format!("/backoffice/keys/{key}/revoke")),
        get(format!("/backoffice/grants/{grant}/withdraw")),
        post(format!("/backoffice/grants/{grant}/withdraw")),
        get("/backoffice/requests".into()),
        get(format!("/backoffice/requests/{request}")),
        post(format!("/backoffice/requests/{request}/approve")),
        post(format!("/backoffice/requests/{request}/reject")),
        get("/backoffice/no-such-page".into()),
        get("/backoffice/providers/not-a-number".into()),
    ]
}

#[actix_web::test]
async fn every_backoffice_route_is_not_found_for_anyone_but_support() {
    let app = TestApp::spawn().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    let offerer = fixtures::offerer(pool, "Cinéma Le Palace", "732829320").await;
    let (venue, _) = fixtures::venue(pool, offerer, "Le Palace", 1).await;
    let grant = fixtures::grant(pool, provider, venue).await;
    let (key, plaintext) = fixtures::key(pool, provider, Environment::Integration).await;
    let (request,): (i64,) = sqlx::query_as(
        "INSERT INTO provider_account_request (company_name, siren, contact_email, kind, description)
         VALUES ('Billetel', '552100554', 'x@billetel.example', 'public', 'Ticketing software') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let pro = app.create_user("pro@example.org", PASSWORD, "pro").await;
    fixtures::member(pool, pro, offerer).await;
    app.sign_in("pro@example.org", PASSWORD).await;
    // A valid token of the pro user's session: refusals are not CSRF ones.
    let pro_token = csrf_token(&app.get_html("/pro").await);
    let anonymous = new_client();
    let anonymous_token = csrf_token(
        &anonymous
            .get(app.url("/sign-in"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let fields = |token: &str| {
        vec![
            ("csrf_token", token.to_owned()),
            ("name", "Hijack".to_owned()),
            ("kind", "public".to_owned()),
            ("contact_email", "evil@example.org".to_owned()),
            ("grace", "none".to_owned()),
            ("reason", "because".to_owned()),
            ("offerer_id", offerer.to_string()),
            ("venue_id", venue.to_string()),
        ]
    };
    for (client, token, who) in [
        (&app.client, pro_token.as_str(), "a pro user"),
        (&anonymous, anonymous_token.as_str(), "a visitor"),
    ] {
        for (method, path) in routes(provider, key, grant, request) {
            let mut builder = client.request(method.clone(), app.url(&path));
            if method == Method::POST {
                builder = builder.form(&fields(token));
            }
            let response = builder.send().await.unwrap();
            assert_eq!(response.status(), 404, "{method} {path} for {who}");
            let html = response.text().await.unwrap();
            assert!(html.contains("Page not found"), "{method} {path}");
        }
    }
    // Nothing changed.
    assert_eq!(whoami(&app, &plaintext).await, 200);
    assert_eq!(fixtures::active_grants(pool, provider, venue).await, 1);
    let (events,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM audit_event WHERE action NOT LIKE 'auth.%' AND action NOT LIKE 'user.%'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(events, 0);
}

#[actix_web::test]
async fn support_forms_without_a_valid_token_are_refused() {
    let app = support_app().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    let (key, plaintext) = fixtures::key(pool, provider, Environment::Integration).await;
    for path in [
        format!("/backoffice/keys/{key}/revoke"),
        format!("/backoffice/providers/{provider}/deactivate"),
        format!("/backoffice/providers/{provider}/keys"),
    ] {
        for token in ["", "forged"] {
            let response = app
                .client
                .post(app.url(&path))
                .form(&[("csrf_token", token)])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "POST {path} with token {token:?}");
        }
    }
    assert_eq!(whoami(&app, &plaintext).await, 200);
}

#[actix_web::test]
async fn back_office_pages_render_with_helpful_empty_states() {
    let app = support_app().await;
    let home = app.get_html("/backoffice").await;
    assert!(home.contains("provider account requests to review"));
    assert!(
        app.get_html("/backoffice/providers")
            .await
            .contains("No provider yet")
    );
    assert!(
        app.get_html("/backoffice/requests")
            .await
            .contains("No request to review")
    );
    let provider = fixtures::provider(&app.db.pool, "Ticketis", "public").await;
    let page = app
        .get_html(&format!("/backoffice/providers/{provider}"))
        .await;
    assert!(page.contains("Issue a key pair") && page.contains("No key yet"));
    assert!(page.contains("cannot act on any venue yet"));
    assert_eq!(app.get("/backoffice/providers/999999").await.status(), 404);
    assert_eq!(app.get("/backoffice/keys/999999/roll").await.status(), 404);
    assert_eq!(app.get("/backoffice/requests/999999").await.status(), 404);
    assert_eq!(
        app.get("/backoffice/grants/999999/withdraw").await.status(),
        404
    );
    let unknown_link = app.get_html("/api-keys/reveal/nonsense").await;
    assert!(unknown_link.contains("no longer works"));
}
