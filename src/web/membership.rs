//! Adding a person to an offerer by email, shared by the pro interface
//! (a member invites a colleague) and the back-office (support adds a pro
//! user): an existing pro account is attached at once; a new address gets
//! an account without password, the membership and an invitation email
//! with a single-use link, all in one transaction with the audit event.

use sqlx::PgPool;

use crate::db::audit::AuditEvent;
use crate::db::constraint;
use crate::db::offerers::Offerer;
use crate::db::users::{self, Role};
use crate::domain::Email;
use crate::mail::{self, OffererSummary};
use crate::web::access::ActingUser;

/// What adding the address did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddMemberOutcome {
    /// The address already belonged to a member: nothing changed.
    AlreadyMember,
    /// An existing pro account is now a member.
    Attached { user_id: i64 },
    /// A new account was created and emailed an invitation link.
    Invited { user_id: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum AddMemberError {
    #[error("This address belongs to a pass Culture support account; invite a personal address.")]
    SupportAccount,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AddMemberError {
    fn from(e: sqlx::Error) -> Self {
        AddMemberError::Unexpected(e.into())
    }
}

/// Add `email` to `offerer` on behalf of `by`. Audited as `membership.add`
/// (existing account) or `membership.invite` (new account).
pub async fn add_member(
    pool: &PgPool,
    base_url: &str,
    by: &ActingUser<'_>,
    offerer: &Offerer,
    email: &Email,
) -> Result<AddMemberOutcome, AddMemberError> {
    match try_add_member(pool, base_url, by, offerer, email).await {
        // Someone created the account in the meantime (two invitations at
        // once): the second attempt finds it and attaches it.
        Err(AddMemberError::Unexpected(e))
            if e.downcast_ref::<sqlx::Error>()
                .is_some_and(|e| constraint::is_violation(e, "user_account_email_key")) =>
        {
            try_add_member(pool, base_url, by, offerer, email).await
        }
        other => other,
    }
}

async fn try_add_member(
    pool: &PgPool,
    base_url: &str,
    by: &ActingUser<'_>,
    offerer: &Offerer,
    email: &Email,
) -> Result<AddMemberOutcome, AddMemberError> {
    let mut tx = pool.begin().await?;
    let existing = users::find_by_email(&mut *tx, email).await?;
    if existing.as_ref().is_some_and(|u| u.role != Role::Pro) {
        return Err(AddMemberError::SupportAccount);
    }
    let (user_id, is_new) = match existing {
        Some(account) => (account.id, false),
        None => {
            let name = email
                .as_str()
                .split('@')
                .next()
                .unwrap_or("colleague")
                .to_owned();
            (
                users::insert(&mut *tx, email, &name, Role::Pro, None).await?,
                true,
            )
        }
    };
    let added = sqlx::query(
        "INSERT INTO membership (user_id, offerer_id, invited_by_user_id) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, offerer_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(offerer.id)
    .bind(by.account.id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !added {
        return Ok(AddMemberOutcome::AlreadyMember);
    }
    if is_new {
        mail::queue_invitation(
            &mut tx,
            base_url,
            email,
            user_id,
            offerer.id,
            OffererSummary {
                name: offerer.name.clone(),
                siren: offerer.siren.clone(),
            },
            &by.account.display_name,
        )
        .await
        .map_err(|e| AddMemberError::Unexpected(e.into()))?;
    }
    AuditEvent::new(
        by.actor(),
        if is_new {
            "membership.invite"
        } else {
            "membership.add"
        },
    )
    .target("user_account", user_id)
    .offerer(offerer.id)
    .details(serde_json::json!({ "new_account": is_new }))
    .client(&by.client)
    .record(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(if is_new {
        AddMemberOutcome::Invited { user_id }
    } else {
        AddMemberOutcome::Attached { user_id }
    })
}
