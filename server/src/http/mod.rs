//! The HTTP face of the contract: the router (built from `curfew::routes`, so every path
//! is written once), the mapping of core errors to responses, the OpenAPI document, and
//! serving with graceful shutdown.
//!
//! Handlers only map a request to a core call and its result to a response; rules live in
//! [`crate::core`].

pub mod admin;
pub mod end_user;
pub mod error;
mod extract;
pub mod maintenance;
pub mod openapi;
#[cfg(test)]
mod tests;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::handler::Handler;
use axum::routing::{get, on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use curfew::routes::{self, Route, Verb};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::core::{AppError, AppState, ErrorKind};

pub use extract::{Administrator, Caller, ForceLogout, ManageUsers};

/// Every route of the contract with its handler. The router is built from this list, and
/// a router test checks it against `curfew::routes::ALL`, the OpenAPI document and the
/// client.
pub fn contract_routes() -> Vec<(Route, MethodRouter<AppState>)> {
    vec![
        handle(routes::LOGIN, end_user::login),
        handle(routes::SESSION, end_user::session),
        handle(routes::LOGOUT, end_user::logout),
        handle(routes::NOTICES, end_user::notices),
        handle(routes::NOTICE_STREAM, end_user::notice_stream),
        handle(routes::ADMIN_ME, admin::me),
        handle(routes::USERS, admin::list_users),
        handle(routes::SESSION_SUMMARY, admin::session_summary),
        handle(routes::LOGOUT_USER, admin::logout_user),
        handle(routes::DEACTIVATE_USER, admin::deactivate),
        handle(routes::ACTIVATE_USER, admin::activate),
        handle(routes::LOGOUT_ALL, admin::logout_all),
        handle(routes::AUDIT, admin::audit),
        handle(routes::MAINTENANCE, maintenance::list),
        handle(routes::SCHEDULE_MAINTENANCE, maintenance::create),
        handle(routes::CANCEL_MAINTENANCE, maintenance::cancel),
        handle(routes::END_MAINTENANCE, maintenance::end),
        handle(routes::ADMIN_EVENTS, maintenance::events),
        handle(routes::OPENAPI, openapi_json),
    ]
}

/// `handler` on the method the route names.
fn handle<H, T>(route: Route, handler: H) -> (Route, MethodRouter<AppState>)
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let method = match route.verb {
        Verb::Get => MethodFilter::GET,
        Verb::Post => MethodFilter::POST,
        Verb::Delete => MethodFilter::DELETE,
    };
    (route, on(method, handler))
}

pub fn router(state: AppState) -> Router {
    let mut api = Router::new();
    for (route, handler) in contract_routes() {
        // Routes sharing a path (GET and POST /admin/maintenance) merge their methods.
        api = api.route(route.path, handler);
    }
    let api = api
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest(routes::API_PREFIX, api)
        .route("/healthz", get(health))
        .route("/", get(web::index))
        .route("/web/page.js", get(web::script))
        .route("/web/style.css", get(web::style))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(curfew::limits::BODY_LIMIT_BYTES))
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
        ErrorKind::MethodNotAllowed,
        "method_not_allowed",
        "This route does not accept that method; see /api/v1/openapi.json.",
    )
}

/// Liveness and a trivial database ping: constant work, whatever the data.
async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    state.health().await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::document())
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
