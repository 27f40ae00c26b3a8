//! Secrets never reach the request log.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::Method;
use venue_access::domain::Environment;

use crate::fixtures;
use crate::helpers::TestApp;

#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test process from now on, as the server writes it.
pub fn captured_log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_env_filter("debug,sqlx=warn,actix_server=warn,h2=warn,hyper=warn,reqwest=warn")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("no other subscriber in the test process");
        captured
    })
}

#[actix_web::test]
async fn api_keys_and_link_tokens_never_reach_the_request_log() {
    let log = captured_log();
    let app = TestApp::spawn().await;
    let pool = &app.db.pool;
    let provider = fixtures::provider(pool, "Ticketis", "public").await;
    let (_, key) = fixtures::key(pool, provider, Environment::Integration).await;
    let (revoked_id, revoked) = fixtures::key(pool, provider, Environment::Integration).await;
    sqlx::query("UPDATE api_key SET revoked_at = now() WHERE id = $1")
        .bind(revoked_id)
        .execute(pool)
        .await
        .unwrap();
    let secret = key.rsplit('_').next().unwrap().to_owned();
    let revoked_secret = revoked.rsplit('_').next().unwrap().to_owned();
    for (authorization, path) in [
        (
            format!("Bearer {key}"),
            "/public/providers/v1/provider".to_owned(),
        ),
        (
            format!("Bearer {key}"),
            format!("/public/offers/v1/offerer_venues?api_key={key}"),
        ),
        (
            format!("Bearer {revoked}"),
            "/public/providers/v1/provider".to_owned(),
        ),
        (
            format!("Bearer {key}"),
            format!("/public/bookings/v1/token/{}", &secret[..6]),
        ),
        (format!("Bearer {key}"), format!("/reveal/{secret}")),
    ] {
        app.client
            .request(Method::GET, app.url(&path))
            .header("Authorization", authorization)
            .send()
            .await
            .unwrap();
    }
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("route=/public/providers/v1/provider"),
        "the request log is captured:\n{text}"
    );
    for needle in [
        secret.as_str(),
        revoked_secret.as_str(),
        "api_key=",
        &secret[..6],
    ] {
        assert!(
            !text.contains(needle),
            "{needle} leaked into the log:\n{text}"
        );
    }
}
