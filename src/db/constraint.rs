//! Named database constraints, translated into messages for the field they
//! concern, so a violated invariant becomes a form error, not a 500.

/// If `error` is a constraint violation we know, the form field it concerns
/// and a message for the user.
pub fn field_error(error: &sqlx::Error) -> Option<(&'static str, &'static str)> {
    let db_error = error.as_database_error()?;
    let constraint = db_error.constraint()?;
    let mapped = match constraint {
        "offerer_siren_key" => ("siren", "An offerer with this SIREN already exists."),
        "venue_siret_key" => ("siret", "A venue with this SIRET already exists."),
        "venue_siret_matches_offerer" => (
            "siret",
            "This SIRET does not belong to the offerer's SIREN.",
        ),
        "venue_siret_or_comment" => (
            "siret_comment",
            "A venue without SIRET needs a comment explaining why.",
        ),
        "user_account_email_key" => ("email", "An account with this email already exists."),
        "provider_name_key" => ("name", "A provider with this name already exists."),
        "venue_access_grant_active_key" => (
            "provider",
            "This provider already has access to this venue.",
        ),
        _ => return None,
    };
    Some(mapped)
}

/// True when `error` violates the named constraint.
pub fn is_violation(error: &sqlx::Error, constraint: &str) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.constraint())
        .is_some_and(|c| c == constraint)
}
