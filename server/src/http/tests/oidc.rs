//! Signing in through identity providers, as administrators see it: how each user signs
//! in, and the back-channel logout route's refusals. The flow itself runs against a real
//! OpenID Provider in the end-to-end tests (`tests/e2e/oidc.rs`).

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use curfew::api::Role;
use serde_json::json;

use super::*;
use crate::core::oidc::{OidcConfig, ProviderConfig};

fn with_provider() -> Config {
    Config {
        oidc: OidcConfig {
            password_sign_in: true,
            providers: vec![ProviderConfig {
                name: "okta".into(),
                display_name: "Okta".into(),
                issuer: "https://acme.okta.example".into(),
                client_id: "curfew".into(),
                client_secret: "secret".into(),
                link_by_email: true,
                create_users: false,
                role_claim: None,
                roles: Default::default(),
                rp_logout: false,
                scopes: vec!["openid".into()],
            }],
        },
        ..generous_limits()
    }
}

#[tokio::test]
async fn administrators_see_how_each_user_signs_in() {
    let t = TestApp::with_config(with_provider()).await;
    t.user("root", "Root", Role::Admin).await;
    let admin = t.login("root", "app").await;
    let maria = t.user("maria", "Maria", Role::Member).await;
    t.store
        .link_identity("okta", "00u-maria", maria, crate::now_ms())
        .await
        .unwrap();
    let created = t
        .post(
            "/api/v1/admin/users",
            &admin,
            Some(&json!({ "username": "sso-only", "role": "member" })),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(created.1["has_password"], false);
    let page = ok(t.users(&admin, &[]).await);
    assert_eq!(user_in(&page, "maria")["providers"], json!(["Okta"]));
    assert_eq!(user_in(&page, "maria")["has_password"], true);
    assert_eq!(user_in(&page, "root")["providers"], json!([]));
    assert_eq!(user_in(&page, "sso-only")["has_password"], false);
}

#[tokio::test]
async fn a_logout_token_that_is_not_one_is_refused_and_ends_nothing() {
    let t = TestApp::with_config(with_provider()).await;
    t.user("root", "Root", Role::Admin).await;
    let admin = t.login("root", "app").await;
    for (provider, body) in [
        ("okta", ""),
        ("okta", "logout_token=not.a.jwt"),
        ("nobody", "logout_token=x"),
    ] {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/.curfew/oidc/{provider}/backchannel-logout"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let (status, body, headers) = t.send(request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{provider} {body}");
        assert!(
            body["error"].is_string() && body["error_description"].is_string(),
            "{body}"
        );
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    }
    assert_eq!(t.token_state(&admin).await, "live");
}
