//! Maintenance routes: who may schedule, cancel and end, and what they refuse.

use super::*;

#[tokio::test]
async fn maintenance_routes_check_the_token_then_the_permission() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    t.user("helpdesk", "Help Desk", Role::Support).await;
    t.user("member", "Mem Ber", Role::Member).await;
    let (admin, support, member) = (
        t.login("root", "app").await,
        t.login("helpdesk", "app").await,
        t.login("member", "web").await,
    );
    let id = Uuid::new_v4();
    let starts_at = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let window = json!({ "starts_at": starts_at, "message": "Update" });
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/admin/maintenance".into(), None),
        (
            Method::POST,
            "/api/v1/admin/maintenance".into(),
            Some(window.clone()),
        ),
        (
            Method::DELETE,
            format!("/api/v1/admin/maintenance/{id}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/maintenance/{id}/end"),
            None,
        ),
        (Method::GET, "/api/v1/admin/events".into(), None),
    ];
    for (method, path, body) in &routes {
        let reply = t.call(method.clone(), path, None, body.as_ref()).await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "missing_token");
        let reply = t
            .call(method.clone(), path, Some(&member), body.as_ref())
            .await;
        assert_code(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    let listed = ok(t
        .call(Method::GET, "/api/v1/admin/maintenance", Some(&admin), None)
        .await);
    assert_eq!(listed["windows"], json!([]), "refusals scheduled nothing");
    // Support has force_logout: it may schedule; unknown windows are 404.
    let created = t
        .call(
            Method::POST,
            "/api/v1/admin/maintenance",
            Some(&support),
            Some(&window),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(created.1["warn_before"], json!([3600, 900, 300, 60]));
    assert_eq!(created.1["freeze_before"], 300);
    assert_eq!(created.1["created_by_username"], "helpdesk");
    let missing = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/maintenance/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_code(&missing, StatusCode::NOT_FOUND, "window_not_found");
    let bad_id = t
        .call(
            Method::DELETE,
            "/api/v1/admin/maintenance/nope",
            Some(&admin),
            None,
        )
        .await;
    assert_code(&bad_id, StatusCode::BAD_REQUEST, "invalid_id");
    let unknown_field = t
        .call(
            Method::POST,
            "/api/v1/admin/maintenance",
            Some(&admin),
            Some(&json!({ "starts_at": starts_at, "message": "x", "when": "soon" })),
        )
        .await;
    assert_eq!(unknown_field.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn maintenance_entries_in_the_audit_say_which_window() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    let admin = t.login("root", "app").await;
    let starts_at = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let created = t
        .call(
            Method::POST,
            "/api/v1/admin/maintenance",
            Some(&admin),
            Some(&json!({ "starts_at": starts_at, "message": "Update" })),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let id = created.1["id"].as_str().unwrap().to_owned();
    let cancelled = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/maintenance/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(cancelled.0, StatusCode::OK);
    let audit = t.audit_entries(&admin).await;
    for (entry, action) in audit
        .iter()
        .zip(["cancel_maintenance", "schedule_maintenance"])
    {
        assert_eq!(entry["action"], action);
        assert_eq!(entry["window_id"], id.as_str(), "{entry}");
        assert_eq!(entry["window_starts_at"], created.1["starts_at"], "{entry}");
    }
}
