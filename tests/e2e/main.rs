//! End-to-end tests: real `curfewd` processes on real SQLite files, driven over HTTP
//! through the `curfew` client library. One binary for all of them, to save link time.

mod support;

mod client;
mod maintenance;
mod security;
mod sessions;
mod web_page;
