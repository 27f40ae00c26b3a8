//! End to end in real headless Chromium (through chromedriver): an offerer
//! signs in, gives a provider access to a venue, withdraws it and finds
//! both in the history; a support agent approves a provider account
//! request and issues its key pair, and the technical contact reveals a
//! key in its own browser and calls the API with it. No page logs a
//! console error (CSP violations included), and the venue page fits a
//! 360 px wide phone screen.
//!
//! Skipped only when Chromium is absent and `CI` is unset; in CI it runs.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::fixtures;
use crate::helpers::{PASSWORD, TestApp};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start chromedriver");
    let driver = Driver { child, port };
    let status = format!("http://127.0.0.1:{port}/status");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = http.get(&status).send().await
            && response.status().is_success()
        {
            return driver;
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start_browser(driver: &Driver, profile: &Path) -> Client {
    let capabilities = json!({
        "browserName": "chrome",
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("cannot open a Chromium session")
}

/// Console entries logged since the last call (chromedriver's log endpoint).
async fn console_errors(driver: &Driver, browser: &Client) -> Vec<String> {
    let session = browser.session_id().await.unwrap().unwrap();
    let logs: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/session/{session}/se/log",
            driver.port
        ))
        .json(&json!({ "type": "browser" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    logs["value"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|entry| entry["level"] == "SEVERE" || entry["level"] == "WARNING")
        .map(|entry| entry["message"].to_string())
        .collect()
}

async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn click(browser: &Client, locator: Locator<'_>) {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(locator)
        .await
        .unwrap_or_else(|e| panic!("cannot find {locator:?}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Wait until the text of the element matching `css` is `accepted`: after
/// a click the page may still be the previous one for a while.
async fn wait_until(browser: &Client, css: &str, wanted: &str, accepted: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = String::new();
    loop {
        if let Ok(element) = browser.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if accepted(&text) {
                return;
            }
            last = text;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never showed {wanted}; last: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until the page's main heading reads `heading`.
async fn wait_for_heading(browser: &Client, heading: &str) {
    let wanted = format!("the heading {heading:?}");
    wait_until(browser, "main h1", &wanted, |text| text == heading).await;
}

/// Wait until the page's main heading starts with `prefix` (headings that
/// carry a badge after the name).
async fn wait_for_heading_starting(browser: &Client, prefix: &str) {
    let wanted = format!("a heading starting with {prefix:?}");
    wait_until(browser, "main h1", &wanted, |text| text.starts_with(prefix)).await;
}

/// Wait until the element matching `css` contains `needle`.
async fn wait_for_text(browser: &Client, css: &str, needle: &str) {
    let wanted = format!("{needle:?}");
    wait_until(browser, css, &wanted, |text| text.contains(needle)).await;
}

/// Whether the browser tests must be skipped: only when Chromium is absent
/// and `CI` is unset (in CI its absence is a failure).
fn skip_without_chromium() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the browser test: install chromium and chromium-driver"
    );
    eprintln!("skipped: Chromium is not installed (apt-get install chromium chromium-driver)");
    true
}

#[actix_web::test]
async fn an_offerer_gives_and_withdraws_access_in_a_real_browser() {
    if skip_without_chromium() {
        return;
    }
    let app = TestApp::spawn().await;
    let pool = &app.db.pool;
    let user = app
        .create_user("theatre@example.org", PASSWORD, "pro")
        .await;
    let offerer = fixtures::offerer(pool, "Théâtre des Célestins", "732829320").await;
    fixtures::member(pool, user, offerer).await;
    let (venue, _) = fixtures::venue(pool, offerer, "Grande salle", 1).await;
    fixtures::venue(pool, offerer, "Petite salle", 2).await;
    let provider = fixtures::provider(pool, "Billetterie Ticketis", "public").await;
    fixtures::provider(pool, "Stock Plus", "public").await;

    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = start_browser(&driver, profile.path()).await;
    let mut errors = Vec::new();

    browser.goto(&app.url("/sign-in")).await.unwrap();
    wait_for_heading(&browser, "Sign in").await;
    let email = browser.find(Locator::Id("email")).await.unwrap();
    email.send_keys("theatre@example.org").await.unwrap();
    let password = browser.find(Locator::Id("password")).await.unwrap();
    password.send_keys(PASSWORD).await.unwrap();
    click(
        &browser,
        Locator::Css("form[action='/sign-in'] button[type=submit]"),
    )
    .await;
    wait_for_heading(&browser, "Your offerers").await;
    errors.extend(console_errors(&driver, &browser).await);

    click(&browser, Locator::LinkText("Théâtre des Célestins")).await;
    wait_for_heading(&browser, "Venues").await;
    errors.extend(console_errors(&driver, &browser).await);

    click(&browser, Locator::LinkText("Grande salle")).await;
    wait_for_heading(&browser, "Grande salle").await;
    errors.extend(console_errors(&driver, &browser).await);

    // The venue page fits a phone screen: nothing wider than the viewport.
    browser.set_window_size(360, 800).await.unwrap();
    let overflow = browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "the page scrolls sideways at 360 px: {overflow}"
    );
    browser.set_window_size(1280, 900).await.unwrap();

    click(
        &browser,
        Locator::Css(&format!("label[for='provider-{provider}']")),
    )
    .await;
    click(
        &browser,
        Locator::XPath("//button[normalize-space()='Give access']"),
    )
    .await;
    let flash = text_of(&browser, ".flash-success").await;
    assert_eq!(
        flash,
        "Billetterie Ticketis now has access to Grande salle. Its technical contact is told by email."
    );
    let listed = text_of(&browser, "table").await;
    assert!(listed.contains("Billetterie Ticketis"), "{listed}");
    assert_eq!(fixtures::active_grants(pool, provider, venue).await, 1);
    errors.extend(console_errors(&driver, &browser).await);

    click(&browser, Locator::Css("a.button.danger")).await;
    wait_for_heading(
        &browser,
        "Withdraw Billetterie Ticketis's access to Grande salle?",
    )
    .await;
    errors.extend(console_errors(&driver, &browser).await);
    click(
        &browser,
        Locator::XPath("//button[normalize-space()='Withdraw access']"),
    )
    .await;
    let flash = text_of(&browser, ".flash-success").await;
    assert_eq!(
        flash,
        "Billetterie Ticketis no longer has access to Grande salle. Its technical contact is told by email."
    );
    assert_eq!(fixtures::active_grants(pool, provider, venue).await, 0);
    errors.extend(console_errors(&driver, &browser).await);

    click(&browser, Locator::LinkText("History")).await;
    wait_for_heading(&browser, "History of access changes").await;
    let history = text_of(&browser, "table tbody").await;
    let lines: Vec<&str> = history.lines().collect();
    assert!(
        lines[0].contains("Access withdrawn") && lines[0].contains("Billetterie Ticketis"),
        "{history}"
    );
    assert!(history.contains("Access given"), "{history}");
    errors.extend(console_errors(&driver, &browser).await);

    browser.close().await.unwrap();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

async fn fill(browser: &Client, id: &str, value: &str) {
    let field = browser.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

#[actix_web::test]
async fn support_approves_a_request_and_issues_a_key_pair_in_a_real_browser() {
    if skip_without_chromium() {
        return;
    }
    let app = TestApp::spawn().await;
    let pool = &app.db.pool;
    app.create_user("agent@support.example", PASSWORD, "support")
        .await;

    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = start_browser(&driver, profile.path()).await;
    let mut errors = Vec::new();

    // A company asks for an account on the public page.
    browser
        .goto(&app.url("/provider-account-request"))
        .await
        .unwrap();
    wait_for_heading(&browser, "Request a provider account").await;
    fill(&browser, "company_name", "Billetel").await;
    fill(&browser, "siren", "552100554").await;
    fill(&browser, "contact_email", "tech@billetel.example").await;
    click(&browser, Locator::Css("input[name=kind][value=public]")).await;
    fill(
        &browser,
        "description",
        "Ticketing software for 200 cinemas and theatres.",
    )
    .await;
    click(
        &browser,
        Locator::XPath("//button[normalize-space()='Send the request']"),
    )
    .await;
    wait_for_heading(&browser, "Request received").await;
    errors.extend(console_errors(&driver, &browser).await);

    // Support signs in and finds it among the requests to review.
    browser.goto(&app.url("/sign-in")).await.unwrap();
    wait_for_heading(&browser, "Sign in").await;
    fill(&browser, "email", "agent@support.example").await;
    fill(&browser, "password", PASSWORD).await;
    click(
        &browser,
        Locator::Css("form[action='/sign-in'] button[type=submit]"),
    )
    .await;
    wait_for_heading(&browser, "Back-office").await;
    errors.extend(console_errors(&driver, &browser).await);

    click(&browser, Locator::LinkText("Account requests")).await;
    wait_for_heading(&browser, "Provider account requests").await;
    click(&browser, Locator::LinkText("Billetel")).await;
    wait_for_heading(&browser, "Request from Billetel").await;
    errors.extend(console_errors(&driver, &browser).await);

    // The approval form is prefilled from the request.
    let name = browser.find(Locator::Id("name")).await.unwrap();
    assert_eq!(
        name.prop("value").await.unwrap().as_deref(),
        Some("Billetel")
    );
    let contact = browser.find(Locator::Id("contact_email")).await.unwrap();
    assert_eq!(
        contact.prop("value").await.unwrap().as_deref(),
        Some("tech@billetel.example")
    );
    click(
        &browser,
        Locator::XPath("//button[normalize-space()='Approve and create the provider']"),
    )
    .await;
    wait_for_heading_starting(&browser, "Billetel").await;
    let (provider_id,): (i64,) = sqlx::query_as("SELECT id FROM provider WHERE name = 'Billetel'")
        .fetch_one(pool)
        .await
        .unwrap();
    errors.extend(console_errors(&driver, &browser).await);

    // One click issues the pair; the page shows both keys awaiting reveal.
    click(
        &browser,
        Locator::XPath("//button[normalize-space()='Issue a key pair']"),
    )
    .await;
    // The page before also had a success message: wait for the new one.
    wait_for_text(&browser, ".flash-success", "A key pair was issued").await;
    let keys = text_of(&browser, "#keys ~ .table-wrap table").await;
    assert_eq!(keys.matches("Awaiting reveal").count(), 2, "{keys}");
    let lower = keys.to_lowercase();
    assert!(
        lower.contains("integration") && lower.contains("production"),
        "{keys}"
    );
    errors.extend(console_errors(&driver, &browser).await);
    browser.close().await.unwrap();

    // The technical contact opens its emailed link in its own browser.
    let link = crate::backoffice::path_of(
        &crate::backoffice::queued_link(pool, "api_key_reveal", "integration").await,
    );
    let contact_profile = tempfile::tempdir().unwrap();
    let contact = start_browser(&driver, contact_profile.path()).await;
    contact.goto(&app.url(&link)).await.unwrap();
    wait_for_heading(&contact, "Reveal your integration API key").await;
    click(
        &contact,
        Locator::XPath("//button[normalize-space()='Reveal the key']"),
    )
    .await;
    wait_for_heading(&contact, "Your integration API key").await;
    let key = text_of(&contact, "#api-key").await;
    assert!(key.starts_with("integration_"), "{key}");
    errors.extend(console_errors(&driver, &contact).await);
    contact.close().await.unwrap();

    // The revealed key, read from the page, calls the API of the
    // environment it was issued for (the test server is integration).
    let answer = app
        .client
        .get(app.url("/public/providers/v1/provider"))
        .header("Authorization", format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["id"], provider_id, "{body}");
    assert_eq!(body["environment"], "integration", "{body}");

    assert!(errors.is_empty(), "console errors: {errors:#?}");
}
