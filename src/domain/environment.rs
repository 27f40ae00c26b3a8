//! The two provider environments: integration (tests) and production.

use serde::Deserialize;

use super::impl_text_value;

/// Why a text is not an environment name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvironmentError {
    /// The text is not one of the accepted names.
    #[error("Unknown environment \"{found}\": accepted values are integration, production")]
    Unknown {
        /// The text that was given.
        found: String,
    },
}

/// An environment in which a provider uses the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum Environment {
    /// Test environment, with fake data.
    Integration,
    /// Live environment.
    Production,
}

impl Environment {
    /// Every environment, in display order.
    pub const ALL: [Environment; 2] = [Environment::Integration, Environment::Production];

    /// Parses the exact lowercase name of an environment
    /// (`integration` or `production`).
    pub fn parse(input: &str) -> Result<Self, EnvironmentError> {
        Self::ALL
            .into_iter()
            .find(|environment| environment.as_str() == input)
            .ok_or_else(|| EnvironmentError::Unknown {
                found: input.to_owned(),
            })
    }

    /// The stable lowercase name, used in API keys, URLs and the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            Environment::Integration => "integration",
            Environment::Production => "production",
        }
    }

    /// A label for people.
    pub fn label(&self) -> &'static str {
        match self {
            Environment::Integration => "Integration (test)",
            Environment::Production => "Production",
        }
    }

    /// The other environment.
    pub fn other(&self) -> Environment {
        match self {
            Environment::Integration => Environment::Production,
            Environment::Production => Environment::Integration,
        }
    }
}

impl_text_value!(Environment, EnvironmentError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::deserialize_from_str;

    #[test]
    fn names_labels_and_other() {
        let cases = [
            (
                Environment::Integration,
                "integration",
                "Integration (test)",
                Environment::Production,
            ),
            (
                Environment::Production,
                "production",
                "Production",
                Environment::Integration,
            ),
        ];
        for (environment, name, label, other) in cases {
            assert_eq!(environment.as_str(), name);
            assert_eq!(environment.to_string(), name);
            assert_eq!(environment.label(), label);
            assert_eq!(environment.other(), other);
            assert_eq!(environment.other().other(), environment);
            assert_eq!(name.parse::<Environment>(), Ok(environment));
        }
    }

    #[test]
    fn all_lists_each_environment_once() {
        assert_eq!(
            Environment::ALL,
            [Environment::Integration, Environment::Production]
        );
    }

    #[test]
    fn parse_requires_the_exact_lowercase_name() {
        for input in [
            "",
            "Integration",
            "PRODUCTION",
            " production",
            "prod",
            "test",
        ] {
            assert_eq!(
                Environment::parse(input),
                Err(EnvironmentError::Unknown {
                    found: input.to_owned()
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn error_lists_accepted_values() {
        let message = Environment::parse("staging").unwrap_err().to_string();
        for environment in Environment::ALL {
            assert!(message.contains(environment.as_str()), "{message}");
        }
        assert!(message.contains("staging"), "{message}");
    }

    #[test]
    fn deserializes_through_parse() {
        assert_eq!(
            deserialize_from_str::<Environment>("production").unwrap(),
            Environment::Production
        );
        assert!(deserialize_from_str::<Environment>("Production").is_err());
    }
}
