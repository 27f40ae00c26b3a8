//! SIRET: the 14-digit identifier of an establishment (a SIREN followed by a
//! 5-digit NIC).

use serde::Deserialize;

use super::{Siren, group_digits, impl_text_value, is_ascii_digits, luhn, remove_whitespace};

/// SIREN of La Poste, whose establishments use a different checksum.
const LA_POSTE_SIREN: &str = "356000000";

/// Why a text is not a valid SIRET.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiretError {
    /// Nothing was entered (or only spaces).
    #[error("A SIRET is required")]
    Empty,
    /// Something other than digits and spaces was entered.
    #[error("A SIRET contains only digits")]
    NotDigits,
    /// The number of digits is not 14.
    #[error("A SIRET has exactly 14 digits (this one has {found})")]
    WrongLength {
        /// Number of digits entered.
        found: usize,
    },
    /// The digits do not pass the checksum.
    #[error("This SIRET is not valid (check digit mismatch)")]
    BadCheckDigit,
}

/// A valid SIRET: exactly 14 ASCII digits passing the Luhn check, or, for
/// La Poste establishments (SIREN `356000000`), whose digit sum is a
/// multiple of 5.
///
/// Its canonical form (`Display`, `as_str`, serde) is the 14 digits without
/// spaces; [`Siret::format_spaced`] gives `123 456 789 00012`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Siret(String);

impl Siret {
    /// Number of digits in a SIRET.
    pub const LENGTH: usize = 14;

    /// Parses a SIRET typed by a user. Whitespace anywhere in the input
    /// (including non-breaking spaces) is ignored.
    pub fn parse(input: &str) -> Result<Self, SiretError> {
        let digits = remove_whitespace(input);
        if digits.is_empty() {
            return Err(SiretError::Empty);
        }
        if !is_ascii_digits(&digits) {
            return Err(SiretError::NotDigits);
        }
        if digits.len() != Self::LENGTH {
            return Err(SiretError::WrongLength {
                found: digits.len(),
            });
        }
        if !has_valid_checksum(&digits) {
            return Err(SiretError::BadCheckDigit);
        }
        Ok(Self(digits))
    }

    /// The 14 digits, without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 9 digits: the SIREN of the legal entity.
    ///
    /// This is returned as text because it does not always pass the SIREN
    /// check on its own.
    pub fn siren(&self) -> &str {
        &self.0[..Siren::LENGTH]
    }

    /// The last 5 digits: the NIC identifying the establishment.
    pub fn nic(&self) -> &str {
        &self.0[Siren::LENGTH..]
    }

    /// Whether this establishment belongs to the legal entity `siren`.
    pub fn belongs_to(&self, siren: &Siren) -> bool {
        self.siren() == siren.as_str()
    }

    /// The SIRET grouped for reading, e.g. `110 046 018 00013`.
    pub fn format_spaced(&self) -> String {
        group_digits(&self.0, &[3, 3, 3, 5])
    }
}

impl_text_value!(Siret, SiretError);

/// Checks 14 ASCII digits against the SIRET checksum rules.
fn has_valid_checksum(digits: &str) -> bool {
    luhn::is_valid(digits) || is_valid_la_poste(digits)
}

/// La Poste exception: its establishments are numbered sequentially, so the
/// rule is that the sum of the 14 digits is a multiple of 5.
fn is_valid_la_poste(digits: &str) -> bool {
    let digit_sum: u32 = digits.bytes().map(|b| u32::from(b - b'0')).sum();
    digits.starts_with(LA_POSTE_SIREN) && digit_sum.is_multiple_of(5)
}

