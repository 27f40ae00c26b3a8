//! venue-access: lets pass Culture providers act on the venues offerers and
//! support give them access to. See README.md for the tour.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod mail;
pub mod startup;
pub mod telemetry;
pub mod web;
