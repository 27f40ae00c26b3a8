//! The offerer (pro) interface: venues, giving and withdrawing access,
//! bulk access, history, members, and the 404 rule on every route.

use crate::fixtures;
use crate::helpers::{PASSWORD, TestApp, csrf_token, location};

/// The technical contact of the providers made by `fixtures::provider`.
const CONTACT: &str = "tech@provider.example";

/// An offerer the signed-in user belongs to, and one they do not.
struct World {
    app: TestApp,
    user_id: i64,
    mine: i64,
    my_venue: i64,
    my_other_venue: i64,
    theirs: i64,
    their_venue: i64,
    ticketing: i64,
    stock: i64,
    private: i64,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let pool = &app.db.pool;
        let user_id = app.create_user("pro@example.org", PASSWORD, "pro").await;
        let mine = fixtures::offerer(pool, "Théâtre des Célestins", "732829320").await;
        let (my_venue, _) = fixtures::venue(pool, mine, "Grande salle", 1).await;
        let (my_other_venue, _) = fixtures::venue(pool, mine, "Petite salle", 2).await;
        let theirs = fixtures::offerer(pool, "Autre Société", "055800296").await;
        let (their_venue, _) = fixtures::venue(pool, theirs, "Salle voisine", 1).await;
        fixtures::member(pool, user_id, mine).await;
        let ticketing = fixtures::provider(pool, "Billetterie Ticketis", "public").await;
        let stock = fixtures::provider(pool, "Stock Plus", "public").await;
        let private = fixtures::provider(pool, "Logiciel Maison", "private").await;
        let response = app.sign_in("pro@example.org", PASSWORD).await;
        assert_eq!(response.status(), 303);
        Self {
            app,
            user_id,
            mine,
            my_venue,
            my_other_venue,
            theirs,
            their_venue,
            ticketing,
            stock,
            private,
        }
    }

    fn venue_path(&self, venue: i64) -> String {
        format!("/pro/offerers/{}/venues/{venue}", self.mine)
    }

    async fn give(&self, venue: i64, provider: i64) -> reqwest::Response {
        let page = self.venue_path(venue);
        self.app
            .post_form(
                &format!("{page}/access"),
                &page,
                &[("provider_id", &provider.to_string())],
            )
            .await
    }

    async fn grant_id(&self, provider: i64, venue: i64) -> i64 {
        let (id,): (i64,) = sqlx::query_as(
            "SELECT id FROM venue_access_grant WHERE provider_id = $1 AND venue_id = $2 AND revoked_at IS NULL",
        )
        .bind(provider)
        .bind(venue)
        .fetch_one(&self.app.db.pool)
        .await
        .unwrap();
        id
    }

    /// A CSRF token of the signed-in session.
    async fn token(&self) -> String {
        csrf_token(&self.app.get_html("/pro").await)
    }
}

#[actix_web::test]
async fn the_offerer_page_lists_venues_with_the_providers_that_have_access() {
    let w = World::new().await;
    fixtures::grant(&w.app.db.pool, w.ticketing, w.my_venue).await;
    let html = w.app.get_html(&format!("/pro/offerers/{}", w.mine)).await;
    assert!(html.contains("Grande salle"));
    assert!(html.contains("Petite salle"));
    assert!(html.contains("Billetterie Ticketis"));
    assert!(html.contains("1–2 of 2 venues"));
    assert!(!html.contains("Salle voisine"), "another offerer's venue");
    assert!(html.contains("<label for=\"q\">"));

    let found = w
        .app
        .get_html(&format!("/pro/offerers/{}?q=petite", w.mine))
        .await;
    assert!(found.contains("Petite salle"));
    assert!(!found.contains("Grande salle"));
    assert!(found.contains("value=\"petite\""), "the search is kept");

    let (siret,): (String,) = sqlx::query_as("SELECT siret FROM venue WHERE id = $1")
        .bind(w.my_venue)
        .fetch_one(&w.app.db.pool)
        .await
        .unwrap();
    let by_siret = w
        .app
        .get_html(&format!("/pro/offerers/{}?q={siret}", w.mine))
        .await;
    assert!(by_siret.contains("Grande salle"));
    assert!(!by_siret.contains("Petite salle"));

    let none = w
        .app
        .get_html(&format!("/pro/offerers/{}?q=%25zz_", w.mine))
        .await;
    assert!(none.contains("No venue matches “%zz_”"));
}

