//! The back-office's offerers and venues: search, creation, validation,
//! deactivation, venues, members; the 404 rule and CSRF on every route.

use venue_access::domain::{Siren, siret_from_siren_and_nic_prefix};

use crate::fixtures;
use crate::helpers::{PASSWORD, TestApp, csrf_token, location, new_client};
use crate::smtp::SmtpServer;

const AGENT: &str = "agent@example.org";
const THEATRE_SIREN: &str = "732829320";
const OTHER_SIREN: &str = "055800296";

/// A signed-in support agent, an offerer with a venue, and a provider with access.
struct World {
    app: TestApp,
    theatre: i64,
    venue: i64,
    provider: i64,
}

impl World {
    async fn new() -> Self {
        Self::with(TestApp::spawn().await).await
    }

    async fn with(app: TestApp) -> Self {
        let pool = &app.db.pool;
        let theatre = fixtures::offerer(pool, "Théâtre des Célestins", THEATRE_SIREN).await;
        let (venue, _) = fixtures::venue(pool, theatre, "Grande salle", 1).await;
        let provider = fixtures::provider(pool, "Billetterie Ticketis", "public").await;
        fixtures::grant(pool, provider, venue).await;
        app.create_user(AGENT, PASSWORD, "support").await;
        assert_eq!(app.sign_in(AGENT, PASSWORD).await.status(), 303);
        Self {
            app,
            theatre,
            venue,
            provider,
        }
    }

    fn offerer_path(&self) -> String {
        format!("/backoffice/offerers/{}", self.theatre)
    }

    async fn new_offerer(&self, name: &str, siren: &str) -> i64 {
        let (id,): (i64,) =
            sqlx::query_as("INSERT INTO offerer (name, siren) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(siren)
                .fetch_one(&self.app.db.pool)
                .await
                .unwrap();
        id
    }

    async fn offerer_state(&self, id: i64) -> (String, bool) {
        sqlx::query_as("SELECT status::text, is_active FROM offerer WHERE id = $1")
            .bind(id)
            .fetch_one(&self.app.db.pool)
            .await
            .unwrap()
    }

    /// `(action, details)` of the audit events on this offerer, oldest first.
    async fn audit_of(&self, offerer: i64) -> Vec<(String, serde_json::Value)> {
        sqlx::query_as("SELECT action, details FROM audit_event WHERE offerer_id = $1 ORDER BY id")
            .bind(offerer)
            .fetch_all(&self.app.db.pool)
            .await
            .unwrap()
    }

    /// Follow a redirect and return the page (with its flash message).
    async fn follow(&self, response: reqwest::Response) -> String {
        assert_eq!(response.status(), 303);
        self.app.get_html(&location(&response)).await
    }
}

fn siret(siren: &str, nic: u32) -> String {
    siret_from_siren_and_nic_prefix(&Siren::parse(siren).unwrap(), nic)
        .as_str()
        .to_owned()
}

/// The same SIRET with its last digit changed: the check digit no longer matches.
fn bad_luhn(siret: &str) -> String {
    let (head, last) = siret.split_at(13);
    let digit = (last.parse::<u8>().unwrap() + 1) % 10;
    format!("{head}{digit}")
}

fn venue_fields<'a>(name: &'a str, siret: &'a str, comment: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("public_name", ""),
        ("siret", siret),
        ("siret_comment", comment),
        ("address", "1 place des Célestins"),
        ("postal_code", "69002"),
        ("city", "Lyon"),
        ("activity_domain", "PERFORMING_ARTS"),
    ]
}

