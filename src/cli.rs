//! Command-line interface: `serve` and the operator commands. Every command
//! resolves the database like `serve` (DATABASE_URL, else the embedded
//! cluster) and fails with one clear line.

use std::io::BufRead;

use clap::{Parser, Subcommand};

use crate::config::{MailTransportSettings, Secret, Settings};
use crate::db::Database;
use crate::db::audit::{Actor, AuditEvent};
use crate::db::providers::ProviderKind;
use crate::db::users::{self, Role};
use crate::demo::{self, SeedOutcome};
use crate::domain::{Email, Environment};
use crate::mail::outbox;
use crate::startup::Application;

#[derive(Parser, Debug)]
#[command(
    name = "venue-access",
    version,
    about = "Venue access for pass Culture providers: pro interface, back-office and provider REST API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the web server (applies migrations; seeds demo data into an empty database).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080; env BIND_ADDRESS).
        #[arg(long)]
        bind: Option<String>,
        /// Do not seed demo data, even into an empty database (env DEMO_DATA=off).
        #[arg(long)]
        no_demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Seed the demo data if the database is empty.
    SeedDemo,
    /// Create a support agent account. The password is read from standard
    /// input with --password-stdin, or generated and printed once.
    CreateSupportUser {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Support agent")]
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Manage providers.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Issue and revoke API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Give or withdraw a provider's access to a venue.
    #[command(subcommand)]
    Access(AccessCommand),
    /// Emails the outbox could not deliver (until the back-office shows them).
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// List the emails that failed after their last attempt.
    Failed,
    /// Queue failed emails again, with a fresh set of attempts.
    Retry {
        /// The email's id (from `mail failed`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<i64>,
        /// Every failed email.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ProviderCommand {
    /// Create a provider; prints its id.
    Create {
        #[arg(long)]
        name: String,
        /// public (listed to offerers) or private (granted by support only)
        #[arg(long)]
        kind: ProviderKind,
        /// Technical contact email.
        #[arg(long)]
        contact: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Issue a key; prints it alone on standard output, once.
    Issue {
        #[arg(long)]
        provider: String,
        #[arg(long)]
        environment: Environment,
    },
    /// Revoke a key at once, by its prefix (e.g. integration_0123456789ab).
    Revoke {
        #[arg(long)]
        prefix: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccessCommand {
    /// Give a provider access to a venue.
    Grant {
        #[arg(long)]
        provider: String,
        /// The venue's SIRET or id.
        #[arg(long)]
        venue: String,
    },
    /// Withdraw a provider's access to a venue.
    Revoke {
        #[arg(long)]
        provider: String,
        /// The venue's SIRET or id.
        #[arg(long)]
        venue: String,
    },
}

/// A failure to report in one line.
pub type CliResult = anyhow::Result<()>;

pub async fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Serve { bind, no_demo } => serve(bind, no_demo).await,
        Command::Migrate => {
            with_database(None, |db| async move {
                db.migrate().await?;
                println!("Migrations applied ({}).", db.description());
                Ok(())
            })
            .await
        }
        Command::SeedDemo => {
            with_database(None, |db| async move {
                db.migrate().await?;
                match demo::seed_demo_if_empty(&db.pool).await? {
                    SeedOutcome::Seeded => print_demo_accounts(),
                    SeedOutcome::AlreadyPopulated => {
                        println!("The database already holds data: nothing seeded.")
                    }
                }
                Ok(())
            })
            .await
        }
        Command::CreateSupportUser {
            email,
            name,
            password_stdin,
        } => create_support_user(email, name, password_stdin).await,
        Command::Provider(ProviderCommand::Create {
            name,
            kind,
            contact,
        }) => operator::create_provider(name, kind, contact).await,
        Command::Key(KeyCommand::Issue {
            provider,
            environment,
        }) => operator::issue_key(provider, environment).await,
        Command::Key(KeyCommand::Revoke { prefix }) => operator::revoke_key(prefix).await,
        Command::Access(AccessCommand::Grant { provider, venue }) => {
            operator::change_access(provider, venue, true).await
        }
        Command::Access(AccessCommand::Revoke { provider, venue }) => {
            operator::change_access(provider, venue, false).await
        }
        Command::Mail { command } => mail(command).await,
    }
}

/// Connect, run `f`, and always release the database (stopping the embedded
/// cluster if this process started it).
async fn with_database<F, Fut>(settings: Option<Settings>, f: F) -> CliResult
where
    F: FnOnce(std::sync::Arc<Database>) -> Fut,
    Fut: std::future::Future<Output = CliResult>,
{
    let settings = match settings {
        Some(s) => s,
        None => Settings::from_env(None)?,
    };
    let db = std::sync::Arc::new(Database::connect(&settings).await?);
    let result = f(db.clone()).await;
    if let Ok(db) = std::sync::Arc::try_unwrap(db) {
        db.shutdown().await;
    }
    result
}

fn demo_enabled(settings: &Settings, no_demo: bool) -> bool {
    if no_demo {
        return false;
    }
    match std::env::var("DEMO_DATA").ok().as_deref().map(str::trim) {
        Some("off" | "false" | "0" | "no") => false,
        Some("on" | "true" | "1" | "yes") => true,
        _ => settings.api_environment == crate::domain::Environment::Integration,
    }
}

async fn serve(bind: Option<String>, no_demo: bool) -> CliResult {
    let settings = Settings::from_env(bind)?;
    let seed = demo_enabled(&settings, no_demo);
    with_database(Some(settings.clone()), |db| async move {
        // Claim the port first: a port in use fails before any database work.
        let app = Application::build(&settings, db.pool.clone()).await?;
        db.migrate().await?;
        let seeded = seed
            && matches!(
                demo::seed_demo_if_empty(&db.pool).await?,
                SeedOutcome::Seeded
            );
        let url = format!("http://{}:{}", settings.bind.ip(), app.port());
        println!("venue-access is running at {url}");
        println!("  database: {}", db.description());
        println!(
            "  provider API environment: {}",
            settings.api_environment.as_str()
        );
        if let MailTransportSettings::File { directory } = &settings.mail.transport {
            println!(
                "  emails are written as .eml files to {}",
                directory.display()
            );
        }
        if seeded {
            println!("Demo data was seeded into the empty database.");
            print_demo_accounts();
        }
        println!("Press Ctrl-C to stop.");
        app.run_until_stopped().await?;
        println!("Stopped.");
        Ok(())
    })
    .await
}

fn print_demo_accounts() {
    println!("Demo sign-in accounts (password: {}):", demo::DEMO_PASSWORD);
    for account in demo::DEMO_ACCOUNTS {
        println!(
            "  {:<40} {:<8} {}",
            account.email, account.role, account.description
        );
    }
}

async fn create_support_user(email: String, name: String, password_stdin: bool) -> CliResult {
    let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        anyhow::bail!("--name: give a display name of 1 to 100 characters");
    }
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        crate::auth::password::check_new_password(&password)
            .map_err(|e| anyhow::anyhow!("password: {e}"))?;
        (password, false)
    } else {
        (crate::crypto::new_token(), true)
    };
    let hash = crate::auth::password::hash(Secret::new(password.clone())).await?;
    with_database(None, |db| async move {
        db.migrate().await?;
        let mut tx = db.pool.begin().await?;
        if users::find_by_email(&mut *tx, &email).await?.is_some() {
            anyhow::bail!("an account with email {} already exists", email.as_str());
        }
        let id = users::insert(&mut *tx, &email, &name, Role::Support, Some(&hash)).await?;
        AuditEvent::new(Actor::Cli, "user.create")
            .target("user_account", id)
            .details(serde_json::json!({ "role": "support" }))
            .record(&mut *tx)
            .await?;
        tx.commit().await?;
        println!("Support agent {} created (id {id}).", email.as_str());
        if generated {
            println!("Generated password (shown once, store it now): {password}");
        }
        Ok(())
    })
    .await
}