#[actix_web::test]
async fn members_see_whether_their_offerer_is_validated() {
    let w = World::new().await;
    let pool = &w.app.db.pool;
    let page = format!("/pro/offerers/{}", w.mine);
    let validated = w.app.get_html(&page).await;
    assert!(!validated.contains("awaiting validation") && !validated.contains("did not validate"));
    assert!(!w.app.get_html("/pro").await.contains("awaiting validation"));

    for (status, home_badge, banner) in [
        (
            "new",
            "awaiting validation",
            "pass Culture is still checking",
        ),
        ("rejected", "rejected", "pass Culture did not validate"),
    ] {
        sqlx::query("UPDATE offerer SET status = $2::offerer_status WHERE id = $1")
            .bind(w.mine)
            .bind(status)
            .execute(pool)
            .await
            .unwrap();
        assert!(
            w.app.get_html("/pro").await.contains(home_badge),
            "{status}"
        );
        assert!(w.app.get_html(&page).await.contains(banner), "{status}");
        assert!(
            w.app
                .get_html(&format!("{page}/history"))
                .await
                .contains(banner),
            "every offerer page says it"
        );
    }
}

#[actix_web::test]
async fn long_venue_lists_are_paginated_by_fifty() {
    let w = World::new().await;
    for nic in 10..63 {
        fixtures::venue(&w.app.db.pool, w.mine, &format!("Librairie {nic}"), nic).await;
    }
    let first = w.app.get_html(&format!("/pro/offerers/{}", w.mine)).await;
    assert!(first.contains("1–50 of 55 venues"));
    assert!(first.contains("page=2"));
    let second = w
        .app
        .get_html(&format!("/pro/offerers/{}?page=2", w.mine))
        .await;
    assert!(second.contains("51–55 of 55 venues"));
    assert!(second.contains("page=1"));
    let searched = w
        .app
        .get_html(&format!("/pro/offerers/{}?q=librairie&page=2", w.mine))
        .await;
    assert!(searched.contains("51–53 of 53 venues"));
    assert!(
        searched.contains("q=librairie&#38;page=1"),
        "links keep the search:\n{searched}"
    );
    let garbage = w
        .app
        .get(&format!("/pro/offerers/{}?page=abc", w.mine))
        .await;
    assert_eq!(garbage.status(), 200);
}

#[actix_web::test]
async fn giving_access_lists_the_provider_records_it_and_is_idempotent() {
    let w = World::new().await;
    let page = w.app.get_html(&w.venue_path(w.my_venue)).await;
    assert!(page.contains("No provider can act on this venue yet"));
    assert!(page.contains("Billetterie Ticketis"));

    let response = w.give(w.my_venue, w.ticketing).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), w.venue_path(w.my_venue));
    let page = w.app.get_html(&w.venue_path(w.my_venue)).await;
    assert!(page.contains("Billetterie Ticketis now has access to Grande salle."));
    assert_eq!(
        fixtures::queued_emails(&w.app.db.pool, "provider_access_granted", CONTACT).await,
        vec!["Billetterie Ticketis can now manage Grande salle (Théâtre des Célestins)"],
        "the technical contact is told"
    );
    assert!(page.contains("User pro@example.org"), "granted by whom");
    assert!(page.contains("pro interface"));
    assert!(page.contains("/withdraw"));

    // Twice: still one active grant, one audit event, a calm message.
    let again = w.give(w.my_venue, w.ticketing).await;
    assert_eq!(again.status(), 303);
    let page = w.app.get_html(&w.venue_path(w.my_venue)).await;
    assert!(page.contains("already had access"));
    let pool = &w.app.db.pool;
    assert_eq!(
        fixtures::active_grants(pool, w.ticketing, w.my_venue).await,
        1
    );
    assert_eq!(fixtures::audit_count(pool, "venue_access.grant").await, 1);
    assert_eq!(
        fixtures::queued_emails(pool, "provider_access_granted", CONTACT)
            .await
            .len(),
        1,
        "no email when nothing changed"
    );
    let (actor, offerer, venue, provider): (Option<i64>, Option<i64>, Option<i64>, Option<i64>) =
        sqlx::query_as(
            "SELECT actor_user_id, offerer_id, venue_id, provider_id FROM audit_event WHERE action = 'venue_access.grant'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        (actor, offerer, venue, provider),
        (
            Some(w.user_id),
            Some(w.mine),
            Some(w.my_venue),
            Some(w.ticketing)
        )
    );
}

