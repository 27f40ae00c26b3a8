//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use sqlx::PgPool;

/// The process is alive.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The process can serve: the database answers.
async fn readyz(pool: web::Data<PgPool>) -> HttpResponse {
    match sqlx::query("SELECT 1").execute(pool.get_ref()).await {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unreachable");
            HttpResponse::ServiceUnavailable().json(
                serde_json::json!({ "status": "unavailable", "reason": "database unreachable" }),
            )
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // HEAD too: some load balancers probe with it.
    cfg.route("/healthz", web::get().to(healthz))
        .route("/healthz", web::head().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/readyz", web::head().to(readyz));
}
