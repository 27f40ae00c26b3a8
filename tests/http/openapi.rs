//! The OpenAPI document and its rendered page.

use reqwest::Method;
use serde_json::Value;
use venue_access::domain::Environment;

use crate::fixtures;
use crate::helpers::TestApp;

#[actix_web::test]
async fn the_openapi_document_describes_every_endpoint_and_matches_the_routes() {
    let app = TestApp::spawn().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["security"].is_array(),
                "{method} {path} declares its security"
            );
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} documents 401"
            );
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    operations.sort();
    let mut expected: Vec<(String, String)> = [
        ("GET", "/public/offers/v1/offerer_venues"),
        ("GET", "/public/offers/v1/venues/{siret}"),
        ("GET", "/public/offers/v1/events/categories"),
        ("GET", "/public/providers/v1/provider"),
        ("GET", "/public/bookings/v1/token/{token}"),
        ("PATCH", "/public/bookings/v1/use/token/{token}"),
        ("PATCH", "/public/bookings/v1/keep/token/{token}"),
        ("PATCH", "/public/bookings/v1/cancel/token/{token}"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    expected.sort();
    assert_eq!(operations, expected);

    // Every documented operation is served: authentication comes first, and
    // with a key the method is allowed on that path.
    let provider = fixtures::provider(&app.db.pool, "Doc Reader", "public").await;
    let (_, key) = fixtures::key(&app.db.pool, provider, Environment::Integration).await;
    for (method, path) in &operations {
        let concrete = path
            .replace("{siret}", "11004601800013")
            .replace("{token}", "ABC123");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let anonymous = app
            .client
            .request(method.clone(), app.url(&concrete))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401, "{method} {path}");
        let with_key = app
            .client
            .request(method.clone(), app.url(&concrete))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_ne!(with_key.status(), 405, "{method} {path} is routed");
        assert_ne!(with_key.status(), 500, "{method} {path}");
    }
    // The booking schema names the fields the API returns.
    let booking = &doc["components"]["schemas"]["Booking"]["properties"];
    for field in [
        "id",
        "token",
        "status",
        "offerName",
        "venueId",
        "venueName",
        "price",
        "quantity",
        "creationDate",
        "userFirstName",
    ] {
        assert!(booking[field].is_object(), "Booking.{field}");
    }
}

#[actix_web::test]
async fn the_docs_page_renders_with_local_assets() {
    let app = TestApp::spawn().await;
    let response = app.get("/docs/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(!html.contains("https://"), "no asset from a CDN: {html}");
    let initializer = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(initializer.status(), 200);
    assert!(initializer.text().await.unwrap().contains("/openapi.json"));
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200);
}
