//! Email addresses, normalised to lower case.

use serde::Deserialize;

use super::impl_text_value;

/// Maximum length of a whole address, in characters.
const MAX_LENGTH: usize = 254;
/// Maximum length of the part before the `@`.
const MAX_LOCAL_PART_LENGTH: usize = 64;
/// Maximum length of one dot-separated label of the domain.
const MAX_LABEL_LENGTH: usize = 63;
/// Punctuation allowed in the local part, besides letters, digits and dots.
const LOCAL_PART_SYMBOLS: &str = "!#$%&'*+/=?^_`{|}~-";

/// Why a text is not a valid email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing was entered (or only spaces).
    #[error("An email address is required")]
    Empty,
    /// The address is longer than 254 characters.
    #[error("An email address must be at most 254 characters")]
    TooLong,
    /// There is no `@` sign.
    #[error("An email address must contain an @ sign, as in name@example.com")]
    MissingAt,
    /// There is more than one `@` sign.
    #[error("An email address must contain a single @ sign")]
    MultipleAt,
    /// The part before the `@` is empty, too long or has forbidden characters.
    #[error("The part of the email address before the @ is not valid")]
    InvalidLocalPart,
    /// The part after the `@` is not a valid domain name.
    #[error("The part of the email address after the @ is not a valid domain name")]
    InvalidDomain,
}

/// A syntactically valid email address, in lower case.
///
/// Surrounding whitespace is removed and the whole address is lowercased, so
/// two spellings of the same address compare equal. Only plain ASCII
/// addresses are accepted (no quoted local parts, no internationalised
/// domains, no IP literals).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Email(String);

impl Email {
    /// Parses and normalises an email address typed by a user.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        // ASCII lowercasing only: Unicode lowercasing would turn look-alikes such
        // as the Kelvin sign (U+212A) into ASCII letters and accept them.
        let address = input.trim().to_ascii_lowercase();
        if address.is_empty() {
            return Err(EmailError::Empty);
        }
        if address.chars().count() > MAX_LENGTH {
            return Err(EmailError::TooLong);
        }
        let (local_part, domain) = split_at_sign(&address)?;
        if !is_valid_local_part(local_part) {
            return Err(EmailError::InvalidLocalPart);
        }
        if !is_valid_domain(domain) {
            return Err(EmailError::InvalidDomain);
        }
        Ok(Self(address))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain (the part after the `@`), safe to write to logs where the
    /// full address must not appear.
    pub fn domain(&self) -> &str {
        self.0
            .split_once('@')
            .map_or(self.0.as_str(), |(_, domain)| domain)
    }
}

impl_text_value!(Email, EmailError);

/// Splits an address on its single `@` sign.
fn split_at_sign(address: &str) -> Result<(&str, &str), EmailError> {
    let (local_part, domain) = address.split_once('@').ok_or(EmailError::MissingAt)?;
    if domain.contains('@') {
        return Err(EmailError::MultipleAt);
    }
    Ok((local_part, domain))
}

/// Local part: 1 to 64 allowed characters, no leading, trailing or doubled
/// dot.
fn is_valid_local_part(local_part: &str) -> bool {
    (1..=MAX_LOCAL_PART_LENGTH).contains(&local_part.len())
        && local_part.chars().all(is_local_part_char)
        && !local_part.starts_with('.')
        && !local_part.ends_with('.')
        && !local_part.contains("..")
}

fn is_local_part_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || LOCAL_PART_SYMBOLS.contains(c)
}

/// Domain: at least two labels, each valid, the last one (TLD) made of at
/// least two letters.
fn is_valid_domain(domain: &str) -> bool {
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    domain.split('.').all(is_valid_label)
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_lowercase())
}