#[actix_web::test]
async fn the_provider_list_is_searchable_and_excludes_those_with_access() {
    let w = World::new().await;
    fixtures::grant(&w.app.db.pool, w.stock, w.my_venue).await;
    let page = w
        .app
        .get_html(&format!("{}?provider_q=ticke", w.venue_path(w.my_venue)))
        .await;
    assert!(page.contains(&format!("id=\"provider-{}\"", w.ticketing)));
    assert!(!page.contains(&format!("id=\"provider-{}\"", w.stock)));
    assert!(page.contains("value=\"ticke\""));
    let nothing = w
        .app
        .get_html(&format!("{}?provider_q=nothing", w.venue_path(w.my_venue)))
        .await;
    assert!(nothing.contains("No available provider matches “nothing”"));
}

#[actix_web::test]
async fn private_and_unknown_providers_are_never_offered_and_are_refused() {
    let w = World::new().await;
    let pool = &w.app.db.pool;
    let inactive = fixtures::provider(pool, "Ancien Logiciel", "public").await;
    sqlx::query("UPDATE provider SET is_active = false WHERE id = $1")
        .bind(inactive)
        .execute(pool)
        .await
        .unwrap();
    let page = w.app.get_html(&w.venue_path(w.my_venue)).await;
    assert!(
        !page.contains("Logiciel Maison"),
        "private providers are not offered"
    );
    assert!(
        !page.contains("Ancien Logiciel"),
        "inactive providers are not offered"
    );

    for (provider, message) in [
        (w.private.to_string(), "cannot be given access here"),
        (inactive.to_string(), "cannot be given access here"),
        ("999999".to_owned(), "cannot be given access here"),
        ("not a number".to_owned(), "cannot be given access here"),
        (String::new(), "Choose the provider"),
    ] {
        let page = w.venue_path(w.my_venue);
        let response = w
            .app
            .post_form(
                &format!("{page}/access"),
                &page,
                &[("provider_id", &provider)],
            )
            .await;
        assert_eq!(response.status(), 422, "{provider}");
        assert!(
            response.text().await.unwrap().contains(message),
            "{provider}"
        );
    }
    let (grants,): (i64,) = sqlx::query_as("SELECT count(*) FROM venue_access_grant")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(grants, 0);
}

#[actix_web::test]
async fn a_private_provider_granted_by_support_is_shown_and_can_be_withdrawn() {
    let w = World::new().await;
    let pool = &w.app.db.pool;
    let support = w
        .app
        .create_user("support@example.org", PASSWORD, "support")
        .await;
    venue_access::db::grants::grant(
        pool,
        w.private,
        w.my_venue,
        venue_access::db::grants::GrantChannel::Backoffice,
        Some(support),
    )
    .await
    .unwrap();
    let page = w.app.get_html(&w.venue_path(w.my_venue)).await;
    assert!(page.contains("Logiciel Maison"));
    assert!(page.contains("private"));
    assert!(page.contains("support"), "granted through support");

    let grant = w.grant_id(w.private, w.my_venue).await;
    let confirm_path = format!("{}/access/{grant}/withdraw", w.venue_path(w.my_venue));
    let confirm = w.app.get_html(&confirm_path).await;
    assert!(confirm.contains("contact support"));
    let response = w.app.post_form(&confirm_path, &confirm_path, &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        fixtures::active_grants(pool, w.private, w.my_venue).await,
        0
    );
}

