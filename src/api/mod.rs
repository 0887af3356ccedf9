//! The curfewd HTTP contract (`/api/v1`): every request and response body, shared by the
//! server and its clients so that both sides cannot drift apart.
//!
//! Times are RFC 3339 in UTC, ids are UUIDs, durations are seconds. Every error is an
//! [`ErrorBody`]. Enums serialise in `snake_case`, which is what crosses the wire.

pub use crate::routes::API_PREFIX;

mod audit;
mod audit_text;
mod auth;
mod import;
mod maintenance;
mod notices;
#[cfg(feature = "openapi")]
pub mod schemas;
pub mod tokens;
mod users;

pub use audit::*;
pub use audit_text::*;
pub use auth::*;
pub use import::*;
pub use maintenance::*;
pub use notices::*;
pub use tokens::{
    CreatedServiceToken, NewServiceToken, ServiceToken, ServiceTokenList, TokenScope,
};
pub use users::*;

#[cfg(test)]
mod tests;
