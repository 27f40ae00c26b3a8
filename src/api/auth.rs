//! API-key authentication and per-key rate limiting for everything under
//! `/public/`. One middleware does both, so no endpoint can forget either:
//! it verifies the key in a single database round trip, stores the
//! [`AuthenticatedProvider`] in the request for handlers, and puts the
//! rate-limit headers on every authenticated response.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::error::ApiError;
use crate::domain::{ApiKeySecret, Environment, PlaintextApiKey};

/// The provider behind a verified key.
#[derive(Debug, Clone)]
pub struct AuthenticatedProvider {
    pub provider_id: i64,
    pub provider_name: String,
    pub key_id: i64,
    pub key_prefix: String,
    pub environment: Environment,
}

impl FromRequest for AuthenticatedProvider {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        // Present whenever the handler runs behind `authenticate`.
        std::future::ready(
            req.extensions()
                .get::<AuthenticatedProvider>()
                .cloned()
                .ok_or(ApiError::MissingKey),
        )
    }
}

/// Shared state of the API layer.
pub struct ApiState {
    pub environment: Environment,
    limiter: RateLimiter,
    last_used: LastUsedTracker,
}

impl ApiState {
    pub fn new(environment: Environment, requests_per_minute: u32) -> Self {
        Self {
            environment,
            limiter: RateLimiter::new(requests_per_minute, Duration::from_secs(60)),
            last_used: LastUsedTracker::default(),
        }
    }
}

/// The key in `Authorization: Bearer <key>`: the scheme is
/// case-insensitive and surrounding whitespace is ignored.
fn bearer_token(req: &ServiceRequest) -> Result<&str, ApiError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let first = values.next().ok_or(ApiError::MissingKey)?;
    if values.next().is_some() {
        // Two credentials: ambiguous, so neither is used.
        return Err(ApiError::InvalidKey);
    }
    let value = first.to_str().map_err(|_| ApiError::InvalidKey)?.trim();
    let (scheme, token) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::MissingKey);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::MissingKey);
    }
    Ok(token)
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    key_id: i64,
    secret_salt: Option<Vec<u8>>,
    secret_hash: Option<Vec<u8>>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    provider_id: i64,
    provider_name: String,
    provider_active: bool,
}

/// A salt and hash that no key has: checked when the prefix is unknown, so
/// an unknown prefix costs the same as a wrong secret.
static DUMMY_SALT: [u8; 16] = [0x5a; 16];
static DUMMY_HASH: [u8; 32] = [0xa5; 32];

/// Verify a key. One round trip: the key and its provider in one query.
async fn verify(
    pool: &PgPool,
    state: &ApiState,
    token: &str,
) -> Result<AuthenticatedProvider, ApiError> {
    let key = PlaintextApiKey::parse(token).map_err(|_| ApiError::InvalidKey)?;
    if key.environment() != state.environment {
        return Err(ApiError::WrongEnvironment {
            key: key.environment(),
            server: state.environment,
        });
    }
    let row: Option<KeyRow> = sqlx::query_as(
        "SELECT k.id AS key_id, k.secret_salt, k.secret_hash, k.expires_at, k.revoked_at,
                k.last_used_at, p.id AS provider_id, p.name AS provider_name,
                p.is_active AS provider_active
           FROM api_key k JOIN provider p ON p.id = k.provider_id
          WHERE k.prefix = $1",
    )
    .bind(key.prefix().as_str())
    .fetch_optional(pool)
    .await?;
    let secret: &ApiKeySecret = key.secret();
    let Some(row) = row else {
        let _ = secret.verify(&DUMMY_SALT, &DUMMY_HASH);
        return Err(ApiError::InvalidKey);
    };
    let secret_ok = match (&row.secret_salt, &row.secret_hash) {
        (Some(salt), Some(hash)) => secret.verify(salt, hash),
        _ => {
            let _ = secret.verify(&DUMMY_SALT, &DUMMY_HASH);
            false
        }
    };
    let now = Utc::now();
    if !secret_ok
        || row.revoked_at.is_some_and(|at| at <= now)
        || row.expires_at.is_some_and(|at| at <= now)
    {
        return Err(ApiError::InvalidKey);
    }
    if !row.provider_active {
        return Err(ApiError::ProviderInactive);
    }
    state
        .last_used
        .touch(pool, row.key_id, row.last_used_at, now);
    Ok(AuthenticatedProvider {
        provider_id: row.provider_id,
        provider_name: row.provider_name,
        key_id: row.key_id,
        key_prefix: key.prefix().as_str().to_owned(),
        environment: key.environment(),
    })
}

