//! End-to-end tests: real `curfewd` processes on real SQLite files (or
//! PostgreSQL databases, with `CURFEW_TEST_BACKEND=postgres`), driven over HTTP
//! through the `curfew` client library. One binary for all of them, to save link time.

mod support;

mod bulk;
mod client;
mod connections;
mod demo;
mod gate;
mod instances;
mod maintenance;
mod moving;
mod oidc;
mod security;
mod series;
mod sessions;
mod web_page;
