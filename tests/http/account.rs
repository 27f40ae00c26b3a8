//! Sign-in, sign-out, sessions, CSRF and throttling.

use crate::helpers::{PASSWORD, TestApp, csrf_token, location, new_client};

#[actix_web::test]
async fn the_root_sends_anonymous_visitors_to_sign_in() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/sign-in");
    let html = app.get_html("/sign-in").await;
    assert!(html.contains("<label for=\"email\">Email</label>"));
    assert!(html.contains("name=\"csrf_token\""));
}

#[actix_web::test]
async fn a_pro_user_signs_in_lands_on_the_pro_home_and_signs_out() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;

    let response = app.sign_in("Pro@Example.org ", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/pro");
    let home = app.get_html("/pro").await;
    assert!(home.contains("Your offerers"));
    assert!(home.contains("You are not a member of any offerer yet"));

    let (last_login, audit): (Option<chrono::DateTime<chrono::Utc>>, i64) = sqlx::query_as(
        "SELECT (SELECT last_login_at FROM user_account WHERE email = 'pro@example.org'),
                (SELECT count(*) FROM audit_event WHERE action = 'user.sign_in')",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(last_login.is_some());
    assert_eq!(audit, 1);

    let signed_out = app.post_form("/sign-out", "/pro", &[]).await;
    assert_eq!(signed_out.status(), 303);
    assert_eq!(location(&signed_out), "/sign-in?signed_out=1");
    let after = app.get("/pro").await;
    assert_eq!(after.status(), 303, "the session is gone");
    assert!(location(&after).starts_with("/sign-in"));
}

#[actix_web::test]
async fn sign_out_destroys_the_server_side_session() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    app.sign_in("pro@example.org", PASSWORD).await;
    let sessions: (i64,) =
        sqlx::query_as("SELECT count(*) FROM web_session WHERE user_id IS NOT NULL")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(sessions.0, 1);
    app.post_form("/sign-out", "/pro", &[]).await;
    let sessions: (i64,) =
        sqlx::query_as("SELECT count(*) FROM web_session WHERE user_id IS NOT NULL")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(sessions.0, 0);
}