/// The middleware of the `/public` scope.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let (Some(pool), Some(state)) = (
        req.app_data::<web::Data<PgPool>>().cloned(),
        req.app_data::<web::Data<ApiState>>().cloned(),
    ) else {
        let error = ApiError::Unexpected(anyhow::anyhow!("API state not configured"));
        return Ok(req.error_response(error).map_into_right_body());
    };
    let provider = match bearer_token(&req) {
        Ok(token) => verify(&pool, &state, token).await,
        Err(e) => Err(e),
    };
    let provider = match provider {
        Ok(p) => p,
        Err(e) => return Ok(req.error_response(e).map_into_right_body()),
    };
    let quota = state.limiter.check(provider.key_id, Instant::now());
    if !quota.allowed {
        let error = ApiError::RateLimited {
            retry_after_secs: quota.reset_secs,
        };
        let mut response = req.into_response(error.error_response());
        quota.write_headers(response.headers_mut());
        return Ok(response.map_into_right_body());
    }
    req.extensions_mut().insert(provider);
    let mut response = next.call(req).await?;
    quota.write_headers(response.headers_mut());
    // Responses carry partners' data (beneficiaries' names): never cached.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response.map_into_left_body())
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u64,
}

impl Quota {
    fn write_headers(&self, headers: &mut actix_web::http::header::HeaderMap) {
        headers.insert(
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderValue::from(self.limit),
        );
        headers.insert(
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderValue::from(self.remaining),
        );
        headers.insert(
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderValue::from(self.reset_secs),
        );
    }
}

/// Fixed-window counter per key, in memory (per server instance).
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<i64, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, key_id: i64, now: Instant) -> Quota {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = windows.entry(key_id).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        let reset = self.window.saturating_sub(now.duration_since(entry.0));
        let reset_secs = reset.as_secs() + u64::from(reset.subsec_nanos() > 0);
        if entry.1 >= self.limit {
            return Quota {
                allowed: false,
                limit: self.limit,
                remaining: 0,
                reset_secs: reset_secs.max(1),
            };
        }
        entry.1 += 1;
        Quota {
            allowed: true,
            limit: self.limit,
            remaining: self.limit - entry.1,
            reset_secs,
        }
    }
}

/// Keeps `api_key.last_used_at` accurate to the minute without a write on
/// every request: a write happens only when the stored value is more than a
/// minute old, at most once a minute per key and instance, off the request
/// path.
#[derive(Default)]
struct LastUsedTracker {
    written: Mutex<HashMap<i64, Instant>>,
}

const LAST_USED_PRECISION: Duration = Duration::from_secs(60);

impl LastUsedTracker {
    fn touch(&self, pool: &PgPool, key_id: i64, stored: Option<DateTime<Utc>>, now: DateTime<Utc>) {
        let fresh =
            stored.is_some_and(|at| (now - at).to_std().unwrap_or_default() < LAST_USED_PRECISION);
        if fresh {
            return;
        }
        {
            let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
            let instant = Instant::now();
            if written
                .get(&key_id)
                .is_some_and(|at| instant.duration_since(*at) < LAST_USED_PRECISION)
            {
                return;
            }
            written.insert(key_id, instant);
        }
        let pool = pool.clone();
        actix_web::rt::spawn(async move {
            let result = sqlx::query(
                "UPDATE api_key SET last_used_at = now()
                  WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
            )
            .bind(key_id)
            .execute(&pool)
            .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not record an API key's last use");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_counts_per_key_and_resets_with_the_window() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for remaining in [2, 1, 0] {
            let q = limiter.check(1, t0);
            assert!(q.allowed);
            assert_eq!(q.remaining, remaining);
        }
        let refused = limiter.check(1, t0 + Duration::from_secs(10));
        assert!(!refused.allowed);
        assert_eq!(refused.reset_secs, 50);
        assert!(
            limiter.check(2, t0).allowed,
            "another key has its own quota"
        );
        assert!(limiter.check(1, t0 + Duration::from_secs(61)).allowed);
    }
}
