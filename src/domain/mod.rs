//! Domain value types.
//!
//! Every type in this module can only hold valid data: values are built by
//! parsing user input at the edge of the application (forms, API payloads,
//! configuration), and the rest of the code can rely on them without
//! re-checking. Parse errors are `thiserror` enums whose `Display` is a
//! message suitable for an end user.

mod activity_domain;
mod api_key;
mod booking_token;
mod email;
mod environment;
mod luhn;
mod postal_code;
mod siren;
mod siret;
mod text;

pub use activity_domain::{ActivityDomain, ActivityDomainError};
pub use api_key::{ApiKeyFormatError, ApiKeyPrefix, ApiKeySecret, PlaintextApiKey, generate_salt};
pub use booking_token::{BookingToken, BookingTokenError};
pub use email::{Email, EmailError};
pub use environment::{Environment, EnvironmentError};
pub use postal_code::{PostalCode, PostalCodeError};
pub use siren::{Siren, SirenError};
pub use siret::{Siret, SiretError, siret_from_siren_and_nic_prefix};
pub use text::{TextError, optional_line, optional_text, required_line, required_text};

/// Removes every whitespace character (ASCII spaces, tabs, newlines and the
/// Unicode spaces such as U+00A0 and U+202F that French formatting inserts
/// between digit groups) from `input`.
fn remove_whitespace(input: &str) -> String {
    input.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Returns `true` when `input` is non-empty and made only of ASCII digits.
fn is_ascii_digits(input: &str) -> bool {
    !input.is_empty() && input.bytes().all(|b| b.is_ascii_digit())
}

/// Inserts a single space between the groups of `digits` whose lengths are
/// given by `group_sizes` (e.g. `[3, 3, 3]` turns `732829320` into
/// `732 829 320`).
///
/// `digits` must be ASCII and exactly as long as the sum of `group_sizes`.
fn group_digits(digits: &str, group_sizes: &[usize]) -> String {
    let mut grouped = String::with_capacity(digits.len() + group_sizes.len());
    let mut rest = digits;
    for &size in group_sizes {
        let (group, tail) = rest.split_at(size.min(rest.len()));
        if !grouped.is_empty() {
            grouped.push(' ');
        }
        grouped.push_str(group);
        rest = tail;
    }
    grouped
}

/// Implements the textual traits shared by the validated string types:
/// `Display` (canonical form), `AsRef<str>`, `FromStr`, `TryFrom<String>`,
/// `TryFrom<&str>` and `serde::Serialize` as the canonical string.
///
/// The type must provide `fn parse(&str) -> Result<Self, $error>` and the
/// accessor named by the third argument (`as_str` by default) returning the
/// canonical `&str`. `Deserialize` is derived on the type itself with
/// `#[serde(try_from = "String")]` so that it goes through `parse`.
macro_rules! impl_text_value {
    ($type:ty, $error:ty) => {
        impl_text_value!($type, $error, as_str);
    };
    ($type:ty, $error:ty, $accessor:ident) => {
        impl ::std::fmt::Display for $type {
            fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                formatter.write_str(self.$accessor())
            }
        }

        impl ::std::convert::AsRef<str> for $type {
            fn as_ref(&self) -> &str {
                self.$accessor()
            }
        }

        impl ::std::str::FromStr for $type {
            type Err = $error;

            fn from_str(input: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::parse(input)
            }
        }

        impl ::std::convert::TryFrom<String> for $type {
            type Error = $error;

            fn try_from(input: String) -> ::std::result::Result<Self, Self::Error> {
                Self::parse(&input)
            }
        }

        impl ::std::convert::TryFrom<&str> for $type {
            type Error = $error;

            fn try_from(input: &str) -> ::std::result::Result<Self, Self::Error> {
                Self::parse(input)
            }
        }

        impl ::serde::Serialize for $type {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.$accessor())
            }
        }
    };
}
use impl_text_value;

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers shared by the unit tests of the domain types.

    use serde::de::{DeserializeOwned, IntoDeserializer, value};

    /// Deserializes `T` from a plain string, as a JSON string field would.
    pub(crate) fn deserialize_from_str<T: DeserializeOwned>(
        input: &str,
    ) -> Result<T, value::Error> {
        T::deserialize(input.into_deserializer())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_whitespace_strips_ascii_and_non_breaking_spaces() {
        assert_eq!(remove_whitespace(" 7 3\t2\u{a0}8\u{202f}29 "), "732829");
    }

    #[test]
    fn is_ascii_digits_rejects_empty_and_non_digits() {
        assert!(is_ascii_digits("0123"));
        assert!(!is_ascii_digits(""));
        assert!(!is_ascii_digits("12a"));
        assert!(!is_ascii_digits("１２")); // full-width digits
    }

    #[test]
    fn group_digits_inserts_single_spaces() {
        assert_eq!(group_digits("732829320", &[3, 3, 3]), "732 829 320");
        assert_eq!(
            group_digits("11004601800013", &[3, 3, 3, 5]),
            "110 046 018 00013"
        );
    }
}
