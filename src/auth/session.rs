//! A typed facade over the actix session, and the extractors that say who
//! may call a page: [`CurrentUser`], [`SupportAgent`], [`ProUser`].

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::session_store::USER_ID_KEY;
use crate::crypto::new_token;
use crate::db::users::{self, Role, UserAccount};
use crate::web::error::PageError;

const CSRF_KEY: &str = "csrf";
const FLASH_KEY: &str = "flash";

/// A one-shot message shown on the next page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FlashKind {
    Success,
    Info,
    Error,
}

impl FlashKind {
    pub fn css(&self) -> &'static str {
        match self {
            FlashKind::Success => "success",
            FlashKind::Info => "info",
            FlashKind::Error => "error",
        }
    }
}

pub struct TypedSession(Session);

impl TypedSession {
    pub fn from_session(session: Session) -> Self {
        Self(session)
    }

    pub fn user_id(&self) -> Option<i64> {
        self.0.get::<i64>(USER_ID_KEY).ok().flatten()
    }

    /// Start an authenticated session: a new session key (against
    /// fixation), the user's id and a fresh CSRF token.
    pub fn sign_in(&self, user_id: i64) -> Result<(), PageError> {
        self.0.clear();
        self.0.renew();
        self.0
            .insert(USER_ID_KEY, user_id)
            .map_err(|e| PageError::Unexpected(anyhow::anyhow!("session insert failed: {e}")))?;
        self.0
            .insert(CSRF_KEY, new_token())
            .map_err(|e| PageError::Unexpected(anyhow::anyhow!("session insert failed: {e}")))?;
        Ok(())
    }

    /// End the session: the server-side row is deleted and the cookie removed.
    pub fn sign_out(&self) {
        self.0.purge();
    }

    /// This session's CSRF token, created on first use.
    pub fn csrf_token(&self) -> String {
        if let Ok(Some(token)) = self.0.get::<String>(CSRF_KEY) {
            return token;
        }
        let token = new_token();
        let _ = self.0.insert(CSRF_KEY, &token);
        token
    }

    /// The stored token, without creating one.
    pub fn existing_csrf_token(&self) -> Option<String> {
        self.0.get::<String>(CSRF_KEY).ok().flatten()
    }

    pub fn flash(&self, kind: FlashKind, message: impl Into<String>) {
        let _ = self.0.insert(
            FLASH_KEY,
            Flash {
                kind,
                message: message.into(),
            },
        );
    }

    pub fn take_flash(&self) -> Option<Flash> {
        let flash = self.0.get::<Flash>(FLASH_KEY).ok().flatten();
        if flash.is_some() {
            self.0.remove(FLASH_KEY);
        }
        flash
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self(req.get_session())))
    }
}

/// The signed-in user; pages that take it redirect anonymous visitors to sign-in.
pub struct CurrentUser {
    pub account: UserAccount,
    pub session: TypedSession,
}

impl CurrentUser {
    pub fn id(&self) -> i64 {
        self.account.id
    }
}

fn sign_in_redirect(req: &HttpRequest) -> PageError {
    let next = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .filter(|p| req.method() == actix_web::http::Method::GET && p != "/");
    PageError::SignInRequired { next }
}

async fn load_current_user(req: HttpRequest) -> Result<CurrentUser, PageError> {
    let session = TypedSession(req.get_session());
    let Some(user_id) = session.user_id() else {
        return Err(sign_in_redirect(&req));
    };
    let pool = req
        .app_data::<web::Data<PgPool>>()
        .ok_or_else(|| PageError::Unexpected(anyhow::anyhow!("database pool not configured")))?;
    match users::find_by_id(pool.get_ref(), user_id).await? {
        Some(account) if account.is_active => Ok(CurrentUser { account, session }),
        _ => {
            session.sign_out();
            Err(sign_in_redirect(&req))
        }
    }
}

impl FromRequest for CurrentUser {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        Box::pin(load_current_user(req.clone()))
    }
}

/// A signed-in support agent. Anyone else gets the "not found" page, so the
/// back-office does not even admit it exists.
pub struct SupportAgent(pub CurrentUser);

impl FromRequest for SupportAgent {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = load_current_user(req).await.map_err(|e| match e {
                PageError::SignInRequired { .. } => PageError::NotFound,
                other => other,
            })?;
            if user.account.role == Role::Support {
                Ok(SupportAgent(user))
            } else {
                Err(PageError::NotFound)
            }
        })
    }
}

/// A signed-in pro user (member of offerers).
pub struct ProUser(pub CurrentUser);

impl FromRequest for ProUser {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = load_current_user(req).await?;
            if user.account.role == Role::Pro {
                Ok(ProUser(user))
            } else {
                Err(PageError::NotFound)
            }
        })
    }
}
