//! Free text fields (names, descriptions, comments).

/// Why a free text field was refused. `label` is the field's name as shown
/// to the user, e.g. "Venue name".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The field is empty (or only whitespace).
    #[error("{label} is required")]
    Required {
        /// The field's label.
        label: String,
    },
    /// The field has more than `max` characters.
    #[error("{label} must be at most {max} characters")]
    TooLong {
        /// The field's label.
        label: String,
        /// The maximum number of characters.
        max: usize,
    },
    /// The field contains a control character other than newline and tab.
    #[error("{label} contains invisible control characters, which are not allowed")]
    ControlCharacter {
        /// The field's label.
        label: String,
    },
    /// A one-line field (a name, a city) contains a line break or a tab.
    #[error("{label} must fit on one line")]
    LineBreak {
        /// The field's label.
        label: String,
    },
}

/// Validates a mandatory text field.
///
/// The text is trimmed and Windows line endings (`\r\n`, as sent by browsers
/// for a `<textarea>`) become `\n`. It must then be non-empty, have at most
/// `max_chars` characters (Unicode scalar values) and contain no control
/// character other than newline and tab.
pub fn required_text(
    input: &str,
    field_label: &str,
    max_chars: usize,
) -> Result<String, TextError> {
    optional_text(input, field_label, max_chars)?.ok_or_else(|| TextError::Required {
        label: field_label.to_owned(),
    })
}

/// Validates an optional text field: like [`required_text`], except that a
/// field that is empty after trimming gives `None`.
pub fn optional_text(
    input: &str,
    field_label: &str,
    max_chars: usize,
) -> Result<Option<String>, TextError> {
    // Spaces and invisible characters are trimmed from both ends (but for
    // variation selectors, which belong to the emoji before them); text made
    // only of them reads as empty.
    let text = input
        .trim_matches(|c: char| c.is_whitespace() || (is_invisible(c) && !is_variation_selector(c)))
        .replace("\r\n", "\n");
    if text.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Ok(None);
    }
    if text.chars().any(is_forbidden_control) {
        return Err(TextError::ControlCharacter {
            label: field_label.to_owned(),
        });
    }
    if text.chars().count() > max_chars {
        return Err(TextError::TooLong {
            label: field_label.to_owned(),
            max: max_chars,
        });
    }
    Ok(Some(text))
}

/// Validates a mandatory one-line field (a name, an address, a city): like
/// [`required_text`], and without line breaks or tabs.
pub fn required_line(
    input: &str,
    field_label: &str,
    max_chars: usize,
) -> Result<String, TextError> {
    let text = required_text(input, field_label, max_chars)?;
    one_line(text, field_label)
}

/// Like [`required_line`] for an optional field.
pub fn optional_line(
    input: &str,
    field_label: &str,
    max_chars: usize,
) -> Result<Option<String>, TextError> {
    optional_text(input, field_label, max_chars)?
        .map(|text| one_line(text, field_label))
        .transpose()
}

fn one_line(text: String, field_label: &str) -> Result<String, TextError> {
    if text.contains(['\n', '\t', '\u{2028}', '\u{2029}']) {
        return Err(TextError::LineBreak {
            label: field_label.to_owned(),
        });
    }
    // Direction overrides make a name display as something else (in page
    // titles and email subjects): refused in one-line fields.
    if text.chars().any(is_bidi_control) {
        return Err(TextError::ControlCharacter {
            label: field_label.to_owned(),
        });
    }
    Ok(text)
}

/// Unicode's default-ignorable code points: characters that show nothing on
/// their own (zero-width spaces and joiners, direction marks, fillers, tags,
/// variation selectors, the byte order mark, the soft hyphen...).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff0}'..='\u{fff8}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}'
    )
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{180b}'..='\u{180d}' | '\u{180f}' | '\u{fe00}'..='\u{fe0f}' | '\u{e0100}'..='\u{e01ef}')
}

