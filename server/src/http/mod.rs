//! The routes of the contract, the shared state, and serving with graceful shutdown.

pub mod admin;
pub mod end_user;
mod extract;
pub mod maintenance;
#[cfg(test)]
mod tests;
mod web;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use curfew::api::{Notice, RevocationReason, SessionRevoked};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use uuid::Uuid;

use crate::error::AppError;
use crate::hub::NoticeHub;
use crate::ratelimit::LoginLimiter;
use crate::store::{from_millis, Store};

pub use extract::{Administrator, Caller, ForceLogout, ManageUsers};

/// Requests carry small JSON documents; anything larger is refused with 413.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// How a server behaves, from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    pub session_ttl: Duration,
    pub login_per_minute_per_account: NonZeroU32,
    pub login_per_minute_per_address: NonZeroU32,
    /// Take the client address from the last `X-Forwarded-For` entry (behind a proxy).
    pub trust_forwarded_for: bool,
    /// How often open streams are checked against the database for expiry.
    pub sweep_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_ttl: Duration::from_secs(14 * 24 * 3600),
            login_per_minute_per_account: NonZeroU32::new(10).expect("non-zero"),
            login_per_minute_per_address: NonZeroU32::new(60).expect("non-zero"),
            trust_forwarded_for: false,
            sweep_interval: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hub: Arc<NoticeHub>,
    pub limiter: Arc<LoginLimiter>,
    pub config: Arc<Config>,
    /// What `/admin/events` streams to administrators.
    pub events: tokio::sync::broadcast::Sender<curfew::api::AdminEvent>,
    /// Wakes the maintenance scheduler when a window is created.
    pub scheduler_wake: Arc<tokio::sync::Notify>,
    /// This process, to tell its own signals from other instances' (see [`crate::cluster`]).
    pub instance: Uuid,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        AppState {
            store,
            hub: Arc::new(NoticeHub::default()),
            limiter: Arc::new(LoginLimiter::new(
                config.login_per_minute_per_account,
                config.login_per_minute_per_address,
            )),
            config: Arc::new(config),
            events: tokio::sync::broadcast::channel(256).0,
            scheduler_wake: Arc::new(tokio::sync::Notify::new()),
            instance: Uuid::new_v4(),
        }
    }

    /// Tells every open stream whose session ended (of `user`, or of anyone) and closes
    /// it. Called after each revocation commits, and periodically for expiries.
    pub async fn end_stale_streams(&self, user: Option<Uuid>) -> Result<usize, AppError> {
        let open = self.hub.open_sessions(user);
        if open.is_empty() {
            return Ok(0);
        }
        let ended = self.store.ended_among(&open, crate::now_ms()).await?;
        let mut notified = 0;
        for session in ended {
            notified += self.hub.end_session(
                session.id,
                revoked_notice(session.id, session.reason, session.at),
            );
        }
        Ok(notified)
    }
}

impl AppState {
    /// Tells the open streams whose sessions one mass revocation ended, in one query
    /// for all of them.
    pub async fn end_revoked_streams(
        &self,
        revocation: crate::store::MassRevocation,
        reason: RevocationReason,
        at: i64,
    ) -> Result<usize, AppError> {
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
                .end_session(session, revoked_notice(session, reason, at));
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

pub fn revoked_notice(session_id: Uuid, reason: RevocationReason, at: i64) -> Notice {
    let message = match reason {
        RevocationReason::SignedOut => "You signed out.",
        RevocationReason::AdminLogout => "An administrator signed you out.",
        RevocationReason::LogoutAll => "An administrator signed everyone out.",
        RevocationReason::Deactivated => {
            "Your account was deactivated. Ask your administrator if you need access."
        }
        RevocationReason::Expired => "Your session expired. Sign in again.",
        RevocationReason::Maintenance => {
            "You were signed out for scheduled maintenance. Sign in again when it is over."
        }
    };
    Notice::SessionRevoked(SessionRevoked {
        session_id,
        reason,
        at: from_millis(at),
        message: message.to_owned(),
    })
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(end_user::login))
        .route("/auth/session", get(end_user::session))
        .route("/auth/logout", post(end_user::logout))
        .route("/notices", get(end_user::notices))
        .route("/notices/stream", get(end_user::notice_stream))
        .route("/admin/me", get(admin::me))
        .route("/admin/users", get(admin::list_users))
        .route("/admin/sessions/summary", get(admin::session_summary))
        .route("/admin/users/{id}/logout", post(admin::logout_user))
        .route("/admin/users/{id}/deactivate", post(admin::deactivate))
        .route("/admin/users/{id}/activate", post(admin::activate))
        .route("/admin/logout-all", post(admin::logout_all))
        .route("/admin/audit", get(admin::audit))
        .route(
            "/admin/maintenance",
            get(maintenance::list).post(maintenance::create),
        )
        .route(
            "/admin/maintenance/{id}",
            axum::routing::delete(maintenance::cancel),
        )
        .route("/admin/maintenance/{id}/end", post(maintenance::end))
        .route("/admin/events", get(maintenance::events))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(health))
        .route("/", get(web::index))
        .route("/web/page.js", get(web::script))
        .route("/web/style.css", get(web::style))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::not_found(
        "not_found",
        "There is no such route. The routes of the contract are listed at /api/v1/openapi.json.",
    )
}

async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This route does not accept that method; see /api/v1/openapi.json.",
    )
}

async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<Json<serde_json::Value>, AppError> {
    state.store.session_summary(crate::now_ms(), None).await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

/// Serves until `shutdown` resolves, then stops accepting, ends every notice stream so
/// clients reconnect elsewhere, and waits up to `drain` for requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let hub = Arc::clone(&state.hub);
    let background = tokio::spawn(housekeeping(state.clone()));
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

/// Periodic work: end streams of expired sessions, forget old sessions and idle limiter
/// keys.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(state.config.sweep_interval);
    let mut rounds: u64 = 0;
    loop {
        tick.tick().await;
        rounds += 1;
        if let Err(e) = state.end_stale_streams(None).await {
            tracing::warn!(error = ?e, "stream sweep failed");
        }
        state.limiter.forget_idle();
        if rounds % 360 == 1 {
            let month_ago = crate::now_ms() - 30 * 24 * 3600 * 1000;
            match state.store.prune_sessions(month_ago).await {
                Ok(n) if n > 0 => tracing::info!(sessions = n, "pruned ended sessions"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "pruning sessions failed"),
            }
        }
    }
}
