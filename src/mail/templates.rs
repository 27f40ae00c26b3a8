//! One struct per email. Each renders a subject, a plain-text body
//! (`templates/emails/<name>.txt`, not escaped) and an HTML body
//! (`templates/emails/<name>.html`, escaped, inside `emails/layout.html`).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::Environment;

/// What the outbox stores for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// An email the application can send.
pub trait OutgoingEmail {
    /// Stable name: stored in the outbox and written to logs.
    fn template_name(&self) -> &'static str;
    /// Subject, text and HTML bodies.
    fn render(&self) -> Result<RenderedEmail, askama::Error>;
}

/// Subjects are single header lines: no control characters.
fn one_line(subject: String) -> String {
    subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Implements [`OutgoingEmail`] for `$email` from its two templates; the
/// struct provides `fn subject(&self) -> String`. Templates see the struct
/// as `email` (and the HTML layout also sees `subject`).
macro_rules! outgoing_email {
    ($email:ident, $name:tt, $text:tt, $html:tt) => {
        const _: () = {
            #[derive(askama::Template)]
            #[template(path = $text)]
            struct Text<'a> {
                email: &'a $email,
            }

            #[derive(askama::Template)]
            #[template(path = $html)]
            struct Html<'a> {
                email: &'a $email,
                subject: &'a str,
            }

            impl OutgoingEmail for $email {
                fn template_name(&self) -> &'static str {
                    $name
                }

                fn render(&self) -> Result<RenderedEmail, askama::Error> {
                    use askama::Template as _;
                    let subject = one_line(self.subject());
                    let text = Text { email: self }.render()?;
                    let html = Html {
                        email: self,
                        subject: &subject,
                    }
                    .render()?;
                    Ok(RenderedEmail {
                        subject,
                        text,
                        html,
                    })
                }
            }
        };
    };
}

