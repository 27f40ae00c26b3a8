//! The OpenAPI 3 document of the provider API, generated from the handlers'
//! annotations (so it follows the code), served at `/openapi.json` and
//! rendered by a locally served Swagger UI at `/docs/`.

use actix_web::web;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::{bookings, categories, error, providers, venues};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pass Culture provider API (venue access)",
        description = "Authenticate with `Authorization: Bearer <your API key>`. You can only see and act on the venues an offerer (pro interface) or the support team (private integrations) gave your provider access to: anything else answers 404, exactly like a resource that does not exist. 403 is only for a forbidden action on a resource you can access. Error bodies map a field (or `global`, or `auth`) to a list of messages."
    ),
    paths(
        venues::offerer_venues,
        venues::venue_by_siret,
        categories::event_categories,
        providers::current_provider,
        bookings::get_booking,
        bookings::use_booking,
        bookings::keep_booking,
        bookings::cancel_booking,
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&BearerKey),
    tags(
        (name = "Offerer and Venues", description = "The venues you have access to"),
        (name = "Events", description = "Event catalogue"),
        (name = "Provider", description = "Your provider account"),
        (name = "Bookings", description = "Bookings of your venues"),
    )
)]
pub struct ApiDoc;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key issued by pass Culture support: `<environment>_<12 hex>_<64 hex>`",
                    ))
                    .build(),
            ),
        );
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()));
}
