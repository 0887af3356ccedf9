//! The open notice streams of this process, by session.
//!
//! Invariant: a stream whose session is no longer live receives `session_revoked` and then
//! ends. Revocations are written to the database first; the hub then asks the database
//! which of its open sessions ended ([`NoticeHub::open_sessions`] and
//! [`crate::store::Store::ended_among`]), so a stream learns of every revocation, whoever
//! made it, and a periodic sweep catches expiries.
//!
//! Streams are bounded ([`StreamLimits`]): per session, per user and in all. Each open
//! stream holds a connection, so without a bound one token could take every file
//! descriptor; the total stays below the connection cap, so that session checks and
//! administrators' calls always find a connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use curfew::api::Notice;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Notices queued for one stream before it counts as stuck.
const STREAM_BUFFER: usize = 16;

/// How many notice streams may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Per session (tabs of one browser share a session).
    pub per_session: usize,
    /// Per user, over all their sessions.
    pub per_user: usize,
    /// In all, on this instance.
    pub total: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            per_session: 8,
            per_user: 32,
            total: 3072,
        }
    }
}

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamRefusal {
    Session(usize),
    User(usize),
    Server(usize),
}

#[derive(Default)]
pub struct NoticeHub {
    streams: Mutex<Streams>,
    next_id: AtomicU64,
    limits: StreamLimits,
}

/// The open streams by session, with the counts the limits need.
#[derive(Default)]
struct Streams {
    by_session: HashMap<Uuid, Vec<Subscriber>>,
    per_user: HashMap<Uuid, usize>,
    total: usize,
}

impl Streams {
    /// Accounts for subscribers leaving the hub.
    fn forget(&mut self, gone: &[Subscriber]) {
        for sub in gone {
            self.total -= 1;
            if let Some(n) = self.per_user.get_mut(&sub.user_id) {
                *n -= 1;
                if *n == 0 {
                    self.per_user.remove(&sub.user_id);
                }
            }
        }
    }
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
        let Some(subs) = streams.by_session.get_mut(&self.session_id) else {
            return;
        };
        let Some(at) = subs.iter().position(|s| s.id == self.id) else {
            return;
        };
        let gone = subs.remove(at);
        if subs.is_empty() {
            streams.by_session.remove(&self.session_id);
        }
        streams.forget(&[gone]);
    }
}

impl NoticeHub {
    pub fn new(limits: StreamLimits) -> Self {
        NoticeHub {
            limits,
            ..NoticeHub::default()
        }
    }

    /// Opens a stream for a session, unless a limit is reached.
    pub fn subscribe(
        self: &Arc<Self>,
        session_id: Uuid,
        user_id: Uuid,
        wants_notices: bool,
    ) -> Result<(Subscription, mpsc::Receiver<Notice>), StreamRefusal> {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut streams = self.streams.lock().expect("hub lock");
        let limits = self.limits;
        if streams.total >= limits.total {
            return Err(StreamRefusal::Server(limits.total));
        }
        if streams.per_user.get(&user_id).copied().unwrap_or(0) >= limits.per_user {
            return Err(StreamRefusal::User(limits.per_user));
        }
        if streams.by_session.get(&session_id).map_or(0, Vec::len) >= limits.per_session {
            return Err(StreamRefusal::Session(limits.per_session));
        }
        streams.total += 1;
        *streams.per_user.entry(user_id).or_default() += 1;
        streams
            .by_session
            .entry(session_id)
            .or_default()
            .push(Subscriber {
                id,
                user_id,
                wants_notices,
                tx,
            });
        drop(streams);
        Ok((
            Subscription {
                hub: Arc::clone(self),
                session_id,
                id,
            },
            rx,
        ))
    }