/// "1 hour", "30 minutes", "7 days": how long a link works.
pub fn human_duration(duration: Duration) -> String {
    let minutes = duration.as_secs().div_ceil(60).max(1);
    let (count, unit) = if minutes.is_multiple_of(24 * 60) {
        (minutes / (24 * 60), "day")
    } else if minutes.is_multiple_of(60) {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// A date for people: `3 December 2026 at 14:05 UTC`.
pub fn human_date(at: &DateTime<Utc>) -> String {
    at.format("%-d %B %Y at %H:%M UTC").to_string()
}

/// A venue as emails name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueSummary {
    pub name: String,
    /// `None` for the venues that have no SIRET.
    pub siret: Option<String>,
    pub city: String,
}

/// An offerer as emails name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffererSummary {
    pub name: String,
    pub siren: String,
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

/// A link to choose a new password.
#[derive(Debug, Clone)]
pub struct PasswordResetEmail {
    pub display_name: String,
    pub link: String,
    pub valid_for: Duration,
}

impl PasswordResetEmail {
    fn subject(&self) -> String {
        "Reset your pass Culture venue access password".to_owned()
    }
    pub fn valid_for_text(&self) -> String {
        human_duration(self.valid_for)
    }
}
outgoing_email!(
    PasswordResetEmail,
    "password_reset",
    "emails/password_reset.txt",
    "emails/password_reset.html"
);

/// An invitation to join an offerer (and to set a password if the account
/// has none yet).
#[derive(Debug, Clone)]
pub struct InvitationEmail {
    pub offerer: OffererSummary,
    /// Who invited: a display name.
    pub invited_by: String,
    pub link: String,
    pub valid_for: Duration,
}

impl InvitationEmail {
    fn subject(&self) -> String {
        format!(
            "{} invites you to manage {} on pass Culture",
            self.invited_by, self.offerer.name
        )
    }
    pub fn valid_for_text(&self) -> String {
        human_duration(self.valid_for)
    }
}
outgoing_email!(
    InvitationEmail,
    "invitation",
    "emails/invitation.txt",
    "emails/invitation.html"
);

// ---------------------------------------------------------------------------
// Venue access (to the provider's technical contact)
// ---------------------------------------------------------------------------

/// A provider was given access to a venue.
#[derive(Debug, Clone)]
pub struct AccessGrantedEmail {
    pub provider_name: String,
    pub venue: VenueSummary,
    pub offerer: OffererSummary,
    /// Who gave it: a person's name, or "pass Culture support".
    pub by: String,
    pub at: DateTime<Utc>,
}

impl AccessGrantedEmail {
    fn subject(&self) -> String {
        format!(
            "{} can now manage {} ({})",
            self.provider_name, self.venue.name, self.offerer.name
        )
    }
    pub fn at_text(&self) -> String {
        human_date(&self.at)
    }
}
outgoing_email!(
    AccessGrantedEmail,
    "provider_access_granted",
    "emails/provider_access_granted.txt",
    "emails/provider_access_granted.html"
);

/// A provider's access to a venue was withdrawn.
#[derive(Debug, Clone)]
pub struct AccessWithdrawnEmail {
    pub provider_name: String,
    pub venue: VenueSummary,
    pub offerer: OffererSummary,
    /// Who withdrew it: a person's name, or "pass Culture support".
    pub by: String,
    pub at: DateTime<Utc>,
}

impl AccessWithdrawnEmail {
    fn subject(&self) -> String {
        format!(
            "{} can no longer manage {} ({})",
            self.provider_name, self.venue.name, self.offerer.name
        )
    }
    pub fn at_text(&self) -> String {
        human_date(&self.at)
    }
}
outgoing_email!(
    AccessWithdrawnEmail,
    "provider_access_withdrawn",
    "emails/provider_access_withdrawn.txt",
    "emails/provider_access_withdrawn.html"
);

// ---------------------------------------------------------------------------
// Provider account requests (to the requester's contact address)
// ---------------------------------------------------------------------------

/// A provider account request was received.
#[derive(Debug, Clone)]
pub struct AccountRequestReceivedEmail {
    pub company_name: String,
    pub request_id: i64,
}

impl AccountRequestReceivedEmail {
    fn subject(&self) -> String {
        format!(
            "We received the provider account request of {}",
            self.company_name
        )
    }
}
outgoing_email!(
    AccountRequestReceivedEmail,
    "provider_request_received",
    "emails/provider_request_received.txt",
    "emails/provider_request_received.html"
);

/// A provider account request was approved: the provider exists and its
/// keys follow in separate emails.
#[derive(Debug, Clone)]
pub struct AccountRequestApprovedEmail {
    pub company_name: String,
    pub provider_name: String,
}

impl AccountRequestApprovedEmail {
    fn subject(&self) -> String {
        format!(
            "{} is now a pass Culture technical partner",
            self.provider_name
        )
    }
}
outgoing_email!(
    AccountRequestApprovedEmail,
    "provider_request_approved",
    "emails/provider_request_approved.txt",
    "emails/provider_request_approved.html"
);

/// A provider account request was rejected, with the reason support gave.
#[derive(Debug, Clone)]
pub struct AccountRequestRejectedEmail {
    pub company_name: String,
    pub reason: String,
}

impl AccountRequestRejectedEmail {
    fn subject(&self) -> String {
        format!(
            "The provider account request of {} was not accepted",
            self.company_name
        )
    }
}
outgoing_email!(
    AccountRequestRejectedEmail,
    "provider_request_rejected",
    "emails/provider_request_rejected.txt",
    "emails/provider_request_rejected.html"
);

// ---------------------------------------------------------------------------
// API keys (to the provider's technical contact)
// ---------------------------------------------------------------------------

/// A single-use link that shows an API key's secret once. One email per
/// environment.
#[derive(Debug, Clone)]
pub struct ApiKeyRevealEmail {
    pub provider_name: String,
    pub environment: Environment,
    /// The key's public prefix, e.g. `integration_0123456789ab`.
    pub key_prefix: String,
    pub link: String,
    pub valid_for: Duration,
}

impl ApiKeyRevealEmail {
    fn subject(&self) -> String {
        format!(
            "Your {} API key for {}",
            self.environment.as_str(),
            self.provider_name
        )
    }
    pub fn valid_for_text(&self) -> String {
        human_duration(self.valid_for)
    }
}
outgoing_email!(
    ApiKeyRevealEmail,
    "api_key_reveal",
    "emails/api_key_reveal.txt",
    "emails/api_key_reveal.html"
);

/// What happened to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// A new key replaces this one; the old one keeps working until
    /// `old_key_valid_until` (`None`: it stopped at once).
    Rolled {
        new_key_prefix: String,
        old_key_valid_until: Option<DateTime<Utc>>,
    },
    /// The key stopped working.
    Revoked,
}

