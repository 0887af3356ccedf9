//! Who may call what: the token is checked first, then the permission, on every administrator route.

use super::*;

#[tokio::test]
async fn admin_routes_check_the_token_then_the_permission() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("helpdesk", "Help Desk", Role::Support).await;
    t.user("alice", "Alice Martin", Role::Member).await;
    let target = t.user("target", "Tara Get", Role::Member).await;
    let admin = t.login("root", "app").await;
    let support = t.login("helpdesk", "web").await;
    let member = t.login("alice", "app").await;
    let target_token = t.login("target", "web").await;
    let routes = admin_routes(target);
    assert_eq!(routes.len(), 8);
    let before = t.snapshot(&admin).await;

    let long_garbage = "y".repeat(5000);
    let token_sized = "x".repeat(43);
    for (method, path, body) in &routes {
        let body = body.as_ref();
        let reply = t.call(method.clone(), path, None, body).await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "missing_token");
        for not_bearer in [
            "Basic cm9vdDpodW50ZXIy",
            "Bearer ",
            "Bearer    ",
            "Token abc",
        ] {
            let reply = t
                .request(method.clone(), path, Some(not_bearer), body)
                .await;
            assert_code(&reply, StatusCode::UNAUTHORIZED, "missing_token");
        }
        for garbage in ["not-a-token", token_sized.as_str(), long_garbage.as_str()] {
            let reply = t.call(method.clone(), path, Some(garbage), body).await;
            assert_code(&reply, StatusCode::UNAUTHORIZED, "invalid_token");
        }
        let reply = t.call(method.clone(), path, Some(&member), body).await;
        let code = if path.ends_with("/admin/me") {
            "not_an_administrator"
        } else {
            "forbidden"
        };
        assert_code(&reply, StatusCode::FORBIDDEN, code);
    }
    assert_eq!(t.snapshot(&admin).await, before, "refusals changed nothing");
    assert_eq!(t.token_state(&target_token).await, "live");

    // Support: force_logout but not manage_users. logout-all comes last.
    for (method, path, body) in routes.iter().filter(|r| !r.1.ends_with("logout-all")) {
        let reply = t
            .call(method.clone(), path, Some(&support), body.as_ref())
            .await;
        if needs_manage_users(path) {
            assert_code(&reply, StatusCode::FORBIDDEN, "forbidden");
        } else {
            assert_eq!(
                reply.0,
                StatusCode::OK,
                "support on {method} {path}: {}",
                reply.1
            );
        }
    }
    let me = ok(t.get("/api/v1/admin/me", &support).await);
    assert_eq!(me["role"], "support");
    assert_eq!(me["permissions"], json!(["force_logout"]));
    // Support's logout of the target worked; its refused deactivation did not happen.
    assert_eq!(t.token_state(&target_token).await, "session_revoked");
    let page = ok(t.users(&admin, &[("q", "target")]).await);
    assert_eq!(user_in(&page, "target")["status"], "active");

    // Admin: everything.
    let target_token = t.login("target", "app").await;
    for (method, path, body) in routes.iter().filter(|r| !r.1.ends_with("logout-all")) {
        let reply = t
            .call(method.clone(), path, Some(&admin), body.as_ref())
            .await;
        assert_eq!(
            reply.0,
            StatusCode::OK,
            "admin on {method} {path}: {}",
            reply.1
        );
        if path.ends_with("/deactivate") {
            assert_eq!(reply.1["user"]["status"], "deactivated");
        }
        if path.ends_with("/activate") {
            assert_eq!(reply.1["user"]["status"], "active");
        }
    }
    let me = ok(t.get("/api/v1/admin/me", &admin).await);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["username"], "root");
    assert_eq!(me["permissions"], json!(["force_logout", "manage_users"]));
    assert_eq!(t.token_state(&target_token).await, "session_revoked");

    // logout-all by support, then by the admin (signed in again).
    let logout_all = &routes[7];
    let reply = ok(t
        .call(
            Method::POST,
            &logout_all.1,
            Some(&support),
            logout_all.2.as_ref(),
        )
        .await);
    assert_eq!(reply, json!({ "sessions_revoked": 2, "users_affected": 2 }));
    assert_eq!(t.token_state(&admin).await, "session_revoked");
    assert_eq!(t.token_state(&member).await, "session_revoked");
    assert_eq!(t.token_state(&support).await, "live");
    let admin = t.login("root", "web").await;
    let reply = ok(t
        .call(
            Method::POST,
            &logout_all.1,
            Some(&admin),
            logout_all.2.as_ref(),
        )
        .await);
    assert_eq!(reply, json!({ "sessions_revoked": 1, "users_affected": 1 }));
    assert_eq!(t.token_state(&support).await, "session_revoked");

    // A token its owner signed out with is refused everywhere as revoked.
    let signed_out = t.login("root", "app").await;
    let reply = t
        .call(Method::POST, "/api/v1/auth/logout", Some(&signed_out), None)
        .await;
    assert_eq!(reply.0, StatusCode::NO_CONTENT);
    for (method, path, body) in &routes {
        let reply = t
            .call(method.clone(), path, Some(&signed_out), body.as_ref())
            .await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "session_revoked");
    }
    let reply = t
        .call(Method::POST, "/api/v1/auth/logout", Some(&signed_out), None)
        .await;
    assert_code(&reply, StatusCode::UNAUTHORIZED, "session_revoked");
    assert_eq!(t.token_state(&admin).await, "live");
}

/// Every administrator route of `curfew::routes`, new ones included, refuses a request
/// without a token and one from a member, and changes nothing.
#[tokio::test]
async fn every_admin_route_of_the_contract_refuses_anonymous_and_members() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("member", "Mem Ber", Role::Member).await;
    let admin = t.login("root", "app").await;
    let member = t.login("member", "web").await;
    let before = t.snapshot(&admin).await;
    let id = Uuid::new_v4();
    for route in curfew::routes::ALL
        .iter()
        .filter(|r| r.path.starts_with("/admin/"))
    {
        let method = Method::from_bytes(route.verb.as_str().as_bytes()).unwrap();
        let path = format!("{}{}", curfew::routes::API_PREFIX, route.with_id(id));
        let body = (route.verb != curfew::routes::Verb::Get).then(|| json!({}));
        let reply = t.call(method.clone(), &path, None, body.as_ref()).await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "missing_token");
        let reply = t.call(method, &path, Some(&member), body.as_ref()).await;
        assert_eq!(reply.0, StatusCode::FORBIDDEN, "{route}: {}", reply.1);
    }
    assert_eq!(t.snapshot(&admin).await, before, "refusals changed nothing");
}
