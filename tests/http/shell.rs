//! The app shell: probes, static assets, security headers, error pages.

use crate::helpers::TestApp;

#[actix_web::test]
async fn health_and_readiness_answer_json() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
    for probe in ["/healthz", "/readyz"] {
        let head = app.client.head(app.url(probe)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {probe}");
    }
}

#[actix_web::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db.pool.close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["status"],
        "unavailable"
    );
}

#[actix_web::test]
async fn every_response_carries_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    for path in ["/sign-in", "/healthz", "/no-such-page", "/static/style.css"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(
            headers.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert_eq!(headers.get("x-frame-options").unwrap(), "DENY", "{path}");
        assert_eq!(
            headers.get("referrer-policy").unwrap(),
            "same-origin",
            "{path}"
        );
        assert_eq!(headers.get("x-request-id").unwrap().len(), 32, "{path}");
    }
}

#[actix_web::test]
async fn unknown_pages_render_the_not_found_page_with_a_reference() {
    let app = TestApp::spawn().await;
    let response = app.get("/nothing/here").await;
    assert_eq!(response.status(), 404);
    let request_id = response
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains(&request_id), "the page shows its reference");
}

#[actix_web::test]
async fn the_stylesheet_is_served_locally() {
    let app = TestApp::spawn().await;
    let css = app.get("/static/style.css").await;
    assert_eq!(css.status(), 200);
    assert_eq!(
        css.headers().get("content-type").unwrap(),
        "text/css; charset=utf-8"
    );
    assert!(css.text().await.unwrap().contains("--brand"));
    assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
}