async fn mail(command: MailCommand) -> CliResult {
    with_database(None, |db| async move {
        db.migrate().await?;
        match command {
            MailCommand::Failed => list_failed_emails(&db.pool).await,
            MailCommand::Retry { id, all } => {
                let ids = if all { None } else { id.map(|id| vec![id]) };
                retry_failed_emails(&db.pool, ids).await
            }
        }
    })
    .await
}

async fn list_failed_emails(pool: &sqlx::PgPool) -> CliResult {
    let failed = outbox::list_failed(pool).await?;
    if failed.is_empty() {
        println!("No failed emails.");
        return Ok(());
    }
    println!(
        "{:>8}  {:<17}  {:>8}  {:<26}  {:<40}  last error",
        "id", "failed at (UTC)", "attempts", "template", "recipient"
    );
    for email in &failed {
        let error: String = email
            .last_error
            .as_deref()
            .unwrap_or("")
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(120)
            .collect();
        println!(
            "{:>8}  {:<17}  {:>8}  {:<26}  {:<40}  {error}",
            email.id,
            email.failed_at.format("%Y-%m-%d %H:%M"),
            email.attempts,
            email.template,
            email.recipient,
        );
    }
    println!(
        "{} failed email(s). Queue again with `venue-access mail retry <ID>` or `--all`.",
        failed.len()
    );
    Ok(())
}