/// Every GET page and POST form this part of the back-office adds.
fn routes(w: &World, email_id: i64) -> Vec<(&'static str, String)> {
    let o = w.theatre;
    let v = w.venue;
    vec![
        ("GET", "/backoffice/offerers".into()),
        ("GET", "/backoffice/offerers?q=th&status=validated".into()),
        ("GET", "/backoffice/offerers/new".into()),
        ("GET", format!("/backoffice/offerers/{o}")),
        ("GET", format!("/backoffice/offerers/{o}/deactivate")),
        ("GET", format!("/backoffice/offerers/{o}/venues/new")),
        ("GET", format!("/backoffice/venues/{v}/edit")),
        ("GET", "/backoffice/audit".into()),
        (
            "GET",
            "/backoffice/audit?action=offerer.&from=2026-01-01".into(),
        ),
        ("GET", "/backoffice/emails".into()),
        ("POST", "/backoffice/offerers".into()),
        ("POST", format!("/backoffice/offerers/{o}/validate")),
        ("POST", format!("/backoffice/offerers/{o}/reject")),
        ("POST", format!("/backoffice/offerers/{o}/deactivate")),
        ("POST", format!("/backoffice/offerers/{o}/reactivate")),
        ("POST", format!("/backoffice/offerers/{o}/members")),
        ("POST", format!("/backoffice/offerers/{o}/venues")),
        ("POST", format!("/backoffice/venues/{v}")),
        ("POST", format!("/backoffice/emails/{email_id}/retry")),
        ("POST", "/backoffice/emails/retry-all".into()),
    ]
}

/// A failed email in the outbox; returns its id.
pub async fn failed_email(app: &TestApp, recipient: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO email_outbox (template, recipient, subject, body_text, body_html, status,
                                   attempts, last_error)
         VALUES ('password_reset', $1, 'Reset your password', 'text', '<p>html</p>', 'failed', 3,
                 'connection refused')
         RETURNING id",
    )
    .bind(recipient)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    id
}

/// Plausible fields for any of the POST routes, so a refusal cannot come
/// from the form itself.
const ANY_FIELDS: &[(&str, &str)] = &[
    ("name", "Nouvelle Société"),
    ("siren", OTHER_SIREN),
    ("reason", "duplicate"),
    ("email", "someone@example.org"),
    ("siret_comment", "itinerant"),
    ("address", "1 rue A"),
    ("postal_code", "69001"),
    ("city", "Lyon"),
    ("activity_domain", "OTHER"),
];

#[actix_web::test]
async fn backoffice_offerer_pages_render_for_support() {
    let w = World::new().await;
    let email_id = failed_email(&w.app, "someone@example.org").await;
    for (method, path) in routes(&w, email_id) {
        if method == "GET" {
            let html = w.app.get_html(&path).await;
            assert!(html.contains("Back-office sections"), "{path}");
        }
    }
    let page = w.app.get_html(&w.offerer_path()).await;
    assert!(page.contains("Théâtre des Célestins") && page.contains(THEATRE_SIREN));
    assert!(page.contains("Grande salle"), "its venue is listed");
    assert!(
        page.contains(&format!("/backoffice/providers/{}", w.provider))
            && page.contains("Billetterie Ticketis")
            && page.contains("operator command"),
        "the provider with access, linked, with how it was granted: {page}"
    );
    assert!(page.contains(&format!("/backoffice/offerers/{}/venues/new", w.theatre)));
    assert!(page.contains(&format!("/backoffice/audit?offerer={}", w.theatre)));
}

