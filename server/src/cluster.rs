//! Listens for the signals other curfewd instances send through PostgreSQL
//! (`LISTEN curfew_signals`) and hands each to the core (see [`crate::core::signal`]).
//!
//! Invariant: after every (re)connection the listener sweeps every open stream against the
//! database, since notifications sent while it was away are gone; so a missed
//! notification delays a stream's end but never loses it.

use std::time::Duration;

use crate::core::signal::CHANNEL;
use crate::core::AppState;

/// Applies the signals of the other instances until the task is stopped. Reconnects on
/// its own; after every (re)connection it sweeps the open streams, since notifications
/// sent while it was away are gone.
pub async fn listen(state: AppState) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let mut listener = match state.store.listener(CHANNEL).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "cannot listen for other instances' signals");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        if let Err(e) = state.end_stale_streams(None).await {
            tracing::warn!(error = ?e, "sweep after connecting the listener failed");
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Err(e) = state.apply_remote(notification.payload()).await {
                        tracing::warn!(error = ?e, "applying another instance's signal failed; the sweep will catch up");
                    }
                }
                Ok(None) | Err(_) => {
                    tracing::warn!("lost the connection that hears other instances; reconnecting");
                    break;
                }
            }
        }
    }
}
