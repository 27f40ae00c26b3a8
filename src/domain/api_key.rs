//! Provider API keys.
//!
//! A key reads `<environment>_<12 lowercase hex>_<64 lowercase hex>`, e.g.
//! `integration_0123456789ab_<64 hex>`. The part before the last underscore
//! is the public [`ApiKeyPrefix`], stored in clear and used to find the key;
//! the last part is the [`ApiKeySecret`], 32 random bytes of which only a
//! salted SHA-256 hash is stored.

use std::fmt;

use rand::RngExt;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Environment, impl_text_value};

/// Number of random bytes identifying a key in its prefix.
const IDENTIFIER_BYTES: usize = 6;
/// Number of random bytes in a secret.
const SECRET_BYTES: usize = 32;
/// Number of random bytes in a salt.
const SALT_BYTES: usize = 16;
/// Separator between the parts of a key.
const SEPARATOR: char = '_';

/// Why a text is not a well-formed API key or key prefix.
///
/// Messages never repeat the input, which may contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyFormatError {
    /// The text does not have the expected number of `_`-separated parts.
    #[error(
        "An API key has the form <environment>_<12 hexadecimal characters>_<64 hexadecimal characters>"
    )]
    Malformed,
    /// The first part is not `integration` or `production`.
    #[error("An API key starts with its environment: integration or production")]
    UnknownEnvironment,
    /// The identifier is not 12 lowercase hexadecimal characters.
    #[error("The identifier part of an API key must be 12 lowercase hexadecimal characters")]
    InvalidIdentifier,
    /// The secret is not 64 lowercase hexadecimal characters.
    #[error("The secret part of an API key must be 64 lowercase hexadecimal characters")]
    InvalidSecret,
}

/// The public part of an API key, `<environment>_<12 lowercase hex>`.
///
/// It is not secret: it is stored in clear, shown in the interface and used
/// to look the key up before its secret is verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct ApiKeyPrefix {
    text: String,
    environment: Environment,
}

impl ApiKeyPrefix {
    /// Parses a prefix such as `integration_0123456789ab` (strict: lowercase
    /// environment name and lowercase hex, no surrounding whitespace).
    pub fn parse(input: &str) -> Result<Self, ApiKeyFormatError> {
        let mut parts = input.split(SEPARATOR);
        match (parts.next(), parts.next(), parts.next()) {
            (Some(environment), Some(identifier), None) => {
                Self::from_parts(environment, identifier)
            }
            _ => Err(ApiKeyFormatError::Malformed),
        }
    }

    /// Generates a new prefix for `environment`, with an identifier of 6
    /// bytes from the operating system's secure random generator.
    ///
    /// # Panics
    ///
    /// If the operating system cannot provide random bytes.
    pub fn generate(environment: Environment) -> Self {
        let identifier: [u8; IDENTIFIER_BYTES] = os_random_bytes();
        Self::new(environment, &hex::encode(identifier))
    }

    /// The prefix text, e.g. `integration_0123456789ab`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The environment the key belongs to.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Validates the two parts of a prefix.
    fn from_parts(environment: &str, identifier: &str) -> Result<Self, ApiKeyFormatError> {
        let environment =
            Environment::parse(environment).map_err(|_| ApiKeyFormatError::UnknownEnvironment)?;
        if !is_lowercase_hex(identifier, IDENTIFIER_BYTES) {
            return Err(ApiKeyFormatError::InvalidIdentifier);
        }
        Ok(Self::new(environment, identifier))
    }

    /// Builds a prefix from already validated parts.
    fn new(environment: Environment, identifier: &str) -> Self {
        Self {
            text: format!("{}{SEPARATOR}{identifier}", environment.as_str()),
            environment,
        }
    }
}

impl_text_value!(ApiKeyPrefix, ApiKeyFormatError);

