//! A running curfewd: the router served with graceful shutdown, beside the background
//! tasks (the core's housekeeping, the maintenance scheduler, and on PostgreSQL the
//! listener for other instances). This is the one place that puts the layers together.
//!
//! Invariants it keeps against clients that hold resources:
//! - at most `max_connections` connections are open; past it a new one is closed at
//!   once, so file descriptors never run out (the soft `RLIMIT_NOFILE` is raised to the
//!   hard limit at start, and the cap is kept under it);
//! - a connection that does not finish a request's headers within `header_timeout`
//!   (a slow client, or an idle keep-alive connection waiting for its next request) is
//!   closed, as nginx does with `client_header_timeout` and `keepalive_timeout`;
//! - a body too large for the contract is read and discarded (up to a bound) before the
//!   413 goes out, so a client that writes its whole body first sees the 413 rather than
//!   a connection reset (nginx's lingering close).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::core::AppState;
use crate::http::router;

/// How the server treats connections.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Time to send a request's headers, and the longest a keep-alive connection waits
    /// idle for its next request.
    pub header_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// On shutdown, how long requests in flight may still take.
    pub drain: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_timeout: Duration::from_secs(20),
            max_connections: 4096,
            drain: Duration::from_secs(10),
        }
    }
}

/// The connection cap for an open-file limit: what the limit leaves after the database
/// pool, the log and the listener (a reserve of 128), at most 16,384.
pub fn connections_for(open_files: Option<u64>) -> usize {
    match open_files {
        Some(limit) => (limit.saturating_sub(128) as usize).clamp(16, 16_384),
        None => 4096,
    }
}

/// Raises the soft limit of open files to the hard one (a server needs one per
/// connection) and returns the limit now in force, if the platform has one.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct we pass.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return None;
            }
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: limit.rlim_max,
                    rlim_max: limit.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit = raised;
                }
            }
        }
        // rlim_t is u64 here but not on every Unix.
        #[allow(clippy::unnecessary_cast)]
        Some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Serves until `shutdown` resolves, then stops accepting, ends every notice stream so
/// clients reconnect elsewhere, and waits up to `options.drain` for requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    let hub = Arc::clone(&state.hub);
    let background = tokio::spawn(state.clone().housekeeping());
    let scheduler = tokio::spawn(crate::scheduler::run(state.clone()));
    let cluster = (state.store.backend() == crate::store::Backend::Postgres)
        .then(|| tokio::spawn(crate::cluster::listen(state.clone())));
    let app = router(state);
    let connections = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        // No half-closed connections: a client that goes away (its read side closed) ends
        // its notice stream at once, instead of at the next keep-alive write.
        .half_close(false)
        .keep_alive(true);
    tokio::pin!(shutdown);
    let mut refused_at: Option<tokio::time::Instant> = None;
    loop {
        let (stream, address) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a client gone before accept: keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            // Full: close at once; say so at most once a second.
            if refused_at.is_none_or(|at| at.elapsed() > Duration::from_secs(1)) {
                tracing::warn!(
                    max = options.max_connections,
                    "connection limit reached: closing new connections"
                );
                refused_at = Some(tokio::time::Instant::now());
            }
            drop(stream);
            continue;
        };
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(address));
                app.clone().oneshot(request.map(axum::body::Body::new))
            },
        );
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %address, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: closing notice streams");
    hub.close_all();
    background.abort();
    scheduler.abort();
    if let Some(cluster) = &cluster {
        cluster.abort();
    }
    if tokio::time::timeout(options.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(drain = ?options.drain, "requests still running after the drain time; stopping anyway");
    }
    Ok(())
}