/// Embeddings, overrides and isolates of the bidirectional algorithm.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Control characters are refused, except newline and tab.
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn required_text_accepts_and_trims() {
        let cases = [
            ("Le Grand Rex", "Le Grand Rex"),
            ("  Théâtre du Châtelet \n", "Théâtre du Châtelet"),
            ("Line one\nLine two", "Line one\nLine two"),
            ("Line one\r\nLine two\r\n", "Line one\nLine two"),
            ("Column\tvalue", "Column\tvalue"),
            ("ééééé", "ééééé"),
            ("🎭", "🎭"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                required_text(input, "Name", 50).as_deref(),
                Ok(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn required_text_rejects_invalid_input() {
        let required = TextError::Required {
            label: "Name".to_owned(),
        };
        let too_long = TextError::TooLong {
            label: "Name".to_owned(),
            max: 5,
        };
        let control = TextError::ControlCharacter {
            label: "Name".to_owned(),
        };
        let cases = [
            ("", required.clone()),
            (" \n\t ", required.clone()),
            ("\u{a0}", required.clone()),
            ("\u{200b}", required.clone()),
            (" \u{feff}\u{200d} ", required.clone()),
            ("\u{202e}", required.clone()),
            ("\u{3164}\u{115f}", required.clone()),
            ("\u{34f}\u{180e}", required.clone()),
            ("\u{e0020}\u{fe0f}", required),
            ("abcdef", too_long.clone()),
            ("éééééé", too_long),
            ("a\u{0}b", control.clone()),
            ("a\rb", control.clone()),
            ("a\u{1b}[31mb", control.clone()),
            ("a\u{7f}b", control.clone()),
            ("a\u{85}b", control),
        ];
        for (input, expected) in cases {
            assert_eq!(required_text(input, "Name", 5), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn one_line_fields_refuse_line_breaks_and_tabs() {
        let broken = TextError::LineBreak {
            label: "Name".to_owned(),
        };
        let cases = [
            ("Le Grand Rex", Ok("Le Grand Rex".to_owned())),
            ("  Le Rex \r\n", Ok("Le Rex".to_owned())),
            ("Acme\r\nBcc: x@example.org", Err(broken.clone())),
            ("Acme\nInc", Err(broken.clone())),
            ("Acme\tInc", Err(broken.clone())),
            ("Acme\u{2028}Corp", Err(broken.clone())),
            ("Acme\u{2029}Corp", Err(broken)),
            (
                "Acme\u{202e}moc.exe",
                Err(TextError::ControlCharacter {
                    label: "Name".to_owned(),
                }),
            ),
            ("\u{200b}Acme\u{feff}", Ok("Acme".to_owned())),
            ("I ❤\u{fe0f}", Ok("I ❤\u{fe0f}".to_owned())),
            ("👩\u{200d}🎤 Live", Ok("👩\u{200d}🎤 Live".to_owned())),
            (
                "\u{200b}",
                Err(TextError::Required {
                    label: "Name".to_owned(),
                }),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(required_line(input, "Name", 50), expected, "{input:?}");
        }
        assert_eq!(optional_line(" \u{200b} ", "Name", 50), Ok(None));
        assert_eq!(
            optional_line("a\nb", "Name", 50).unwrap_err().to_string(),
            "Name must fit on one line"
        );
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert_eq!(required_text("ééééé", "Name", 5), Ok("ééééé".to_owned()));
        assert_eq!(required_text("🎭🎭", "Name", 2), Ok("🎭🎭".to_owned()));
    }

    #[test]
    fn optional_text_maps_blank_to_none() {
        assert_eq!(optional_text("", "Comment", 10), Ok(None));
        assert_eq!(optional_text("  \r\n ", "Comment", 10), Ok(None));
        assert_eq!(
            optional_text(" hi ", "Comment", 10),
            Ok(Some("hi".to_owned()))
        );
        assert_eq!(
            optional_text("far too long", "Comment", 10),
            Err(TextError::TooLong {
                label: "Comment".to_owned(),
                max: 10
            })
        );
    }

    #[test]
    fn error_messages_use_the_label() {
        let too_long = required_text("abcdef", "Venue name", 5).unwrap_err();
        assert_eq!(
            too_long.to_string(),
            "Venue name must be at most 5 characters"
        );
        let required = required_text(" ", "Venue name", 5).unwrap_err();
        assert_eq!(required.to_string(), "Venue name is required");
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_clean(input in any::<String>(), max in 0usize..50) {
            if let Ok(Some(text)) = optional_text(&input, "Field", max) {
                prop_assert_eq!(text.trim(), text.as_str());
                prop_assert!(!text.is_empty());
                prop_assert!(text.chars().count() <= max);
                prop_assert!(!text.chars().any(is_forbidden_control));
            }
        }

        #[test]
        fn one_line_output_has_no_line_break(input in any::<String>()) {
            if let Ok(Some(text)) = optional_line(&input, "Field", 50) {
                prop_assert!(!text.contains(['\n', '\t', '\r']));
            }
        }

        #[test]
        fn required_and_optional_agree(input in any::<String>()) {
            match optional_text(&input, "Field", 20) {
                Ok(Some(text)) => prop_assert_eq!(required_text(&input, "Field", 20), Ok(text)),
                Ok(None) => {
                    let is_required_error =
                        matches!(required_text(&input, "Field", 20), Err(TextError::Required { .. }));
                    prop_assert!(is_required_error);
                }
                Err(error) => prop_assert_eq!(required_text(&input, "Field", 20), Err(error)),
            }
        }
    }
}
