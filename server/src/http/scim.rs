//! SCIM 2.0 over HTTP under `/scim/v2` (see [`curfew::scim`]): the discovery documents
//! and the Users resource, for Okta's and Entra's provisioning. Requests are
//! authenticated by a service token with the `scim` scope; bodies must be
//! `application/scim+json` (or `application/json`); every answer, errors included, is
//! SCIM's own shape with `application/scim+json`, `ETag` where a user is returned.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use curfew::api::TokenScope;
use curfew::scim::{self, ERROR, MAX_RESULTS};
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::client_address;
use crate::core::caller::Caller;
use crate::core::scim::{resource, ScimError, ScimUserRow};
use crate::core::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(scim::SERVICE_PROVIDER_CONFIG, get(service_provider_config))
        .route(scim::RESOURCE_TYPES, get(resource_types))
        .route(scim::SCHEMAS, get(schemas))
        .route(scim::USERS, get(list).post(create))
        .route(
            scim::USER,
            get(read).put(replace).patch(patch).delete(delete),
        )
}

/// A SCIM error as a response.
struct Scim(ScimError);

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let ScimError {
            status,
            scim_type,
            detail,
        } = self.0;
        let mut body =
            json!({ "schemas": [ERROR], "status": status.to_string(), "detail": detail });
        if let Some(scim_type) = scim_type {
            body["scimType"] = json!(scim_type);
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = scim_json(status, &body);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"curfew-scim\""),
            );
        }
        response
    }
}

impl From<ScimError> for Scim {
    fn from(error: ScimError) -> Self {
        Scim(error)
    }
}

type ScimResult = Result<Response, Scim>;

fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A user with its `ETag` (and `Location` when created).
fn user_response(status: StatusCode, row: &ScimUserRow) -> Response {
    let body = resource::render(row);
    let mut response = scim_json(status, &body);
    let meta = &body["meta"];
    if let Some(Ok(version)) = meta["version"].as_str().map(HeaderValue::from_str) {
        response.headers_mut().insert(header::ETAG, version);
    }
    if status == StatusCode::CREATED {
        if let Some(Ok(location)) = meta["location"].as_str().map(HeaderValue::from_str) {
            response.headers_mut().insert(header::LOCATION, location);
        }
    }
    response
}

/// The service token calling, with the `scim` scope.
struct Provisioner(Caller);

impl FromRequestParts<AppState> for Provisioner {
    type Rejection = Scim;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Scim> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim_start().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Scim(ScimError::new(
                    401,
                    None,
                    "SCIM requests need Authorization: Bearer <service token with the scim scope>.",
                ))
            })?;
        let address = client_address(parts, state);
        let caller = state
            .authenticate_with_scope(&token, Some(address), TokenScope::Scim)
            .await
            .map_err(|e| Scim(e.into()))?;
        Ok(Provisioner(caller))
    }
}