/// An API key was rolled or revoked.
#[derive(Debug, Clone)]
pub struct ApiKeyChangedEmail {
    pub provider_name: String,
    pub environment: Environment,
    pub key_prefix: String,
    pub change: KeyChange,
    /// Who did it: a person's name, or "pass Culture support".
    pub by: String,
    pub at: DateTime<Utc>,
}

impl ApiKeyChangedEmail {
    fn subject(&self) -> String {
        let what = match self.change {
            KeyChange::Rolled { .. } => "was replaced",
            KeyChange::Revoked => "was revoked",
        };
        format!(
            "Your {} API key {} {what}",
            self.environment.as_str(),
            self.key_prefix
        )
    }
    pub fn at_text(&self) -> String {
        human_date(&self.at)
    }
    /// For a roll: the new key's prefix.
    pub fn new_key_prefix(&self) -> Option<&str> {
        match &self.change {
            KeyChange::Rolled { new_key_prefix, .. } => Some(new_key_prefix),
            KeyChange::Revoked => None,
        }
    }
    /// For a roll with a grace period: until when the old key works.
    pub fn old_key_valid_until_text(&self) -> Option<String> {
        match &self.change {
            KeyChange::Rolled {
                old_key_valid_until: Some(until),
                ..
            } => Some(human_date(until)),
            _ => None,
        }
    }
}
outgoing_email!(
    ApiKeyChangedEmail,
    "api_key_changed",
    "emails/api_key_changed.txt",
    "emails/api_key_changed.html"
);

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 14, 5, 0).unwrap()
    }

    fn venue() -> VenueSummary {
        VenueSummary {
            name: "Librairie <Page> & Plume".into(),
            siret: Some("12345678900011".into()),
            city: "Nantes".into(),
        }
    }

    fn offerer() -> OffererSummary {
        OffererSummary {
            name: "Librairies Page & Plume".into(),
            siren: "123456789".into(),
        }
    }

    /// Every email, with names that need escaping in HTML.
    fn all_emails() -> Vec<Box<dyn Fn() -> (String, RenderedEmail)>> {
        fn boxed<E: OutgoingEmail + 'static>(email: E) -> Box<dyn Fn() -> (String, RenderedEmail)> {
            Box::new(move || {
                (
                    email.template_name().to_owned(),
                    email.render().expect("renders"),
                )
            })
        }
        vec![
            boxed(PasswordResetEmail {
                display_name: "Zoé <Admin>".into(),
                link: "https://va.example/password-reset/TOKEN".into(),
                valid_for: Duration::from_secs(3600),
            }),
            boxed(InvitationEmail {
                offerer: offerer(),
                invited_by: "Jeanne & Co".into(),
                link: "https://va.example/invitations/TOKEN".into(),
                valid_for: Duration::from_secs(7 * 86400),
            }),
            boxed(AccessGrantedEmail {
                provider_name: "Billets <Plus>".into(),
                venue: venue(),
                offerer: offerer(),
                by: "Jeanne & Co".into(),
                at: at(),
            }),
            boxed(AccessWithdrawnEmail {
                provider_name: "Billets <Plus>".into(),
                venue: VenueSummary {
                    siret: None,
                    ..venue()
                },
                offerer: offerer(),
                by: "pass Culture support".into(),
                at: at(),
            }),
            boxed(AccountRequestReceivedEmail {
                company_name: "Billets <Plus> & Co".into(),
                request_id: 42,
            }),
            boxed(AccountRequestApprovedEmail {
                company_name: "Billets <Plus> & Co".into(),
                provider_name: "Billets <Plus>".into(),
            }),
            boxed(AccountRequestRejectedEmail {
                company_name: "Billets <Plus> & Co".into(),
                reason: "SIREN <unknown> & closed".into(),
            }),
            boxed(ApiKeyRevealEmail {
                provider_name: "Billets <Plus>".into(),
                environment: Environment::Production,
                key_prefix: "production_0123456789ab".into(),
                link: "https://va.example/api-keys/reveal/TOKEN".into(),
                valid_for: Duration::from_secs(48 * 3600),
            }),
            boxed(ApiKeyChangedEmail {
                provider_name: "Billets <Plus>".into(),
                environment: Environment::Integration,
                key_prefix: "integration_0123456789ab".into(),
                change: KeyChange::Rolled {
                    new_key_prefix: "integration_ba9876543210".into(),
                    old_key_valid_until: Some(at()),
                },
                by: "pass Culture support".into(),
                at: at(),
            }),
            boxed(ApiKeyChangedEmail {
                provider_name: "Billets <Plus>".into(),
                environment: Environment::Integration,
                key_prefix: "integration_0123456789ab".into(),
                change: KeyChange::Revoked,
                by: "pass Culture support".into(),
                at: at(),
            }),
        ]
    }

    #[test]
    fn every_email_renders_both_parts_escaping_only_html() {
        for render in all_emails() {
            let (name, email) = render();
            assert!(!email.subject.is_empty(), "{name}");
            assert!(
                !email.subject.contains("&#") && !email.subject.contains("&amp;"),
                "{name}: the subject is a header, not HTML: {}",
                email.subject
            );
            assert!(email.text.trim().len() > 40, "{name}: {}", email.text);
            assert!(
                !email.text.contains("&#") && !email.text.contains("&amp;"),
                "{name}: text is not HTML-escaped:\n{}",
                email.text
            );
            assert!(
                email.text.contains('<') || email.text.contains('&'),
                "{name}: the names with < and & appear as typed:\n{}",
                email.text
            );
            assert!(email.html.starts_with("<!doctype html>"), "{name}");
            assert!(email.html.contains("</html>"), "{name}");
            assert!(
                email.html.contains("&#60;") || email.html.contains("&#38;"),
                "{name}: names are escaped in HTML:\n{}",
                email.html
            );
            assert!(
                !email.html.contains("<Plus>")
                    && !email.html.contains("<Page>")
                    && !email.html.contains("<Admin>")
                    && !email.html.contains("<unknown>"),
                "{name}: no raw markup from data:\n{}",
                email.html
            );
            assert!(!email.text.contains("\n\n\n"), "{name}:\n{}", email.text);
        }
    }

    #[test]
    fn links_appear_in_both_parts() {
        let email = PasswordResetEmail {
            display_name: "Zoé".into(),
            link: "https://va.example/password-reset/abc-DEF_123".into(),
            valid_for: Duration::from_secs(3600),
        }
        .render()
        .unwrap();
        assert!(
            email
                .text
                .contains("https://va.example/password-reset/abc-DEF_123")
        );
        assert!(
            email
                .html
                .contains("href=\"https://va.example/password-reset/abc-DEF_123\"")
        );
        assert!(email.text.contains("1 hour"));
    }

    #[test]
    fn subjects_are_one_line() {
        let email = AccountRequestReceivedEmail {
            company_name: "Evil\r\nBcc: victim@example.org".into(),
            request_id: 1,
        }
        .render()
        .unwrap();
        assert!(!email.subject.contains('\n') && !email.subject.contains('\r'));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(3600)), "1 hour");
        assert_eq!(human_duration(Duration::from_secs(2 * 3600)), "2 hours");
        assert_eq!(human_duration(Duration::from_secs(30 * 60)), "30 minutes");
        assert_eq!(human_duration(Duration::from_secs(7 * 86400)), "7 days");
        assert_eq!(human_duration(Duration::from_secs(1)), "1 minute");
        assert_eq!(human_date(&at()), "3 December 2026 at 14:05 UTC");
    }
}