/// Builds a valid SIRET from `siren` and a 4-digit NIC body, computing the
/// fifth NIC digit so that the whole number passes the Luhn check.
///
/// `nic_prefix` is expected in `0..=9999`; larger values are reduced modulo
/// 10 000 (only the last four decimal digits are used). Meant for demo data
/// and tests.
pub fn siret_from_siren_and_nic_prefix(siren: &Siren, nic_prefix: u32) -> Siret {
    let body = format!("{}{:04}", siren.as_str(), nic_prefix % 10_000);
    let check = luhn::check_digit(&body);
    Siret(format!("{body}{check}"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::SirenError;
    use crate::domain::test_support::deserialize_from_str;

    #[test]
    fn parse_accepts_valid_sirets() {
        let cases = [
            ("11004601800013", "11004601800013"),
            ("35600000000048", "35600000000048"),
            ("35600000009075", "35600000009075"),
            ("35012746000151", "35012746000151"),
            ("110 046 018 00013", "11004601800013"),
            ("\t110\u{a0}046\u{202f}018 00013\n", "11004601800013"),
        ];
        for (input, expected) in cases {
            let siret = Siret::parse(input).unwrap();
            assert_eq!(siret.as_str(), expected, "{input:?}");
        }
    }

    #[test]
    fn parse_rejects_invalid_sirets() {
        let cases = [
            ("", SiretError::Empty),
            (" \u{202f} ", SiretError::Empty),
            ("11004601800014", SiretError::BadCheckDigit),
            ("35600000000049", SiretError::BadCheckDigit), // La Poste, sum not a multiple of 5
            ("35600000100048", SiretError::BadCheckDigit),
            ("732829320", SiretError::WrongLength { found: 9 }),
            ("1100460180001", SiretError::WrongLength { found: 13 }),
            ("110046018000130", SiretError::WrongLength { found: 15 }),
            ("1100460180001X", SiretError::NotDigits),
            ("110-046-018-00013", SiretError::NotDigits),
        ];
        for (input, expected) in cases {
            assert_eq!(Siret::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn la_poste_exception_only_applies_to_la_poste() {
        // The digit sum of 11004601800063 is 30, a multiple of 5, but the
        // exception is reserved to La Poste, so the failed Luhn check wins.
        assert!(!is_valid_la_poste("11004601800063"));
        assert!(is_valid_la_poste("35600000009075"));
        assert!(
            !luhn::is_valid("35600000009075"),
            "accepted only through the exception"
        );
        assert_eq!(
            Siret::parse("11004601800063"),
            Err(SiretError::BadCheckDigit)
        );
    }

    #[test]
    fn accessors_and_formatting() {
        let siret = Siret::parse("11004601800013").unwrap();
        assert_eq!(siret.siren(), "110046018");
        assert_eq!(siret.nic(), "00013");
        assert_eq!(siret.format_spaced(), "110 046 018 00013");
        assert_eq!(siret.to_string(), "11004601800013");
        assert_eq!(siret.as_ref(), "11004601800013");
        assert_eq!("110 046 018 00013".parse::<Siret>().unwrap(), siret);
    }

    #[test]
    fn belongs_to_compares_the_siren_part() {
        let siret = Siret::parse("35012746000151").unwrap();
        assert!(siret.belongs_to(&Siren::parse("350127460").unwrap()));
        assert!(!siret.belongs_to(&Siren::parse("732829320").unwrap()));
    }

    #[test]
    fn siren_part_may_be_an_invalid_siren() {
        // The Luhn check runs over all 14 digits, so the first 9 need not
        // form a valid SIREN on their own.
        let body = "1234567890001";
        let digits = format!("{body}{}", luhn::check_digit(body));
        let siret = Siret::parse(&digits).unwrap();
        assert_eq!(siret.siren(), "123456789");
        assert_eq!(Siren::parse(siret.siren()), Err(SirenError::BadCheckDigit));
        assert!(!siret.belongs_to(&Siren::parse("732829320").unwrap()));
    }

    #[test]
    fn builds_siret_from_siren_and_nic_prefix() {
        let siren = Siren::parse("732829320").unwrap();
        let siret = siret_from_siren_and_nic_prefix(&siren, 1);
        assert_eq!(siret.siren(), "732829320");
        assert!(siret.nic().starts_with("0001"));
        assert_eq!(Siret::parse(siret.as_str()), Ok(siret.clone()));
        assert_eq!(
            siret_from_siren_and_nic_prefix(&siren, 10_001),
            siret,
            "only the last four digits of the prefix are used"
        );
    }

    #[test]
    fn deserializes_through_parse() {
        let siret: Siret = deserialize_from_str("110 046 018 00013").unwrap();
        assert_eq!(siret.as_str(), "11004601800013");
        assert!(deserialize_from_str::<Siret>("11004601800014").is_err());
    }

    fn any_siren() -> impl Strategy<Value = Siren> {
        (0u32..100_000_000).prop_map(|body| {
            let body = format!("{body:08}");
            let check = luhn::check_digit(&body);
            Siren::parse(&format!("{body}{check}")).unwrap()
        })
    }

    proptest! {
        #[test]
        fn built_siret_is_valid_and_belongs_to_its_siren(
            siren in any_siren(),
            nic_prefix in 0u32..=9999,
        ) {
            let siret = siret_from_siren_and_nic_prefix(&siren, nic_prefix);
            prop_assert_eq!(Siret::parse(siret.as_str()), Ok(siret.clone()));
            prop_assert!(siret.belongs_to(&siren));
            let expected_prefix = format!("{nic_prefix:04}");
            prop_assert!(siret.nic().starts_with(&expected_prefix));
        }

        #[test]
        fn parse_never_panics(input in any::<String>()) {
            let _ = Siret::parse(&input);
        }

        #[test]
        fn parse_never_panics_on_digit_like_input(input in "[0-9 \u{a0}x]{0,20}") {
            if let Ok(siret) = Siret::parse(&input) {
                prop_assert_eq!(Siret::parse(&siret.format_spaced()), Ok(siret));
            }
        }
    }
}
