//! Extractors: who is calling (checked against the session row on every request), what
//! they may do, and request bodies and queries whose rejections speak the contract.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use curfew::api::{ClientKind, Permission, RevocationReason, Role, UserStatus};
use uuid::Uuid;

use super::AppState;
use crate::error::AppError;
use crate::secrets::hash_token;
use crate::store::Actor;

/// Activity is written at most this often per session, so session checks stay reads.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The signed-in session making the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub client: ClientKind,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.user_id,
            username: self.username.clone(),
            session_id: self.session_id,
        }
    }

    fn require(self, permission: Permission) -> Result<Self, AppError> {
        if self.role.has(permission) {
            Ok(self)
        } else {
            Err(AppError::forbidden(
                "forbidden",
                format!(
                    "Your role ({}) does not have the {} permission needed for this. \
                     Ask an administrator to change your role.",
                    self.role.as_str(),
                    permission.as_str()
                ),
            ))
        }
    }
}

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
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(missing)?;
    Ok(token)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts)?;
        // Tokens are 43 characters; anything far longer is not one of ours.
        let record = if token.len() > 256 {
            None
        } else {
            state
                .store
                .session_by_token_hash(&hash_token(token))
                .await?
        };
        let Some(record) = record else {
            return Err(AppError::unauthorized(
                "invalid_token",
                "This sign-in is not known to the server. Sign in again.",
            ));
        };
        let now = crate::now_ms();
        if record.revoked_at.is_some() {
            let why = match record.revoked_reason {
                Some(RevocationReason::SignedOut) => "You signed out of this session.",
                Some(RevocationReason::Deactivated) => "The account was deactivated.",
                Some(RevocationReason::LogoutAll) => "An administrator signed everyone out.",
                _ => "An administrator signed you out.",
            };
            return Err(AppError::unauthorized(
                "session_revoked",
                format!("{why} Sign in again."),
            ));
        }
        if record.expires_at <= now {
            return Err(AppError::unauthorized(
                "session_expired",
                "Your session expired. Sign in again.",
            ));
        }
        if record.user_status != UserStatus::Active {
            return Err(AppError::unauthorized(
                "account_deactivated",
                "This account is deactivated. Ask your administrator if you need access.",
            ));
        }
        if now - record.last_seen_at >= TOUCH_EVERY_MS {
            let store = state.store.clone();
            let (session, user) = (record.id, record.user_id);
            tokio::spawn(async move {
                if let Err(e) = store.touch_session(session, user, now).await {
                    tracing::warn!(error = ?e, "could not record session activity");
                }
            });
        }
        Ok(Caller {
            session_id: record.id,
            user_id: record.user_id,
            username: record.username,
            display_name: record.display_name,
            role: record.role,
            client: record.client,
            created_at: record.created_at,
            expires_at: record.expires_at,
        })
    }
}

/// A caller with any administrative permission (admin or support).
pub struct Administrator(pub Caller);

impl FromRequestParts<AppState> for Administrator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.role.is_administrator() {
            return Err(AppError::forbidden(
                "not_an_administrator",
                format!(
                    "The account {} is a {} and has no administrator permissions. \
                     Sign in with an administrator account.",
                    caller.username,
                    caller.role.as_str()
                ),
            ));
        }
        Ok(Administrator(caller))
    }
}

/// A caller allowed to force logouts.
pub struct ForceLogout(pub Caller);

impl FromRequestParts<AppState> for ForceLogout {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        Ok(ForceLogout(caller.require(Permission::ForceLogout)?))
    }
}

/// A caller allowed to deactivate and activate accounts.
pub struct ManageUsers(pub Caller);

impl FromRequestParts<AppState> for ManageUsers {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        Ok(ManageUsers(caller.require(Permission::ManageUsers)?))
    }
}

/// The address a login comes from, for rate limiting.
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if state.config.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok());
            if let Some(ip) = forwarded {
                return Ok(ClientAddress(ip));
            }
        }
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddress(ip))
    }
}

/// A JSON body; rejections answer in the contract's shape. The body must be a JSON object:
/// serde alone would also take a struct written as an array (`[false]` for
/// `{"keep_admins": false}`), which is not the contract's shape.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let axum::Json(JsonObject(value)) = axum::Json::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
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
