//! Reading the audit trail (support's audit page): every event, newest
//! first, narrowed by actor, offerer, provider, action and dates.
//! Events never hold secrets, so they are shown as recorded.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgPool};

use super::offerers::contains_pattern;

/// What the audit page is narrowed to; every part is optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Part of the actor's label (an email, a provider's name...).
    pub actor: Option<String>,
    pub offerer_id: Option<i64>,
    pub provider: Option<ProviderMatch>,
    pub action: Option<ActionMatch>,
    /// Events at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Events strictly before this instant.
    pub before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub enum ProviderMatch {
    Id(i64),
    /// Part of the provider's name.
    Name(String),
}

#[derive(Debug, Clone)]
pub enum ActionMatch {
    Exact(String),
    /// Every action of a resource, e.g. `api_key.`.
    Prefix(String),
}

impl ActionMatch {
    /// `api_key.reveal` is one action; `api_key.` or `api_key` all of them.
    pub fn parse(typed: &str) -> Option<Self> {
        let typed = typed.trim().to_lowercase();
        if typed.is_empty() {
            None
        } else if let Some(resource) = typed.strip_suffix('.') {
            Some(ActionMatch::Prefix(format!("{resource}.")))
        } else if typed.contains('.') {
            Some(ActionMatch::Exact(typed))
        } else {
            Some(ActionMatch::Prefix(format!("{typed}.")))
        }
    }
}

/// One event as the audit page shows it.
#[derive(Debug, Clone, FromRow)]
pub struct AuditLine {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_label: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub offerer_id: Option<i64>,
    pub offerer_name: Option<String>,
    pub venue_id: Option<i64>,
    pub venue_name: Option<String>,
    pub provider_id: Option<i64>,
    pub provider_name: Option<String>,
    pub details: Value,
    pub client_ip: Option<String>,
}

impl AuditLine {
    /// The details as `(name, value)` lines for people to read: strings
    /// without quotes, lists of plain values joined by commas, anything
    /// nested as compact JSON. Empty when there are none.
    pub fn details_lines(&self) -> Vec<(String, String)> {
        details_lines(&self.details)
    }
}

fn details_lines(details: &Value) -> Vec<(String, String)> {
    fn plain(value: &Value) -> String {
        match value {
            Value::String(text) => text.clone(),
            Value::Null => "—".to_owned(),
            Value::Array(items)
                if items
                    .iter()
                    .all(|i| !matches!(i, Value::Array(_) | Value::Object(_))) =>
            {
                items.iter().map(plain).collect::<Vec<_>>().join(", ")
            }
            other => other.to_string(),
        }
    }
    match details {
        Value::Null => Vec::new(),
        Value::Object(map) => map
            .iter()
            .map(|(name, value)| (name.replace('_', " "), plain(value)))
            .collect(),
        other => vec![("details".to_owned(), plain(other))],
    }
}

const FILTER: &str = "($1::text IS NULL OR lower(e.actor_label) LIKE $1)
    AND ($2::bigint IS NULL OR e.offerer_id = $2)
    AND ($3::bigint IS NULL OR e.provider_id = $3 OR e.actor_provider_id = $3)
    AND ($4::text IS NULL
         OR e.provider_id IN (SELECT id FROM provider WHERE lower(name) LIKE $4)
         OR e.actor_provider_id IN (SELECT id FROM provider WHERE lower(name) LIKE $4))
    AND ($5::text IS NULL OR e.action = $5)
    AND ($6::text IS NULL OR e.action LIKE $6)
    AND ($7::timestamptz IS NULL OR e.occurred_at >= $7)
    AND ($8::timestamptz IS NULL OR e.occurred_at < $8)";

/// A `LIKE` pattern matching text that starts with `prefix` (wildcards escaped).
fn prefix_pattern(prefix: &str) -> String {
    let mut pattern = contains_pattern(prefix);
    pattern.remove(0);
    pattern
}

