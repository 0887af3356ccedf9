//! The HTTP face of the contract: the router (built from `curfew::routes`, so every path
//! is written once), the mapping of core errors to responses, and the OpenAPI document.
//! Serving it beside the background tasks is [`crate::daemon`]'s job.
//!
//! Handlers only map a request to a core call and its result to a response; rules live in
//! [`crate::core`].

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod bulk;
pub mod end_user;
pub mod error;
mod extract;
mod gate;
pub mod import;
pub mod maintenance;
pub mod openapi;
mod oversized;
mod scim;
#[cfg(test)]
mod tests;
pub mod tokens;
mod web;

use axum::extract::{DefaultBodyLimit, State};
use axum::handler::Handler;
use axum::http::{header, HeaderValue};
use axum::routing::{get, on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use curfew::routes::{self, Route, Verb};
use tower_http::set_header::SetResponseHeaderLayer;
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
        handle(routes::CHANGE_PASSWORD, accounts::change_password),
        handle(routes::NOTICES, end_user::notices),
        handle(routes::NOTICE_STREAM, end_user::notice_stream),
        handle(routes::ADMIN_ME, admin::me),
        handle(routes::USERS, admin::list_users),
        handle(routes::CREATE_USER, accounts::create_user),
        handle(routes::UPDATE_USER, accounts::update_user),
        handle(routes::DELETE_USER, accounts::delete_user),
        handle(routes::RESET_PASSWORD, accounts::reset_password),
        handle(routes::SESSION_SUMMARY, admin::session_summary),
        handle(routes::USER_COUNTS, bulk::user_counts),
        handle(routes::BULK_LOGOUT, bulk::logout_selected),
        handle(routes::BULK_DEACTIVATE, bulk::deactivate_selected),
        handle(routes::LOGOUT_IDLE, bulk::logout_idle),
        handle(routes::LOGOUT_USER, admin::logout_user),
        handle(routes::USER_SESSIONS, admin::user_sessions),
        handle(routes::END_SESSION, admin::end_session),
        handle(routes::DEACTIVATE_USER, admin::deactivate),
        handle(routes::ACTIVATE_USER, admin::activate),
        handle(routes::LOGOUT_ALL, admin::logout_all),
        handle(routes::AUDIT, admin::audit),
        handle(routes::AUDIT_EXPORT, audit::export),
        handle(routes::MAINTENANCE, maintenance::list),
        handle(routes::SCHEDULE_MAINTENANCE, maintenance::create),
        handle(routes::CANCEL_MAINTENANCE, maintenance::cancel),
        handle(routes::END_MAINTENANCE, maintenance::end),
        handle(routes::MOVE_MAINTENANCE, maintenance::change),
        handle(routes::SCHEDULE_SERIES, maintenance::create_series),
        handle(routes::CANCEL_SERIES, maintenance::cancel_series),
        handle(routes::ADMIN_EVENTS, maintenance::events),
        handle(routes::SIGN_IN_THROTTLES, admin::sign_in_throttles),
        handle(
            routes::CLEAR_SIGN_IN_THROTTLE,
            admin::clear_sign_in_throttle,
        ),
        (
            routes::IMPORT_USERS,
            handle(routes::IMPORT_USERS, import::import_users)
                .1
                .layer(DefaultBodyLimit::max(
                    curfew::limits::IMPORT_BODY_LIMIT_BYTES,
                )),
        ),
        handle(routes::SERVICE_TOKENS, tokens::list),
        handle(routes::CREATE_SERVICE_TOKEN, tokens::create),
        handle(routes::REVOKE_SERVICE_TOKEN, tokens::revoke),
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
        Verb::Patch => MethodFilter::PATCH,
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
    // Answers carry tokens and people's data: no cache may keep them (RFC 6749 §5.1 for
    // the token of a sign-in).
    let api = api
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new()
        .nest(routes::API_PREFIX, api)
        .route("/healthz", get(health))
        .route("/", get(web::index))
        .route("/web/page.js", get(web::script))
        .route("/web/style.css", get(web::style))
        .merge(gate::routes())
        .merge(scim::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(DefaultBodyLimit::max(curfew::limits::BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn(oversized::refuse_oversized))
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
