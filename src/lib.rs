//! `curfew`: the core library of Curfew. It owns the HTTP contract between the desktop app
//! and curfewd ([`api`]) and a typed client for it ([`Client`]). No Tauri, no UI: the
//! desktop shell and the tests both drive curfewd through this crate.

pub mod api;
mod client;
mod error;

pub use client::{parse_server_url, Client, ClientOptions, EventStream, NoticeStream};
pub use error::{Error, Result};
