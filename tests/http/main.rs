//! HTTP-level tests: the real application against a real PostgreSQL, one
//! fresh database per test.

mod helpers;

mod account;
mod api;
mod cli;
mod demo;
mod fixtures;
mod logs;
mod openapi;
mod schema;
mod shell;