#[actix_web::test]
async fn backoffice_offerer_routes_answer_404_to_pro_users_and_visitors() {
    let w = World::new().await;
    let pro = w.app.create_user("pro@example.org", PASSWORD, "pro").await;
    fixtures::member(&w.app.db.pool, pro, w.theatre).await;
    let email_id = failed_email(&w.app, "someone@example.org").await;

    let visitor = new_client();
    let pro_client = new_client();
    assert_eq!(
        w.app
            .sign_in_with(&pro_client, "pro@example.org", PASSWORD)
            .await
            .status(),
        303
    );
    let audit_before = audit_total(&w).await;
    for (who, client, token_page) in [
        ("visitor", &visitor, "/sign-in"),
        ("pro user", &pro_client, "/pro"),
    ] {
        let html = client
            .get(w.app.url(token_page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = csrf_token(&html);
        for (method, path) in routes(&w, email_id) {
            let response = if method == "GET" {
                client.get(w.app.url(&path)).send().await.unwrap()
            } else {
                let mut form = vec![("csrf_token", token.as_str())];
                form.extend_from_slice(ANY_FIELDS);
                client
                    .post(w.app.url(&path))
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
            };
            assert_eq!(response.status(), 404, "{who}: {method} {path}");
        }
    }
    assert_eq!(audit_total(&w).await, audit_before, "nothing was changed");
    assert_eq!(w.offerer_state(w.theatre).await, ("validated".into(), true));
}

async fn audit_total(w: &World) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_event")
        .fetch_one(&w.app.db.pool)
        .await
        .unwrap();
    n
}

#[actix_web::test]
async fn backoffice_offerer_forms_without_csrf_token_are_refused() {
    let w = World::new().await;
    let email_id = failed_email(&w.app, "someone@example.org").await;
    let before = audit_total(&w).await;
    for (method, path) in routes(&w, email_id) {
        if method == "POST" {
            let response = w
                .app
                .client
                .post(w.app.url(&path))
                .form(ANY_FIELDS)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "POST {path} without token");
        }
    }
    assert_eq!(audit_total(&w).await, before);
}

#[actix_web::test]
async fn backoffice_unknown_offerers_venues_and_odd_ids_are_404() {
    let w = World::new().await;
    for path in [
        "/backoffice/offerers/999999",
        "/backoffice/offerers/999999/deactivate",
        "/backoffice/offerers/999999/venues/new",
        "/backoffice/offerers/abc",
        "/backoffice/venues/999999/edit",
        "/backoffice/venues/x/edit",
    ] {
        assert_eq!(w.app.get(path).await.status(), 404, "{path}");
    }
    for path in [
        "/backoffice/offerers/999999/validate",
        "/backoffice/offerers/999999/members",
        "/backoffice/offerers/999999/venues",
        "/backoffice/venues/999999",
    ] {
        let response = w
            .app
            .post_form(path, "/backoffice/offerers", ANY_FIELDS)
            .await;
        assert_eq!(response.status(), 404, "POST {path}");
    }
}

#[actix_web::test]
async fn backoffice_offerer_search_by_name_siren_and_status() {
    let w = World::new().await;
    let other = w.new_offerer("Cinéma Lumière", OTHER_SIREN).await;
    let list = w.app.get_html("/backoffice/offerers").await;
    assert!(list.contains("Théâtre des Célestins") && list.contains("Cinéma Lumière"));

    let by_name = w.app.get_html("/backoffice/offerers?q=LUMI").await;
    assert!(by_name.contains("Cinéma Lumière") && !by_name.contains("Célestins"));
    let by_siren = w.app.get_html("/backoffice/offerers?q=732%20829").await;
    assert!(by_siren.contains("Célestins") && !by_siren.contains("Lumière"));
    let awaiting = w.app.get_html("/backoffice/offerers?status=new").await;
    assert!(awaiting.contains("Lumière") && !awaiting.contains("Célestins"));
    assert!(awaiting.contains("awaiting validation"));
    let none = w
        .app
        .get_html("/backoffice/offerers?q=nothing-like-this")
        .await;
    assert!(none.contains("No offerer matches this search."), "{none}");
    let inactive = w.app.get_html("/backoffice/offerers?status=inactive").await;
    assert!(!inactive.contains("Lumière"));
    sqlx::query("UPDATE offerer SET is_active = false WHERE id = $1")
        .bind(other)
        .execute(&w.app.db.pool)
        .await
        .unwrap();
    let inactive = w.app.get_html("/backoffice/offerers?status=inactive").await;
    assert!(inactive.contains("Lumière"));
    for odd in [
        "/backoffice/offerers?q=%00",
        "/backoffice/offerers?q=50%25_off%5C",
        "/backoffice/offerers?status=bogus&page=-3",
        "/backoffice/offerers?page=99999999999",
    ] {
        assert_eq!(w.app.get(odd).await.status(), 200, "{odd}");
    }
}