/// The events matching `filter`, newest first; and how many match in all.
pub async fn search(
    db: &PgPool,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditLine>, i64), sqlx::Error> {
    let actor = filter.actor.as_deref().map(contains_pattern);
    let (provider_id, provider_name) = match &filter.provider {
        Some(ProviderMatch::Id(id)) => (Some(*id), None),
        Some(ProviderMatch::Name(name)) => (None, Some(contains_pattern(name))),
        None => (None, None),
    };
    let (action, action_prefix) = match &filter.action {
        Some(ActionMatch::Exact(action)) => (Some(action.clone()), None),
        Some(ActionMatch::Prefix(prefix)) => (None, Some(prefix_pattern(prefix))),
        None => (None, None),
    };
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM audit_event e WHERE {FILTER}"
    )))
    .bind(&actor)
    .bind(filter.offerer_id)
    .bind(provider_id)
    .bind(&provider_name)
    .bind(&action)
    .bind(&action_prefix)
    .bind(filter.from)
    .bind(filter.before)
    .fetch_one(db)
    .await?;
    let lines = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT e.id, e.occurred_at, e.actor_kind::text AS actor_kind, e.actor_label, e.action,
                e.target_kind, e.target_id, e.offerer_id, o.name AS offerer_name,
                e.venue_id, v.name AS venue_name, e.provider_id, p.name AS provider_name,
                e.details, e.client_ip
           FROM audit_event e
           LEFT JOIN offerer o ON o.id = e.offerer_id
           LEFT JOIN venue v ON v.id = e.venue_id
           LEFT JOIN provider p ON p.id = e.provider_id
          WHERE {FILTER}
          ORDER BY e.occurred_at DESC, e.id DESC
          LIMIT $9 OFFSET $10"
    )))
    .bind(&actor)
    .bind(filter.offerer_id)
    .bind(provider_id)
    .bind(&provider_name)
    .bind(&action)
    .bind(&action_prefix)
    .bind(filter.from)
    .bind(filter.before)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok((lines, total))
}

/// Every action recorded so far, for the filter's choices. One index probe
/// per distinct action (walking `audit_event_action_idx` from one action to
/// the next) instead of reading every event.
pub async fn actions(db: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "WITH RECURSIVE known (action) AS (
             (SELECT action FROM audit_event ORDER BY action LIMIT 1)
             UNION ALL
             SELECT (SELECT e.action FROM audit_event e WHERE e.action > known.action
                      ORDER BY e.action LIMIT 1)
               FROM known WHERE known.action IS NOT NULL
         )
         SELECT action FROM known WHERE action IS NOT NULL",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn details_read_as_lines() {
        let cases = [
            (json!(null), vec![]),
            (json!({}), vec![]),
            (
                json!({ "prefix": "integration_ab12", "venues": 2, "changed": ["name", "kind"] }),
                vec![
                    ("changed", "name, kind"),
                    ("prefix", "integration_ab12"),
                    ("venues", "2"),
                ],
            ),
            (
                json!({ "reveal_link_sent_to": "a@b.example", "reason": null, "old": { "a": 1 } }),
                vec![
                    ("old", "{\"a\":1}"),
                    ("reason", "—"),
                    ("reveal link sent to", "a@b.example"),
                ],
            ),
            (json!("free text"), vec![("details", "free text")]),
        ];
        for (details, expected) in cases {
            let expected: Vec<(String, String)> = expected
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect();
            assert_eq!(details_lines(&details), expected, "{details}");
        }
    }

    #[test]
    fn actions_are_exact_or_a_whole_resource() {
        let cases = [
            ("api_key.reveal", "exact api_key.reveal"),
            (" API_KEY.Reveal ", "exact api_key.reveal"),
            ("api_key.", "prefix api_key."),
            ("api_key", "prefix api_key."),
        ];
        for (typed, expected) in cases {
            let got = match ActionMatch::parse(typed) {
                Some(ActionMatch::Exact(a)) => format!("exact {a}"),
                Some(ActionMatch::Prefix(p)) => format!("prefix {p}"),
                None => "none".into(),
            };
            assert_eq!(got, expected, "{typed:?}");
        }
        assert!(ActionMatch::parse("  ").is_none());
        assert_eq!(prefix_pattern("a_b."), "a\\_b.%");
    }
}