/// The secret part of an API key: 32 random bytes.
///
/// It has no `Display` nor `Serialize`, its `Debug` is redacted and its
/// equality runs in constant time. Only [`PlaintextApiKey::expose_secret_string`]
/// turns it back into text, once, to show it to its owner.
#[derive(Clone)]
pub struct ApiKeySecret([u8; SECRET_BYTES]);

impl ApiKeySecret {
    /// Generates a secret from the operating system's secure random
    /// generator.
    ///
    /// # Panics
    ///
    /// If the operating system cannot provide random bytes.
    pub fn generate() -> Self {
        Self(os_random_bytes())
    }

    /// SHA-256 of `salt` followed by the secret bytes: the value to store.
    pub fn hash_with_salt(&self, salt: &[u8]) -> [u8; 32] {
        Sha256::new_with_prefix(salt)
            .chain_update(self.0)
            .finalize()
            .into()
    }

    /// Whether this secret, hashed with `salt`, gives `expected_hash`. The
    /// comparison runs in constant time; a hash of the wrong length never
    /// matches.
    pub fn verify(&self, salt: &[u8], expected_hash: &[u8]) -> bool {
        let actual_hash = self.hash_with_salt(salt);
        actual_hash.as_slice().ct_eq(expected_hash).into()
    }

    /// Parses 64 lowercase hexadecimal characters.
    fn parse_hex(input: &str) -> Result<Self, ApiKeyFormatError> {
        if !is_lowercase_hex(input, SECRET_BYTES) {
            return Err(ApiKeyFormatError::InvalidSecret);
        }
        let mut bytes = [0; SECRET_BYTES];
        hex::decode_to_slice(input, &mut bytes).map_err(|_| ApiKeyFormatError::InvalidSecret)?;
        Ok(Self(bytes))
    }
}

impl PartialEq for ApiKeySecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for ApiKeySecret {}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ApiKeySecret(REDACTED)")
    }
}

/// Generates a 16-byte salt from the operating system's secure random
/// generator, to hash a new secret with.
///
/// # Panics
///
/// If the operating system cannot provide random bytes.
pub fn generate_salt() -> [u8; SALT_BYTES] {
    os_random_bytes()
}

/// A complete API key, prefix and secret, as shown once to its owner or
/// received in a request.
///
/// It has no `Display` nor `Serialize`: the text comes out only through
/// [`PlaintextApiKey::expose_secret_string`]. `Debug` shows the prefix only.
#[derive(Clone, PartialEq, Eq)]
pub struct PlaintextApiKey {
    prefix: ApiKeyPrefix,
    secret: ApiKeySecret,
}

impl PlaintextApiKey {
    /// Generates a new key for `environment`.
    ///
    /// # Panics
    ///
    /// If the operating system cannot provide random bytes.
    pub fn generate(environment: Environment) -> Self {
        Self::from_parts(
            ApiKeyPrefix::generate(environment),
            ApiKeySecret::generate(),
        )
    }

    /// Assembles a key from its two parts.
    pub fn from_parts(prefix: ApiKeyPrefix, secret: ApiKeySecret) -> Self {
        Self { prefix, secret }
    }

    /// Parses a full key. The input must already be trimmed; the format is
    /// strict (lowercase environment name and lowercase hex only).
    pub fn parse(input: &str) -> Result<Self, ApiKeyFormatError> {
        let mut parts = input.split(SEPARATOR);
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(environment), Some(identifier), Some(secret), None) => Ok(Self::from_parts(
                ApiKeyPrefix::from_parts(environment, identifier)?,
                ApiKeySecret::parse_hex(secret)?,
            )),
            _ => Err(ApiKeyFormatError::Malformed),
        }
    }

    /// The full key text. This is the only way to get it out: call it once,
    /// to show the new key to its owner.
    pub fn expose_secret_string(&self) -> String {
        format!(
            "{}{SEPARATOR}{}",
            self.prefix.as_str(),
            hex::encode(self.secret.0)
        )
    }

    /// The public prefix.
    pub fn prefix(&self) -> &ApiKeyPrefix {
        &self.prefix
    }

    /// The secret part.
    pub fn secret(&self) -> &ApiKeySecret {
        &self.secret
    }

    /// The environment the key belongs to.
    pub fn environment(&self) -> Environment {
        self.prefix.environment()
    }
}

