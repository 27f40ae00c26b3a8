//! Booking tokens: the short code a beneficiary shows to validate a booking.

use serde::Deserialize;

use super::impl_text_value;

/// Why a text is not a valid booking token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingTokenError {
    /// Nothing was entered (or only spaces).
    #[error("A booking code is required")]
    Empty,
    /// The code does not have 6 characters.
    #[error("A booking code has exactly 6 characters")]
    WrongLength,
    /// The code contains something other than letters A-Z and digits.
    #[error("A booking code contains only letters (A-Z) and digits")]
    InvalidCharacter,
}

/// A booking token: 6 characters among `A-Z` and `0-9`, stored in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct BookingToken(String);

impl BookingToken {
    /// Number of characters in a token.
    pub const LENGTH: usize = 6;

    /// Parses a token typed by a user: surrounding whitespace is ignored and
    /// letters may be in either case.
    pub fn parse(input: &str) -> Result<Self, BookingTokenError> {
        let token = input.trim().to_ascii_uppercase();
        if token.is_empty() {
            return Err(BookingTokenError::Empty);
        }
        if !token
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(BookingTokenError::InvalidCharacter);
        }
        if token.len() != Self::LENGTH {
            return Err(BookingTokenError::WrongLength);
        }
        Ok(Self(token))
    }

    /// The token, in upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl_text_value!(BookingToken, BookingTokenError);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::test_support::deserialize_from_str;

    #[test]
    fn parse_accepts_and_uppercases_valid_tokens() {
        let cases = [
            ("ABC123", "ABC123"),
            ("abc123", "ABC123"),
            ("aBc12Z", "ABC12Z"),
            ("  000000\n", "000000"),
            ("ZZZZZZ", "ZZZZZZ"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                BookingToken::parse(input).unwrap().as_str(),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_invalid_tokens() {
        let cases = [
            ("", BookingTokenError::Empty),
            (" \t ", BookingTokenError::Empty),
            ("ABC12", BookingTokenError::WrongLength),
            ("ABC1234", BookingTokenError::WrongLength),
            ("ABC 12", BookingTokenError::InvalidCharacter),
            ("ABC-12", BookingTokenError::InvalidCharacter),
            ("ÉBC123", BookingTokenError::InvalidCharacter),
            ("éBC123", BookingTokenError::InvalidCharacter),
            ("ＡBC123", BookingTokenError::InvalidCharacter), // full-width A
        ];
        for (input, expected) in cases {
            assert_eq!(BookingToken::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn conversions() {
        let token: BookingToken = "xyz789".parse().unwrap();
        assert_eq!(token.to_string(), "XYZ789");
        assert_eq!(token.as_ref(), "XYZ789");
        assert_eq!(
            deserialize_from_str::<BookingToken>(" xyz789 ").unwrap(),
            token
        );
        assert!(deserialize_from_str::<BookingToken>("xyz78").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in any::<String>()) {
            let _ = BookingToken::parse(&input);
        }

        #[test]
        fn valid_tokens_round_trip(input in "[a-zA-Z0-9]{6}") {
            let token = BookingToken::parse(&input)?;
            prop_assert_eq!(token.as_str(), input.to_ascii_uppercase());
            prop_assert_eq!(BookingToken::parse(token.as_str()), Ok(token));
        }
    }
}