#[actix_web::test]
async fn sign_in_renews_the_session_key() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    let page = app.get("/sign-in").await;
    let before = page
        .cookies()
        .find(|c| c.name() == "va_session")
        .map(|c| c.value().to_owned())
        .expect("an anonymous session for the CSRF token");
    let html = page.text().await.unwrap();
    let token = csrf_token(&html);
    let response = app
        .client
        .post(app.url("/sign-in"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "pro@example.org"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let after = response
        .cookies()
        .find(|c| c.name() == "va_session")
        .map(|c| c.value().to_owned())
        .expect("a new session cookie");
    assert_ne!(before, after, "the session key changes at sign-in");
    // The pre-sign-in key no longer opens anything.
    let stale: (i64,) = sqlx::query_as("SELECT count(*) FROM web_session")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(stale.0, 1, "only the renewed session remains");
}

#[actix_web::test]
async fn session_cookies_are_http_only_and_same_site() {
    let app = TestApp::spawn().await;
    let response = app.get("/sign-in").await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("va_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
}

#[actix_web::test]
async fn wrong_email_and_wrong_password_give_the_same_answer() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    let wrong_password = app.sign_in("pro@example.org", "not the password").await;
    assert_eq!(wrong_password.status(), 422);
    let a = wrong_password.text().await.unwrap();
    let wrong_email = app.sign_in("nobody@example.org", PASSWORD).await;
    assert_eq!(wrong_email.status(), 422);
    let b = wrong_email.text().await.unwrap();
    assert!(a.contains("Wrong email or password."));
    assert!(b.contains("Wrong email or password."));
    assert!(
        b.contains("value=\"nobody@example.org\""),
        "the typed email is kept"
    );
    let failures: (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_event WHERE action = 'user.sign_in_failed'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(failures.0, 2);
}

#[actix_web::test]
async fn repeated_failures_block_the_account_for_a_while() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    // Pretend ten failures happened recently (the real ones would take seconds each).
    sqlx::query(
        "INSERT INTO sign_in_failure (email_hash, client_ip)
         SELECT encode(sha256('pro@example.org'::bytea), 'hex'), '198.51.100.7' FROM generate_series(1, 10)",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let blocked = app.sign_in("pro@example.org", PASSWORD).await;
    assert_eq!(blocked.status(), 422);
    assert!(blocked.text().await.unwrap().contains("sign-in is paused"));
    // After the window, the real user gets in again.
    sqlx::query("UPDATE sign_in_failure SET failed_at = now() - interval '1 hour'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let ok = app.sign_in("pro@example.org", PASSWORD).await;
    assert_eq!(ok.status(), 303);
}

#[actix_web::test]
async fn a_form_without_a_valid_csrf_token_changes_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    app.get_html("/sign-in").await;
    for token in ["", "forged"] {
        let response = app
            .client
            .post(app.url("/sign-in"))
            .form(&[
                ("csrf_token", token),
                ("email", "pro@example.org"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("This form has expired")
        );
    }
    let logins: (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_event WHERE action = 'user.sign_in'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(logins.0, 0);
}

#[actix_web::test]
async fn a_token_from_another_session_is_refused() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    let other = new_client();
    let other_html = other
        .get(app.url("/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let foreign_token = csrf_token(&other_html);
    app.get_html("/sign-in").await;
    let response = app
        .client
        .post(app.url("/sign-in"))
        .form(&[
            ("csrf_token", foreign_token.as_str()),
            ("email", "pro@example.org"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[actix_web::test]
async fn cross_site_submissions_are_refused() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    let html = app.get_html("/sign-in").await;
    let token = csrf_token(&html);
    let response = app
        .client
        .post(app.url("/sign-in"))
        .header("Origin", "https://evil.example")
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "pro@example.org"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let same_origin = app
        .client
        .post(app.url("/sign-in"))
        .header("Origin", app.address.clone())
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "pro@example.org"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 303);
}

#[actix_web::test]
async fn the_back_office_is_invisible_to_everyone_but_support() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    app.create_user("agent@example.org", PASSWORD, "support")
        .await;
    assert_eq!(app.get("/backoffice").await.status(), 404, "anonymous");
    app.sign_in("pro@example.org", PASSWORD).await;
    assert_eq!(app.get("/backoffice").await.status(), 404, "pro user");

    let agent = TestApp::spawn().await;
    agent
        .create_user("agent@example.org", PASSWORD, "support")
        .await;
    let response = agent.sign_in("agent@example.org", PASSWORD).await;
    assert_eq!(location(&response), "/backoffice");
    let html = agent.get_html("/backoffice").await;
    assert!(html.contains("Back-office"));
    assert_eq!(
        agent.get("/pro").await.status(),
        404,
        "support agents have no pro home"
    );
}

#[actix_web::test]
async fn sign_in_follows_only_local_next_paths() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    let response = app.get("/pro").await;
    assert_eq!(location(&response), "/sign-in?next=%2Fpro");
    let ok = app
        .post_form(
            "/sign-in",
            "/sign-in?next=/pro",
            &[
                ("email", "pro@example.org"),
                ("password", PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&ok), "/pro");
}

#[actix_web::test]
async fn a_deactivated_user_is_signed_out_at_the_next_request() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    app.sign_in("pro@example.org", PASSWORD).await;
    assert_eq!(app.get("/pro").await.status(), 200);
    sqlx::query("UPDATE user_account SET is_active = false")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(app.get("/pro").await.status(), 303);
    let again = app.sign_in("pro@example.org", PASSWORD).await;
    assert_eq!(again.status(), 422);
}

#[actix_web::test]
async fn sessions_expire_after_the_absolute_lifetime() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    app.sign_in("pro@example.org", PASSWORD).await;
    assert_eq!(app.get("/pro").await.status(), 200);
    sqlx::query("UPDATE web_session SET created_at = now() - interval '13 hours'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(app.get("/pro").await.status(), 303);
}

#[actix_web::test]
async fn sessions_expire_when_idle() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    app.sign_in("pro@example.org", PASSWORD).await;
    sqlx::query("UPDATE web_session SET expires_at = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(app.get("/pro").await.status(), 303);
}

#[actix_web::test]
async fn guesses_sent_in_parallel_all_count_towards_the_limit() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    let html = app.get_html("/sign-in").await;
    let token = csrf_token(&html);
    let guesses = (0..16).map(|i| {
        let password = format!("wrong guess {i}");
        let token = token.clone();
        let client = app.client.clone();
        let url = app.url("/sign-in");
        async move {
            client
                .post(url)
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("email", "pro@example.org"),
                    ("password", password.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    });
    let pages = futures_util::future::join_all(guesses).await;
    let paused = pages
        .iter()
        .filter(|p| p.contains("sign-in is paused"))
        .count();
    assert!(
        paused >= 6,
        "at most 10 guesses are checked, {paused} of 16 were paused"
    );
    let real_user = app.sign_in("pro@example.org", PASSWORD).await;
    assert_eq!(real_user.status(), 422, "the account is paused for a while");
    let (stored,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM sign_in_failure WHERE email_hash LIKE '%@%'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, 0, "no address in clear");
}

#[actix_web::test]
async fn next_paths_with_control_characters_are_ignored() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/ok\r\nSet-Cookie: x=y",
        "/ /evil",
    ] {
        let client = crate::helpers::new_client();
        let html = client
            .get(app.url("/sign-in"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = csrf_token(&html);
        let response = client
            .post(app.url("/sign-in"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", "pro@example.org"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{next:?}");
        assert_eq!(location(&response), "/pro", "{next:?}");
    }
}

#[actix_web::test]
async fn the_origin_check_compares_scheme_and_host_and_ignores_forwarded_headers() {
    let app = TestApp::spawn().await;
    app.create_user("pro@example.org", PASSWORD, "pro").await;
    let html = app.get_html("/sign-in").await;
    let token = csrf_token(&html);
    let host = app.address.trim_start_matches("http://").to_owned();
    for (origin, forwarded) in [
        (format!("evil://{host}"), None),
        ("https://evil.example".to_owned(), Some("evil.example")),
    ] {
        let mut request = app
            .client
            .post(app.url("/sign-in"))
            .header("Origin", origin.clone());
        if let Some(f) = forwarded {
            request = request.header("X-Forwarded-Host", f);
        }
        let response = request
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", "pro@example.org"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{origin}");
    }
}

#[actix_web::test]
async fn a_malformed_query_string_gets_the_html_error_page() {
    let app = TestApp::spawn().await;
    let response = app.get("/sign-in?next=/pro&next=/x").await;
    assert_eq!(response.status(), 400);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}
