//! curfewd: the session authority. It holds users and sessions, carries out every forced
//! logout, and tells open clients about it.
//!
//! Layers, one way only: [`http`] (the routes of the contract), [`scheduler`] (runs
//! maintenance windows) and [`cluster`] (hears other instances) call [`core`] (the shared
//! state and every rule: sign-in, sessions, notices, maintenance); the core calls
//! [`store`] (all SQL, no decisions). [`daemon`] runs them together; [`cli`] is the
//! `curfewd` command line and [`seed`] its demo data. `cargo xtask test` checks that no module imports one above it.

pub mod cli;
pub mod cluster;
pub mod core;
pub mod daemon;
pub mod http;
pub mod scheduler;
pub mod seed;
pub mod store;

pub use crate::core::{AppState, Config};
pub use daemon::serve;
pub use http::router;

/// Milliseconds since the Unix epoch: the clock of every stored time.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