#[actix_web::test]
async fn backoffice_creates_an_offerer_checking_its_siren() {
    let w = World::new().await;
    let new = "/backoffice/offerers/new";
    let bad = w
        .app
        .post_form(
            "/backoffice/offerers",
            new,
            &[("name", "Cinéma Lumière"), ("siren", "055800297")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(html.contains("value=\"Cinéma Lumière\"") && html.contains("value=\"055800297\""));
    assert!(html.contains("check digit"), "{html}");

    let duplicate = w
        .app
        .post_form(
            "/backoffice/offerers",
            new,
            &[("name", "Autre nom"), ("siren", "732 829 320")],
        )
        .await;
    assert_eq!(duplicate.status(), 422);
    let html = duplicate.text().await.unwrap();
    assert!(html.contains("already exists"));
    assert!(
        html.contains(&format!("href=\"/backoffice/offerers/{}\"", w.theatre)),
        "a link to the existing offerer: {html}"
    );

    let created = w
        .app
        .post_form(
            "/backoffice/offerers",
            new,
            &[("name", " Cinéma Lumière "), ("siren", "055 800 296")],
        )
        .await;
    assert_eq!(created.status(), 303);
    let path = location(&created);
    let (id, name, status): (i64, String, String) =
        sqlx::query_as("SELECT id, name, status::text FROM offerer WHERE siren = '055800296'")
            .fetch_one(&w.app.db.pool)
            .await
            .unwrap();
    assert_eq!(path, format!("/backoffice/offerers/{id}"));
    assert_eq!((name.as_str(), status.as_str()), ("Cinéma Lumière", "new"));
    let page = w.app.get_html(&path).await;
    assert!(page.contains("is created") && page.contains("awaiting validation"));
    let audit = w.audit_of(id).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "offerer.create");
    assert_eq!(audit[0].1["siren"], "055800296");
    let (actor,): (String,) =
        sqlx::query_as("SELECT actor_label FROM audit_event WHERE action = 'offerer.create'")
            .fetch_one(&w.app.db.pool)
            .await
            .unwrap();
    assert_eq!(actor, AGENT);
}

#[actix_web::test]
async fn backoffice_validates_rejects_deactivates_and_reactivates_offerers() {
    let w = World::new().await;
    let pending = w.new_offerer("Cinéma Lumière", OTHER_SIREN).await;
    let page = format!("/backoffice/offerers/{pending}");
    assert!(w.app.get_html(&page).await.contains("Validate"));

    let validated = w
        .app
        .post_form(&format!("{page}/validate"), &page, &[])
        .await;
    assert!(w.follow(validated).await.contains("is validated"));
    assert_eq!(w.offerer_state(pending).await, ("validated".into(), true));
    let again = w
        .app
        .post_form(&format!("{page}/validate"), &page, &[])
        .await;
    assert!(w.follow(again).await.contains("already validated"));
    let reject_late = w
        .app
        .post_form(&format!("{page}/reject"), &page, &[("reason", "")])
        .await;
    assert!(
        w.follow(reject_late).await.contains("already validated"),
        "a decided offerer is not asked for a reason"
    );

    // Rejection needs a reason.
    let other = w.new_offerer("Société Fantôme", "552100554").await;
    let other_page = format!("/backoffice/offerers/{other}");
    let no_reason = w
        .app
        .post_form(
            &format!("{other_page}/reject"),
            &other_page,
            &[("reason", "  ")],
        )
        .await;
    assert_eq!(no_reason.status(), 422);
    assert!(
        no_reason
            .text()
            .await
            .unwrap()
            .contains("The reason is required")
    );
    assert_eq!(w.offerer_state(other).await.0, "new");
    let rejected = w
        .app
        .post_form(
            &format!("{other_page}/reject"),
            &other_page,
            &[("reason", "Not a cultural business")],
        )
        .await;
    let html = w.follow(rejected).await;
    assert!(html.contains("is rejected") && html.contains("Not a cultural business"));
    assert_eq!(w.offerer_state(other).await.0, "rejected");

    // Deactivation goes through a confirmation page.
    let confirm = w.app.get_html(&format!("{page}/deactivate")).await;
    assert!(confirm.contains("Deactivate Cinéma Lumière"));
    let deactivated = w
        .app
        .post_form(&format!("{page}/deactivate"), &page, &[])
        .await;
    assert!(w.follow(deactivated).await.contains("is deactivated"));
    assert_eq!(w.offerer_state(pending).await, ("validated".into(), false));
    let twice = w
        .app
        .post_form(&format!("{page}/deactivate"), &page, &[])
        .await;
    assert!(w.follow(twice).await.contains("already deactivated"));
    let confirm_again = w.app.get(&format!("{page}/deactivate")).await;
    assert_eq!(confirm_again.status(), 303, "nothing to confirm any more");
    let reactivated = w
        .app
        .post_form(&format!("{page}/reactivate"), &page, &[])
        .await;
    assert!(w.follow(reactivated).await.contains("is active again"));
    assert_eq!(w.offerer_state(pending).await, ("validated".into(), true));
    let twice = w
        .app
        .post_form(&format!("{page}/reactivate"), &page, &[])
        .await;
    assert!(w.follow(twice).await.contains("already active"));

    let actions: Vec<String> = w.audit_of(pending).await.into_iter().map(|a| a.0).collect();
    assert_eq!(
        actions,
        [
            "offerer.validate",
            "offerer.deactivate",
            "offerer.reactivate"
        ],
        "one event per real change, none for repeats"
    );
    let rejections = w.audit_of(other).await;
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].0, "offerer.reject");
    assert_eq!(rejections[0].1["reason"], "Not a cultural business");
}

