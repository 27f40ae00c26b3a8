//! Middleware shared by every route: request ids and the request log,
//! security headers, and the cross-site check of unsafe requests.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use tracing::Instrument;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, for error pages and bodies.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Give each request an id (`X-Request-Id`), run it in a span, and log one
/// line when it ends. The line names the matched route pattern, never the
/// raw path or query (they may carry link tokens) nor any header value
/// (`Authorization` carries API keys).
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let method = req.method().clone();
    let span = tracing::info_span!("request", id = %request_id, method = %method);
    let started = Instant::now();
    let result = REQUEST_ID
        .scope(request_id.clone(), next.call(req).instrument(span.clone()))
        .await;
    let _entered = span.enter();
    match result {
        Ok(mut response) => {
            let route = response
                .request()
                .match_pattern()
                .unwrap_or_else(|| "(unmatched)".to_owned());
            let status = response.status().as_u16();
            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            tracing::info!(%route, status, elapsed_ms = format!("{elapsed_ms:.1}"), "served");
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static("x-request-id"), value);
            }
            Ok(response)
        }
        Err(e) => {
            tracing::warn!(error = %e, "request failed before a response was built");
            Err(e)
        }
    }
}

/// Security headers on every response.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    Ok(response)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuse unsafe requests to the web pages that come from another site.
/// (The provider API under `/public/` authenticates with a bearer key and
/// is not exposed to CSRF.)
pub async fn reject_cross_site(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, Error> {
    if !is_safe(req.method()) && !req.path().starts_with("/public/") && is_cross_site(&req) {
        tracing::warn!("refused a cross-site form submission");
        let response = HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("Cross-site form submissions are refused.");
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn is_cross_site(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    // The Host the browser sent (not X-Forwarded-Host, which any client sets).
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let same_site = |scheme: &str| origin.eq_ignore_ascii_case(&format!("{scheme}://{host}"));
    let configured = req
        .app_data::<actix_web::web::Data<crate::config::Settings>>()
        .is_some_and(|s| origin.eq_ignore_ascii_case(&s.base_url));
    !(same_site("http") || same_site("https") || configured)
}