/// Label: 1 to 63 characters among `a-z`, `0-9` and `-`, not starting or
/// ending with `-`.
fn is_valid_label(label: &str) -> bool {
    (1..=MAX_LABEL_LENGTH).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::test_support::deserialize_from_str;

    #[test]
    fn parse_accepts_and_normalises_valid_addresses() {
        let long_local = "a".repeat(64);
        let long_label = "b".repeat(63);
        let cases = [
            ("user@example.com", "user@example.com".to_owned()),
            (
                "  User.Name@Example.COM \n",
                "user.name@example.com".to_owned(),
            ),
            (
                "first.last+tag@sub.domain.fr",
                "first.last+tag@sub.domain.fr".to_owned(),
            ),
            ("o'brien@example.ie", "o'brien@example.ie".to_owned()),
            (
                "a!#$%&'*+/=?^_`{|}~-z@example.org",
                "a!#$%&'*+/=?^_`{|}~-z@example.org".to_owned(),
            ),
            ("x@a-b.c0.io", "x@a-b.c0.io".to_owned()),
            ("123@456.fr", "123@456.fr".to_owned()),
            (
                &format!("{long_local}@example.com"),
                format!("{long_local}@example.com"),
            ),
            (
                &format!("x@{long_label}.com"),
                format!("x@{long_label}.com"),
            ),
        ];
        for (input, expected) in cases {
            let email = Email::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(email.as_str(), expected);
        }
    }

    #[test]
    fn parse_rejects_invalid_addresses() {
        let too_long = format!(
            "{}@{}.com",
            "a".repeat(64),
            vec!["b".repeat(63); 3].join(".")
        );
        let cases = [
            ("".to_owned(), EmailError::Empty),
            ("   ".to_owned(), EmailError::Empty),
            (too_long, EmailError::TooLong),
            ("user.example.com".to_owned(), EmailError::MissingAt),
            ("a@b@example.com".to_owned(), EmailError::MultipleAt),
            ("@example.com".to_owned(), EmailError::InvalidLocalPart),
            (".user@example.com".to_owned(), EmailError::InvalidLocalPart),
            ("user.@example.com".to_owned(), EmailError::InvalidLocalPart),
            (
                "us..er@example.com".to_owned(),
                EmailError::InvalidLocalPart,
            ),
            ("us er@example.com".to_owned(), EmailError::InvalidLocalPart),
            (
                "\"quoted\"@example.com".to_owned(),
                EmailError::InvalidLocalPart,
            ),
            ("josé@example.com".to_owned(), EmailError::InvalidLocalPart),
            (
                "\u{212a}elvin@example.com".to_owned(),
                EmailError::InvalidLocalPart,
            ),
            (
                format!("{}@example.com", "a".repeat(65)),
                EmailError::InvalidLocalPart,
            ),
            ("user@".to_owned(), EmailError::InvalidDomain),
            ("user@localhost".to_owned(), EmailError::InvalidDomain),
            ("user@example.c".to_owned(), EmailError::InvalidDomain),
            ("user@example.c0m".to_owned(), EmailError::InvalidDomain),
            ("user@example.com.".to_owned(), EmailError::InvalidDomain),
            ("user@.example.com".to_owned(), EmailError::InvalidDomain),
            ("user@exa..mple.com".to_owned(), EmailError::InvalidDomain),
            ("user@-example.com".to_owned(), EmailError::InvalidDomain),
            ("user@example-.com".to_owned(), EmailError::InvalidDomain),
            ("user@exa_mple.com".to_owned(), EmailError::InvalidDomain),
            ("user@exämple.com".to_owned(), EmailError::InvalidDomain),
            ("user@[127.0.0.1]".to_owned(), EmailError::InvalidDomain),
            ("user@example .com".to_owned(), EmailError::InvalidDomain),
            (
                format!("x@{}.com", "b".repeat(64)),
                EmailError::InvalidDomain,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(Email::parse(&input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn maximum_length_is_accepted() {
        // 64 + 1 + 189 = 254 characters.
        let domain = format!(
            "{}.{}.{}.com",
            "b".repeat(61),
            "c".repeat(61),
            "d".repeat(61)
        );
        let address = format!("{}@{domain}", "a".repeat(64));
        assert_eq!(address.len(), 254);
        assert!(Email::parse(&address).is_ok());
    }

    #[test]
    fn domain_returns_the_part_after_the_at_sign() {
        let email = Email::parse("Someone@Mail.Example.org").unwrap();
        assert_eq!(email.domain(), "mail.example.org");
    }

    #[test]
    fn conversions() {
        let email: Email = " Someone@Example.org".parse().unwrap();
        assert_eq!(email.to_string(), "someone@example.org");
        assert_eq!(email.as_ref(), "someone@example.org");
        assert_eq!(Email::try_from("someone@example.org").unwrap(), email);
        let deserialized: Email = deserialize_from_str("SOMEONE@example.org").unwrap();
        assert_eq!(deserialized, email);
        assert!(deserialize_from_str::<Email>("not an email").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in any::<String>()) {
            let _ = Email::parse(&input);
        }

        #[test]
        fn parse_is_idempotent_on_arbitrary_input(input in any::<String>()) {
            if let Ok(email) = Email::parse(&input) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email));
            }
        }

        #[test]
        fn parse_is_idempotent_on_plausible_addresses(
            input in "[ ]{0,2}[a-zA-Z0-9._%+'-]{1,20}@[a-zA-Z0-9-]{1,10}(\\.[a-zA-Z0-9-]{1,10}){0,2}\\.[a-zA-Z]{2,6}[ ]{0,2}"
        ) {
            if let Ok(email) = Email::parse(&input) {
                prop_assert_eq!(email.as_str(), input.trim().to_ascii_lowercase());
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email));
            }
        }
    }
}