#[actix_web::test]
async fn backoffice_creates_and_edits_venues() {
    let w = World::new().await;
    let form = format!("/backoffice/offerers/{}/venues/new", w.theatre);
    let create = format!("/backoffice/offerers/{}/venues", w.theatre);
    let pool = &w.app.db.pool;

    let foreign = siret(OTHER_SIREN, 1);
    let response = w
        .app
        .post_form(&create, &form, &venue_fields("Salle B", &foreign, ""))
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("must start with its SIREN 732829320"),
        "another SIREN's SIRET: {html}"
    );
    assert!(html.contains(&format!("value=\"{foreign}\"")), "input kept");

    let luhn = bad_luhn(&siret(THEATRE_SIREN, 7));
    let response = w
        .app
        .post_form(&create, &form, &venue_fields("Salle B", &luhn, ""))
        .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("check digit"));

    let response = w
        .app
        .post_form(&create, &form, &venue_fields("Salle B", "", " "))
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Without a SIRET, explain why")
    );

    let (taken,): (String,) = sqlx::query_as("SELECT siret FROM venue WHERE id = $1")
        .bind(w.venue)
        .fetch_one(pool)
        .await
        .unwrap();
    let response = w
        .app
        .post_form(&create, &form, &venue_fields("Salle B", &taken, ""))
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("already exists"));
    assert!(html.contains(&format!("/backoffice/venues/{}/edit", w.venue)));

    let mut bad_fields = venue_fields("", "", "");
    bad_fields.retain(|(k, _)| *k != "postal_code" && *k != "activity_domain");
    bad_fields.push(("postal_code", "6900"));
    bad_fields.push(("activity_domain", "NOT_A_DOMAIN"));
    let response = w.app.post_form(&create, &form, &bad_fields).await;
    assert_eq!(
        response.status(),
        422,
        "bad fields are field errors, not a 500"
    );

    let good = siret(THEATRE_SIREN, 7);
    let response = w
        .app
        .post_form(&create, &form, &venue_fields("Salle B", &good, ""))
        .await;
    assert!(w.follow(response).await.contains("Salle B"));
    let response = w
        .app
        .post_form(
            &create,
            &form,
            &venue_fields("Chapiteau", "", "Itinerant venue, no establishment"),
        )
        .await;
    let page = w.follow(response).await;
    assert!(
        page.contains("no SIRET: Itinerant venue, no establishment"),
        "{page}"
    );
    let (salle_b,): (i64,) = sqlx::query_as("SELECT id FROM venue WHERE siret = $1")
        .bind(&good)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(fixtures::audit_count(pool, "venue.create").await, 2);

    // Edit: rename and deactivate.
    let edit = format!("/backoffice/venues/{salle_b}/edit");
    let edit_page = w.app.get_html(&edit).await;
    assert!(edit_page.contains("value=\"Salle B\"") && edit_page.contains("checked"));
    let save = format!("/backoffice/venues/{salle_b}");
    let unchanged = w
        .app
        .post_form(
            &save,
            &edit,
            &[
                venue_fields("Salle B", &good, ""),
                vec![("is_active", "on")],
            ]
            .concat(),
        )
        .await;
    assert!(w.follow(unchanged).await.contains("Nothing changed"));
    let wrong = w
        .app
        .post_form(&save, &edit, &venue_fields("Salle B", &foreign, ""))
        .await;
    assert_eq!(wrong.status(), 422);
    let renamed = w
        .app
        .post_form(&save, &edit, &venue_fields("Salle Bleue", &good, ""))
        .await;
    assert!(w.follow(renamed).await.contains("Salle Bleue"));
    let (name, active): (String, bool) =
        sqlx::query_as("SELECT name, is_active FROM venue WHERE id = $1")
            .bind(salle_b)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((name.as_str(), active), ("Salle Bleue", false));
    let (details,): (serde_json::Value,) = sqlx::query_as(
        "SELECT details FROM audit_event WHERE action = 'venue.update' AND venue_id = $1",
    )
    .bind(salle_b)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(details["changed"], serde_json::json!(["name", "is_active"]));
}

