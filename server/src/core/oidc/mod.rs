//! Signing in through the organisation's identity provider (OpenID Connect), while the
//! session stays Curfew's: checked at every request, warned, frozen, revocable.
//!
//! The protocol is the `openidconnect` crate's (discovery, the authorization code flow
//! with PKCE, `state` and `nonce`, the ID token's signature, issuer, audience, expiry and
//! nonce); the back-channel logout token, which that crate does not read, is verified by
//! `jsonwebtoken` against the same key set. Nothing here writes JOSE by hand.
//!
//! Invariants: a provider is discovered on first use (curfewd starts while a provider is
//! down) and again when a token names a key it does not know (at most every
//! [`REDISCOVER_AFTER`]); a started sign-in is used once and only by the browser that
//! started it; a deactivated user, an unknown person (unless just-in-time creation is on)
//! and a non-administrator during a freeze get no session.

pub mod config;
mod flow;
pub mod identity;
mod logout;
pub mod runtime;

pub use config::{OidcConfig, ProviderConfig};
pub use flow::{CallbackOutcome, Started};
pub use runtime::{Oidc, PENDING_FOR_MS, PENDING_MAX, REDISCOVER_AFTER};