async fn retry_failed_emails(pool: &sqlx::PgPool, ids: Option<Vec<i64>>) -> CliResult {
    let mut tx = pool.begin().await?;
    let requeued = outbox::requeue_failed(&mut tx, ids.as_deref()).await?;
    if let Some(id) = ids.as_ref().and_then(|ids| ids.first())
        && requeued.is_empty()
    {
        let status = outbox::find(&mut *tx, *id).await?;
        match status {
            None => anyhow::bail!("no email with id {id}"),
            Some(entry) => anyhow::bail!(
                "email {id} is {}, not failed: only failed emails can be retried",
                entry.status
            ),
        }
    }
    for email in &requeued {
        AuditEvent::new(Actor::Cli, "email.retry")
            .target("email_outbox", email.id)
            .details(serde_json::json!({
                "template": email.template,
                "failed_attempts": email.attempts,
            }))
            .record(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    if requeued.is_empty() {
        println!("No failed emails.");
    } else {
        for email in &requeued {
            println!(
                "Email {} ({}) to {} queued again.",
                email.id, email.template, email.recipient
            );
        }
        println!(
            "{} email(s) queued again: a running server sends them shortly.",
            requeued.len()
        );
    }
    Ok(())
}

/// Operator commands on providers, keys and access. Each writes an audit
/// event with the command line as actor, in the same transaction.
mod operator {
    use super::{CliResult, with_database};
    use crate::db::audit::{Actor, AuditEvent};
    use crate::db::grants::{self, GrantChannel};
    use crate::db::providers::{self, ProviderKind};
    use crate::db::{constraint, keys};
    use crate::domain::{ApiKeyPrefix, Email, Environment, Siret};

    pub async fn create_provider(name: String, kind: ProviderKind, contact: String) -> CliResult {
        let name = crate::domain::required_line(&name, "--name", 140)?;
        let contact = Email::parse(&contact).map_err(|e| anyhow::anyhow!("--contact: {e}"))?;
        with_database(None, |db| async move {
            db.migrate().await?;
            let mut tx = db.pool.begin().await?;
            let id = match providers::insert(&mut *tx, &name, kind, &contact, None).await {
                Ok(id) => id,
                Err(e) => match constraint::field_error(&e) {
                    Some((_, message)) => anyhow::bail!("--name: {message}"),
                    None => return Err(e.into()),
                },
            };
            AuditEvent::new(Actor::Cli, "provider.create")
                .target("provider", id)
                .provider(id)
                .details(serde_json::json!({ "name": name, "kind": kind }))
                .record(&mut *tx)
                .await?;
            tx.commit().await?;
            println!("{id}");
            Ok(())
        })
        .await
    }

    pub async fn issue_key(provider: String, environment: Environment) -> CliResult {
        with_database(None, |db| async move {
            db.migrate().await?;
            let mut tx = db.pool.begin().await?;
            let provider = providers::find_by_id_or_name(&mut *tx, &provider)
                .await?
                .ok_or_else(|| anyhow::anyhow!("--provider: no provider {provider:?}"))?;
            let (key_id, key) =
                keys::issue_revealed(&mut *tx, provider.id, environment, None).await?;
            AuditEvent::new(Actor::Cli, "api_key.issue")
                .target("api_key", key_id)
                .provider(provider.id)
                .details(serde_json::json!({
                    "prefix": key.prefix().as_str(),
                    "environment": environment.as_str(),
                }))
                .record(&mut *tx)
                .await?;
            tx.commit().await?;
            println!("{}", key.expose_secret_string());
            Ok(())
        })
        .await
    }

    pub async fn revoke_key(prefix: String) -> CliResult {
        let prefix =
            ApiKeyPrefix::parse(prefix.trim()).map_err(|e| anyhow::anyhow!("--prefix: {e}"))?;
        with_database(None, |db| async move {
            db.migrate().await?;
            let mut tx = db.pool.begin().await?;
            let (key_id, provider_id) = keys::revoke_by_prefix(&mut *tx, &prefix, None)
                .await?
                .ok_or_else(|| anyhow::anyhow!("--prefix: no live key {}", prefix.as_str()))?;
            AuditEvent::new(Actor::Cli, "api_key.revoke")
                .target("api_key", key_id)
                .provider(provider_id)
                .details(serde_json::json!({ "prefix": prefix.as_str() }))
                .record(&mut *tx)
                .await?;
            tx.commit().await?;
            println!("Key {} revoked.", prefix.as_str());
            Ok(())
        })
        .await
    }

    pub async fn change_access(provider: String, venue: String, give: bool) -> CliResult {
        let venue_arg = venue.trim().to_owned();
        // A SIRET (14 digits, checked) or a venue id.
        let siret = if venue_arg.len() == 14 {
            Some(Siret::parse(&venue_arg).map_err(|e| anyhow::anyhow!("--venue: {e}"))?)
        } else {
            None
        };
        let venue_id: Option<i64> = if siret.is_none() {
            Some(venue_arg.parse().map_err(|_| {
                anyhow::anyhow!("--venue: give a 14-digit SIRET or a venue id, not {venue_arg:?}")
            })?)
        } else {
            None
        };
        with_database(None, |db| async move {
            db.migrate().await?;
            let mut tx = db.pool.begin().await?;
            let provider = providers::find_by_id_or_name(&mut *tx, &provider)
                .await?
                .ok_or_else(|| anyhow::anyhow!("--provider: no provider {provider:?}"))?;
            let venue: Option<(i64, i64, String)> = sqlx::query_as(
                "SELECT id, offerer_id, name FROM venue WHERE id = $1 OR siret = $2",
            )
            .bind(venue_id)
            .bind(siret.as_ref().map(|s| s.as_str().to_owned()))
            .fetch_optional(&mut *tx)
            .await?;
            let (venue_id, offerer_id, venue_name) =
                venue.ok_or_else(|| anyhow::anyhow!("--venue: no venue {venue_arg:?}"))?;
            let (changed, action) = if give {
                (
                    grants::grant(&mut *tx, provider.id, venue_id, GrantChannel::Cli, None).await?,
                    "venue_access.grant",
                )
            } else {
                (
                    grants::revoke(&mut *tx, provider.id, venue_id, GrantChannel::Cli, None)
                        .await?,
                    "venue_access.revoke",
                )
            };
            let Some(grant_id) = changed else {
                println!(
                    "Nothing to do: {} {} access to {venue_name}.",
                    provider.name,
                    if give { "already has" } else { "has no" }
                );
                return Ok(());
            };
            AuditEvent::new(Actor::Cli, action)
                .target("venue_access_grant", grant_id)
                .offerer(offerer_id)
                .venue(venue_id)
                .provider(provider.id)
                .details(serde_json::json!({ "provider_name": provider.name, "channel": "cli" }))
                .record(&mut *tx)
                .await?;
            tx.commit().await?;
            println!(
                "{} {} access to {venue_name}.",
                provider.name,
                if give { "now has" } else { "no longer has" }
            );
            Ok(())
        })
        .await
    }
}