impl fmt::Debug for PlaintextApiKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PlaintextApiKey")
            .field("prefix", &self.prefix.as_str())
            .field("secret", &format_args!("REDACTED"))
            .finish()
    }
}

/// Whether `input` is exactly `2 * byte_count` lowercase hexadecimal digits.
fn is_lowercase_hex(input: &str, byte_count: usize) -> bool {
    input.len() == 2 * byte_count
        && input
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Random bytes from the operating system's secure generator.
///
/// # Panics
///
/// If the operating system cannot provide random bytes, which only happens
/// on a badly broken system; there is no safe fallback for key material.
fn os_random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    UnwrapErr(SysRng).fill(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::test_support::deserialize_from_str;

    const KNOWN_SECRET_HEX: &str =
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn known_secret() -> ApiKeySecret {
        let mut bytes = [0; SECRET_BYTES];
        for (byte, value) in bytes.iter_mut().zip(0u8..) {
            *byte = value;
        }
        ApiKeySecret(bytes)
    }

    /// Hand-written check of `^(integration|production)_[0-9a-f]{12}_[0-9a-f]{64}$`.
    fn matches_key_pattern(key: &str) -> bool {
        let parts: Vec<&str> = key.split('_').collect();
        let is_hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        parts.len() == 3
            && matches!(parts[0], "integration" | "production")
            && is_hex(parts[1], 12)
            && is_hex(parts[2], 64)
    }

    #[test]
    fn key_format_is_frozen() {
        let prefix = ApiKeyPrefix::parse("integration_0123456789ab").unwrap();
        let key = PlaintextApiKey::from_parts(prefix, known_secret());
        let expected = format!("integration_0123456789ab_{KNOWN_SECRET_HEX}");
        assert_eq!(key.expose_secret_string(), expected);
        assert_eq!(PlaintextApiKey::parse(&expected).unwrap(), key);
        assert_eq!(key.environment(), Environment::Integration);
        assert_eq!(key.prefix().as_str(), "integration_0123456789ab");
        assert_eq!(key.secret(), &known_secret());
    }

    #[test]
    fn hash_format_is_frozen() {
        // SHA-256(salt || secret), computed independently.
        let salt: Vec<u8> = (100u8..116).collect();
        let expected =
            hex::decode("b5b7acda24b967eacdce57c3e25699e6b8156e9379cd3907829a54ae4266415d")
                .unwrap();
        assert_eq!(
            known_secret().hash_with_salt(&salt).as_slice(),
            expected.as_slice()
        );
        assert!(known_secret().verify(&salt, &expected));
    }

    #[test]
    fn generated_keys_match_the_format() {
        for environment in Environment::ALL {
            for _ in 0..20 {
                let key = PlaintextApiKey::generate(environment);
                let text = key.expose_secret_string();
                assert!(matches_key_pattern(&text), "{text}");
                assert!(text.starts_with(environment.as_str()));
                assert_eq!(key.environment(), environment);
                assert_eq!(PlaintextApiKey::parse(&text).unwrap(), key);
            }
        }
    }

    #[test]
    fn generated_values_differ() {
        assert_ne!(ApiKeySecret::generate(), ApiKeySecret::generate());
        assert_ne!(generate_salt(), generate_salt());
        assert_ne!(
            ApiKeyPrefix::generate(Environment::Production),
            ApiKeyPrefix::generate(Environment::Production)
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = PlaintextApiKey::generate(Environment::Production);
        let secret_hex = hex::encode(key.secret().0);
        let key_debug = format!("{key:?}");
        let secret_debug = format!("{:?}", key.secret());
        for output in [&key_debug, &secret_debug, &format!("{key:#?}")] {
            assert!(!output.contains(&secret_hex), "{output}");
            assert!(!output.contains(&secret_hex[..16]), "{output}");
            assert!(output.contains("REDACTED"), "{output}");
        }
        assert!(key_debug.contains(key.prefix().as_str()), "{key_debug}");
        assert_eq!(secret_debug, "ApiKeySecret(REDACTED)");
    }

    #[test]
    fn verify_accepts_the_right_secret_only() {
        let secret = ApiKeySecret::generate();
        let salt = generate_salt();
        let hash = secret.hash_with_salt(&salt);
        assert!(secret.verify(&salt, &hash));

        let mut flipped = secret.clone();
        flipped.0[0] ^= 1;
        assert!(!flipped.verify(&salt, &hash));

        let mut other_salt = salt;
        other_salt[15] ^= 0x80;
        assert!(!secret.verify(&other_salt, &hash));

        let mut altered_hash = hash;
        altered_hash[31] ^= 1;
        assert!(!secret.verify(&salt, &altered_hash));
        assert!(!secret.verify(&salt, &hash[..31]));
        assert!(!secret.verify(&salt, &[]));
        let mut longer = hash.to_vec();
        longer.push(0);
        assert!(!secret.verify(&salt, &longer));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        let id = "0123456789ab";
        let secret = KNOWN_SECRET_HEX;
        let cases = [
            (String::new(), ApiKeyFormatError::Malformed),
            ("integration".to_owned(), ApiKeyFormatError::Malformed),
            (format!("integration_{id}"), ApiKeyFormatError::Malformed),
            (
                format!("integration{id}{secret}"),
                ApiKeyFormatError::Malformed,
            ),
            (
                format!("integration_{id}_{secret}_"),
                ApiKeyFormatError::Malformed,
            ),
            (
                format!("integration_{id}_{secret}_extra"),
                ApiKeyFormatError::Malformed,
            ),
            (
                format!("integration__{id}_{secret}"),
                ApiKeyFormatError::Malformed,
            ),
            (
                format!("_{id}_{secret}"),
                ApiKeyFormatError::UnknownEnvironment,
            ),
            (
                format!("staging_{id}_{secret}"),
                ApiKeyFormatError::UnknownEnvironment,
            ),
            (
                format!("Integration_{id}_{secret}"),
                ApiKeyFormatError::UnknownEnvironment,
            ),
            (
                format!("PRODUCTION_{id}_{secret}"),
                ApiKeyFormatError::UnknownEnvironment,
            ),
            (
                format!(" integration_{id}_{secret}"),
                ApiKeyFormatError::UnknownEnvironment,
            ),
            (
                format!("integration_0123456789AB_{secret}"),
                ApiKeyFormatError::InvalidIdentifier,
            ),
            (
                format!("integration_0123456789a_{secret}"),
                ApiKeyFormatError::InvalidIdentifier,
            ),
            (
                format!("integration_0123456789abc_{secret}"),
                ApiKeyFormatError::InvalidIdentifier,
            ),
            (
                format!("integration_0123456789ag_{secret}"),
                ApiKeyFormatError::InvalidIdentifier,
            ),
            (
                format!("integration_ {id}_{secret}"),
                ApiKeyFormatError::InvalidIdentifier,
            ),
            (
                format!("integration__{secret}"),
                ApiKeyFormatError::InvalidIdentifier,
            ),
            (
                format!("integration_{id}_"),
                ApiKeyFormatError::InvalidSecret,
            ),
            (
                format!("integration_{id}_{}", secret.to_uppercase()),
                ApiKeyFormatError::InvalidSecret,
            ),
            (
                format!("integration_{id}_{}", &secret[..63]),
                ApiKeyFormatError::InvalidSecret,
            ),
            (
                format!("integration_{id}_{secret}0"),
                ApiKeyFormatError::InvalidSecret,
            ),
            (
                format!("integration_{id}_{secret}00"),
                ApiKeyFormatError::InvalidSecret,
            ),
            (
                format!("integration_{id}_{secret} "),
                ApiKeyFormatError::InvalidSecret,
            ),
            (
                format!("integration_{id}_{secret}\n"),
                ApiKeyFormatError::InvalidSecret,
            ),
            (
                format!("integration_{id}_ {}", &secret[1..]),
                ApiKeyFormatError::InvalidSecret,
            ),
            (
                format!("integration_{id}_{}é", &secret[..62]),
                ApiKeyFormatError::InvalidSecret,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(PlaintextApiKey::parse(&input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn error_messages_do_not_repeat_the_input() {
        let input = format!(
            "integration_0123456789ab_{}",
            KNOWN_SECRET_HEX.to_uppercase()
        );
        let message = PlaintextApiKey::parse(&input).unwrap_err().to_string();
        assert!(
            !message.contains(&KNOWN_SECRET_HEX.to_uppercase()[..8]),
            "{message}"
        );
    }

    #[test]
    fn prefix_parsing() {
        let prefix = ApiKeyPrefix::parse("production_abcdef012345").unwrap();
        assert_eq!(prefix.environment(), Environment::Production);
        assert_eq!(prefix.to_string(), "production_abcdef012345");
        assert_eq!(prefix.as_ref(), "production_abcdef012345");
        assert_eq!(
            "production_abcdef012345".parse::<ApiKeyPrefix>().unwrap(),
            prefix
        );
        assert_eq!(
            deserialize_from_str::<ApiKeyPrefix>("production_abcdef012345").unwrap(),
            prefix
        );

        let cases = [
            ("", ApiKeyFormatError::Malformed),
            ("production", ApiKeyFormatError::Malformed),
            ("production_abcdef012345_", ApiKeyFormatError::Malformed),
            ("prod_abcdef012345", ApiKeyFormatError::UnknownEnvironment),
            (
                "production_ABCDEF012345",
                ApiKeyFormatError::InvalidIdentifier,
            ),
            (
                "production_abcdef01234",
                ApiKeyFormatError::InvalidIdentifier,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(ApiKeyPrefix::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn generated_prefix_has_the_right_shape() {
        let prefix = ApiKeyPrefix::generate(Environment::Integration);
        assert_eq!(prefix.environment(), Environment::Integration);
        assert_eq!(ApiKeyPrefix::parse(prefix.as_str()).unwrap(), prefix);
        assert_eq!(prefix.as_str().len(), "integration_".len() + 12);
    }

    fn any_environment() -> impl Strategy<Value = Environment> {
        prop_oneof![
            Just(Environment::Integration),
            Just(Environment::Production)
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in any::<String>()) {
            let _ = PlaintextApiKey::parse(&input);
            let _ = ApiKeyPrefix::parse(&input);
        }

        #[test]
        fn parse_never_panics_on_key_like_input(
            input in "(integration|production|x)?_?[0-9a-fA-F_ ]{0,90}"
        ) {
            if let Ok(key) = PlaintextApiKey::parse(&input) {
                prop_assert_eq!(key.expose_secret_string(), input);
            }
        }

        #[test]
        fn exposed_key_parses_back(
            environment in any_environment(),
            identifier in any::<[u8; IDENTIFIER_BYTES]>(),
            secret in any::<[u8; SECRET_BYTES]>(),
        ) {
            let prefix = ApiKeyPrefix::new(environment, &hex::encode(identifier));
            let key = PlaintextApiKey::from_parts(prefix, ApiKeySecret(secret));
            let text = key.expose_secret_string();
            prop_assert!(matches_key_pattern(&text));
            prop_assert_eq!(PlaintextApiKey::parse(&text), Ok(key));
        }

        #[test]
        fn generated_key_parses_back(environment in any_environment()) {
            let key = PlaintextApiKey::generate(environment);
            prop_assert_eq!(PlaintextApiKey::parse(&key.expose_secret_string()), Ok(key));
        }
    }
}
