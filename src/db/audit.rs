//! The append-only audit trail. Every change records one event in the same
//! transaction as the change itself; the table refuses updates and deletes.

use serde_json::Value;
use sqlx::PgExecutor;

/// Who did it.
#[derive(Debug, Clone)]
pub enum Actor {
    User {
        id: i64,
        email: String,
    },
    Provider {
        id: i64,
        name: String,
    },
    /// An operator command (`venue-access ...`).
    Cli,
    /// The application itself (demo seeding, background jobs).
    System,
    /// Someone not signed in, known by the address they gave or were sent
    /// a link to (a public form, an emailed link).
    Visitor {
        email: String,
    },
}

impl Actor {
    fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } => "user",
            Actor::Provider { .. } => "provider",
            Actor::Cli => "cli",
            Actor::System => "system",
            Actor::Visitor { .. } => "visitor",
        }
    }

    fn label(&self) -> String {
        match self {
            Actor::User { email, .. } => email.clone(),
            Actor::Provider { name, .. } => name.clone(),
            Actor::Cli => "command line".to_owned(),
            Actor::System => "system".to_owned(),
            Actor::Visitor { email } => email.clone(),
        }
    }
}

/// Where the request came from, when there was one.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One event, built with [`AuditEvent::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    actor: Actor,
    action: &'static str,
    target_kind: Option<&'static str>,
    target_id: Option<String>,
    offerer_id: Option<i64>,
    venue_id: Option<i64>,
    provider_id: Option<i64>,
    details: Value,
    client: ClientInfo,
}

impl AuditEvent {
    /// `action` is `resource.verb`, e.g. `venue_access.grant`.
    pub fn new(actor: Actor, action: &'static str) -> Self {
        Self {
            actor,
            action,
            target_kind: None,
            target_id: None,
            offerer_id: None,
            venue_id: None,
            provider_id: None,
            details: Value::Object(Default::default()),
            client: ClientInfo::default(),
        }
    }

    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target_kind = Some(kind);
        self.target_id = Some(id.to_string());
        self
    }
    pub fn offerer(mut self, id: i64) -> Self {
        self.offerer_id = Some(id);
        self
    }
    pub fn venue(mut self, id: i64) -> Self {
        self.venue_id = Some(id);
        self
    }
    pub fn provider(mut self, id: i64) -> Self {
        self.provider_id = Some(id);
        self
    }
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
    pub fn client(mut self, client: &ClientInfo) -> Self {
        self.client = client.clone();
        self
    }

    /// Append the event. Call it with the transaction of the change it records.
    pub async fn record<'e>(self, executor: impl PgExecutor<'e>) -> Result<(), sqlx::Error> {
        let (actor_user_id, actor_provider_id) = match &self.actor {
            Actor::User { id, .. } => (Some(*id), None),
            Actor::Provider { id, .. } => (None, Some(*id)),
            Actor::Cli | Actor::System | Actor::Visitor { .. } => (None, None),
        };
        sqlx::query(
            "INSERT INTO audit_event (actor_kind, actor_user_id, actor_provider_id, actor_label,
                 action, target_kind, target_id, offerer_id, venue_id, provider_id, details,
                 client_ip, user_agent)
             VALUES ($1::audit_actor_kind, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(self.actor.kind())
        .bind(actor_user_id)
        .bind(actor_provider_id)
        .bind(self.actor.label())
        .bind(self.action)
        .bind(self.target_kind)
        .bind(self.target_id)
        .bind(self.offerer_id)
        .bind(self.venue_id)
        .bind(self.provider_id)
        .bind(self.details)
        .bind(self.client.ip)
        .bind(
            self.client
                .user_agent
                .map(|ua| ua.chars().take(300).collect::<String>()),
        )
        .execute(executor)
        .await?;
        Ok(())
    }
}
