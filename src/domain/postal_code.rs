//! French postal codes.

use serde::Deserialize;

use super::{impl_text_value, is_ascii_digits};

/// Why a text is not a valid postal code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostalCodeError {
    /// Nothing was entered (or only spaces).
    #[error("A postal code is required")]
    Empty,
    /// The code is not made of exactly 5 digits.
    #[error("A postal code has exactly 5 digits")]
    NotFiveDigits,
    /// The code is `00000`, which does not exist.
    #[error("00000 is not a valid postal code")]
    AllZeros,
}

/// A French postal code: exactly 5 digits, not `00000`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct PostalCode(String);

impl PostalCode {
    /// Number of digits in a postal code.
    pub const LENGTH: usize = 5;

    /// Parses a postal code typed by a user; surrounding whitespace is
    /// ignored.
    pub fn parse(input: &str) -> Result<Self, PostalCodeError> {
        let code = input.trim();
        if code.is_empty() {
            return Err(PostalCodeError::Empty);
        }
        if code.len() != Self::LENGTH || !is_ascii_digits(code) {
            return Err(PostalCodeError::NotFiveDigits);
        }
        if code.bytes().all(|b| b == b'0') {
            return Err(PostalCodeError::AllZeros);
        }
        Ok(Self(code.to_owned()))
    }

    /// The 5 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl_text_value!(PostalCode, PostalCodeError);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::test_support::deserialize_from_str;

    #[test]
    fn parse_accepts_valid_codes() {
        let cases = [
            ("75001", "75001"),
            ("01000", "01000"),
            ("97400", "97400"),
            ("20000", "20000"),
            (" 13008\t", "13008"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                PostalCode::parse(input).unwrap().as_str(),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_invalid_codes() {
        let cases = [
            ("", PostalCodeError::Empty),
            ("   ", PostalCodeError::Empty),
            ("00000", PostalCodeError::AllZeros),
            ("7500", PostalCodeError::NotFiveDigits),
            ("750011", PostalCodeError::NotFiveDigits),
            ("75 001", PostalCodeError::NotFiveDigits),
            ("2A004", PostalCodeError::NotFiveDigits),
            ("F-75001", PostalCodeError::NotFiveDigits),
            ("７５００１", PostalCodeError::NotFiveDigits), // full-width digits
        ];
        for (input, expected) in cases {
            assert_eq!(PostalCode::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn conversions() {
        let code: PostalCode = "69001".parse().unwrap();
        assert_eq!(code.to_string(), "69001");
        assert_eq!(code.as_ref(), "69001");
        assert_eq!(deserialize_from_str::<PostalCode>("69001").unwrap(), code);
        assert!(deserialize_from_str::<PostalCode>("00000").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in any::<String>()) {
            let _ = PostalCode::parse(&input);
        }

        #[test]
        fn five_digit_codes_are_accepted_except_all_zeros(code in 1u32..100_000) {
            let text = format!("{code:05}");
            prop_assert_eq!(PostalCode::parse(&text).map(|c| c.to_string()), Ok(text));
        }
    }
}