/// A JSON body sent as SCIM's media type (or plain JSON).
fn body(headers: &HeaderMap, bytes: &Bytes) -> Result<Value, Scim> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case(scim::MEDIA_TYPE)
        && !essence.eq_ignore_ascii_case("application/json")
    {
        return Err(Scim(ScimError::new(
            415,
            None,
            format!(
                "Send the body as {} (or application/json), not {:?}.",
                scim::MEDIA_TYPE,
                essence
            ),
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Scim(ScimError::invalid_syntax(format!(
            "The body is not JSON: {e}."
        )))
    })
}

fn if_match(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
}

fn number(value: Option<&str>, name: &str) -> Result<Option<i64>, Scim> {
    value
        .map(|v| {
            v.trim().parse::<i64>().map_err(|_| {
                Scim(ScimError::invalid_value(format!(
                    "{name} must be a whole number, not {v:?}."
                )))
            })
        })
        .transpose()
}

async fn list(
    State(state): State<AppState>,
    _caller: Provisioner,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ScimResult {
    let Query(query) = query.map_err(|e| {
        Scim(ScimError::invalid_value(format!(
            "The query string could not be read: {}.",
            e.body_text()
        )))
    })?;
    let start = number(query.start_index.as_deref(), "startIndex")?;
    let count = number(query.count.as_deref(), "count")?;
    let page = state
        .scim_list(query.filter.as_deref(), start, count)
        .await?;
    Ok(scim_json(StatusCode::OK, &page))
}

async fn read(
    State(state): State<AppState>,
    _caller: Provisioner,
    Path(id): Path<String>,
) -> ScimResult {
    Ok(user_response(StatusCode::OK, &state.scim_user(&id).await?))
}

async fn create(
    State(state): State<AppState>,
    Provisioner(caller): Provisioner,
    headers: HeaderMap,
    bytes: Bytes,
) -> ScimResult {
    let body = body(&headers, &bytes)?;
    let row = state.scim_create(&caller.actor(), &body).await?;
    Ok(user_response(StatusCode::CREATED, &row))
}

async fn replace(
    State(state): State<AppState>,
    Provisioner(caller): Provisioner,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ScimResult {
    let body = body(&headers, &bytes)?;
    let row = state
        .scim_replace(&caller.actor(), &id, &body, if_match(&headers).as_deref())
        .await?;
    Ok(user_response(StatusCode::OK, &row))
}

async fn patch(
    State(state): State<AppState>,
    Provisioner(caller): Provisioner,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ScimResult {
    let body = body(&headers, &bytes)?;
    let row = state
        .scim_patch(&caller.actor(), &id, &body, if_match(&headers).as_deref())
        .await?;
    Ok(user_response(StatusCode::OK, &row))
}

async fn delete(
    State(state): State<AppState>,
    Provisioner(caller): Provisioner,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ScimResult {
    state
        .scim_delete(&caller.actor(), &id, if_match(&headers).as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn service_provider_config(_caller: Provisioner) -> Response {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [scim::SERVICE_PROVIDER_CONFIG_SCHEMA],
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": MAX_RESULTS },
            "changePassword": { "supported": false },
            "sort": { "supported": false },
            "etag": { "supported": true },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Service token",
                "description": "A Curfew service token with the scim scope, as a bearer token.",
                "primary": true
            }],
            "meta": { "resourceType": "ServiceProviderConfig", "location": scim::SERVICE_PROVIDER_CONFIG }
        }),
    )
}

async fn resource_types(_caller: Provisioner) -> Response {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [scim::LIST_RESPONSE],
            "totalResults": 1,
            "startIndex": 1,
            "itemsPerPage": 1,
            "Resources": [{
                "schemas": [scim::RESOURCE_TYPE_SCHEMA],
                "id": "User",
                "name": "User",
                "endpoint": "/Users",
                "description": "A person who signs in through Curfew",
                "schema": scim::USER_SCHEMA,
                "meta": { "resourceType": "ResourceType", "location": format!("{}/User", scim::RESOURCE_TYPES) }
            }]
        }),
    )
}

fn attribute(name: &str, kind: &str, required: bool, description: &str) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": false, "description": description,
        "required": required, "caseExact": false, "mutability": "readWrite",
        "returned": "default", "uniqueness": if name == "userName" { "server" } else { "none" }
    })
}

async fn schemas(_caller: Provisioner) -> Response {
    let mut emails = attribute(
        "emails",
        "complex",
        false,
        "The primary (or first) one is kept.",
    );
    emails["multiValued"] = json!(true);
    emails["subAttributes"] = json!([
        attribute("value", "string", false, "The address."),
        attribute("type", "string", false, "work, home…"),
        attribute("primary", "boolean", false, "The one Curfew keeps."),
    ]);
    let mut roles = attribute(
        "roles",
        "complex",
        false,
        "admin, support or member: Curfew's role (the primary one, else the first).",
    );
    roles["multiValued"] = json!(true);
    roles["subAttributes"] = json!([
        attribute("value", "string", true, "admin, support or member."),
        attribute("primary", "boolean", false, "The one Curfew uses."),
    ]);
    let mut password = attribute(
        "password",
        "string",
        false,
        "Taken only when the user is created.",
    );
    password["mutability"] = json!("writeOnly");
    password["returned"] = json!("never");
    let user = json!({
        "schemas": [scim::SCHEMA_SCHEMA],
        "id": scim::USER_SCHEMA,
        "name": "User",
        "description": "A Curfew user",
        "attributes": [
            attribute("userName", "string", true, "The name the person signs in with (folded to lower case)."),
            attribute("displayName", "string", false, "Shown to administrators."),
            attribute("active", "boolean", false, "false deactivates the user and ends every session."),
            attribute("externalId", "string", false, "The identity provider's id for the user."),
            emails,
            roles,
            password,
        ],
        "meta": { "resourceType": "Schema", "location": format!("{}/{}", scim::SCHEMAS, scim::USER_SCHEMA) }
    });
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [scim::LIST_RESPONSE],
            "totalResults": 1, "startIndex": 1, "itemsPerPage": 1,
            "Resources": [user]
        }),
    )
}
