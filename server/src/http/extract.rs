//! Extractors: who is calling (the core checks the token against its session row on every
//! request), what they may do, and request bodies and queries whose rejections speak the
//! contract.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::rejection::{JsonRejection, MissingJsonContentType};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use curfew::api::Permission;
use uuid::Uuid;

pub use crate::core::caller::Caller;
use crate::core::{AppError, AppState};

/// The token of `Authorization: Bearer <token>`; the scheme is case-insensitive
/// (RFC 7235).
fn bearer(parts: &Parts) -> Result<&str, AppError> {
    let missing = || {
        AppError::unauthorized(
            "missing_token",
            "Sign in first: this request needs an Authorization: Bearer <token> header.",
        )
    };
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    let (scheme, token) = value.trim_start().split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(missing());
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(missing());
    }
    Ok(token)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let address = client_address(parts, state);
        let route = contract_route(parts);
        state
            .authenticate_for_route(bearer(parts)?, Some(address), route)
            .await
    }
}

/// The route of the contract a request matched, for the scopes of service tokens.
fn contract_route(parts: &Parts) -> Option<curfew::routes::Route> {
    let matched = parts
        .extensions
        .get::<axum::extract::MatchedPath>()?
        .as_str();
    let path = matched.strip_prefix(curfew::routes::API_PREFIX)?;
    curfew::routes::ALL
        .iter()
        .find(|r| r.path == path && r.verb.as_str() == parts.method.as_str())
        .copied()
}

/// An extractor for a caller that passes `$check` (a `Caller -> AppResult<Caller>`).
macro_rules! permitted {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        pub struct $name(pub Caller);

        impl FromRequestParts<AppState> for $name {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
                let caller = Caller::from_request_parts(parts, state).await?;
                let check: fn(Caller) -> Result<Caller, AppError> = $check;
                Ok($name(check(caller)?))
            }
        }
    };
}

permitted!(
    /// A caller with any administrative permission (admin or support).
    Administrator,
    Caller::require_administrator
);
permitted!(
    /// A caller allowed to force logouts.
    ForceLogout,
    |caller| caller.require(Permission::ForceLogout)
);
permitted!(
    /// A caller allowed to deactivate and activate accounts.
    ManageUsers,
    |caller| caller.require(Permission::ManageUsers)
);

/// The address a login comes from, for rate limiting.
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(ClientAddress(client_address(parts, state)))
    }
}

/// The client's address: the peer, or behind a trusted proxy the entry it appended.
pub(super) fn client_address(parts: &Parts, state: &AppState) -> IpAddr {
    if state.config.trust_forwarded_for {
        if let Some(ip) = last_forwarded_for(&parts.headers) {
            return ip;
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The `User-Agent` header, if it is text.
pub struct UserAgent(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        Ok(UserAgent(
            parts
                .headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

/// The last entry of `X-Forwarded-For` over all its header lines: the one the trusted
/// proxy appended. A client can send its own lines and entries, but only before the
/// proxy's, so earlier ones are never believed.
fn last_forwarded_for(headers: &axum::http::HeaderMap) -> Option<IpAddr> {
    let last_line = headers.get_all("x-forwarded-for").iter().next_back()?;
    let entry = last_line.to_str().ok()?.rsplit(',').next()?.trim();
    entry.parse().ok()
}

/// A JSON body; rejections answer in the contract's shape. The body must be a JSON object:
/// serde alone would also take a struct written as an array (`[false]` for
/// `{"keep_admins": false}`), which is not the contract's shape.
pub struct ApiJson<T>(pub T);

///
/// A whole number written with a zero fraction (`300.0`) is an integer in JSON Schema, so
/// it is taken where an integer belongs, as `300`.
impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        if !is_json(request.headers()) {
            return Err(JsonRejection::from(MissingJsonContentType::default()).into());
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    super::error::too_large()
                } else {
                    AppError::bad_request(
                        "invalid_body",
                        format!(
                            "The request body could not be read: {}.",
                            rejection.body_text()
                        ),
                    )
                }
            })?;
        match axum::Json::<JsonObject<T>>::from_bytes(&bytes) {
            Ok(axum::Json(JsonObject(value))) => Ok(ApiJson(value)),
            Err(refused @ JsonRejection::JsonDataError(_)) => match whole_numbers(&bytes) {
                Some(rewritten) => axum::Json::<JsonObject<T>>::from_bytes(&rewritten)
                    .map(|axum::Json(JsonObject(value))| ApiJson(value))
                    .map_err(|_| refused.into()),
                None => Err(refused.into()),
            },
            Err(refused) => Err(refused.into()),
        }
    }
}

/// `Content-Type: application/json` or `application/<anything>+json`, as axum's `Json` reads it.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

/// The JSON text with every number of the form `123.0` (outside strings) written `123`;
/// `None` if there is none.
fn whole_numbers(json: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(json.len());
    let (mut i, mut in_string, mut changed) = (0, false, false);
    while i < json.len() {
        let c = json[i];
        if in_string {
            out.push(c);
            match c {
                b'\\' if i + 1 < json.len() => {
                    out.push(json[i + 1]);
                    i += 1;
                }
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_string = true;
        } else if c.is_ascii_digit() {
            // A run of digits, then maybe `.000`, and then not an exponent or more digits.
            let start = i;
            while i < json.len() && json[i].is_ascii_digit() {
                i += 1;
            }
            out.extend_from_slice(&json[start..i]);
            if json.get(i) == Some(&b'.') {
                let zeros = json[i + 1..].iter().take_while(|b| **b == b'0').count();
                let after = json.get(i + 1 + zeros).copied();
                let ends = !matches!(after, Some(b'0'..=b'9' | b'e' | b'E'));
                if zeros > 0 && ends {
                    i += 1 + zeros;
                    changed = true;
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    changed.then_some(out)
}

/// `T`, read only from a JSON object.
struct JsonObject<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for ObjectVisitor<T> {
            type Value = JsonObject<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(JsonObject)
            }
        }

        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

/// A query string; rejections answer in the contract's shape.
#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// A `{id}` path segment that must be a UUID.
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(id) = Path::<Uuid>::from_request_parts(parts, state).await?;
        Ok(IdPath(id))
    }
}

#[cfg(test)]
mod tests {
    use super::whole_numbers;

    #[test]
    fn only_whole_numbers_outside_strings_lose_their_zero_fraction() {
        let rewrite =
            |json: &str| whole_numbers(json.as_bytes()).map(|b| String::from_utf8(b).unwrap());
        assert_eq!(
            rewrite(r#"{"a": 300.0, "b": [-1.000, 2.5, 3.01, 1.0e5], "c": "7.0 \" 8.0"}"#)
                .as_deref(),
            Some(r#"{"a": 300, "b": [-1, 2.5, 3.01, 1.0e5], "c": "7.0 \" 8.0"}"#)
        );
        assert_eq!(rewrite(r#"{"a": 300, "b": "1.0"}"#), None);
    }
}
