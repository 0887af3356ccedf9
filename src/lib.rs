//! `curfew`: the core library of Curfew. It owns the HTTP contract between the desktop app
//! and curfewd ([`api`]) and a typed client for it ([`Client`]). No Tauri, no UI: the
//! desktop shell and the tests both drive curfewd through this crate.
//!
//! It is also the one home of the contract's facts: [`routes`] (every path), [`limits`]
//! (every length and range), and in [`api`] the audit action labels, the revocation
//! sentences and the event names. Everyone else reads them from here.

pub mod api;
mod client;
mod error;
pub mod gate;
pub mod limits;
pub mod recurrence;
pub mod routes;
pub mod scim;

pub use client::{parse_server_url, Client, ClientOptions, EventStream, NoticeStream};
pub use error::{Error, Result};
