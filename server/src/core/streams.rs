//! Ending the open streams of sessions that ended. The database says which sessions
//! ended; the hub holds the streams. Called after each revocation commits, by the
//! periodic sweep, and for other instances' signals.

use curfew::api::RevocationReason;
use uuid::Uuid;

use curfew::api::Notice;
use tokio::sync::mpsc;

use super::hub::{StreamRefusal, Subscription};
use super::{notices, AppError, AppResult, AppState, ErrorKind};
use crate::store::MassRevocation;

impl AppState {
    /// Opens a stream for the caller's session (`wants_notices`: an end user's notice
    /// stream; otherwise an administrator's event stream, which hears only its own
    /// revocation), unless a limit is reached. A revocation that committed between the
    /// session check and now ends it at once.
    pub async fn open_stream(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        wants_notices: bool,
    ) -> AppResult<(Subscription, mpsc::Receiver<Notice>)> {
        let opened = self
            .hub
            .subscribe(session_id, user_id, wants_notices)
            .map_err(|refusal| {
                tracing::warn!(session = %session_id, user = %user_id, ?refusal, "notice stream refused");
                match refusal {
                    StreamRefusal::Session(n) => AppError::retry(
                        ErrorKind::RateLimited,
                        "too_many_streams",
                        format!(
                            "This sign-in already has {n} live notice streams open. Close other \
                             tabs or windows of the app, or check GET /notices instead."
                        ),
                        30,
                    ),
                    StreamRefusal::User(n) => AppError::retry(
                        ErrorKind::RateLimited,
                        "too_many_streams",
                        format!(
                            "This account already has {n} live notice streams open on its \
                             devices. Close some, or check GET /notices instead."
                        ),
                        30,
                    ),
                    StreamRefusal::Server(_) => AppError::retry(
                        ErrorKind::Unavailable,
                        "busy",
                        "The server has as many live notice streams open as it can hold. \
                         Check GET /notices, and try the stream again in a moment.",
                        5,
                    ),
                }
            })?;
        self.end_stale_streams(Some(user_id)).await?;
        Ok(opened)
    }

    /// Tells every open stream whose session ended (of `user`, or of anyone) and closes
    /// it. Returns how many streams it told.
    pub async fn end_stale_streams(&self, user: Option<Uuid>) -> AppResult<usize> {
        let open = self.hub.open_sessions(user);
        if open.is_empty() {
            return Ok(0);
        }
        let ended = self.store.ended_among(&open, crate::now_ms()).await?;
        let mut notified = 0;
        for session in ended {
            notified += self.hub.end_session(
                session.id,
                notices::revoked(session.id, session.reason, session.at),
            );
        }
        Ok(notified)
    }

    /// Tells the open streams whose sessions one mass revocation ended, in one query
    /// for all of them.
    pub async fn end_revoked_streams(
        &self,
        revocation: MassRevocation,
        reason: RevocationReason,
        at: i64,
    ) -> AppResult<usize> {
        if revocation.sessions == 0 || self.hub.stream_count() == 0 {
            return Ok(0);
        }
        let started = std::time::Instant::now();
        let sessions = self.store.sessions_of_revocation(revocation.id).await?;
        let queried = started.elapsed();
        let mut notified = 0;
        for session in sessions {
            notified += self
                .hub
                .end_session(session, notices::revoked(session, reason, at));
        }
        tracing::info!(
            streams = notified,
            query_ms = queried.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "told the open streams of a mass revocation"
        );
        Ok(notified)
    }
}
