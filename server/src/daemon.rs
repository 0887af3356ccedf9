//! A running curfewd: the router served with graceful shutdown, beside the background
//! tasks (the core's housekeeping, the maintenance scheduler, and on PostgreSQL the
//! listener for other instances). This is the one place that puts the layers together.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::core::AppState;
use crate::http::router;

/// Serves until `shutdown` resolves, then stops accepting, ends every notice stream so
/// clients reconnect elsewhere, and waits up to `drain` for requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let hub = Arc::clone(&state.hub);
    let background = tokio::spawn(state.clone().housekeeping());
    let scheduler = tokio::spawn(crate::scheduler::run(state.clone()));
    let cluster = (state.store.backend() == crate::store::Backend::Postgres)
        .then(|| tokio::spawn(crate::cluster::listen(state.clone())));
    let stop_background = move || {
        background.abort();
        scheduler.abort();
        if let Some(cluster) = &cluster {
            cluster.abort();
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: closing notice streams");
        hub.close_all();
        let _ = stop_tx.send(true);
    });
    let server = tokio::spawn(async move { server.await });
    let mut stop_rx = stop_rx;
    let mut server = server;
    tokio::select! {
        result = &mut server => {
            stop_background();
            return result.map_err(std::io::Error::other)?;
        }
        _ = stop_rx.changed() => {}
    }
    stop_background();
    match tokio::time::timeout(drain, &mut server).await {
        Ok(result) => result.map_err(std::io::Error::other)?,
        Err(_) => {
            tracing::warn!("requests still running after {drain:?}; stopping anyway");
            server.abort();
            Ok(())
        }
    }
}
