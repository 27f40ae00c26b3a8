//! Test harness: each test boots the real application on port 0 against a
//! fresh database cloned from a template migrated once per test run, and
//! drives it over HTTP with a cookie-keeping client that does not follow
//! redirects. The database is dropped when the test ends.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use venue_access::config::{MailSettings, MailTransportSettings, Settings};
use venue_access::db::MIGRATOR;
use venue_access::db::embedded::EmbeddedPostgres;
use venue_access::domain::Environment;
use venue_access::startup::Application;

/// How the tests reach PostgreSQL: admin connection options (database
/// `postgres`), resolved once per process like the app does.
struct Server {
    admin: PgConnectOptions,
    template: String,
    /// A URL for a database of this server, for child processes: `{db}` is replaced.
    url_pattern: String,
}

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        // Async setup on a private runtime: each test has its own runtime.
        std::thread::spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("test runtime")
                .block_on(prepare_server())
        })
        .join()
        .expect("test database setup panicked")
    })
}

async fn prepare_server() -> Server {
    let (admin, url_pattern) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            let mut pattern = url::Url::parse(url.trim()).expect("DATABASE_URL is not a URL");
            pattern.set_path("/DBNAME");
            let options = PgConnectOptions::from_str(&url)
                .expect("DATABASE_URL is not a valid PostgreSQL URL")
                .database("postgres");
            (options, pattern.to_string())
        }
        _ => {
            let data = venue_access::config::default_data_dir().join("postgres");
            let cluster = EmbeddedPostgres::ensure_running(&data)
                .await
                .unwrap_or_else(|e| panic!("embedded PostgreSQL for tests: {e}"));
            let options = cluster.connect_options("postgres");
            // Stopped when this test process exits, if it started it.
            cluster.stop_when_process_exits();
            (options, cluster.database_url("DBNAME"))
        }
    };
    let template = ensure_template(&admin).await;
    Server {
        admin,
        template,
        url_pattern,
    }
}

/// The template's name carries a digest of the migrations, so a changed
/// migration gets a new template and an unchanged one is reused across runs.
async fn ensure_template(admin: &PgConnectOptions) -> String {
    let mut digest = Vec::new();
    for migration in MIGRATOR.iter() {
        digest.extend_from_slice(&migration.version.to_be_bytes());
        digest.extend_from_slice(&migration.checksum);
    }
    let name = format!(
        "va_template_{}",
        &hex::encode(venue_access::crypto::sha256(&digest))[..16]
    );
    let mut conn = PgConnection::connect_with(admin)
        .await
        .expect("cannot connect to PostgreSQL for the tests");
    // One process at a time builds the template.
    conn.execute("SELECT pg_advisory_lock(727274)")
        .await
        .unwrap();
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
    if exists.is_none() {
        let building = format!("{name}_building");
        conn.execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {building}"
        )))
        .await
        .unwrap();
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {building}")))
            .await
            .unwrap();
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(admin.clone().database(&building))
            .await
            .unwrap();
        MIGRATOR.run(&pool).await.expect("migrations failed");
        pool.close().await;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {building} RENAME TO {name}"
        )))
        .await
        .unwrap();
        conn.execute(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {name} WITH IS_TEMPLATE true"
        )))
        .await
        .unwrap();
    }
    conn.execute("SELECT pg_advisory_unlock(727274)")
        .await
        .unwrap();
    conn.close().await.ok();
    name
}

/// A fresh database for one test, dropped on drop.
pub struct TestDatabase {
    pub pool: PgPool,
    pub name: String,
}

impl TestDatabase {
    /// A `DATABASE_URL` for this database, for the CLI binary.
    pub fn url(&self) -> String {
        server().url_pattern.replace("DBNAME", &self.name)
    }
}

impl TestDatabase {
    pub async fn create() -> Self {
        let server = server();
        let name = format!("va_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&server.admin).await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE {}",
            server.template
        )))
        .await
        .expect("cannot create the test database");
        conn.close().await.ok();
        let options = server.admin.clone().database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect_with(options)
            .await
            .unwrap();
        Self { pool, name }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = server().admin.clone();
        // Drop from a private runtime (this may run during a panic unwind,
        // and the test's runtime is blocked meanwhile): FORCE ends the
        // connections the test's pool and server still hold.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                        let _ = conn
                            .execute(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .await;
                    }
                })
        })
        .join();
    }
}

/// Settings for a test server: no environment variables are read.
pub fn test_settings(mail_dir: PathBuf) -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: None,
        data_dir: mail_dir.clone(),
        base_url: "http://127.0.0.1".into(),
        api_environment: Environment::Integration,
        api_rate_limit_per_minute: 200,
        cookie_secure: false,
        session_key: Some(venue_access::config::Secret::new(vec![7u8; 64])),
        session_idle_timeout: Duration::from_secs(1800),
        session_absolute_lifetime: Duration::from_secs(12 * 3600),
        mail: MailSettings {
            transport: MailTransportSettings::File {
                directory: mail_dir.join("mail"),
            },
            sender: "venue access <no-reply@venue-access.test>".into(),
            support_email: "support@venue-access.test".into(),
            poll_interval: Duration::from_millis(100),
            max_attempts: 3,
            retry_base_delay: Duration::from_millis(50),
            retry_max_delay: Duration::from_millis(500),
        },
        run_mail_worker: false,
        http_workers: 1,
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    _data_dir: tempfile::TempDir,
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Boot with adjusted settings.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDatabase::create().await;
        let data_dir = tempfile::tempdir().unwrap();
        let mut settings = test_settings(data_dir.path().to_path_buf());
        adjust(&mut settings);
        let app = Application::build(&settings, db.pool.clone())
            .await
            .expect("the application did not build");
        let port = app.port();
        actix_web::rt::spawn(app.run_until_stopped());
        Self {
            address: format!("http://127.0.0.1:{port}"),
            client: new_client(),
            db,
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    /// POST a form with the CSRF token taken from `form_page`.
    pub async fn post_form(
        &self,
        path: &str,
        form_page: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let html = self.get_html(form_page).await;
        let token = csrf_token(&html);
        let mut body: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        body.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&body)
            .send()
            .await
            .unwrap()
    }

    /// Create an account directly in the database.
    pub async fn create_user(&self, email: &str, password: &str, role: &str) -> i64 {
        let hash = venue_access::auth::password::hash_password(password).unwrap();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO user_account (email, display_name, role, password_hash)
             VALUES ($1, $2, $3::user_role, $4) RETURNING id",
        )
        .bind(email)
        .bind(format!("User {email}"))
        .bind(role)
        .bind(hash)
        .fetch_one(&self.db.pool)
        .await
        .unwrap();
        id
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.sign_in_with(&self.client, email, password).await
    }

    /// Sign in from another browser (a client with its own cookie jar).
    pub async fn sign_in_with(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let html = client
            .get(self.url("/sign-in"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = csrf_token(&html);
        client
            .post(self.url("/sign-in"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }
}

pub const PASSWORD: &str = "a long test password";

/// The hidden CSRF field's value in a page.
pub fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF token in page:\n{html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
