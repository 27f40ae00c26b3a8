//! The two use cases shared by the offerer interface and the back-office:
//! give a provider access to venues, and withdraw a provider's access to a
//! venue. Each change, its audit event and the email to the provider's
//! technical contact commit in one transaction; `channel` records where it
//! was made.

use chrono::Utc;
use sqlx::{PgPool, Postgres, Transaction};

use crate::db::audit::{Actor, AuditEvent, ClientInfo};
use crate::db::grants::{self, GrantChannel};
use crate::db::offerers::Offerer;
use crate::db::users::UserAccount;
use crate::domain::Email;
use crate::mail::{self, AccessGrantedEmail, AccessWithdrawnEmail, OffererSummary, VenueSummary};
use crate::web::error::PageError;

/// Who acts, from where.
pub struct ActingUser<'a> {
    pub account: &'a UserAccount,
    pub client: ClientInfo,
}

impl ActingUser<'_> {
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.account.id,
            email: self.account.email.clone(),
        }
    }
}

/// A venue named in a change.
#[derive(Debug, Clone)]
pub struct VenueRef {
    pub id: i64,
    pub name: String,
    pub siret: Option<String>,
    pub city: String,
}

impl From<&crate::db::venues::Venue> for VenueRef {
    fn from(v: &crate::db::venues::Venue) -> Self {
        Self {
            id: v.id,
            name: v.name.clone(),
            siret: v.siret.clone(),
            city: v.city.clone(),
        }
    }
}

impl From<&crate::db::offerers::VenueChoice> for VenueRef {
    fn from(v: &crate::db::offerers::VenueChoice) -> Self {
        Self {
            id: v.id,
            name: v.name.clone(),
            siret: v.siret.clone(),
            city: v.city.clone(),
        }
    }
}

/// A provider named in a change.
#[derive(Debug, Clone)]
pub struct ProviderRef {
    pub id: i64,
    pub name: String,
    pub contact_email: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<AccessError> for PageError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Unexpected(e) => PageError::Unexpected(e),
        }
    }
}

impl From<sqlx::Error> for AccessError {
    fn from(e: sqlx::Error) -> Self {
        AccessError::Unexpected(e.into())
    }
}

/// Give `provider` access to `venues` (all of `offerer`, checked by the
/// caller). Venues where it already has access are left alone: granting is
/// idempotent, also when two people do it at the same moment (the partial
/// unique index decides). Returns the venues that changed.
pub async fn give_access(
    pool: &PgPool,
    by: &ActingUser<'_>,
    channel: GrantChannel,
    offerer: &Offerer,
    provider: &ProviderRef,
    venues: &[VenueRef],
) -> Result<Vec<VenueRef>, AccessError> {
    // One order for everyone, so concurrent bulk grants cannot deadlock.
    let mut venues = venues.to_vec();
    venues.sort_by_key(|v| v.id);
    venues.dedup_by_key(|v| v.id);
    let mut tx = pool.begin().await?;
    let mut changed = Vec::new();
    for venue in venues {
        let Some(grant_id) = grants::grant(
            &mut *tx,
            provider.id,
            venue.id,
            channel,
            Some(by.account.id),
        )
        .await?
        else {
            continue;
        };
        AuditEvent::new(by.actor(), "venue_access.grant")
            .target("venue_access_grant", grant_id)
            .offerer(offerer.id)
            .venue(venue.id)
            .provider(provider.id)
            .details(serde_json::json!({
                "provider_name": provider.name,
                "venue_name": venue.name,
                "channel": channel,
            }))
            .client(&by.client)
            .record(&mut *tx)
            .await?;
        changed.push(venue);
    }
    if !changed.is_empty() {
        tell_provider(&mut tx, by, offerer, provider, &changed, Change::Granted).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Withdraw the grant `grant_id` on `venue`. `Ok(false)` when it was no
/// longer active (withdrawn meanwhile): nothing changes, nothing is recorded.
pub async fn withdraw_access(
    pool: &PgPool,
    by: &ActingUser<'_>,
    channel: GrantChannel,
    offerer: &Offerer,
    venue: &VenueRef,
    grant_id: i64,
    provider: &ProviderRef,
) -> Result<bool, AccessError> {
    let mut tx = pool.begin().await?;
    let Some(provider_id) =
        grants::revoke_by_id(&mut *tx, grant_id, venue.id, channel, Some(by.account.id)).await?
    else {
        return Ok(false);
    };
    AuditEvent::new(by.actor(), "venue_access.revoke")
        .target("venue_access_grant", grant_id)
        .offerer(offerer.id)
        .venue(venue.id)
        .provider(provider_id)
        .details(serde_json::json!({
            "provider_name": provider.name,
            "venue_name": venue.name,
            "channel": channel,
        }))
        .client(&by.client)
        .record(&mut *tx)
        .await?;
    tell_provider(
        &mut tx,
        by,
        offerer,
        provider,
        std::slice::from_ref(venue),
        Change::Withdrawn,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[derive(Clone, Copy)]
enum Change {
    Granted,
    Withdrawn,
}

/// Queue the emails telling the provider's technical contact about the
/// change (one per venue), in the transaction of the change: they leave
/// only if it commits.
async fn tell_provider(
    tx: &mut Transaction<'_, Postgres>,
    by: &ActingUser<'_>,
    offerer: &Offerer,
    provider: &ProviderRef,
    venues: &[VenueRef],
    change: Change,
) -> Result<(), AccessError> {
    let recipient = Email::parse(&provider.contact_email).map_err(|e| {
        anyhow::anyhow!(
            "provider {} has an unusable contact email: {e:?}",
            provider.id
        )
    })?;
    let at = Utc::now();
    for venue in venues {
        let venue_summary = VenueSummary {
            name: venue.name.clone(),
            siret: venue.siret.clone(),
            city: venue.city.clone(),
        };
        let offerer_summary = OffererSummary {
            name: offerer.name.clone(),
            siren: offerer.siren.clone(),
        };
        let by = by.account.display_name.clone();
        let queued = match change {
            Change::Granted => {
                let email = AccessGrantedEmail {
                    provider_name: provider.name.clone(),
                    venue: venue_summary,
                    offerer: offerer_summary,
                    by,
                    at,
                };
                mail::enqueue(&mut **tx, &recipient, &email).await
            }
            Change::Withdrawn => {
                let email = AccessWithdrawnEmail {
                    provider_name: provider.name.clone(),
                    venue: venue_summary,
                    offerer: offerer_summary,
                    by,
                    at,
                };
                mail::enqueue(&mut **tx, &recipient, &email).await
            }
        };
        queued.map_err(|e| AccessError::Unexpected(e.into()))?;
    }
    Ok(())
}
