//! A real SMTP server per test: Debian's aiosmtpd on a free loopback port,
//! run by `smtp_recorder.py`, which writes each accepted message to a
//! folder the test reads. It can be stopped and restarted on the same port.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use venue_access::config::{MailTransportSettings, SmtpSecurity};

/// Debian's interpreter, which has python3-aiosmtpd (the `python3` on PATH
/// may be another one).
const PYTHON: &str = "/usr/bin/python3";

/// How long a test waits for something to happen before failing.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct SmtpServer {
    port: u16,
    folder: tempfile::TempDir,
    child: Option<Child>,
}

/// One message as the server received it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ReceivedMessage {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The whole message as sent (headers and MIME body).
    pub data: String,
}

impl ReceivedMessage {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(self.data.as_bytes())
            .expect("a parsable message")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_owned()
    }

    /// The decoded text/plain part.
    pub fn text(&self) -> String {
        let message = self.parsed();
        assert_eq!(message.text_body_count(), 1, "one text part");
        message.body_text(0).expect("a text part").into_owned()
    }

    /// The decoded text/html part.
    pub fn html(&self) -> String {
        let message = self.parsed();
        assert_eq!(message.html_body_count(), 1, "one HTML part");
        message.body_html(0).expect("an HTML part").into_owned()
    }

    /// A raw header line's value (unfolded, trimmed).
    pub fn header(&self, name: &str) -> String {
        self.parsed()
            .header_raw(name)
            .unwrap_or_default()
            .replace(['\r', '\n'], "")
            .trim()
            .to_owned()
    }
}

impl SmtpServer {
    /// Start on a free port.
    pub async fn start() -> Self {
        let folder = tempfile::tempdir().unwrap();
        let (child, port) = launch(0, &folder.path().join("messages")).await;
        Self {
            port,
            folder,
            child: Some(child),
        }
    }

    /// The transport settings that reach this server (plain SMTP on loopback).
    pub fn transport(&self) -> MailTransportSettings {
        MailTransportSettings::Smtp {
            host: "127.0.0.1".into(),
            port: self.port,
            security: SmtpSecurity::None,
            credentials: None,
        }
    }

    /// Kill the server: connections are refused until [`Self::restart`].
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("stop the SMTP server");
        }
    }

    /// Start again on the same port, keeping the messages received so far.
    pub async fn restart(&mut self) {
        self.stop().await;
        let started = Instant::now();
        loop {
            match try_launch(self.port, &self.messages_folder()).await {
                Ok((child, _)) => {
                    self.child = Some(child);
                    return;
                }
                Err(e) if started.elapsed() < DEADLINE => {
                    eprintln!("SMTP server restart: {e}; trying again");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("the SMTP server did not restart: {e}"),
            }
        }
    }

    fn messages_folder(&self) -> PathBuf {
        self.folder.path().join("messages")
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.messages_folder())
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|path| {
                let json = std::fs::read_to_string(path).unwrap();
                serde_json::from_str(&json).unwrap()
            })
            .collect()
    }

    /// Wait (with a deadline) until at least `count` messages arrived.
    pub async fn wait_for_messages(&self, count: usize) -> Vec<ReceivedMessage> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "expected {count} messages, the SMTP server received {}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn launch(port: u16, folder: &Path) -> (Child, u16) {
    try_launch(port, folder)
        .await
        .unwrap_or_else(|e| panic!("the test SMTP server did not start: {e}"))
}

/// Start the recorder and wait for its "listening on PORT" line.
async fn try_launch(port: u16, folder: &Path) -> Result<(Child, u16), String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/http/smtp_recorder.py");
    std::fs::create_dir_all(folder).map_err(|e| e.to_string())?;
    let log_path = folder.with_extension("log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut child = Command::new(PYTHON)
        .arg(script)
        .arg("127.0.0.1")
        .arg(port.to_string())
        .arg(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{PYTHON}: {e} (install python3-aiosmtpd)"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .map_err(|_| "no answer within the deadline".to_owned())?
        .map_err(|e| e.to_string())?;
    match line
        .as_deref()
        .and_then(|l| l.strip_prefix("listening on "))
    {
        Some(port) => Ok((child, port.trim().parse().map_err(|_| "bad port")?)),
        None => {
            let _ = child.kill().await;
            let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
            Err(format!("exited: {stderr}"))
        }
    }
}
