//! The background sender: claims due messages from the outbox, sends them,
//! and records the outcome. Several server instances may each run one: a
//! message is claimed by one worker at a time (see [`outbox::claim_due`]).
//!
//! It wakes every `poll_interval`, and at once when `enqueue` commits (a
//! PostgreSQL `NOTIFY email_outbox`). Web requests never wait for it.

use std::time::Duration;

use futures_util::StreamExt;
use lettre::message::Mailbox;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::outbox::{self, AfterFailure, ClaimedEmail};
use super::transport::{Mailer, SendError, TransportError, build_message, parse_sender};
use crate::config::MailSettings;

/// Tuning that does not need configuring.
#[derive(Debug, Clone, Copy)]
pub struct WorkerOptions {
    /// Messages claimed at once.
    pub batch_size: i64,
    /// Messages sent at the same time.
    pub concurrency: usize,
    /// Longest time for one message (connection, TLS, every SMTP command).
    pub send_timeout: Duration,
    /// How long a claim lasts. It must exceed the time a batch can take
    /// (`batch_size / concurrency` rounds of `send_timeout`), so a message
    /// is only claimed again once its worker is surely done with it
    /// (crashed, or its database connection lost).
    pub lease: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            batch_size: 10,
            concurrency: 4,
            send_timeout: Duration::from_secs(60),
            lease: Duration::from_secs(300),
        }
    }
}

/// What one pass over the due messages did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub sent: usize,
    /// Failed attempts that will be retried.
    pub retrying: usize,
    /// Messages that ran out of attempts.
    pub gave_up: usize,
}

enum Outcome {
    Sent,
    Retrying,
    GaveUp,
    /// The outcome could not be recorded; the lease expiry retries it.
    Unrecorded,
}

pub struct MailWorker {
    pool: PgPool,
    mailer: Mailer,
    sender: Mailbox,
    id: String,
    poll_interval: Duration,
    max_attempts: i32,
    retry_base: Duration,
    retry_max: Duration,
    options: WorkerOptions,
}

impl MailWorker {
    /// A worker for these settings, with a unique id (host, process, random).
    pub fn new(pool: PgPool, settings: &MailSettings) -> Result<Self, TransportError> {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default();
        let id = format!(
            "{}:{}:{}",
            if host.is_empty() { "host" } else { &host },
            std::process::id(),
            hex::encode(crate::crypto::random_bytes::<4>())
        );
        Ok(Self {
            pool,
            mailer: Mailer::from_settings(&settings.transport)?,
            sender: parse_sender(&settings.sender)?,
            id,
            poll_interval: settings.poll_interval,
            max_attempts: settings.max_attempts.max(1),
            retry_base: settings.retry_base_delay,
            retry_max: settings.retry_max_delay,
            options: WorkerOptions::default(),
        })
    }

    pub fn with_options(mut self, options: WorkerOptions) -> Self {
        self.options = options;
        self
    }

    /// Written to `email_outbox.locked_by` for the messages it claims.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claim one batch of due messages, send them and record the outcomes.
    pub async fn deliver_due(&self) -> Result<BatchReport, sqlx::Error> {
        let claimed = outbox::claim_due(
            &self.pool,
            &self.id,
            self.options.batch_size.max(1),
            self.options.lease,
        )
        .await?;
        let mut report = BatchReport {
            claimed: claimed.len(),
            ..BatchReport::default()
        };
        let outcomes: Vec<Outcome> = futures_util::stream::iter(claimed)
            .map(|email| self.deliver(email))
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
        for outcome in outcomes {
            match outcome {
                Outcome::Sent => report.sent += 1,
                Outcome::Retrying => report.retrying += 1,
                Outcome::GaveUp => report.gave_up += 1,
                Outcome::Unrecorded => {}
            }
        }
        Ok(report)
    }