#[actix_web::test]
async fn backoffice_adds_an_existing_pro_user_and_refuses_support_addresses() {
    let w = World::new().await;
    let pool = &w.app.db.pool;
    let julien = w
        .app
        .create_user("julien@example.org", PASSWORD, "pro")
        .await;
    let page = w.offerer_path();
    let members = format!("{page}/members");

    let support = w.app.post_form(&members, &page, &[("email", AGENT)]).await;
    assert_eq!(support.status(), 422);
    assert!(support.text().await.unwrap().contains("support account"));
    let bad = w
        .app
        .post_form(&members, &page, &[("email", "not an email")])
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("value=\"not an email\""));

    let added = w
        .app
        .post_form(&members, &page, &[("email", "Julien@Example.org")])
        .await;
    let html = w.follow(added).await;
    assert!(
        html.contains("already had an account and is now a member"),
        "{html}"
    );
    let (n,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM membership WHERE user_id = $1 AND offerer_id = $2")
            .bind(julien)
            .bind(w.theatre)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(n, 1);
    let again = w
        .app
        .post_form(&members, &page, &[("email", "julien@example.org")])
        .await;
    assert!(w.follow(again).await.contains("already a member"));
    assert_eq!(fixtures::audit_count(pool, "membership.add").await, 1);
    assert_eq!(fixtures::audit_count(pool, "membership.invite").await, 0);
    let (emails,): (i64,) = sqlx::query_as("SELECT count(*) FROM email_outbox")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(emails, 0, "an existing account gets no link");
}

