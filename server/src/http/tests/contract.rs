//! The contract as served: every route in the router, the OpenAPI document and the client; the end users' page.

use super::*;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use curfew::api::{AuditQuery, ClientKind, LoginRequest, MaintenanceRequest, UserQuery};
use curfew::routes::{self, Route, Verb};

use crate::http::contract_routes;

/// Whether a concrete request (`GET /api/v1/admin/users/5f0c…/logout`) is `route`.
fn is_route(route: &Route, method: &Method, path: &str) -> bool {
    let Some(path) = path.strip_prefix(routes::API_PREFIX) else {
        return false;
    };
    let pattern: Vec<&str> = route.path.split('/').collect();
    let parts: Vec<&str> = path.split('/').collect();
    route.verb.as_str() == method.as_str()
        && pattern.len() == parts.len()
        && pattern
            .iter()
            .zip(&parts)
            .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()))
}

/// `(method, path)` of every operation the OpenAPI document lists.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn every_route_is_in_the_router_the_document_and_the_client() {
    let listed: BTreeSet<Route> = routes::ALL.iter().copied().collect();
    let served: BTreeSet<Route> = contract_routes().into_iter().map(|(r, _)| r).collect();
    assert_eq!(
        served, listed,
        "the router serves exactly curfew::routes::ALL"
    );

    let t = TestApp::new().await;
    let request = Request::get(routes::OPENAPI.full_path())
        .body(Body::empty())
        .expect("request");
    let doc = ok(t.send(request).await);
    assert!(doc["openapi"]
        .as_str()
        .unwrap_or_default()
        .starts_with("3."));
    let expected: BTreeSet<(String, String)> = routes::ALL
        .iter()
        .filter(|r| **r != routes::OPENAPI)
        .map(|r| (r.verb.as_str().to_owned(), r.full_path()))
        .collect();
    assert_eq!(
        documented(&doc),
        expected,
        "the OpenAPI document lists every route but itself"
    );
    // Each route is served: it answers with something other than 404 or 405.
    let id = Uuid::new_v4();
    for route in routes::ALL {
        let method = Method::from_bytes(route.verb.as_str().as_bytes()).expect("method");
        let path = format!("{}{}", routes::API_PREFIX, route.with_id(id));
        let reply = t.call(method.clone(), &path, None, None).await;
        assert!(
            ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&reply.0),
            "{route} is listed but not served: {:?}",
            reply.0
        );
    }
    // Administrator routes declare the bearer scheme; the error shape is a schema.
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    for route in routes::ALL.iter().filter(|r| r.path.starts_with("/admin/")) {
        let method = route.verb.as_str().to_lowercase();
        let security = &doc["paths"][route.full_path()][&method]["security"];
        assert_eq!(security, &json!([{ "bearer": [] }]), "{route}");
    }
}

