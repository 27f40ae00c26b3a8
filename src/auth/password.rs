//! argon2id password hashing (OWASP parameters: m = 19 MiB, t = 2, p = 1),
//! run off the async executor with bounded concurrency so a burst of
//! sign-ins cannot starve the server. Unknown accounts cost the same time as
//! known ones: they are verified against a fixed dummy hash.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::config::Secret;

/// At most this many hashes are computed at once (one per core here).
static HASHING_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Semaphore::new(cores.max(1))
});

/// Verifying against this costs as much as a real verification.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_password("not a password: used to spend time on unknown accounts").unwrap_or_default()
});

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash a password (blocking: ~20 ms in release builds). Prefer [`hash`] in async code.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let hash = hasher()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    Ok(hash.to_string())
}

fn verify_blocking(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Hash off the executor.
pub async fn hash(password: Secret<String>) -> anyhow::Result<String> {
    let _slot = HASHING_SLOTS.acquire().await?;
    tokio::task::spawn_blocking(move || hash_password(password.expose())).await?
}

/// Verify off the executor. `stored` is `None` for an unknown account or one
/// without a password yet: the dummy hash is verified instead, and the
/// answer is `false`.
pub async fn verify(password: Secret<String>, stored: Option<String>) -> anyhow::Result<bool> {
    let _slot = HASHING_SLOTS.acquire().await?;
    tokio::task::spawn_blocking(move || match stored {
        Some(hash) => verify_blocking(password.expose(), &hash),
        None => {
            verify_blocking(password.expose(), &DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(Into::into)
}

/// Rules for a new password; the message is shown next to the field.
pub fn check_new_password(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err("Choose a password of at least 12 characters.");
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err("Choose a password of at most 256 characters.");
    }
    Ok(())
}

/// A new password typed twice: the rules, then the two must match.
pub fn check_new_password_pair(password: &str, confirmation: &str) -> Result<(), &'static str> {
    check_new_password(password)?;
    if password != confirmation {
        return Err("The two passwords differ.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_blocking("correct horse battery staple", &hash));
        assert!(!verify_blocking("correct horse battery stapler", &hash));
        assert!(!verify_blocking("anything", "not a phc string"));
    }

    #[test]
    fn new_password_rules() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough password").is_ok());
        assert!(check_new_password(&"x".repeat(257)).is_err());
        assert!(check_new_password_pair("long enough password", "long enough password").is_ok());
        assert_eq!(
            check_new_password_pair("long enough password", "long enough passwort"),
            Err("The two passwords differ.")
        );
    }
}
