//! HTTP-level tests: the real application against a real PostgreSQL, one
//! fresh database per test.

mod helpers;
mod smtp;

mod account;
mod api;
mod backoffice;
mod backoffice_audit;
mod backoffice_offerers;
mod browser;
mod cli;
mod demo;
mod fixtures;
mod invitations;
mod logs;
mod mail;
mod openapi;
mod password_reset;
mod pro;
mod schema;
mod shell;
mod tokens;