/// The client calls every route: curfewd in-process on a real socket, every request the
/// client sends recorded, every client method called once.
#[tokio::test]
async fn the_client_calls_every_route() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    let member = t.user("member", "Mem Ber", Role::Member).await;
    let seen: Arc<Mutex<Vec<(Method, String)>>> = Arc::default();
    let record = Arc::clone(&seen);
    let app = t.app.clone().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            record
                .lock()
                .unwrap()
                .push((request.method().clone(), request.uri().path().to_owned()));
            next.run(request)
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let anonymous = curfew::Client::new(&format!("http://{address}")).unwrap();
    let (admin, _) = anonymous
        .login(&LoginRequest {
            username: "root".into(),
            password: PASSWORD.into(),
            client: ClientKind::App,
            device_name: None,
        })
        .await
        .expect("sign in");
    admin.session().await.unwrap();
    admin.notices().await.unwrap();
    drop(admin.notice_stream().await.unwrap());
    drop(admin.admin_events().await.unwrap());
    admin.admin_me().await.unwrap();
    admin.users(&UserQuery::default()).await.unwrap();
    admin.session_summary().await.unwrap();
    let created = admin
        .create_user(&curfew::api::NewUserRequest {
            username: "newcomer".into(),
            display_name: None,
            email: Some("newcomer@example.com".into()),
            role: Role::Member,
            password: None,
        })
        .await
        .unwrap();
    admin
        .update_user(
            created.id,
            &curfew::api::UserUpdate {
                display_name: Some("New Comer".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin
        .reset_password(
            created.id,
            &curfew::api::PasswordReset {
                password: None,
                sign_out: true,
            },
        )
        .await
        .unwrap();
    admin.delete_user(created.id).await.unwrap();
    // A wrong current password: refused, but the request was the contract's.
    assert!(admin
        .change_password(&curfew::api::PasswordChange {
            current_password: "not it".into(),
            new_password: "a brand new passphrase".into(),
        })
        .await
        .is_err());
    let sessions = admin.user_sessions(member).await.unwrap();
    assert!(sessions.sessions.is_empty());
    // No such session: refused, but the request was the contract's.
    assert!(admin.end_session(Uuid::new_v4()).await.is_err());
    admin.logout_user(member).await.unwrap();
    admin
        .user_counts(&curfew::api::UserMatch::default())
        .await
        .unwrap();
    let selection = curfew::api::UserSelection {
        ids: Some(vec![member]),
        matching: None,
    };
    admin.logout_selected(&selection, true).await.unwrap();
    admin.deactivate_selected(&selection, true).await.unwrap();
    admin.logout_idle(30, true).await.unwrap();
    admin.deactivate(member).await.unwrap();
    admin.activate(member).await.unwrap();
    admin.audit(&AuditQuery::default()).await.unwrap();
    let window = admin
        .schedule_maintenance(&MaintenanceRequest {
            starts_at: chrono::Utc::now() + chrono::Duration::hours(2),
            ends_at: None,
            message: "Update".into(),
            warn_before: vec![60],
            freeze_before: 30,
            keep_admins: false,
        })
        .await
        .unwrap();
    admin.maintenance().await.unwrap();
    // Not running: refused, but the request was the contract's.
    assert!(admin.end_maintenance(window.id).await.is_err());
    admin.cancel_maintenance(window.id).await.unwrap();
    let first = admin
        .schedule_series(&curfew::api::SeriesRequest {
            window: MaintenanceRequest {
                starts_at: chrono::Utc::now() + chrono::Duration::hours(2),
                ends_at: Some(chrono::Utc::now() + chrono::Duration::hours(3)),
                message: "Monthly update".into(),
                warn_before: vec![60],
                freeze_before: 30,
                keep_admins: false,
            },
            repeat: curfew::api::Repeat {
                rule: "FREQ=MONTHLY;BYMONTHDAY=1;COUNT=2".into(),
                time_zone: "Europe/Berlin".into(),
            },
        })
        .await
        .unwrap();
    admin.cancel_series(first.id).await.unwrap();
    // Not scheduled any more: refused, but the request was the contract's.
    assert!(admin
        .change_maintenance(
            window.id,
            &curfew::api::MaintenanceChange {
                starts_at: chrono::Utc::now() + chrono::Duration::hours(4),
                ends_at: None,
                message: "Update".into(),
                warn_before: vec![60],
                freeze_before: 30,
            },
        )
        .await
        .is_err());
    admin.sign_in_throttles().await.unwrap();
    let query = curfew::api::AuditExportQuery::new(
        curfew::api::AuditFormat::Jsonl,
        None,
        Default::default(),
    );
    let mut file = Vec::new();
    admin.export_audit(&query, &mut file).await.unwrap();
    // Nothing to clear: refused, but the request was the contract's.
    assert!(admin.clear_sign_in_throttle("nobody").await.is_err());
    let made = admin
        .create_service_token(&curfew::api::NewServiceToken {
            name: "contract".into(),
            scopes: vec![curfew::api::TokenScope::Read],
            expires_in_days: Some(1),
        })
        .await
        .unwrap();
    admin.service_tokens().await.unwrap();
    let preview = admin
        .import_users("username\nimported\n", true)
        .await
        .unwrap();
    assert_eq!(preview.new, 1);
    admin
        .revoke_service_token(made.service_token.id)
        .await
        .unwrap();
    admin.logout_all(false).await.unwrap();
    admin.openapi().await.unwrap();
    admin.logout().await.unwrap();

    let seen = seen.lock().unwrap().clone();
    let missing: Vec<String> = routes::ALL
        .iter()
        .filter(|route| !seen.iter().any(|(m, p)| is_route(route, m, p)))
        .map(|route| route.to_string())
        .collect();
    assert!(missing.is_empty(), "the client never called {missing:?}");
    let unknown: Vec<&(Method, String)> = seen
        .iter()
        .filter(|(m, p)| !routes::ALL.iter().any(|route| is_route(route, m, p)))
        .collect();
    assert!(
        unknown.is_empty(),
        "the client called routes outside the contract: {unknown:?}"
    );
}

#[test]
fn requests_match_their_route_only() {
    let id = Uuid::new_v4();
    let path = format!("/api/v1/admin/users/{id}/logout");
    assert!(is_route(&routes::LOGOUT_USER, &Method::POST, &path));
    assert!(!is_route(&routes::LOGOUT_USER, &Method::GET, &path));
    assert!(!is_route(&routes::DEACTIVATE_USER, &Method::POST, &path));
    assert!(!is_route(
        &routes::USERS,
        &Method::GET,
        "/api/v1/admin/users/x"
    ));
    assert!(is_route(
        &routes::USERS,
        &Method::GET,
        "/api/v1/admin/users"
    ));
    let _ = Verb::Get;
}

#[tokio::test]
async fn the_end_users_page_is_served_with_a_strict_csp() {
    let t = TestApp::new().await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/web/page.js", "text/javascript"),
        ("/web/style.css", "text/css"),
    ] {
        let (status, headers, body) = t
            .send_raw(Request::get(path).body(Body::empty()).expect("request"))
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let content_type = headers[header::CONTENT_TYPE].to_str().unwrap();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!body.is_empty());
    }
}

/// Every `$ref` under `value` (recursively).
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target.clone());
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

