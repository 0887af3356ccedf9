//! The gate's copy of the maintenance windows that freeze sign-ins, so that its check
//! costs one query (the session's) instead of two. Invariant: a copy is used for at most
//! [`FREEZES_FRESH_MS`], and dropped at once when a window changes on this instance or
//! another (see `core::signal`).

use std::sync::{Arc, Mutex};

/// How long the gate's copy of the maintenance windows is trusted, in milliseconds: a
/// window another instance schedules freezes this one's gate at most this late.
pub const FREEZES_FRESH_MS: i64 = 1_000;

/// The maintenance windows that freeze sign-ins now or later (freeze from, ends at,
/// message), as last read.
type Spans = Arc<Vec<(i64, Option<i64>, String)>>;

/// The gate's copy of the freezing windows.
#[derive(Default)]
pub struct FreezeCache(Mutex<Option<(i64, Spans)>>);

impl FreezeCache {
    pub(super) fn fresh(&self, now: i64) -> Option<Spans> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.as_ref()
            .filter(|(at, _)| now - at < FREEZES_FRESH_MS && now >= *at)
            .map(|(_, spans)| spans.clone())
    }

    pub(super) fn keep(&self, now: i64, spans: Spans) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, spans));
    }

    /// A window was scheduled, cancelled or ended: read them again at the next check.
    pub fn forget(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
