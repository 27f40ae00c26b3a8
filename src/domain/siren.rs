//! SIREN: the 9-digit identifier of a French legal entity.

use serde::Deserialize;

use super::{group_digits, impl_text_value, is_ascii_digits, luhn, remove_whitespace};

/// Why a text is not a valid SIREN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SirenError {
    /// Nothing was entered (or only spaces).
    #[error("A SIREN is required")]
    Empty,
    /// Something other than digits and spaces was entered.
    #[error("A SIREN contains only digits")]
    NotDigits,
    /// The number of digits is not 9.
    #[error("A SIREN has exactly 9 digits (this one has {found})")]
    WrongLength {
        /// Number of digits entered.
        found: usize,
    },
    /// The digits do not pass the Luhn check.
    #[error("This SIREN is not valid (check digit mismatch)")]
    BadCheckDigit,
}

/// A valid SIREN: exactly 9 ASCII digits passing the Luhn check.
///
/// Its canonical form (`Display`, `as_str`, serde) is the 9 digits without
/// spaces; [`Siren::format_spaced`] gives the human-friendly `123 456 789`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Siren(String);

impl Siren {
    /// Number of digits in a SIREN.
    pub const LENGTH: usize = 9;

    /// Parses a SIREN typed by a user. Whitespace anywhere in the input
    /// (including non-breaking spaces) is ignored.
    pub fn parse(input: &str) -> Result<Self, SirenError> {
        let digits = remove_whitespace(input);
        if digits.is_empty() {
            return Err(SirenError::Empty);
        }
        if !is_ascii_digits(&digits) {
            return Err(SirenError::NotDigits);
        }
        if digits.len() != Self::LENGTH {
            return Err(SirenError::WrongLength {
                found: digits.len(),
            });
        }
        if !luhn::is_valid(&digits) {
            return Err(SirenError::BadCheckDigit);
        }
        Ok(Self(digits))
    }

    /// The 9 digits, without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SIREN grouped by three digits, e.g. `732 829 320`.
    pub fn format_spaced(&self) -> String {
        group_digits(&self.0, &[3, 3, 3])
    }
}

impl_text_value!(Siren, SirenError);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::test_support::deserialize_from_str;

    #[test]
    fn parse_accepts_valid_sirens() {
        let cases = [
            ("732829320", "732829320"),
            ("055800296", "055800296"),
            ("732 829 320", "732829320"),
            ("  732829320\t", "732829320"),
            ("732\u{a0}829\u{a0}320", "732829320"),
            ("732\u{202f}829\u{202f}320", "732829320"),
            ("7 3 2 8 2 9 3 2 0", "732829320"),
        ];
        for (input, expected) in cases {
            let siren = Siren::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(siren.as_str(), expected, "{input:?}");
        }
    }

    #[test]
    fn parse_rejects_invalid_sirens() {
        let cases = [
            ("", SirenError::Empty),
            ("   ", SirenError::Empty),
            ("\u{a0}", SirenError::Empty),
            ("110046019", SirenError::BadCheckDigit),
            ("732829321", SirenError::BadCheckDigit),
            ("73282932", SirenError::WrongLength { found: 8 }),
            ("7328293200", SirenError::WrongLength { found: 10 }),
            ("11004601800013", SirenError::WrongLength { found: 14 }),
            ("73282932A", SirenError::NotDigits),
            ("732-829-320", SirenError::NotDigits),
            ("732.829.320", SirenError::NotDigits),
            ("７３２８２９３２０", SirenError::NotDigits), // full-width digits
            ("abc", SirenError::NotDigits),
        ];
        for (input, expected) in cases {
            assert_eq!(Siren::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn error_messages_are_user_friendly() {
        assert_eq!(
            SirenError::WrongLength { found: 8 }.to_string(),
            "A SIREN has exactly 9 digits (this one has 8)"
        );
        assert_eq!(
            SirenError::BadCheckDigit.to_string(),
            "This SIREN is not valid (check digit mismatch)"
        );
    }

    #[test]
    fn formats_and_conversions() -> Result<(), SirenError> {
        let siren = Siren::parse("732829320")?;
        assert_eq!(siren.format_spaced(), "732 829 320");
        assert_eq!(siren.to_string(), "732829320");
        assert_eq!(siren.as_ref(), "732829320");
        assert_eq!("732 829 320".parse::<Siren>()?, siren);
        assert_eq!(Siren::try_from(String::from("732829320"))?, siren);
        Ok(())
    }

    #[test]
    fn deserializes_through_parse() {
        let siren: Result<Siren, _> = deserialize_from_str("732 829 320");
        assert_eq!(
            siren.map(|s| s.to_string()).ok().as_deref(),
            Some("732829320")
        );
        let invalid: Result<Siren, _> = deserialize_from_str("110046019");
        let message = invalid.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("check digit mismatch"), "{message}");
    }

    /// Builds a 9-digit SIREN string from an 8-digit body.
    fn with_check_digit(body: u32) -> String {
        let body = format!("{body:08}");
        let check = luhn::check_digit(&body);
        format!("{body}{check}")
    }

    proptest! {
        #[test]
        fn body_with_computed_check_digit_is_valid(body in 0u32..100_000_000) {
            let digits = with_check_digit(body);
            let siren = Siren::parse(&digits);
            prop_assert_eq!(siren.map(|s| s.as_str().to_owned()), Ok(digits));
        }

        #[test]
        fn changing_any_single_digit_invalidates(
            body in 0u32..100_000_000,
            position in 0usize..9,
            delta in 1u8..10,
        ) {
            let mut digits = with_check_digit(body).into_bytes();
            digits[position] = b'0' + (digits[position] - b'0' + delta) % 10;
            let altered = String::from_utf8(digits).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Siren::parse(&altered), Err(SirenError::BadCheckDigit));
        }

        #[test]
        fn parse_never_panics(input in any::<String>()) {
            let _ = Siren::parse(&input);
        }

        #[test]
        fn parse_never_panics_on_digit_like_input(input in "[0-9 \u{a0}\u{202f}a]{0,20}") {
            if let Ok(siren) = Siren::parse(&input) {
                prop_assert_eq!(Siren::parse(siren.as_str()), Ok(siren.clone()));
                prop_assert_eq!(Siren::parse(&siren.format_spaced()), Ok(siren));
            }
        }
    }
}
