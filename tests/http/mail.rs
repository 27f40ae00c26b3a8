//! The email outbox: queued in the caller's transaction, delivered through a
//! real SMTP server by the worker, retried while the server is down, sent
//! once even with two workers, and failed messages listed and retried from
//! the command line.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use sqlx::PgPool;
use venue_access::config::Settings;
use venue_access::db::tokens::{self, TokenPurpose, TokenSubject};
use venue_access::domain::{Email, Environment};
use venue_access::mail::worker::WorkerOptions;
use venue_access::mail::{self, MailWorker, OutgoingEmail};

use crate::helpers::{PASSWORD, TestApp, TestDatabase, test_settings};
use crate::smtp::{DEADLINE, SmtpServer};

const BASE_URL: &str = "https://venue-access.example";

fn email(address: &str) -> Email {
    Email::parse(address).unwrap()
}

/// Poll `check` until it holds, failing the test after the deadline.
async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < DEADLINE, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `(status, attempts)` of every outbox row, by id.
async fn outbox_rows(pool: &PgPool) -> BTreeMap<i64, (String, i32)> {
    let rows: Vec<(i64, String, i32)> =
        sqlx::query_as("SELECT id, status::text, attempts FROM email_outbox ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter().map(|(id, s, a)| (id, (s, a))).collect()
}

async fn all_sent(pool: &PgPool) -> bool {
    outbox_rows(pool).await.values().all(|(s, _)| s == "sent")
}

/// A running app whose worker sends through `smtp`.
async fn app_sending_to(smtp: &SmtpServer, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let transport = smtp.transport();
    TestApp::spawn_with(|settings| {
        settings.run_mail_worker = true;
        settings.mail.transport = transport;
        settings.base_url = BASE_URL.into();
        adjust(settings);
    })
    .await
}

/// The link in a text body that starts with `prefix`, and its token.
fn find_link(text: &str, prefix: &str) -> (String, String) {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no link {prefix} in:\n{text}"));
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect();
    let token = link[prefix.len()..].to_owned();
    (link, token)
}

async fn enqueue(
    conn: &mut sqlx::PgConnection,
    recipient: &Email,
    email: &impl OutgoingEmail,
) -> i64 {
    mail::enqueue(conn, recipient, email).await.unwrap()
}

#[actix_web::test]
async fn a_password_reset_reaches_the_smtp_server_with_both_parts_and_a_working_link() {
    let smtp = SmtpServer::start().await;
    let app = app_sending_to(&smtp, |_| {}).await;
    let user_id = app.create_user("zoe@example.org", PASSWORD, "pro").await;

    let mut tx = app.db.pool.begin().await.unwrap();
    let id = mail::queue_password_reset(
        &mut tx,
        BASE_URL,
        user_id,
        &email("zoe@example.org"),
        "Zoé Martin",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let messages = smtp.wait_for_messages(1).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    // Envelope and headers.
    assert_eq!(message.mail_from, "no-reply@venue-access.test");
    assert_eq!(message.rcpt_tos, ["zoe@example.org"]);
    assert_eq!(
        message.header("From"),
        "\"venue access\" <no-reply@venue-access.test>"
    );
    assert_eq!(message.header("To"), "zoe@example.org");
    assert_eq!(
        message.subject(),
        "Reset your pass Culture venue access password"
    );
    assert!(
        message.message_id().starts_with(&format!("outbox.{id}.")),
        "{}",
        message.message_id()
    );
    assert!(message.header("Date").contains("+0000"));
    assert!(
        message
            .header("Content-Type")
            .starts_with("multipart/alternative"),
        "{}",
        message.header("Content-Type")
    );
    // Both parts, decoded.
    let text = message.text();
    let html = message.html();
    assert!(text.contains("Hello Zoé Martin,"), "{text}");
    assert!(!text.contains("<p>"), "{text}");
    assert!(html.contains("<p>Hello Zoé Martin,</p>"), "{html}");
    assert!(html.contains("Choose a new password"));
    assert!(text.contains("The link works once, for 1 hour."), "{text}");
    // The link: base URL, path, a token that works once for this user.
    let prefix = format!("{BASE_URL}{}/", mail::PASSWORD_RESET_PATH);
    let (link, token) = find_link(&text, &prefix);
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert_eq!(token.len(), 43);
    let consumed = tokens::consume(&app.db.pool, &token, TokenPurpose::PasswordReset)
        .await
        .unwrap()
        .expect("the emailed token is valid");
    assert_eq!(consumed.subject, TokenSubject::PasswordReset { user_id });
    assert!(
        tokens::consume(&app.db.pool, &token, TokenPurpose::PasswordReset)
            .await
            .unwrap()
            .is_none(),
        "a link works once"
    );

    // The outbox records the delivery and, once sent, no longer holds the
    // token in clear (the token table holds only its hash).
    wait_until("the message is marked sent", || all_sent(&app.db.pool)).await;
    assert_eq!(outbox_rows(&app.db.pool).await[&id], ("sent".to_owned(), 1));
    let (body_text, body_html): (String, String) =
        sqlx::query_as("SELECT body_text, body_html FROM email_outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    for body in [&body_text, &body_html] {
        assert!(!body.contains(&token), "{body}");
        assert!(
            body.contains(&format!(
                "{BASE_URL}{}/{}",
                mail::PASSWORD_RESET_PATH,
                mail::outbox::REDACTED_TOKEN
            )),
            "{body}"
        );
    }
    assert!(body_text.contains("Hello Zoé Martin,"));
}

/// Seeds the rows the link emails point at; returns (user, offerer, api key).
async fn seed_subjects(pool: &PgPool) -> (i64, i64, i64) {
    let (user_id,): (i64,) = sqlx::query_as(
        "INSERT INTO user_account (email, display_name) VALUES ('invitee@example.org', 'Invitee')
         RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let (offerer_id,): (i64,) = sqlx::query_as(
        "INSERT INTO offerer (name, siren) VALUES ('Librairies Page & Plume', '123456789') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let (provider_id,): (i64,) = sqlx::query_as(
        "INSERT INTO provider (name, kind, contact_email) VALUES ('Billets <Plus>', 'public', 'tech@billets.example')
         RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let (api_key_id,): (i64,) = sqlx::query_as(
        "INSERT INTO api_key (provider_id, environment, prefix)
         VALUES ($1, 'production', 'production_0123456789ab') RETURNING id",
    )
    .bind(provider_id)
    .fetch_one(pool)
    .await
    .unwrap();
    (user_id, offerer_id, api_key_id)
}

#[actix_web::test]
async fn every_email_is_delivered_with_its_subject_and_both_parts() {
    let smtp = SmtpServer::start().await;
    let app = app_sending_to(&smtp, |_| {}).await;
    let (user_id, offerer_id, api_key_id) = seed_subjects(&app.db.pool).await;
    let at = Utc.with_ymd_and_hms(2026, 12, 3, 9, 30, 0).unwrap();
    let venue = mail::VenueSummary {
        name: "Page & Plume Nantes".into(),
        siret: Some("12345678900011".into()),
        city: "Nantes".into(),
    };
    let offerer = mail::OffererSummary {
        name: "Librairies Page & Plume".into(),
        siren: "123456789".into(),
    };
    let tech = email("tech@billets.example");

    let mut tx = app.db.pool.begin().await.unwrap();
    let invitee = email("invitee@example.org");
    let mut expected: Vec<(i64, &str)> = vec![
        (
            mail::queue_password_reset(&mut tx, BASE_URL, user_id, &invitee, "Invitee")
                .await
                .unwrap(),
            "password_reset",
        ),
        (
            mail::queue_invitation(
                &mut tx,
                BASE_URL,
                &invitee,
                user_id,
                offerer_id,
                offerer.clone(),
                "Jeanne Dupont",
            )
            .await
            .unwrap(),
            "invitation",
        ),
        (
            mail::queue_api_key_reveal(
                &mut tx,
                BASE_URL,
                &tech,
                api_key_id,
                "Billets <Plus>",
                Environment::Production,
                "production_0123456789ab",
            )
            .await
            .unwrap(),
            "api_key_reveal",
        ),
    ];
    let granted = mail::AccessGrantedEmail {
        provider_name: "Billets <Plus>".into(),
        venue: venue.clone(),
        offerer: offerer.clone(),
        by: "Jeanne Dupont".into(),
        at,
    };
    let withdrawn = mail::AccessWithdrawnEmail {
        provider_name: "Billets <Plus>".into(),
        venue: venue.clone(),
        offerer: offerer.clone(),
        by: "pass Culture support".into(),
        at,
    };
    let received = mail::AccountRequestReceivedEmail {
        company_name: "Billets Plus SAS".into(),
        request_id: 7,
    };
    let approved = mail::AccountRequestApprovedEmail {
        company_name: "Billets Plus SAS".into(),
        provider_name: "Billets <Plus>".into(),
    };
    let rejected = mail::AccountRequestRejectedEmail {
        company_name: "Billets Plus SAS".into(),
        reason: "The SIREN belongs to a closed company.".into(),
    };
    let rolled = mail::ApiKeyChangedEmail {
        provider_name: "Billets <Plus>".into(),
        environment: Environment::Production,
        key_prefix: "production_0123456789ab".into(),
        change: mail::KeyChange::Rolled {
            new_key_prefix: "production_ba9876543210".into(),
            old_key_valid_until: Some(at),
        },
        by: "pass Culture support".into(),
        at,
    };
    let revoked = mail::ApiKeyChangedEmail {
        change: mail::KeyChange::Revoked,
        ..rolled.clone()
    };
    expected.push((
        enqueue(&mut tx, &tech, &granted).await,
        granted.template_name(),
    ));
    expected.push((
        enqueue(&mut tx, &tech, &withdrawn).await,
        withdrawn.template_name(),
    ));
    expected.push((
        enqueue(&mut tx, &tech, &received).await,
        received.template_name(),
    ));
    expected.push((
        enqueue(&mut tx, &tech, &approved).await,
        approved.template_name(),
    ));
    expected.push((
        enqueue(&mut tx, &tech, &rejected).await,
        rejected.template_name(),
    ));
    expected.push((
        enqueue(&mut tx, &tech, &rolled).await,
        rolled.template_name(),
    ));
    expected.push((
        enqueue(&mut tx, &tech, &revoked).await,
        revoked.template_name(),
    ));
    let templates: BTreeSet<&str> = expected.iter().map(|(_, t)| *t).collect();
    assert_eq!(templates.len(), 9, "every email of the catalogue");
    tx.commit().await.unwrap();

    let messages = smtp.wait_for_messages(expected.len()).await;
    assert_eq!(messages.len(), expected.len());
    wait_until("every message is marked sent", || all_sent(&app.db.pool)).await;
    let stored: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, template, subject FROM email_outbox ORDER BY id")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    for (id, template, subject) in stored {
        assert!(
            expected.contains(&(id, template.as_str())),
            "{id} {template}"
        );
        let message = messages
            .iter()
            .find(|m| m.message_id().starts_with(&format!("outbox.{id}.")))
            .unwrap_or_else(|| panic!("message {id} ({template}) was not received"));
        assert_eq!(message.subject(), subject, "{template}");
        let text = message.text();
        let html = message.html();
        assert!(
            !text.contains("&#") && !text.contains("&amp;"),
            "{template}: {text}"
        );
        assert!(html.contains("</p>"), "{template}: {html}");
        assert!(!html.contains("<Plus>"), "{template}: escaped in HTML");
        let names_the_provider = [
            "provider_access_granted",
            "provider_access_withdrawn",
            "provider_request_approved",
            "api_key_reveal",
            "api_key_changed",
        ];
        if names_the_provider.contains(&template.as_str()) {
            assert!(text.contains("Billets <Plus>"), "{template}: {text}");
            assert!(
                html.contains("Billets &#60;Plus&#62;"),
                "{template}: {html}"
            );
        }
        if template == "invitation" {
            let (_, token) = find_link(&text, &format!("{BASE_URL}{}/", mail::INVITATION_PATH));
            let row = tokens::find_valid(&app.db.pool, &token, TokenPurpose::Invitation)
                .await
                .unwrap()
                .expect("the invitation link is valid");
            assert_eq!(
                row.subject,
                TokenSubject::Invitation {
                    user_id,
                    offerer_id
                }
            );
        }
        if template == "api_key_reveal" {
            assert_eq!(message.rcpt_tos, ["tech@billets.example"]);
            assert!(subject.contains("production"), "{subject}");
            let (_, token) = find_link(&text, &format!("{BASE_URL}{}/", mail::API_KEY_REVEAL_PATH));
            let row = tokens::find_valid(&app.db.pool, &token, TokenPurpose::ApiKeyReveal)
                .await
                .unwrap()
                .expect("the reveal link is valid");
            assert_eq!(row.subject, TokenSubject::ApiKeyReveal { api_key_id });
        }
    }
}

#[actix_web::test]
async fn a_rolled_back_change_queues_no_email() {
    let smtp = SmtpServer::start().await;
    let app = app_sending_to(&smtp, |_| {}).await;
    let notice = mail::AccountRequestReceivedEmail {
        company_name: "Billets Plus SAS".into(),
        request_id: 1,
    };

    let mut tx = app.db.pool.begin().await.unwrap();
    enqueue(&mut tx, &email("rolled-back@example.org"), &notice).await;
    tx.rollback().await.unwrap();
    let mut tx = app.db.pool.begin().await.unwrap();
    let kept = enqueue(&mut tx, &email("committed@example.org"), &notice).await;
    tx.commit().await.unwrap();

    let messages = smtp.wait_for_messages(1).await;
    wait_until("the committed email is sent", || all_sent(&app.db.pool)).await;
    let rows = outbox_rows(&app.db.pool).await;
    assert_eq!(rows.keys().copied().collect::<Vec<_>>(), [kept]);
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(messages[0].rcpt_tos, ["committed@example.org"]);
}

#[actix_web::test]
async fn emails_queued_while_the_smtp_server_is_down_are_delivered_once_when_it_is_back() {
    let mut smtp = SmtpServer::start().await;
    let app = app_sending_to(&smtp, |settings| {
        // Keep retrying quickly, and never give up during the test.
        settings.mail.max_attempts = 1000;
        settings.mail.retry_base_delay = Duration::from_millis(20);
        settings.mail.retry_max_delay = Duration::from_millis(200);
    })
    .await;
    smtp.stop().await;

    // The actions that queue emails succeed at once while SMTP is down.
    let mut users = BTreeSet::new();
    for n in 0..5 {
        let address = format!("user{n}@example.org");
        let user_id = app.create_user(&address, PASSWORD, "pro").await;
        let started = Instant::now();
        let mut tx = app.db.pool.begin().await.unwrap();
        mail::queue_password_reset(&mut tx, BASE_URL, user_id, &email(&address), "User")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "queueing does not wait for SMTP"
        );
        users.insert(address);
    }
    // The worker tries, fails and keeps the messages pending.
    wait_until("every message failed at least twice", || async {
        outbox_rows(&app.db.pool)
            .await
            .values()
            .all(|(status, attempts)| status == "pending" && *attempts >= 2)
    })
    .await;
    let (errors,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM email_outbox WHERE last_error IS NOT NULL")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(errors, 5);
    assert!(smtp.messages().is_empty());
    // A page still answers while SMTP is down.
    assert_eq!(app.get("/sign-in").await.status(), 200);

    smtp.restart().await;
    wait_until("every message is sent", || all_sent(&app.db.pool)).await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), 5, "each message exactly once");
    let recipients: BTreeSet<String> = messages.iter().map(|m| m.rcpt_tos.join(",")).collect();
    assert_eq!(recipients, users);
    let ids: BTreeSet<String> = messages.iter().map(|m| m.message_id()).collect();
    assert_eq!(ids.len(), 5);
    let (lost,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM email_outbox WHERE status <> 'sent' OR sent_at IS NULL",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(lost, 0);
}

#[actix_web::test]
async fn two_workers_on_one_database_send_each_message_once() {
    let smtp = SmtpServer::start().await;
    let db = TestDatabase::create().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(data_dir.path().to_path_buf()).mail;
    settings.transport = smtp.transport();

    const COUNT: usize = 40;
    let mut tx = db.pool.begin().await.unwrap();
    for n in 0..COUNT {
        let notice = mail::AccountRequestReceivedEmail {
            company_name: format!("Company {n}"),
            request_id: n as i64,
        };
        enqueue(&mut tx, &email(&format!("contact{n}@example.org")), &notice).await;
    }
    tx.commit().await.unwrap();

    // Small batches, claimed at the same moment, round after round.
    let options = WorkerOptions {
        batch_size: 3,
        concurrency: 2,
        ..WorkerOptions::default()
    };
    let first = MailWorker::new(db.pool.clone(), &settings)
        .unwrap()
        .with_options(options);
    let second = MailWorker::new(db.pool.clone(), &settings)
        .unwrap()
        .with_options(options);
    assert_ne!(first.id(), second.id());
    let mut sent = [0usize; 2];
    loop {
        let (a, b) = tokio::join!(first.deliver_due(), second.deliver_due());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.retrying + a.gave_up + b.retrying + b.gave_up, 0);
        sent[0] += a.sent;
        sent[1] += b.sent;
        if a.claimed == 0 && b.claimed == 0 {
            break;
        }
    }
    assert_eq!(sent[0] + sent[1], COUNT);
    assert!(
        sent[0] > 0 && sent[1] > 0,
        "both workers took part: {sent:?}"
    );

    let messages = smtp.wait_for_messages(COUNT).await;
    assert_eq!(messages.len(), COUNT, "no message sent twice");
    let recipients: BTreeSet<String> = messages.iter().map(|m| m.rcpt_tos.join(",")).collect();
    assert_eq!(recipients.len(), COUNT);
    let by_worker: Vec<(String, i64)> = sqlx::query_as(
        "SELECT locked_by, count(*) FROM email_outbox WHERE status = 'sent' GROUP BY locked_by ORDER BY locked_by",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut expected = vec![
        (first.id().to_owned(), sent[0] as i64),
        (second.id().to_owned(), sent[1] as i64),
    ];
    expected.sort();
    assert_eq!(by_worker, expected);

    // And the running loops, started together on a second wave.
    let mut tx = db.pool.begin().await.unwrap();
    for n in 0..COUNT {
        let notice = mail::AccountRequestReceivedEmail {
            company_name: format!("Company {n}"),
            request_id: n as i64,
        };
        enqueue(&mut tx, &email(&format!("again{n}@example.org")), &notice).await;
    }
    let first = first.spawn();
    let second = second.spawn();
    tx.commit().await.unwrap();
    let messages = smtp.wait_for_messages(2 * COUNT).await;
    wait_until("the second wave is sent", || all_sent(&db.pool)).await;
    first.stop().await;
    second.stop().await;
    let messages_after = smtp.messages();
    assert_eq!(messages_after.len(), 2 * COUNT, "{}", messages.len());
    let ids: BTreeSet<String> = messages_after.iter().map(|m| m.message_id()).collect();
    assert_eq!(ids.len(), 2 * COUNT);
}

/// Run the real binary against a test database.
fn run_cli(db: &TestDatabase, args: &[&str]) -> (bool, String, String) {
    let data_dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_venue-access"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("VENUE_ACCESS_DATA_DIR", data_dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[actix_web::test]
async fn failed_emails_are_listed_and_retried_from_the_command_line() {
    let mut smtp = SmtpServer::start().await;
    let app = app_sending_to(&smtp, |settings| {
        settings.mail.max_attempts = 2;
        settings.mail.retry_base_delay = Duration::from_millis(20);
    })
    .await;
    smtp.stop().await;
    let notice = mail::AccountRequestApprovedEmail {
        company_name: "Billets Plus SAS".into(),
        provider_name: "Billets Plus".into(),
    };
    let mut tx = app.db.pool.begin().await.unwrap();
    let first = enqueue(&mut tx, &email("first@example.org"), &notice).await;
    let second = enqueue(&mut tx, &email("second@example.org"), &notice).await;
    tx.commit().await.unwrap();
    wait_until("both messages failed", || async {
        outbox_rows(&app.db.pool)
            .await
            .values()
            .all(|row| *row == ("failed".to_owned(), 2))
    })
    .await;

    let (ok, out, err) = run_cli(&app.db, &["mail", "failed"]);
    assert!(ok, "{err}");
    assert!(out.contains("2 failed email(s)"), "{out}");
    for (id, address) in [(first, "first@example.org"), (second, "second@example.org")] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("email {id} is listed:\n{out}"));
        assert!(line.contains("provider_request_approved"), "{line}");
        assert!(line.contains(address), "{line}");
        assert!(line.contains(" 2 "), "attempts: {line}");
    }

    smtp.restart().await;
    let (ok, out, err) = run_cli(&app.db, &["mail", "retry", &first.to_string()]);
    assert!(ok, "{err}");
    assert!(out.contains("1 email(s) queued again"), "{out}");
    let messages = smtp.wait_for_messages(1).await;
    assert_eq!(messages[0].rcpt_tos, ["first@example.org"]);
    wait_until("the retried email is sent", || async {
        outbox_rows(&app.db.pool).await[&first].0 == "sent"
    })
    .await;
    assert_eq!(outbox_rows(&app.db.pool).await[&second].0, "failed");

    let (ok, _, err) = run_cli(&app.db, &["mail", "retry", &first.to_string()]);
    assert!(!ok);
    assert!(
        err.contains(&format!("email {first} is sent, not failed")),
        "{err}"
    );
    let (ok, _, err) = run_cli(&app.db, &["mail", "retry", "999999"]);
    assert!(!ok);
    assert!(err.contains("no email with id 999999"), "{err}");
    let (ok, _, _) = run_cli(&app.db, &["mail", "retry"]);
    assert!(!ok, "an id or --all is required");

    let (ok, out, err) = run_cli(&app.db, &["mail", "retry", "--all"]);
    assert!(ok, "{err}");
    assert!(out.contains("1 email(s) queued again"), "{out}");
    wait_until("every email is sent", || all_sent(&app.db.pool)).await;
    assert_eq!(smtp.messages().len(), 2);
    let (ok, out, _) = run_cli(&app.db, &["mail", "failed"]);
    assert!(ok);
    assert!(out.contains("No failed emails."), "{out}");

    let audit: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT actor_kind::text, action, target_id, (details->>'failed_attempts')::bigint
         FROM audit_event WHERE target_kind = 'email_outbox' ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        audit,
        [
            (
                "cli".to_owned(),
                "email.retry".to_owned(),
                first.to_string(),
                2
            ),
            (
                "cli".to_owned(),
                "email.retry".to_owned(),
                second.to_string(),
                2
            ),
        ]
    );
}
