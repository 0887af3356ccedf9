//! curfewd: the session authority. It holds users and sessions, carries out every forced
//! logout, and tells open clients about it.
//!
//! Map: [`store`] has all SQL; [`http`] the routes of the contract; [`hub`] the open notice
//! streams; [`cluster`] carries what happens on one instance to the others' streams;
//! [`scheduler`] runs maintenance windows; [`secrets`] tokens and passwords; [`ratelimit`] login throttling; [`seed`] demo
//! data; [`cli`] the `curfewd` command line.

pub mod cli;
pub mod cluster;
pub mod error;
pub mod http;
pub mod hub;
pub mod openapi;
pub mod ratelimit;
pub mod scheduler;
pub mod secrets;
pub mod seed;
pub mod store;
pub mod validate;

pub use http::{router, serve, AppState, Config};

/// Milliseconds since the Unix epoch: the clock of every stored time.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