#[actix_web::test]
async fn withdrawing_asks_for_confirmation_and_keeps_the_history() {
    let w = World::new().await;
    let pool = &w.app.db.pool;
    w.give(w.my_venue, w.ticketing).await;
    let grant = w.grant_id(w.ticketing, w.my_venue).await;
    let confirm_path = format!("{}/access/{grant}/withdraw", w.venue_path(w.my_venue));

    let confirm = w.app.get_html(&confirm_path).await;
    assert!(confirm.contains("Withdraw Billetterie Ticketis's access to Grande salle?"));
    assert!(confirm.contains("can no longer see or manage"));
    assert_eq!(
        fixtures::active_grants(pool, w.ticketing, w.my_venue).await,
        1,
        "opening the confirmation changes nothing"
    );

    let response = w.app.post_form(&confirm_path, &confirm_path, &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), w.venue_path(w.my_venue));
    let page = w.app.get_html(&w.venue_path(w.my_venue)).await;
    assert!(page.contains("Billetterie Ticketis no longer has access to Grande salle."));
    assert!(page.contains("No provider can act on this venue yet"));
    assert_eq!(
        fixtures::active_grants(pool, w.ticketing, w.my_venue).await,
        0
    );
    assert_eq!(fixtures::audit_count(pool, "venue_access.revoke").await, 1);
    assert_eq!(
        fixtures::queued_emails(pool, "provider_access_withdrawn", CONTACT).await,
        vec!["Billetterie Ticketis can no longer manage Grande salle (Théâtre des Célestins)"]
    );
    let (kept,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM venue_access_grant WHERE revoked_at IS NOT NULL")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(kept, 1, "the grant stays as history");

    let history = w
        .app
        .get_html(&format!("/pro/offerers/{}/history", w.mine))
        .await;
    assert!(history.contains("1–2 of 2 changes"));
    let withdrawn = history.find("Access withdrawn").unwrap();
    let given = history.find("Access given").unwrap();
    assert!(withdrawn < given, "newest first");
    assert!(history.contains("pro@example.org"));

    // The stale confirmation page, submitted again: nothing changes, no error.
    let token = w.token().await;
    let again = w
        .app
        .client
        .post(w.app.url(&confirm_path))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
    let page = w.app.get_html(&w.venue_path(w.my_venue)).await;
    assert!(page.contains("no longer had access"));
    assert_eq!(fixtures::audit_count(pool, "venue_access.revoke").await, 1);
    // The confirmation page of a withdrawn grant sends back to the venue.
    let stale = w.app.get(&confirm_path).await;
    assert_eq!(stale.status(), 303);
}

#[actix_web::test]
async fn simultaneous_grants_and_withdrawals_leave_a_consistent_state() {
    let w = World::new().await;
    let pool = &w.app.db.pool;
    let token = w.token().await;
    let page = w.venue_path(w.my_venue);
    let give = || {
        w.app
            .client
            .post(w.app.url(&format!("{page}/access")))
            .form(&[
                ("csrf_token", token.as_str()),
                ("provider_id", &w.ticketing.to_string()),
            ])
            .send()
    };
    let (a, b, c) = tokio::join!(give(), give(), give());
    for r in [a, b, c] {
        assert_eq!(r.unwrap().status(), 303);
    }
    assert_eq!(
        fixtures::active_grants(pool, w.ticketing, w.my_venue).await,
        1
    );
    assert_eq!(fixtures::audit_count(pool, "venue_access.grant").await, 1);

    let grant = w.grant_id(w.ticketing, w.my_venue).await;
    let withdraw_path = format!("{page}/access/{grant}/withdraw");
    let withdraw = || {
        w.app
            .client
            .post(w.app.url(&withdraw_path))
            .form(&[("csrf_token", token.as_str())])
            .send()
    };
    let (a, b, c) = tokio::join!(withdraw(), withdraw(), give());
    for r in [a, b, c] {
        assert_eq!(r.unwrap().status(), 303);
    }
    let active = fixtures::active_grants(pool, w.ticketing, w.my_venue).await;
    assert!(active <= 1);
    assert_eq!(fixtures::audit_count(pool, "venue_access.revoke").await, 1);
    assert_eq!(
        fixtures::audit_count(pool, "venue_access.grant").await,
        1 + active
    );
    let (emails,): (i64,) = sqlx::query_as("SELECT count(*) FROM email_outbox")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(emails, 2 + active, "one email per change, none for no-ops");
}