    /// Sessions with an open stream; with `user`, only that user's.
    pub fn open_sessions(&self, user: Option<Uuid>) -> Vec<Uuid> {
        self.streams
            .lock()
            .expect("hub lock")
            .by_session
            .iter()
            .filter(|(_, subs)| user.is_none_or(|u| subs.iter().any(|s| s.user_id == u)))
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn stream_count(&self) -> usize {
        self.streams.lock().expect("hub lock").total
    }

    /// Sends the last notice to every stream of a session and forgets them; each stream
    /// ends after delivering it.
    pub fn end_session(&self, session_id: Uuid, notice: Notice) -> usize {
        let subs = {
            let mut streams = self.streams.lock().expect("hub lock");
            let subs = streams.by_session.remove(&session_id).unwrap_or_default();
            streams.forget(&subs);
            subs
        };
        for sub in &subs {
            // A full buffer means a stuck client; dropping the sender still ends its stream.
            let _ = sub.tx.try_send(notice.clone());
        }
        subs.len()
    }

    /// Ends the administrators' event streams of `user` (not their notice streams): their
    /// role changed. Returns how many ended.
    pub fn end_admin_streams(&self, user: Uuid) -> usize {
        let mut streams = self.streams.lock().expect("hub lock");
        let mut gone = Vec::new();
        for subs in streams.by_session.values_mut() {
            let (ended, kept): (Vec<_>, Vec<_>) = subs
                .drain(..)
                .partition(|s| s.user_id == user && !s.wants_notices);
            *subs = kept;
            gone.extend(ended);
        }
        streams.by_session.retain(|_, subs| !subs.is_empty());
        streams.forget(&gone);
        gone.len()
    }

    /// Sends a notice to every open notice stream; returns how many sessions it reached.
    pub fn broadcast(&self, notice: &Notice) -> usize {
        let streams = self.streams.lock().expect("hub lock");
        let mut reached = 0;
        for subs in streams.by_session.values() {
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
        *self.streams.lock().expect("hub lock") = Streams::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(per_session: usize, per_user: usize, total: usize) -> Arc<NoticeHub> {
        Arc::new(NoticeHub::new(StreamLimits {
            per_session,
            per_user,
            total,
        }))
    }

    #[test]
    fn each_limit_refuses_the_stream_past_it_and_frees_up_when_one_closes() {
        let hub = hub(2, 3, 5);
        let (alice, bob, carol) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (s1, s2, s3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let a1 = hub.subscribe(s1, alice, true).unwrap();
        let _a2 = hub.subscribe(s1, alice, true).unwrap();
        assert_eq!(
            hub.subscribe(s1, alice, true).err(),
            Some(StreamRefusal::Session(2))
        );
        let _a3 = hub.subscribe(s2, alice, true).unwrap();
        assert_eq!(
            hub.subscribe(s2, alice, true).err(),
            Some(StreamRefusal::User(3))
        );
        let _b = hub.subscribe(s3, bob, true).unwrap();
        let _b2 = hub.subscribe(s3, bob, true).unwrap();
        assert_eq!(
            hub.subscribe(Uuid::new_v4(), carol, true).err(),
            Some(StreamRefusal::Server(5))
        );
        assert_eq!(hub.stream_count(), 5);
        drop(a1);
        assert_eq!(hub.stream_count(), 4);
        let _again = hub.subscribe(s1, alice, true).unwrap();
    }

    #[test]
    fn ending_a_session_frees_its_streams_once() {
        let hub = hub(4, 8, 8);
        let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
        let first = hub.subscribe(session, user, true).unwrap();
        let second = hub.subscribe(session, user, false).unwrap();
        let notice =
            crate::core::notices::revoked(session, curfew::api::RevocationReason::Expired, 0);
        assert_eq!(hub.end_session(session, notice), 2);
        assert_eq!(hub.stream_count(), 0);
        // Dropping the subscriptions afterwards counts nothing twice.
        drop((first, second));
        assert_eq!(hub.stream_count(), 0);
        let held: Vec<_> = (0..4)
            .map(|_| hub.subscribe(session, user, true).unwrap())
            .collect();
        assert_eq!(held.len(), 4);
        assert_eq!(
            hub.subscribe(session, user, true).err(),
            Some(StreamRefusal::Session(4))
        );
    }
}