/// What the property-based run (`cargo xtask test`, schemathesis) relies on, checked on
/// the document itself: references resolve, limits come from `curfew::limits`, the
/// answers of the extractors and the database are on every operation, links are spelled
/// as OpenAPI spells them and lead to operations that exist.
#[tokio::test]
async fn the_document_states_the_limits_the_answers_and_the_links() {
    use curfew::limits;
    let t = TestApp::new().await;
    let request = Request::get(routes::OPENAPI.full_path())
        .body(Body::empty())
        .expect("request");
    let doc = ok(t.send(request).await);
    let schemas = &doc["components"]["schemas"];

    let mut found = Vec::new();
    references(&doc, &mut found);
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("an unexpected reference {target}"));
        assert!(schemas[name].is_object(), "{target} does not exist");
    }

    let login = &schemas["LoginRequest"]["properties"];
    assert_eq!(login["username"]["minLength"], 1);
    assert_eq!(login["username"]["maxLength"], limits::USERNAME_MAX);
    assert_eq!(login["password"]["minLength"], 1);
    assert_eq!(login["password"]["maxLength"], limits::PASSWORD_MAX);
    let window = &schemas["MaintenanceRequest"]["properties"];
    let message = window["message"]["pattern"].as_str().expect("a pattern");
    assert!(
        message.contains(&format!("{{0,{}}}", limits::MESSAGE_MAX - 2)),
        "{message}"
    );
    assert_eq!(
        window["freeze_before"]["maximum"],
        limits::FREEZE_BEFORE_MAX
    );
    assert_eq!(window["warn_before"]["maxItems"], limits::WARNINGS_MAX);
    assert_eq!(
        window["warn_before"]["items"]["maximum"],
        limits::WARN_BEFORE_MAX
    );
    assert!(window["starts_at"]["description"]
        .as_str()
        .unwrap_or_default()
        .contains("future"));
    assert_eq!(
        schemas["MaintenanceStep"]["properties"]["detail"]["type"],
        json!(["object", "null"])
    );
    for route in [routes::USERS, routes::AUDIT] {
        let parameters = doc["paths"][route.full_path()]["get"]["parameters"]
            .as_array()
            .expect("parameters");
        let limit = parameters
            .iter()
            .find(|p| p["name"] == "limit")
            .expect("limit");
        assert_eq!(limit["in"], "query", "{route}");
        assert_eq!(limit["schema"]["minimum"], 1, "{route}");
        assert_eq!(limit["schema"]["maximum"], limits::PAGE_MAX, "{route}");
    }

    let operation_ids: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect();
    let mut links = 0;
    for route in routes::ALL.iter().filter(|r| **r != routes::OPENAPI) {
        let method = route.verb.as_str().to_lowercase();
        let operation = &doc["paths"][route.full_path()][&method];
        let responses = operation["responses"].as_object().expect("responses");
        let has = |status: &str| responses.contains_key(status);
        assert!(has("503"), "{route}: 503 unavailable");
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415"] {
                assert!(has(status), "{route}: {status}");
            }
        }
        if operation.get("security").is_some() {
            assert!(has("401"), "{route}: 401");
        }
        if route.path.starts_with("/admin/") {
            assert!(has("403"), "{route}: 403");
        }
        if route.path.contains("{id}") {
            assert!(has("404") && has("400"), "{route}: 400 and 404");
        }
        for (status, response) in responses {
            if status == "429" || status == "503" {
                assert!(
                    response["headers"]["Retry-After"].is_object(),
                    "{route} {status}: Retry-After"
                );
            }
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                links += 1;
                assert!(link.get("operation_id").is_none(), "{route} {name}");
                let target = link["operationId"].as_str().expect("operationId");
                assert!(operation_ids.contains(target), "{route} {name} → {target}");
            }
        }
    }
    assert!(links >= 8, "links from the calls that give ids: {links}");
    for route in [routes::LOGIN, routes::NOTICE_STREAM, routes::ADMIN_EVENTS] {
        let method = route.verb.as_str().to_lowercase();
        let responses = &doc["paths"][route.full_path()][&method]["responses"];
        assert!(responses["429"].is_object(), "{route}: 429");
    }
}

/// JSON Schema's integers include `300.0`; the server takes it as `300`, and still refuses
/// a fraction.
#[tokio::test]
async fn whole_numbers_with_a_zero_fraction_are_integers() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    let admin = t.login("root", "app").await;
    let path = routes::SCHEDULE_MAINTENANCE.full_path();
    let starts_at = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let body = |freeze: &str| {
        format!(
            r#"{{"starts_at": "{starts_at}", "message": "1.0 update", "freeze_before": {freeze}, "warn_before": [600.00, 60]}}"#
        )
    };
    let json = Some("application/json");
    let reply = t.post_bytes(&path, Some(&admin), json, body("300.0")).await;
    assert_eq!(reply.0, StatusCode::CREATED, "{}", reply.1);
    assert_eq!(reply.1["freeze_before"], 300);
    assert_eq!(reply.1["warn_before"], json!([600, 60]));
    assert_eq!(reply.1["message"], "1.0 update");
    for freeze in ["300.5", "\"300\""] {
        let reply = t.post_bytes(&path, Some(&admin), json, body(freeze)).await;
        assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_body");
    }
}
