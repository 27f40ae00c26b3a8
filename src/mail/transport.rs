//! How messages leave the process: an SMTP relay, or `.eml` files in a
//! folder (the embedded default, so a new user can read what the demo sends).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::outbox::ClaimedEmail;
use crate::config::{MailTransportSettings, SmtpSecurity};

/// Longest wait for one SMTP command.
const SMTP_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("SMTP relay {host}: {reason}")]
    Smtp { host: String, reason: String },
    #[error("mail folder {path}: {reason}")]
    Folder { path: String, reason: String },
    #[error("MAIL_FROM {sender:?} is not a valid mailbox ({reason})")]
    Sender { sender: String, reason: String },
}

/// Why one message was not delivered. The text may name the recipient:
/// it goes to the outbox row, and to logs only through
/// [`super::worker`]'s redaction.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("invalid message: {0}")]
    Message(String),
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("{0}")]
    File(#[from] lettre::transport::file::Error),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

/// The configured transport.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File {
        transport: AsyncFileTransport<Tokio1Executor>,
        directory: PathBuf,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp(_) => f.write_str("Mailer::Smtp"),
            Mailer::File { directory, .. } => write!(f, "Mailer::File({})", directory.display()),
        }
    }
}

impl Mailer {
    /// Build the transport; the mail folder is created if needed. Nothing
    /// is contacted yet: an unreachable relay shows up as failed attempts.
    pub fn from_settings(settings: &MailTransportSettings) -> Result<Self, TransportError> {
        match settings {
            MailTransportSettings::File { directory } => {
                std::fs::create_dir_all(directory).map_err(|e| TransportError::Folder {
                    path: directory.display().to_string(),
                    reason: e.to_string(),
                })?;
                Ok(Mailer::File {
                    transport: AsyncFileTransport::new(directory),
                    directory: directory.clone(),
                })
            }
            MailTransportSettings::Smtp {
                host,
                port,
                security,
                credentials,
            } => {
                let error = |e: lettre::transport::smtp::Error| TransportError::Smtp {
                    host: host.clone(),
                    reason: e.to_string(),
                };
                let builder = match security {
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
                    SmtpSecurity::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                    }
                    SmtpSecurity::None => Ok(
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str()),
                    ),
                }
                .map_err(error)?;
                let mut builder = builder.port(*port).timeout(Some(SMTP_COMMAND_TIMEOUT));
                if let Some((user, password)) = credentials {
                    builder = builder
                        .credentials(Credentials::new(user.clone(), password.expose().clone()));
                }
                Ok(Mailer::Smtp(builder.build()))
            }
        }
    }

    /// Where `.eml` files go, for the file transport.
    pub fn directory(&self) -> Option<&std::path::Path> {
        match self {
            Mailer::File { directory, .. } => Some(directory),
            Mailer::Smtp(_) => None,
        }
    }

    /// Deliver one message.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(transport) => {
                transport.send(message).await?;
            }
            Mailer::File {
                transport,
                directory,
            } => {
                // The folder may have been removed while the server ran.
                if !directory.is_dir() {
                    let _ = tokio::fs::create_dir_all(directory).await;
                }
                transport.send(message).await?;
            }
        }
        Ok(())
    }
}

/// Parse the configured `From:`.
pub fn parse_sender(sender: &str) -> Result<Mailbox, TransportError> {
    sender
        .parse()
        .map_err(|e: lettre::address::AddressError| TransportError::Sender {
            sender: sender.to_owned(),
            reason: e.to_string(),
        })
}

/// The MIME message for an outbox row: `multipart/alternative` with the text
/// and HTML bodies. The `Message-ID` derives from the row, so a receiver can
/// recognise a message delivered again after an uncertain attempt.
pub fn build_message(sender: &Mailbox, email: &ClaimedEmail) -> Result<Message, SendError> {
    let recipient: Mailbox = email
        .recipient
        .parse()
        .map_err(|e: lettre::address::AddressError| SendError::Message(e.to_string()))?;
    let domain = sender.email.domain();
    let message_id = format!(
        "<outbox.{}.{}@{domain}>",
        email.id,
        email.created_at.timestamp_micros()
    );
    Message::builder()
        .from(sender.clone())
        .to(recipient)
        .subject(email.subject.clone())
        .message_id(Some(message_id))
        .multipart(MultiPart::alternative_plain_html(
            email.body_text.clone(),
            email.body_html.clone(),
        ))
        .map_err(|e| SendError::Message(e.to_string()))
}