#[actix_web::test]
async fn backoffice_invites_a_new_member_who_joins_through_the_emailed_link() {
    let smtp = SmtpServer::start().await;
    let transport = smtp.transport();
    let app = TestApp::spawn_with(|s| {
        s.run_mail_worker = true;
        s.mail.transport = transport;
    })
    .await;
    let w = World::with(app).await;
    let page = w.offerer_path();
    let invited = w
        .app
        .post_form(
            &format!("{page}/members"),
            &page,
            &[("email", "nouvelle@example.org")],
        )
        .await;
    let html = w.follow(invited).await;
    assert!(
        html.contains("is invited") && html.contains("Invitation pending"),
        "{html}"
    );
    assert_eq!(
        fixtures::audit_count(&w.app.db.pool, "membership.invite").await,
        1
    );

    let messages = smtp.wait_for_messages(1).await;
    assert_eq!(messages[0].rcpt_tos, ["nouvelle@example.org"]);
    let text = messages[0].text();
    assert!(text.contains("Théâtre des Célestins"));
    let start = text.find("/invitations/").expect("an invitation link");
    let path = text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(['.', ')', '>'])
        .to_owned();
    let invitee = new_client();
    let form = invitee
        .get(w.app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_token(&form);
    let joined = invitee
        .post(w.app.url(&path))
        .form(&[
            ("csrf_token", token.as_str()),
            ("display_name", "Nina Nouvelle"),
            ("password", PASSWORD),
            ("password_confirmation", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 303);
    let signed_in = w
        .app
        .sign_in_with(&invitee, "nouvelle@example.org", PASSWORD)
        .await;
    assert_eq!(location(&signed_in), "/pro");
    let home = invitee
        .get(w.app.url("/pro"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Théâtre des Célestins"));
    let page = w.app.get_html(&w.offerer_path()).await;
    assert!(page.contains("Nina Nouvelle"));
}

/// `(path, page holding the form, fields)`.
type FormPost = (String, String, Vec<(&'static str, &'static str)>);

#[actix_web::test]
async fn backoffice_forms_refuse_control_characters_blank_names_and_line_breaks_without_an_error_page()
 {
    let w = World::new().await;
    let page = w.offerer_path();
    let pending = w.new_offerer("Cinéma Lumière", OTHER_SIREN).await;
    let pending_page = format!("/backoffice/offerers/{pending}");
    let before = audit_total(&w).await;
    let cases: Vec<FormPost> = vec![
        (
            "/backoffice/offerers".into(),
            "/backoffice/offerers/new".into(),
            vec![("name", "Bad\u{0}Name"), ("siren", "552100554")],
        ),
        (
            "/backoffice/offerers".into(),
            "/backoffice/offerers/new".into(),
            vec![("name", "Name"), ("siren", "5521\u{0}00554")],
        ),
        (
            "/backoffice/offerers".into(),
            "/backoffice/offerers/new".into(),
            vec![("name", "\u{200b}"), ("siren", "552100554")],
        ),
        (
            "/backoffice/offerers".into(),
            "/backoffice/offerers/new".into(),
            vec![
                ("name", "Acme\r\nBcc: x@example.org"),
                ("siren", "552100554"),
            ],
        ),
        (
            "/backoffice/offerers".into(),
            "/backoffice/offerers/new".into(),
            vec![("name", "Acme\u{2028}Corp"), ("siren", "552100554")],
        ),
        (
            "/backoffice/offerers".into(),
            "/backoffice/offerers/new".into(),
            vec![("name", "Acme\u{202e}moc"), ("siren", "552100554")],
        ),
        (
            "/backoffice/offerers".into(),
            "/backoffice/offerers/new".into(),
            vec![("name", "\u{3164}\u{115f}"), ("siren", "552100554")],
        ),
        (
            format!("{page}/venues"),
            format!("{page}/venues/new"),
            venue_fields("Salle\nC", "", "itinerant"),
        ),
        (
            format!("{pending_page}/reject"),
            pending_page.clone(),
            vec![("reason", "no\u{0}reason")],
        ),
        (
            format!("{page}/members"),
            page.clone(),
            vec![("email", "a\u{0}b@example.org")],
        ),
        (
            format!("{page}/venues"),
            format!("{page}/venues/new"),
            venue_fields("Salle\u{0}C", "", "itinerant"),
        ),
        (
            format!("{page}/venues"),
            format!("{page}/venues/new"),
            venue_fields("Salle C", "", "itinerant\u{1b}[31m"),
        ),
    ];
    for (path, form_page, fields) in cases {
        let response = w.app.post_form(&path, &form_page, &fields).await;
        assert_eq!(response.status(), 422, "POST {path} {fields:?}");
    }
    assert_eq!(audit_total(&w).await, before, "nothing was changed");
    assert_eq!(w.offerer_state(pending).await.0, "new");
}
