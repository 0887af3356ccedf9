//! `/api/v1/openapi.json`, generated from the handlers and the wire types.
//!
//! Each handler's attribute names the answers only it gives (404, 409, 429, ...). The
//! answers every route of a kind gives are added here from the operation's shape, because
//! they come from the extractors it uses, not from the handler: 503 `unavailable` on
//! every route (the database is down), 400/413/415 where a JSON body is read, 400 where
//! a query or path parameter is parsed, 401 where a bearer token is required and 403 on
//! `/admin/` routes. Every 429 and 503 declares its `Retry-After`.

use curfew::api::{AuditAction, AuditCategory, AuditFormat, Role, UserFilter, UserSort};
use serde_json::Value;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::Link;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr};
use utoipa::{Modify, OpenApi};

use crate::http::{accounts, admin, audit, bulk, end_user, import, maintenance, tokens};

#[derive(OpenApi)]
#[openapi(
    info(title = "curfewd", description = "The Curfew session authority: users, sessions, forced logouts."),
    paths(end_user::login, end_user::session, end_user::logout, end_user::notices,
          end_user::notice_stream, admin::me, admin::list_users, admin::session_summary,
          bulk::user_counts, bulk::logout_selected, bulk::deactivate_selected, bulk::logout_idle,
          accounts::create_user, accounts::update_user, accounts::reset_password, accounts::delete_user, accounts::change_password, admin::logout_user, admin::user_sessions, admin::end_session, admin::logout_all, admin::deactivate, admin::activate, admin::audit, audit::export, admin::sign_in_throttles, admin::clear_sign_in_throttle,
          maintenance::create, maintenance::list, maintenance::cancel, maintenance::end, maintenance::events,
          maintenance::create_series, maintenance::cancel_series, maintenance::change,
          tokens::list, tokens::create, tokens::revoke, import::import_users),
    // Query parameters name these by reference; utoipa does not collect them from params.
    components(schemas(UserFilter, UserSort, Role, AuditCategory, AuditAction, AuditFormat)),
    modifiers(&BearerAuth, &CommonAnswers),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answers that come from the extractors and the database, on every operation that
/// has them.
struct CommonAnswers;

fn error(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "ErrorBody",
                ))))
                .build(),
        )
        .build()
}

fn add(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::T(error(description)));
}

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let limit_kib = curfew::limits::BODY_LIMIT_BYTES / 1024;
        for (path, item) in openapi.paths.paths.iter_mut() {
            let admin_route = path.starts_with(&format!("{}/admin/", curfew::routes::API_PREFIX));
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                if operation.request_body.is_some() {
                    add(operation, "400", "invalid_json or invalid_body: the body is not JSON, not an object, or lacks or breaks a field");
                    add(
                        operation,
                        "413",
                        &format!("body_too_large: the body is larger than {limit_kib} KiB"),
                    );
                    add(operation, "415", "unsupported_media_type: the body was not sent with Content-Type: application/json");
                }
                if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                    add(operation, "400", "a parameter is not valid (invalid_query, invalid_id, invalid_limit, invalid_cursor, ...)");
                }
                if operation.security.is_some() {
                    add(
                        operation,
                        "401",
                        "missing_token, or the session is unknown, expired or revoked",
                    );
                }
                if admin_route {
                    add(
                        operation,
                        "403",
                        "the caller's role lacks the permission this route needs",
                    );
                }
                add(
                    operation,
                    "503",
                    "unavailable: the server cannot reach its database; see Retry-After",
                );
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let RefOr::T(response) = response {
                        response.links.values_mut().for_each(spell_link);
                    }
                    if let (RefOr::T(response), "429" | "503") = (response, status.as_str()) {
                        response
                            .headers
                            .entry("Retry-After".to_owned())
                            .or_insert_with(|| {
                                HeaderBuilder::new()
                                    .schema(
                                        ObjectBuilder::new()
                                            .schema_type(Type::Integer)
                                            .minimum(Some(0)),
                                    )
                                    .description(Some("seconds to wait before trying again"))
                                    .build()
                            });
                    }
                }
            }
        }
    }
}

/// utoipa 5 writes a link's fields as `operation_id`, `operation_ref` and `request_body`;
/// OpenAPI spells them `operationId`, `operationRef` and `requestBody`. Moved to the
/// link's (flattened) extensions, they serialise under their OpenAPI names.
fn spell_link(link: &mut RefOr<Link>) {
    let RefOr::T(link) = link else { return };
    let mut fields = Vec::new();
    if !link.operation_id.is_empty() {
        fields.push((
            "operationId",
            Value::from(std::mem::take(&mut link.operation_id)),
        ));
    }
    if !link.operation_ref.is_empty() {
        fields.push((
            "operationRef",
            Value::from(std::mem::take(&mut link.operation_ref)),
        ));
    }
    if let Some(body) = link.request_body.take() {
        fields.push(("requestBody", body));
    }
    let extensions = link.extensions.get_or_insert_with(Default::default);
    extensions.merge(Extensions::from_iter(fields));
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
