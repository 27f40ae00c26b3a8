//! The main activity of a venue.

use serde::Deserialize;

use super::impl_text_value;

/// Why a text is not an activity domain code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivityDomainError {
    /// The text is not one of the codes of [`ActivityDomain::ALL`].
    #[error("\"{found}\" is not a known activity domain")]
    Unknown {
        /// The text that was given.
        found: String,
    },
}

/// The main activity of a venue.
///
/// Each variant has a stable SCREAMING_SNAKE_CASE [`code`](Self::code), used
/// in the database, forms and the API (`Display`, `FromStr` and serde use
/// it), and an English [`label`](Self::label) for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum ActivityDomain {
    /// Artistic course.
    ArtisticCourse,
    /// Bookstore.
    Bookstore,
    /// Concert hall.
    ConcertHall,
    /// Cultural centre.
    CulturalCentre,
    /// Festival.
    Festival,
    /// Games.
    Games,
    /// Library.
    Library,
    /// Cinema.
    Movie,
    /// Museum.
    Museum,
    /// Musical instrument store.
    MusicalInstrumentStore,
    /// Heritage and tourism.
    PatrimonyTourism,
    /// Performing arts.
    PerformingArts,
    /// Record store.
    RecordStore,
    /// Scientific culture.
    ScientificCulture,
    /// Visual arts.
    VisualArts,
    /// Any other activity.
    Other,
}

impl ActivityDomain {
    /// Every activity domain, in code order with `Other` last (the order to
    /// show them in a list).
    pub const ALL: &'static [ActivityDomain] = &[
        ActivityDomain::ArtisticCourse,
        ActivityDomain::Bookstore,
        ActivityDomain::ConcertHall,
        ActivityDomain::CulturalCentre,
        ActivityDomain::Festival,
        ActivityDomain::Games,
        ActivityDomain::Library,
        ActivityDomain::Movie,
        ActivityDomain::Museum,
        ActivityDomain::MusicalInstrumentStore,
        ActivityDomain::PatrimonyTourism,
        ActivityDomain::PerformingArts,
        ActivityDomain::RecordStore,
        ActivityDomain::ScientificCulture,
        ActivityDomain::VisualArts,
        ActivityDomain::Other,
    ];

    /// Parses a code such as `CONCERT_HALL` (exact, case-sensitive).
    pub fn parse(input: &str) -> Result<Self, ActivityDomainError> {
        Self::ALL
            .iter()
            .copied()
            .find(|domain| domain.code() == input)
            .ok_or_else(|| ActivityDomainError::Unknown {
                found: input.to_owned(),
            })
    }

    /// The stable code, e.g. `CONCERT_HALL`.
    pub fn code(&self) -> &'static str {
        match self {
            ActivityDomain::ArtisticCourse => "ARTISTIC_COURSE",
            ActivityDomain::Bookstore => "BOOKSTORE",
            ActivityDomain::ConcertHall => "CONCERT_HALL",
            ActivityDomain::CulturalCentre => "CULTURAL_CENTRE",
            ActivityDomain::Festival => "FESTIVAL",
            ActivityDomain::Games => "GAMES",
            ActivityDomain::Library => "LIBRARY",
            ActivityDomain::Movie => "MOVIE",
            ActivityDomain::Museum => "MUSEUM",
            ActivityDomain::MusicalInstrumentStore => "MUSICAL_INSTRUMENT_STORE",
            ActivityDomain::PatrimonyTourism => "PATRIMONY_TOURISM",
            ActivityDomain::PerformingArts => "PERFORMING_ARTS",
            ActivityDomain::RecordStore => "RECORD_STORE",
            ActivityDomain::ScientificCulture => "SCIENTIFIC_CULTURE",
            ActivityDomain::VisualArts => "VISUAL_ARTS",
            ActivityDomain::Other => "OTHER",
        }
    }

    /// The English label, e.g. `Concert hall`.
    pub fn label(&self) -> &'static str {
        match self {
            ActivityDomain::ArtisticCourse => "Artistic course",
            ActivityDomain::Bookstore => "Bookstore",
            ActivityDomain::ConcertHall => "Concert hall",
            ActivityDomain::CulturalCentre => "Cultural centre",
            ActivityDomain::Festival => "Festival",
            ActivityDomain::Games => "Games",
            ActivityDomain::Library => "Library",
            ActivityDomain::Movie => "Cinema",
            ActivityDomain::Museum => "Museum",
            ActivityDomain::MusicalInstrumentStore => "Musical instrument store",
            ActivityDomain::PatrimonyTourism => "Heritage and tourism",
            ActivityDomain::PerformingArts => "Performing arts",
            ActivityDomain::RecordStore => "Record store",
            ActivityDomain::ScientificCulture => "Scientific culture",
            ActivityDomain::VisualArts => "Visual arts",
            ActivityDomain::Other => "Other",
        }
    }
}

impl_text_value!(ActivityDomain, ActivityDomainError, code);

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::domain::test_support::deserialize_from_str;

    #[test]
    fn codes_and_labels_are_frozen() {
        let expected = [
            ("ARTISTIC_COURSE", "Artistic course"),
            ("BOOKSTORE", "Bookstore"),
            ("CONCERT_HALL", "Concert hall"),
            ("CULTURAL_CENTRE", "Cultural centre"),
            ("FESTIVAL", "Festival"),
            ("GAMES", "Games"),
            ("LIBRARY", "Library"),
            ("MOVIE", "Cinema"),
            ("MUSEUM", "Museum"),
            ("MUSICAL_INSTRUMENT_STORE", "Musical instrument store"),
            ("PATRIMONY_TOURISM", "Heritage and tourism"),
            ("PERFORMING_ARTS", "Performing arts"),
            ("RECORD_STORE", "Record store"),
            ("SCIENTIFIC_CULTURE", "Scientific culture"),
            ("VISUAL_ARTS", "Visual arts"),
            ("OTHER", "Other"),
        ];
        let actual: Vec<_> = ActivityDomain::ALL
            .iter()
            .map(|domain| (domain.code(), domain.label()))
            .collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn codes_are_unique_and_screaming_snake_case() {
        let codes: HashSet<_> = ActivityDomain::ALL.iter().map(|d| d.code()).collect();
        assert_eq!(codes.len(), ActivityDomain::ALL.len());
        for code in codes {
            assert!(
                code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{code}"
            );
        }
    }

    #[test]
    fn every_code_parses_back() {
        for &domain in ActivityDomain::ALL {
            assert_eq!(ActivityDomain::parse(domain.code()), Ok(domain));
            assert_eq!(domain.code().parse::<ActivityDomain>(), Ok(domain));
            assert_eq!(domain.to_string(), domain.code());
            assert_eq!(domain.as_ref(), domain.code());
            assert_eq!(
                deserialize_from_str::<ActivityDomain>(domain.code()).unwrap(),
                domain
            );
        }
    }

    #[test]
    fn parse_rejects_unknown_codes() {
        for input in [
            "",
            "concert_hall",
            "Concert hall",
            "CINEMA",
            " MOVIE",
            "OTHER ",
        ] {
            assert_eq!(
                ActivityDomain::parse(input),
                Err(ActivityDomainError::Unknown {
                    found: input.to_owned()
                }),
                "{input:?}"
            );
        }
        assert!(deserialize_from_str::<ActivityDomain>("UNKNOWN").is_err());
    }
}
