//! The open notice streams of this process, by session.
//!
//! Invariant: a stream whose session is no longer live receives `session_revoked` and then
//! ends. Revocations are written to the database first; the hub then asks the database
//! which of its open sessions ended ([`NoticeHub::open_sessions`] and
//! [`crate::store::Store::ended_among`]), so a stream learns of every revocation, whoever
//! made it, and a periodic sweep catches expiries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use curfew::api::Notice;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Notices queued for one stream before it counts as stuck.
const STREAM_BUFFER: usize = 16;

#[derive(Default)]
pub struct NoticeHub {
    streams: Mutex<HashMap<Uuid, Vec<Subscriber>>>,
    next_id: AtomicU64,
}

struct Subscriber {
    id: u64,
    user_id: Uuid,
    /// An end user's notice stream (not an administrator's event stream, which only
    /// listens for its own revocation).
    wants_notices: bool,
    tx: mpsc::Sender<Notice>,
}

/// Removes its stream from the hub when the connection goes away.
pub struct Subscription {
    hub: Arc<NoticeHub>,
    session_id: Uuid,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut streams = self.hub.streams.lock().expect("hub lock");
        if let Some(subs) = streams.get_mut(&self.session_id) {
            subs.retain(|s| s.id != self.id);
            if subs.is_empty() {
                streams.remove(&self.session_id);
            }
        }
    }
}

impl NoticeHub {
    pub fn subscribe(
        self: &Arc<Self>,
        session_id: Uuid,
        user_id: Uuid,
        wants_notices: bool,
    ) -> (Subscription, mpsc::Receiver<Notice>) {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.streams
            .lock()
            .expect("hub lock")
            .entry(session_id)
            .or_default()
            .push(Subscriber {
                id,
                user_id,
                wants_notices,
                tx,
            });
        (
            Subscription {
                hub: Arc::clone(self),
                session_id,
                id,
            },
            rx,
        )
    }

    /// Sessions with an open stream; with `user`, only that user's.
    pub fn open_sessions(&self, user: Option<Uuid>) -> Vec<Uuid> {
        self.streams
            .lock()
            .expect("hub lock")
            .iter()
            .filter(|(_, subs)| user.is_none_or(|u| subs.iter().any(|s| s.user_id == u)))
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn stream_count(&self) -> usize {
        self.streams
            .lock()
            .expect("hub lock")
            .values()
            .map(Vec::len)
            .sum()
    }

    /// Sends the last notice to every stream of a session and forgets them; each stream
    /// ends after delivering it.
    pub fn end_session(&self, session_id: Uuid, notice: Notice) -> usize {
        let subs = self
            .streams
            .lock()
            .expect("hub lock")
            .remove(&session_id)
            .unwrap_or_default();
        for sub in &subs {
            // A full buffer means a stuck client; dropping the sender still ends its stream.
            let _ = sub.tx.try_send(notice.clone());
        }
        subs.len()
    }

    /// Sends a notice to every open notice stream; returns how many sessions it reached.
    pub fn broadcast(&self, notice: &Notice) -> usize {
        let streams = self.streams.lock().expect("hub lock");
        let mut reached = 0;
        for subs in streams.values() {
            let mut delivered = false;
            for sub in subs.iter().filter(|s| s.wants_notices) {
                delivered |= sub.tx.try_send(notice.clone()).is_ok();
            }
            reached += usize::from(delivered);
        }
        reached
    }

    /// Drops every stream, for shutdown: each ends without a revocation notice, so its
    /// client reconnects to another instance.
    pub fn close_all(&self) {
        self.streams.lock().expect("hub lock").clear();
    }
}
