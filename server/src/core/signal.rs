//! What happens on one curfewd reaches the streams connected to every curfewd.
//!
//! Invariant: a [`Signal`] is applied to this instance's streams at once and, when several
//! instances share a PostgreSQL database, sent with `NOTIFY` so that every other instance
//! applies it too (an instance ignores its own echo). The database stays the authority:
//! a signal only says "look again" or carries what was already committed, and a
//! listener that lost its connection sweeps every open stream against the database when
//! it is back, so a missed notification delays a stream's end but never loses it.

use curfew::api::{AdminEvent, Notice, RevocationReason};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{notices, AppResult, AppState};
use crate::store::{Backend, MassRevocation};

/// The PostgreSQL notification channel the instances share.
pub const CHANNEL: &str = "curfew_signals";
/// PostgreSQL refuses notification payloads of 8000 bytes or more.
const PAYLOAD_MAX: usize = 7900;

/// Something every instance's streams must hear about.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// Sessions of `user` (of anyone, if `None`) may have ended: check the open streams.
    SessionsEnded { user: Option<Uuid> },
    /// The session's owner signed out.
    SessionEnded {
        session: Uuid,
        reason: RevocationReason,
        at: i64,
    },
    /// One statement revoked these sessions (logout-all, maintenance).
    MassRevocation {
        revocation: MassRevocation,
        reason: RevocationReason,
        at: i64,
    },
    /// For every end user's notice stream (warnings, cancellations).
    Notice { notice: Notice },
    /// For every administrator's event stream.
    Admin { event: AdminEvent },
    /// The user lost their administrator role: their event streams end.
    NoLongerAdministrator { user: Uuid },
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    from: Uuid,
    signal: Signal,
}

impl AppState {
    /// Applies a signal another instance sent (a notification payload); this instance's
    /// own echo is ignored. Returns how many streams it reached.
    pub async fn apply_remote(&self, payload: &str) -> AppResult<usize> {
        match serde_json::from_str::<Envelope>(payload) {
            Ok(envelope) if envelope.from == self.instance => Ok(0),
            Ok(envelope) => self.apply(&envelope.signal).await,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable signal from another instance");
                Ok(0)
            }
        }
    }
}

impl AppState {
    /// Applies a signal here and tells the other instances. Returns how many of this
    /// instance's streams it reached.
    pub async fn publish(&self, signal: Signal) -> AppResult<usize> {
        let reached = self.apply(&signal).await;
        if self.store.backend() == Backend::Postgres {
            let mut payload = serde_json::to_string(&Envelope {
                from: self.instance,
                signal,
            })
            .expect("signals serialise");
            if payload.len() > PAYLOAD_MAX {
                // Cannot happen with today's limits (messages are 500 characters); a
                // sweep still ends whatever ended, elsewhere.
                tracing::warn!(
                    bytes = payload.len(),
                    "signal too large to notify; sending a sweep"
                );
                payload = serde_json::to_string(&Envelope {
                    from: self.instance,
                    signal: Signal::SessionsEnded { user: None },
                })
                .expect("signals serialise");
            }
            if let Err(e) = self.store.notify(CHANNEL, &payload).await {
                // The other instances' periodic sweep still ends revoked streams.
                tracing::warn!(error = %e, "could not notify the other instances");
            }
        }
        reached
    }

    async fn apply(&self, signal: &Signal) -> AppResult<usize> {
        match signal {
            Signal::SessionsEnded { user } => self.end_stale_streams(*user).await,
            Signal::SessionEnded {
                session,
                reason,
                at,
            } => Ok(self
                .hub
                .end_session(*session, notices::revoked(*session, *reason, *at))),
            Signal::MassRevocation {
                revocation,
                reason,
                at,
            } => self.end_revoked_streams(*revocation, *reason, *at).await,
            Signal::Notice { notice } => Ok(self.hub.broadcast(notice)),
            Signal::Admin { event } => {
                // Maintenance events change what the gate lets through.
                self.freezes.forget();
                Ok(self.events.send(event.clone()).unwrap_or(0))
            }
            Signal::NoLongerAdministrator { user } => Ok(self.hub.end_admin_streams(*user)),
        }
    }
}
