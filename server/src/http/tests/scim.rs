//! SCIM 2.0 the way Okta's and Entra's provisioning call it (their documented request
//! sequences), and every refusal in SCIM's error shape with nothing changed: bad filters,
//! unknown attributes, wrong content types, stale versions, the wrong kind of token.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use curfew::api::Role;
use serde_json::{json, Value};

use super::*;

const SCIM_JSON: &str = "application/scim+json";

struct Scim {
    t: TestApp,
    admin: String,
    token: String,
}

impl Scim {
    async fn new() -> Self {
        let t = TestApp::new().await;
        t.user("root", "Root", Role::Admin).await;
        let admin = t.login("root", "app").await;
        let body = json!({ "name": "Okta", "scopes": ["scim"] });
        let reply = t.post("/api/v1/admin/tokens", &admin, Some(&body)).await;
        assert_eq!(reply.0, StatusCode::CREATED, "{}", reply.1);
        let token = reply.1["token"].as_str().unwrap().to_owned();
        Scim { t, admin, token }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, SCIM_JSON);
        }
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        let body = body
            .map(|b| Body::from(b.to_string()))
            .unwrap_or_else(Body::empty);
        self.t.send(builder.body(body).unwrap()).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    /// What an administrator sees (users, sessions, audit): equal means nothing changed.
    async fn snapshot(&self) -> Value {
        self.t.snapshot(&self.admin).await
    }
}

/// A SCIM error: the status, as a string too, the scimType, a sentence, SCIM's type.
#[track_caller]
fn assert_scim_error(reply: &Reply, status: StatusCode, scim_type: Option<&str>) {
    let (actual, body, headers) = reply;
    assert_eq!(*actual, status, "{body}");
    assert_eq!(body["schemas"], json!([curfew::scim::ERROR]), "{body}");
    assert_eq!(body["status"], status.as_u16().to_string(), "{body}");
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    assert!(
        !body["detail"].as_str().unwrap_or_default().is_empty(),
        "{body}"
    );
    let content_type = headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
    assert!(content_type.starts_with(SCIM_JSON), "{content_type}");
}

fn filter_path(filter: &str) -> String {
    format!(
        "/scim/v2/Users{}",
        query(&[("filter", filter), ("startIndex", "1"), ("count", "100")])
    )
}