    async fn deliver(&self, email: ClaimedEmail) -> Outcome {
        let attempt = email.attempts + 1;
        let sent = match build_message(&self.sender, &email) {
            Ok(message) => {
                match tokio::time::timeout(self.options.send_timeout, self.mailer.send(message))
                    .await
                {
                    Ok(result) => result,
                    Err(_) => Err(SendError::TimedOut(self.options.send_timeout)),
                }
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => match outbox::mark_sent(&self.pool, email.id, &self.id).await {
                Ok(true) => {
                    tracing::info!(
                        email_id = email.id,
                        template = %email.template,
                        recipient_domain = email.recipient_domain(),
                        attempt,
                        "email sent"
                    );
                    Outcome::Sent
                }
                Ok(false) => {
                    tracing::warn!(
                        email_id = email.id,
                        template = %email.template,
                        "email sent after its claim expired"
                    );
                    Outcome::Sent
                }
                Err(e) => {
                    tracing::error!(
                        email_id = email.id,
                        template = %email.template,
                        error = %e,
                        "email sent but not recorded: it will be sent again when its claim expires"
                    );
                    Outcome::Unrecorded
                }
            },
            Err(send_error) => {
                let error = send_error.to_string();
                let logged_error = redact_address(&error, &email.recipient);
                match outbox::mark_attempt_failed(
                    &self.pool,
                    &email,
                    &self.id,
                    &error,
                    self.max_attempts,
                    self.retry_base,
                    self.retry_max,
                )
                .await
                {
                    Ok(AfterFailure::RetryIn(delay)) => {
                        tracing::warn!(
                            email_id = email.id,
                            template = %email.template,
                            recipient_domain = email.recipient_domain(),
                            attempt,
                            retry_in_seconds = delay.as_secs_f64(),
                            error = %logged_error,
                            "email not delivered, will retry"
                        );
                        Outcome::Retrying
                    }
                    Ok(AfterFailure::GaveUp) => {
                        tracing::error!(
                            email_id = email.id,
                            template = %email.template,
                            recipient_domain = email.recipient_domain(),
                            attempt,
                            error = %logged_error,
                            "email failed after its last attempt (see `venue-access mail failed`)"
                        );
                        Outcome::GaveUp
                    }
                    Ok(AfterFailure::LeaseLost) => Outcome::Unrecorded,
                    Err(e) => {
                        tracing::error!(
                            email_id = email.id,
                            template = %email.template,
                            error = %e,
                            "failed attempt not recorded: retried when its claim expires"
                        );
                        Outcome::Unrecorded
                    }
                }
            }
        }
    }

    /// Deliver until `shutdown` turns true (or its sender is dropped), then
    /// return after the batch in progress.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, transport = ?self.mailer, "email worker started");
        let mut listener = match PgListener::connect_with(&self.pool).await {
            Ok(mut listener) => match listener.listen(outbox::NOTIFY_CHANNEL).await {
                Ok(()) => Some(listener),
                Err(e) => {
                    tracing::warn!(error = %e, "email worker polls only: cannot LISTEN");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "email worker polls only: no listener connection");
                None
            }
        };
        loop {
            if *shutdown.borrow() {
                break;
            }
            let batch_full = match self.deliver_due().await {
                Ok(report) => report.claimed as i64 >= self.options.batch_size,
                Err(e) => {
                    tracing::warn!(error = %e, "email worker cannot read the outbox");
                    false
                }
            };
            if batch_full {
                continue;
            }
            let notified = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|_| ()),
                    None => std::future::pending().await,
                }
            };
            let listener_error = tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    None
                }
                () = tokio::time::sleep(self.poll_interval) => None,
                result = notified => result.err(),
            };
            if let Some(e) = listener_error {
                tracing::warn!(error = %e, "email worker lost its listener: polling only");
                listener = None;
            }
        }
        tracing::info!(worker = %self.id, "email worker stopped");
    }

    /// Run on the current runtime until [`WorkerHandle::stop`].
    pub fn spawn(self) -> WorkerHandle {
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(self.run(shutdown));
        WorkerHandle { stop, task }
    }
}

/// A running worker.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WorkerHandle {
    /// Ask the worker to stop and wait for its batch in progress (bounded).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(70), self.task)
            .await
            .is_err()
        {
            tracing::warn!("email worker did not stop in time: aborted");
            abort.abort();
        }
    }
}

/// Replace the recipient's address in an error text (servers often echo it)
/// with `…@domain`, for logs.
pub fn redact_address(text: &str, recipient: &str) -> String {
    if recipient.is_empty() {
        return text.to_owned();
    }
    let domain = recipient.rsplit_once('@').map_or("", |(_, d)| d);
    let replacement = format!("…@{domain}");
    // ASCII lowercasing keeps byte offsets, so matches map back to `text`.
    let haystack = text.to_ascii_lowercase();
    let needle = recipient.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, _) in haystack.match_indices(&needle) {
        out.push_str(&text[last..start]);
        out.push_str(&replacement);
        last = start + needle.len();
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_errors_do_not_name_the_recipient() {
        assert_eq!(
            redact_address(
                "permanent error (550): 5.1.1 <Jane.Doe@Example.org>: Recipient address rejected",
                "jane.doe@example.org"
            ),
            "permanent error (550): 5.1.1 <…@example.org>: Recipient address rejected"
        );
        assert_eq!(
            redact_address("connection refused", "a@b.fr"),
            "connection refused"
        );
    }
}