#[actix_web::test]
async fn bulk_access_previews_the_venues_that_change_then_grants_them() {
    let w = World::new().await;
    let pool = &w.app.db.pool;
    fixtures::grant(pool, w.ticketing, w.my_venue).await;
    let form_path = format!("/pro/offerers/{}/bulk-access", w.mine);
    let form = w.app.get_html(&form_path).await;
    assert!(form.contains("All venues (2)"));
    assert!(!form.contains("Logiciel Maison"));

    let preview = w
        .app
        .post_form(
            &format!("{form_path}/preview"),
            &form_path,
            &[("provider_id", &w.ticketing.to_string()), ("scope", "all")],
        )
        .await;
    assert_eq!(preview.status(), 200);
    let html = preview.text().await.unwrap();
    assert!(html.contains("Venues that will get access (1)"));
    assert!(html.contains("Already with access, unchanged (1)"));
    assert_eq!(
        fixtures::active_grants(pool, w.ticketing, w.my_other_venue).await,
        0,
        "the preview changes nothing"
    );

    let token = csrf_token(&html);
    let applied = w
        .app
        .client
        .post(w.app.url(&form_path))
        .form(&[
            ("csrf_token", token.as_str()),
            ("provider_id", &w.ticketing.to_string()),
            ("scope", "all"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(applied.status(), 303);
    assert_eq!(location(&applied), format!("/pro/offerers/{}", w.mine));
    let page = w.app.get_html(&format!("/pro/offerers/{}", w.mine)).await;
    assert!(
        page.contains("Billetterie Ticketis now has access to 1 more venue (1 already had it).")
    );
    assert_eq!(
        fixtures::active_grants(pool, w.ticketing, w.my_other_venue).await,
        1
    );
    assert_eq!(fixtures::audit_count(pool, "venue_access.grant").await, 1);
    assert_eq!(
        fixtures::queued_emails(pool, "provider_access_granted", CONTACT).await,
        vec!["Billetterie Ticketis can now manage Petite salle (Théâtre des Célestins)"],
        "one email per venue that changed"
    );

    // Chosen venues only.
    let chosen = w
        .app
        .post_form(
            &form_path,
            &form_path,
            &[
                ("provider_id", &w.stock.to_string()),
                ("scope", "selected"),
                ("venue_id", &w.my_other_venue.to_string()),
            ],
        )
        .await;
    assert_eq!(chosen.status(), 303);
    assert_eq!(
        fixtures::active_grants(pool, w.stock, w.my_other_venue).await,
        1
    );
    assert_eq!(fixtures::active_grants(pool, w.stock, w.my_venue).await, 0);
}

#[actix_web::test]
async fn bulk_access_refuses_wrong_choices_with_a_message() {
    let w = World::new().await;
    let pool = &w.app.db.pool;
    let form_path = format!("/pro/offerers/{}/bulk-access", w.mine);
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![
                ("provider_id", w.ticketing.to_string()),
                ("scope", "selected".into()),
            ],
            "Choose at least one venue",
        ),
        (
            vec![
                ("provider_id", w.ticketing.to_string()),
                ("scope", "selected".into()),
                ("venue_id", w.their_venue.to_string()),
            ],
            "not venues of this offerer",
        ),
        (
            vec![
                ("provider_id", w.private.to_string()),
                ("scope", "all".into()),
            ],
            "cannot be given access here",
        ),
        (vec![("scope", "all".into())], "Choose the provider"),
    ];
    for (fields, message) in cases {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for path in [format!("{form_path}/preview"), form_path.clone()] {
            let response = w.app.post_form(&path, &form_path, &fields).await;
            assert_eq!(response.status(), 422, "{path} {fields:?}");
            assert!(
                response.text().await.unwrap().contains(message),
                "{message}"
            );
        }
    }
    let (grants,): (i64,) = sqlx::query_as("SELECT count(*) FROM venue_access_grant")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(grants, 0);
}

#[actix_web::test]
async fn the_members_page_lists_who_belongs_to_the_offerer() {
    let w = World::new().await;
    let colleague = w
        .app
        .create_user("colleague@example.org", PASSWORD, "pro")
        .await;
    fixtures::member(&w.app.db.pool, colleague, w.mine).await;
    let outsider = w
        .app
        .create_user("outsider@example.org", PASSWORD, "pro")
        .await;
    fixtures::member(&w.app.db.pool, outsider, w.theirs).await;
    let html = w
        .app
        .get_html(&format!("/pro/offerers/{}/members", w.mine))
        .await;
    assert!(html.contains("pro@example.org"));
    assert!(html.contains("colleague@example.org"));
    assert!(!html.contains("outsider@example.org"));
}

#[actix_web::test]
async fn every_route_answers_404_for_what_is_not_yours() {
    let w = World::new().await;
    let pool = &w.app.db.pool;
    let their_grant = fixtures::grant(pool, w.ticketing, w.their_venue).await;
    let my_grant = fixtures::grant(pool, w.stock, w.my_venue).await;
    let (mine, theirs, my_venue, their_venue) = (w.mine, w.theirs, w.my_venue, w.their_venue);

    let gets = [
        format!("/pro/offerers/{theirs}"),
        format!("/pro/offerers/{theirs}/venues/{their_venue}"),
        format!("/pro/offerers/{mine}/venues/{their_venue}"),
        format!("/pro/offerers/{theirs}/venues/{my_venue}"),
        format!("/pro/offerers/{theirs}/venues/{their_venue}/access/{their_grant}/withdraw"),
        format!("/pro/offerers/{mine}/venues/{my_venue}/access/{their_grant}/withdraw"),
        format!("/pro/offerers/{mine}/venues/{their_venue}/access/{their_grant}/withdraw"),
        format!("/pro/offerers/{theirs}/venues/{my_venue}/access/{my_grant}/withdraw"),
        format!(
            "/pro/offerers/{mine}/venues/{my_other}/access/{my_grant}/withdraw",
            my_other = w.my_other_venue
        ),
        format!("/pro/offerers/{theirs}/bulk-access"),
        format!("/pro/offerers/{theirs}/history"),
        format!("/pro/offerers/{theirs}/members"),
        "/pro/offerers/999999".to_owned(),
        "/pro/offerers/abc".to_owned(),
        format!("/pro/offerers/{mine}/venues/abc"),
        format!("/pro/offerers/{mine}/venues/999999"),
    ];
    for path in &gets {
        let response = w.app.get(path).await;
        assert_eq!(response.status(), 404, "GET {path}");
        assert!(
            response.text().await.unwrap().contains("Page not found"),
            "GET {path}"
        );
    }

    let token = w.token().await;
    let ticketing = w.ticketing.to_string();
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("/pro/offerers/{theirs}/venues/{their_venue}/access"),
            vec![("provider_id", ticketing.as_str())],
        ),
        (
            format!("/pro/offerers/{mine}/venues/{their_venue}/access"),
            vec![("provider_id", ticketing.as_str())],
        ),
        (
            format!("/pro/offerers/{theirs}/venues/{my_venue}/access"),
            vec![("provider_id", ticketing.as_str())],
        ),
        (
            format!("/pro/offerers/{theirs}/venues/{their_venue}/access/{their_grant}/withdraw"),
            vec![],
        ),
        (
            format!("/pro/offerers/{mine}/venues/{my_venue}/access/{their_grant}/withdraw"),
            vec![],
        ),
        (
            format!("/pro/offerers/{mine}/venues/{their_venue}/access/{their_grant}/withdraw"),
            vec![],
        ),
        (
            format!("/pro/offerers/{theirs}/venues/{my_venue}/access/{my_grant}/withdraw"),
            vec![],
        ),
        (
            format!("/pro/offerers/{theirs}/bulk-access/preview"),
            vec![("provider_id", ticketing.as_str()), ("scope", "all")],
        ),
        (
            format!("/pro/offerers/{theirs}/bulk-access"),
            vec![("provider_id", ticketing.as_str()), ("scope", "all")],
        ),
    ];
    for (path, fields) in &posts {
        let mut body = vec![("csrf_token", token.as_str())];
        body.extend_from_slice(fields);
        let response = w
            .app
            .client
            .post(w.app.url(path))
            .form(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "POST {path}");
        assert!(
            response.text().await.unwrap().contains("Page not found"),
            "POST {path}"
        );
    }
    // Nothing changed anywhere.
    assert_eq!(
        fixtures::active_grants(pool, w.ticketing, w.their_venue).await,
        1
    );
    assert_eq!(fixtures::active_grants(pool, w.stock, w.my_venue).await, 1);
    let (grants,): (i64,) = sqlx::query_as("SELECT count(*) FROM venue_access_grant")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(grants, 2);
    assert_eq!(fixtures::audit_count(pool, "venue_access.grant").await, 0);
    assert_eq!(fixtures::audit_count(pool, "venue_access.revoke").await, 0);
    let (emails,): (i64,) = sqlx::query_as("SELECT count(*) FROM email_outbox")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(emails, 0);
}

