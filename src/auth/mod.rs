//! Passwords, sessions, CSRF protection and the role guards of the web pages.

pub mod csrf;
pub mod password;
pub mod session;
pub mod session_store;

pub use session::{CurrentUser, TypedSession};