#[tokio::test]
async fn oktas_sequence_creates_updates_and_deactivates_ending_every_session() {
    let s = Scim::new().await;
    // 1. Okta looks the user up first.
    let found = s
        .get(&filter_path(r#"userName eq "maria.chen@example.org""#))
        .await;
    assert_eq!(found.0, StatusCode::OK, "{}", found.1);
    assert_eq!(found.1["totalResults"], 0);
    assert_eq!(found.1["schemas"], json!([curfew::scim::LIST_RESPONSE]));
    // 2. Creates them, with a password (Okta's "sync password").
    let created = s
        .send(
            Method::POST,
            "/scim/v2/Users",
            Some(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "maria.chen@example.org",
                "name": { "givenName": "Maria", "familyName": "Chen" },
                "emails": [{ "primary": true, "value": "maria.chen@example.org", "type": "work" }],
                "displayName": "Maria Chen",
                "locale": "en-US",
                "externalId": "00u1a2b3c4",
                "groups": [],
                "password": "Okta-synced password 1",
                "active": true
            })),
            &[],
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let id = created.1["id"].as_str().unwrap().to_owned();
    let etag = created
        .2
        .get(header::ETAG)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(created.1["meta"]["version"], etag.as_str());
    assert_eq!(
        created.2.get(header::LOCATION).unwrap(),
        &format!("/scim/v2/Users/{id}")
    );
    assert_eq!(created.1["active"], true);
    assert_eq!(created.1["emails"][0]["value"], "maria.chen@example.org");
    // The synced password signs in.
    let (status, body, _) =
        s.t.login_reply("maria.chen@example.org", "Okta-synced password 1", "web")
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let web = body["token"].as_str().unwrap().to_owned();
    let app = {
        let (_, body, _) =
            s.t.login_reply("maria.chen@example.org", "Okta-synced password 1", "app")
                .await;
        body["token"].as_str().unwrap().to_owned()
    };
    // 3. Reads it back, and finds it by userName and externalId.
    let read = s.get(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(read.0, StatusCode::OK);
    assert_eq!(read.1["userName"], "maria.chen@example.org");
    for filter in [
        r#"userName eq "Maria.Chen@example.org""#,
        r#"externalId eq "00u1a2b3c4""#,
        r#"emails.value eq "maria.chen@example.org" and active eq true"#,
    ] {
        let found = s.get(&filter_path(filter)).await;
        assert_eq!(found.1["totalResults"], 1, "{filter}: {}", found.1);
        assert_eq!(found.1["Resources"][0]["id"], id.as_str());
    }
    // 4. A PUT with a new name, conditional on the version it read.
    let mut replaced = read.1.clone();
    replaced["displayName"] = json!("Maria Chen-Lopez");
    let put = s
        .send(
            Method::PUT,
            &format!("/scim/v2/Users/{id}"),
            Some(&replaced),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(put.0, StatusCode::OK, "{}", put.1);
    assert_eq!(put.1["displayName"], "Maria Chen-Lopez");
    assert_ne!(
        put.1["meta"]["version"],
        etag.as_str(),
        "the version follows the change"
    );
    // 5. Okta deactivates with a PATCH without a path: every session ends.
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "replace", "value": { "active": false } }]
    });
    let off = s
        .send(
            Method::PATCH,
            &format!("/scim/v2/Users/{id}"),
            Some(&patch),
            &[],
        )
        .await;
    assert_eq!(off.0, StatusCode::OK, "{}", off.1);
    assert_eq!(off.1["active"], false);
    assert_eq!(s.t.token_state(&web).await, "session_revoked");
    assert_eq!(s.t.token_state(&app).await, "session_revoked");
    let audit = s.t.audit_entries(&s.admin).await;
    let deactivation = audit
        .iter()
        .find(|e| e["action"] == "deactivate")
        .expect("the deactivation is audited");
    assert_eq!(deactivation["actor_username"], "Okta");
    assert_eq!(deactivation["reason"], "deprovisioned by Okta");
    assert_eq!(deactivation["sessions_revoked"], 2);
    // A deactivated user cannot sign in.
    let (status, _, _) =
        s.t.login_reply("maria.chen@example.org", "Okta-synced password 1", "web")
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn entras_sequence_with_string_booleans_and_delete() {
    let s = Scim::new().await;
    let user = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";
    let missing = s
        .get(&filter_path(&format!(r#"userName eq "{user}""#)))
        .await;
    assert_eq!(missing.1["totalResults"], 0);
    let created = s
        .send(
            Method::POST,
            "/scim/v2/Users",
            Some(&json!({
                "schemas": [
                    "urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
                ],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": user,
                "active": true,
                "emails": [{ "primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com" }],
                "meta": { "resourceType": "User" },
                "name": { "formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName" },
                "roles": [],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Sales" }
            })),
            &[],
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let id = created.1["id"].as_str().unwrap().to_owned();
    assert_eq!(created.1["displayName"], "givenName familyName");
    assert_eq!(created.1["roles"][0]["value"], "member");
    // Entra's duplicate check: the same userName again is a uniqueness conflict.
    let again = s
        .send(
            Method::POST,
            "/scim/v2/Users",
            Some(&json!({ "userName": user })),
            &[],
        )
        .await;
    assert_scim_error(&again, StatusCode::CONFLICT, Some("uniqueness"));
    let login = s.t.users(&s.admin, &[]).await;
    assert_eq!(login.0, StatusCode::OK);
    let patch = |ops: Value| json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops });
    let updated = s
        .send(
            Method::PATCH,
            &format!("/scim/v2/Users/{id}"),
            Some(&patch(json!([
                { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com" },
                { "op": "Replace", "path": "name.familyName", "value": "updatedFamilyName" },
                { "op": "Add", "path": "roles", "value": [{ "primary": "True", "value": "support" }] }
            ]))),
            &[],
        )
        .await;
    assert_eq!(updated.0, StatusCode::OK, "{}", updated.1);
    assert_eq!(
        updated.1["emails"][0]["value"],
        "updatedEmail@microsoft.com"
    );
    assert_eq!(updated.1["roles"][0]["value"], "support");
    let disabled = s
        .send(
            Method::PATCH,
            &format!("/scim/v2/Users/{id}"),
            Some(&patch(
                json!([{ "op": "Replace", "path": "active", "value": "False" }]),
            )),
            &[],
        )
        .await;
    assert_eq!(disabled.1["active"], false, "{}", disabled.1);
    let deleted = s
        .send(Method::DELETE, &format!("/scim/v2/Users/{id}"), None, &[])
        .await;
    assert_eq!(deleted.0, StatusCode::NO_CONTENT);
    let gone = s.get(&format!("/scim/v2/Users/{id}")).await;
    assert_scim_error(&gone, StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn refusals_are_in_scims_shape_and_change_nothing() {
    let s = Scim::new().await;
    let created = s
        .send(
            Method::POST,
            "/scim/v2/Users",
            Some(&json!({ "userName": "ana", "externalId": "e-1" })),
            &[],
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let id = created.1["id"].as_str().unwrap().to_owned();
    s.send(
        Method::POST,
        "/scim/v2/Users",
        Some(&json!({ "userName": "ben" })),
        &[],
    )
    .await;
    let before = s.snapshot().await;
    let user_path = format!("/scim/v2/Users/{id}");
    let patch_op = |ops: Value| json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops });

    for filter in [
        r#"userName co "a""#,
        r#"userName eq "a" or userName eq "b""#,
        "nickName eq \"x\"",
        "userName eq",
    ] {
        let reply = s.get(&filter_path(filter)).await;
        assert_scim_error(&reply, StatusCode::BAD_REQUEST, Some("invalidFilter"));
    }
    let unknown = s
        .send(
            Method::POST,
            "/scim/v2/Users",
            Some(&json!({ "userName": "cat", "favouriteColour": "blue" })),
            &[],
        )
        .await;
    assert_scim_error(&unknown, StatusCode::BAD_REQUEST, Some("invalidSyntax"));
    let bad_path = s
        .send(
            Method::PATCH,
            &user_path,
            Some(&patch_op(
                json!([{ "op": "replace", "path": "shoeSize", "value": 9 }]),
            )),
            &[],
        )
        .await;
    assert_scim_error(&bad_path, StatusCode::BAD_REQUEST, Some("invalidPath"));
    // One bad operation after a good one: neither is applied.
    let half = s
        .send(
            Method::PATCH,
            &user_path,
            Some(&patch_op(json!([
                { "op": "replace", "path": "displayName", "value": "Ana Lima" },
                { "op": "replace", "path": "active", "value": "perhaps" }
            ]))),
            &[],
        )
        .await;
    assert_scim_error(&half, StatusCode::BAD_REQUEST, Some("invalidValue"));
    let taken = s
        .send(
            Method::PATCH,
            &user_path,
            Some(&patch_op(
                json!([{ "op": "replace", "path": "userName", "value": "ben" }]),
            )),
            &[],
        )
        .await;
    assert_scim_error(&taken, StatusCode::CONFLICT, Some("uniqueness"));
    let stale = s
        .send(
            Method::PATCH,
            &user_path,
            Some(&patch_op(
                json!([{ "op": "replace", "path": "active", "value": false }]),
            )),
            &[("if-match", "W/\"0000000000000000\"")],
        )
        .await;
    assert_scim_error(&stale, StatusCode::PRECONDITION_FAILED, None);
    // Wrong content type, not JSON.
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/scim/v2/Users")
        .header(header::AUTHORIZATION, format!("Bearer {}", s.token))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(r#"{"userName":"dan"}"#))
        .unwrap();
    assert_scim_error(
        &s.t.send(request).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        None,
    );
    request = Request::builder()
        .method(Method::POST)
        .uri("/scim/v2/Users")
        .header(header::AUTHORIZATION, format!("Bearer {}", s.token))
        .header(header::CONTENT_TYPE, SCIM_JSON)
        .body(Body::from("{not json"))
        .unwrap();
    assert_scim_error(
        &s.t.send(request).await,
        StatusCode::BAD_REQUEST,
        Some("invalidSyntax"),
    );
    let nobody = s.get("/scim/v2/Users/not-a-uuid").await;
    assert_scim_error(&nobody, StatusCode::NOT_FOUND, None);
    assert_eq!(s.snapshot().await, before, "no refusal changed anything");
}

#[tokio::test]
async fn only_a_token_with_the_scim_scope_provisions() {
    let s = Scim::new().await;
    let reply =
        s.t.post(
            "/api/v1/admin/tokens",
            &s.admin,
            Some(&json!({ "name": "reader", "scopes": ["read"] })),
        )
        .await;
    let reader = reply.1["token"].as_str().unwrap().to_owned();
    for (token, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(s.admin.as_str()), StatusCode::UNAUTHORIZED),
        (Some(reader.as_str()), StatusCode::FORBIDDEN),
        (Some("cft_not-a-real-token"), StatusCode::UNAUTHORIZED),
    ] {
        let mut builder = Request::builder().uri("/scim/v2/Users");
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let reply = s.t.send(builder.body(Body::empty()).unwrap()).await;
        assert_scim_error(&reply, status, None);
    }
    // A scim token opens SCIM only, not the contract's admin routes.
    let reply = s.t.get("/api/v1/admin/users", &s.token).await;
    assert_eq!(reply.0, StatusCode::FORBIDDEN, "{}", reply.1);
    let config = s.get("/scim/v2/ServiceProviderConfig").await;
    assert_eq!(config.1["patch"]["supported"], true);
    assert_eq!(config.1["filter"]["supported"], true);
    let schemas = s.get("/scim/v2/Schemas").await;
    assert_eq!(schemas.1["Resources"][0]["id"], curfew::scim::USER_SCHEMA);
    let types = s.get("/scim/v2/ResourceTypes").await;
    assert_eq!(types.1["Resources"][0]["endpoint"], "/Users");
}
