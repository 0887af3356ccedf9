//! Signing in to a gated app and out of it: the form, the cookie, the way back.
//!
//! The session is an ordinary web session (the admin's app lists it with its browser and
//! address); its token lives only in an `HttpOnly` cookie. Posts must come from the same
//! origin, the way back is checked by the core before the form is shown and again when
//! it is sent, and every refusal re-shows the form with one sentence.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use curfew::api::{ClientKind, LoginRequest};
use curfew::gate;
use serde::Deserialize;

use super::pages::{self, SignInPage};
use super::request::{page_for, GateRequest};
use crate::core::gate::CookieKind;
use crate::core::{AppError, AppState, ErrorKind};

#[derive(Deserialize)]
pub struct ReturnTo {
    rd: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    rd: Option<String>,
}

/// 302 to the sign-in page, coming back to `uri` (a path on this host) afterwards.
pub fn redirect_to_sign_in(uri: &str) -> Response {
    let target = format!(
        "{}?{}={}",
        gate::SIGN_IN,
        gate::RETURN_TO,
        url::form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
    );
    redirect(StatusCode::FOUND, &target)
}

pub(super) fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The sign-in page's buttons and whether it has the password form.
fn choices(state: &AppState) -> (Vec<(String, String)>, bool) {
    let providers = state
        .oidc
        .providers
        .iter()
        .map(|p| (p.config.name.clone(), p.config.display_name.clone()))
        .collect();
    (providers, state.oidc.password_sign_in)
}

/// The sign-in page; straight back when the cookie is still a live session.
pub async fn page(
    State(state): State<AppState>,
    request: GateRequest,
    query: Result<axum::extract::Query<ReturnTo>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let brand = &state.config.gate.brand_name;
    let rd = query.ok().and_then(|q| q.0.rd);
    let return_to = match state.return_to(rd.as_deref()) {
        Ok(to) => to,
        Err(refused) => return page_for(refused, brand),
    };
    if let Some(token) = request.token.as_deref() {
        if state
            .authenticate(token, Some(request.address))
            .await
            .is_ok()
        {
            return redirect(StatusCode::SEE_OTHER, &return_to);
        }
    }
    let notice = match state.maintenance_now().await {
        Ok(Some(now)) => Some(format!(
            "{} Only administrators can sign in until it is over.",
            now.message
        )),
        _ => None,
    };
    pages::sign_in(
        StatusCode::OK,
        brand,
        &SignInPage {
            return_to: &return_to,
            notice,
            providers: choices(&state).0,
            password: choices(&state).1,
            ..SignInPage::default()
        },
    )
}

/// The form: a session and its cookie, then back where the user was going.
pub async fn submit(
    State(state): State<AppState>,
    request: GateRequest,
    form: Result<Form<SignInForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let brand = &state.config.gate.brand_name;
    if let Err(refused) = request.require_same_origin() {
        return page_for(refused, brand);
    }
    let Ok(Form(form)) = form else {
        return page_for(
            AppError::bad_request(
                "invalid_form",
                "The sign-in form arrived incomplete. Reload the page and sign in again.",
            ),
            brand,
        );
    };
    let return_to = match state.return_to(form.rd.as_deref()) {
        Ok(to) => to,
        Err(refused) => return page_for(refused, brand),
    };
    if !state.oidc.password_sign_in {
        return page_for(
            AppError::forbidden(
                "password_sign_in_off",
                "Curfew passwords are not used here: sign in with your organisation's account (the button on the sign-in page).",
            ),
            brand,
        );
    }
    let login = LoginRequest {
        username: form.username.clone(),
        password: form.password,
        client: ClientKind::Web,
        device_name: None,
    };
    match state
        .login(login, request.address, request.user_agent.as_deref())
        .await
    {
        Ok(signed_in) => {
            let mut response = redirect(StatusCode::SEE_OTHER, &return_to);
            let max_age = state.config.session_ttl.as_secs();
            let cookie = session_cookie(request.cookie, &state, &signed_in.token, max_age);
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(AppError::Client {
            kind,
            message,
            retry_after,
            ..
        }) => {
            let status = crate::http::error::status_of(kind);
            let mut response = pages::sign_in(
                status,
                brand,
                &SignInPage {
                    return_to: &return_to,
                    username: &form.username,
                    error: Some(&message),
                    notice: None,
                    providers: choices(&state).0,
                    password: choices(&state).1,
                },
            );
            if let Some(seconds) = retry_after.filter(|_| kind != ErrorKind::BadInput) {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
        Err(fault) => page_for(fault, brand),
    }
}

/// Ends the gate session and forgets the cookie; same-origin posts only.
pub async fn sign_out(State(state): State<AppState>, request: GateRequest) -> Response {
    let brand = &state.config.gate.brand_name;
    if let Err(refused) = request.require_same_origin() {
        return page_for(refused, brand);
    }
    let mut at_provider = None;
    if let Some(token) = request.token.as_deref() {
        if let Ok(caller) = state.authenticate(token, Some(request.address)).await {
            if let Err(fault) = state.logout_own(caller.session_id).await {
                return page_for(fault, brand);
            }
            let back = format!("{}{}", request.origin_url(), gate::SIGN_IN);
            match state.provider_sign_out_url(caller.session_id, &back).await {
                Ok(found) => at_provider = found,
                Err(e) => {
                    tracing::warn!(error = ?e, "could not send the browser to sign out at its provider")
                }
            }
        }
    }
    if let Some((provider, url)) = at_provider {
        // Signed out here; the provider signs the browser out there, then sends it back.
        let mut response = pages::signed_out_going_to(brand, &provider, &url);
        let cleared = session_cookie(request.cookie, &state, "", 0);
        if let Ok(value) = HeaderValue::from_str(&cleared) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        return response;
    }
    let mut response = pages::sign_in(
        StatusCode::OK,
        brand,
        &SignInPage {
            return_to: "/",
            notice: Some("You signed out.".into()),
            providers: choices(&state).0,
            password: choices(&state).1,
            ..SignInPage::default()
        },
    );
    let cleared = session_cookie(request.cookie, &state, "", 0);
    if let Ok(value) = HeaderValue::from_str(&cleared) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, on the whole host (or the
/// configured domain), `Secure` whenever the name's prefix demands it.
pub(super) fn session_cookie(
    kind: CookieKind,
    state: &AppState,
    token: &str,
    max_age: u64,
) -> String {
    let mut cookie = format!(
        "{}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax",
        kind.name
    );
    if kind.secure {
        cookie.push_str("; Secure");
        if let Some(domain) = &state.config.gate.cookie_domain {
            cookie.push_str(&format!("; Domain={domain}"));
        }
    }
    cookie
}
