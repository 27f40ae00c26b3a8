//! HTTP-level tests: the real application against a real PostgreSQL, one
//! fresh database per test.

mod helpers;
mod smtp;

mod account;
mod demo;
mod mail;
mod schema;
mod shell;
mod tokens;
