//! Email: a transactional outbox delivered by a background worker.
//!
//! Code that needs an email queues it in the transaction of the change that
//! causes it, either with [`enqueue`] and one of the email structs, or, for
//! emails carrying a single-use link, with the `queue_*` functions below,
//! which also issue the link's token ([`crate::db::tokens`]). Nothing is
//! sent until the transaction commits; then the [`worker`] delivers it
//! through the configured [`transport`], retrying with backoff.
//!
//! Logs name the template and the recipient's domain, never the address or
//! a link token.

pub mod outbox;
pub mod templates;
pub mod transport;
pub mod worker;

use std::time::Duration;

use sqlx::PgConnection;

use crate::db::tokens::{self, TokenPurpose, TokenSubject};
use crate::domain::{Email, Environment};
pub use outbox::{EnqueueError, enqueue};
pub use templates::{
    AccessGrantedEmail, AccessWithdrawnEmail, AccountRequestApprovedEmail,
    AccountRequestReceivedEmail, AccountRequestRejectedEmail, ApiKeyChangedEmail,
    ApiKeyRevealEmail, InvitationEmail, KeyChange, OffererSummary, OutgoingEmail,
    PasswordResetEmail, RenderedEmail, VenueSummary,
};
pub use worker::{MailWorker, WorkerHandle};

/// Where emailed links lead; the pages that answer them use the same
/// constants. A link is `{base_url}{PATH}/{token}`.
pub const PASSWORD_RESET_PATH: &str = "/password-reset";
pub const INVITATION_PATH: &str = "/invitations";
pub const API_KEY_REVEAL_PATH: &str = "/api-keys/reveal";

/// How long each kind of link works.
pub const PASSWORD_RESET_TTL: Duration = Duration::from_secs(3600);
pub const INVITATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
pub const API_KEY_REVEAL_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// `{base_url}{path}/{token}` (`base_url` without trailing slash, as
/// `Settings::base_url` is).
pub fn link(base_url: &str, path: &str, token: &str) -> String {
    format!("{}{path}/{token}", base_url.trim_end_matches('/'))
}

/// Queue a password reset link for a user: voids the user's earlier reset
/// links, issues a new one and queues the email. Call it in the transaction
/// of the request (`&mut *tx`).
pub async fn queue_password_reset(
    conn: &mut PgConnection,
    base_url: &str,
    user_id: i64,
    recipient: &Email,
    display_name: &str,
) -> Result<i64, EnqueueError> {
    tokens::void_for_user(&mut *conn, user_id, TokenPurpose::PasswordReset).await?;
    let token = tokens::issue(
        &mut *conn,
        TokenSubject::PasswordReset { user_id },
        PASSWORD_RESET_TTL,
    )
    .await?;
    let email = PasswordResetEmail {
        display_name: display_name.to_owned(),
        link: link(base_url, PASSWORD_RESET_PATH, &token),
        valid_for: PASSWORD_RESET_TTL,
    };
    enqueue(&mut *conn, recipient, &email).await
}

/// Queue an invitation to join an offerer, with a single-use link bound to
/// the invited account and the offerer.
pub async fn queue_invitation(
    conn: &mut PgConnection,
    base_url: &str,
    recipient: &Email,
    user_id: i64,
    offerer_id: i64,
    offerer: OffererSummary,
    invited_by: &str,
) -> Result<i64, EnqueueError> {
    let token = tokens::issue(
        &mut *conn,
        TokenSubject::Invitation {
            user_id,
            offerer_id,
        },
        INVITATION_TTL,
    )
    .await?;
    let email = InvitationEmail {
        offerer,
        invited_by: invited_by.to_owned(),
        link: link(base_url, INVITATION_PATH, &token),
        valid_for: INVITATION_TTL,
    };
    enqueue(&mut *conn, recipient, &email).await
}

/// Queue the link that reveals one API key's secret once (one email per
/// environment, to the provider's technical contact).
pub async fn queue_api_key_reveal(
    conn: &mut PgConnection,
    base_url: &str,
    recipient: &Email,
    api_key_id: i64,
    provider_name: &str,
    environment: Environment,
    key_prefix: &str,
) -> Result<i64, EnqueueError> {
    let token = tokens::issue(
        &mut *conn,
        TokenSubject::ApiKeyReveal { api_key_id },
        API_KEY_REVEAL_TTL,
    )
    .await?;
    let email = ApiKeyRevealEmail {
        provider_name: provider_name.to_owned(),
        environment,
        key_prefix: key_prefix.to_owned(),
        link: link(base_url, API_KEY_REVEAL_PATH, &token),
        valid_for: API_KEY_REVEAL_TTL,
    };
    enqueue(&mut *conn, recipient, &email).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_join_the_base_url_the_path_and_the_token() {
        assert_eq!(
            link("https://va.example", PASSWORD_RESET_PATH, "tok"),
            "https://va.example/password-reset/tok"
        );
        assert_eq!(
            link("http://127.0.0.1:8080/", API_KEY_REVEAL_PATH, "tok"),
            "http://127.0.0.1:8080/api-keys/reveal/tok"
        );
    }
}