#[actix_web::test]
async fn pro_forms_without_a_valid_csrf_token_change_nothing() {
    let w = World::new().await;
    let pool = &w.app.db.pool;
    let grant = fixtures::grant(pool, w.stock, w.my_venue).await;
    let ticketing = w.ticketing.to_string();
    let venue = w.venue_path(w.my_venue);
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("{venue}/access"),
            vec![("provider_id", ticketing.as_str())],
        ),
        (format!("{venue}/access/{grant}/withdraw"), vec![]),
        (
            format!("/pro/offerers/{}/bulk-access", w.mine),
            vec![("provider_id", ticketing.as_str()), ("scope", "all")],
        ),
    ];
    for (path, fields) in &posts {
        for token in ["", "forged"] {
            let mut body = vec![("csrf_token", token)];
            body.extend_from_slice(fields);
            let response = w
                .app
                .client
                .post(w.app.url(path))
                .form(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "POST {path} with {token:?}");
        }
    }
    assert_eq!(fixtures::active_grants(pool, w.stock, w.my_venue).await, 1);
    assert_eq!(
        fixtures::active_grants(pool, w.ticketing, w.my_venue).await,
        0
    );
}

#[actix_web::test]
async fn pro_pages_need_a_signed_in_pro_user() {
    let w = World::new().await;
    let path = format!("/pro/offerers/{}/venues/{}", w.mine, w.my_venue);
    let anonymous = crate::helpers::new_client();
    let response = anonymous.get(w.app.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/sign-in?next="));

    // A support agent is not a member: the pro pages do not exist for them.
    w.app
        .create_user("support@example.org", PASSWORD, "support")
        .await;
    w.app.post_form("/sign-out", "/pro", &[]).await;
    w.app.sign_in("support@example.org", PASSWORD).await;
    assert_eq!(w.app.get(&path).await.status(), 404);
}
