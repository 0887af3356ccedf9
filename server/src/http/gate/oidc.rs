//! Signing in to a gated app through an identity provider, over HTTP: the start (a
//! redirect to the provider, and a cookie binding the sign-in to this browser), the
//! callback (the session cookie, then back where the user was going), and the provider's
//! back-channel logout (server to server, so not tied to a gated host).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use curfew::gate;
use serde::Deserialize;

use super::request::{page_for, sign_in_cookie_name, GateRequest};
use super::sign_in::{redirect, session_cookie};
use crate::core::{AppError, AppState};

#[derive(Deserialize)]
pub struct StartQuery {
    rd: Option<String>,
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
pub struct LogoutForm {
    logout_token: Option<String>,
}

fn callback_uri(request: &GateRequest, provider: &str) -> String {
    format!(
        "{}{}",
        request.origin_url(),
        gate::for_provider(gate::OIDC_CALLBACK, provider)
    )
}

/// A `Set-Cookie` for the sign-in's browser binding (`max_age` 0 forgets it).
fn sign_in_cookie(request: &GateRequest, value: &str, max_age: i64) -> Option<HeaderValue> {
    let mut cookie = format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax",
        sign_in_cookie_name(request.cookie)
    );
    if request.cookie.secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).ok()
}

pub async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    request: GateRequest,
    query: Result<Query<StartQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let brand = &state.config.gate.brand_name;
    let rd = query.ok().and_then(|q| q.0.rd);
    let uri = callback_uri(&request, &provider);
    match state.oidc_start(&provider, rd.as_deref(), &uri).await {
        Ok(started) => {
            let mut response = redirect(StatusCode::FOUND, &started.authorize_url);
            let max_age = crate::core::oidc::PENDING_FOR_MS / 1000;
            if let Some(cookie) = sign_in_cookie(&request, &started.browser_secret, max_age) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(refused) => page_for(refused, brand),
    }
}

pub async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    request: GateRequest,
    query: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let brand = &state.config.gate.brand_name;
    let Ok(Query(query)) = query else {
        return page_for(
            AppError::bad_request("invalid_callback", "The identity provider sent back an unreadable answer. Start again from the sign-in page."),
            brand,
        );
    };
    if let Some(error) = query.error {
        let detail = query.error_description.unwrap_or_default();
        tracing::warn!(provider = %provider, error = %error, detail = %detail, "the identity provider refused a sign-in");
        return page_for(
            AppError::forbidden(
                "provider_refused",
                format!("The identity provider did not sign you in ({error}{}{detail}). Start again from the sign-in page, or ask your administrator.", if detail.is_empty() { "" } else { ": " }),
            ),
            brand,
        );
    }
    let (Some(code), Some(code_state)) = (query.code, query.state) else {
        return page_for(
            AppError::bad_request("invalid_callback", "The identity provider's answer has no code or state. Start again from the sign-in page."),
            brand,
        );
    };
    let uri = callback_uri(&request, &provider);
    let outcome = state
        .oidc_callback(
            &provider,
            &code,
            &code_state,
            request.sign_in_browser.as_deref(),
            &uri,
            request.address,
            request.user_agent.as_deref(),
        )
        .await;
    let mut response = match outcome {
        Ok(done) => {
            let mut response = redirect(StatusCode::SEE_OTHER, &done.return_to);
            let max_age = state.config.session_ttl.as_secs();
            let cookie = session_cookie(request.cookie, &state, &done.login.token, max_age);
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(refused) => page_for(refused, brand),
    };
    // Used or refused, the binding is spent.
    if let Some(cookie) = sign_in_cookie(&request, "", 0) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Back-Channel Logout 1.0 §2.8: 200 when done, 400 with `{error, error_description}`.
pub async fn backchannel_logout(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    form: Result<Form<LogoutForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let token = form.ok().and_then(|f| f.0.logout_token);
    let result = match token {
        Some(token) => state.backchannel_logout(&provider, &token).await,
        None => Err(AppError::bad_request(
            "invalid_request",
            "The request has no logout_token.",
        )),
    };
    let mut response = match result {
        Ok(_) => StatusCode::OK.into_response(),
        Err(AppError::Client {
            kind,
            code,
            message,
            ..
        }) => {
            let status = crate::http::error::status_of(kind);
            let status = if status.is_client_error() {
                StatusCode::BAD_REQUEST
            } else {
                status
            };
            let error = if code == "invalid_logout_token" {
                "invalid_request"
            } else {
                code
            };
            (
                status,
                Json(serde_json::json!({ "error": error, "error_description": message })),
            )
                .into_response()
        }
        Err(fault) => fault.into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
