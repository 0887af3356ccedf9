//! A user's sessions, each with where it is: the device in words, the address it signed in
//! from and the last one, and ending one session alone (the lost phone).

use super::*;

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
                      AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

async fn sign_in(t: &TestApp, body: Value, agent: &str, from: &str) -> Reply {
    let request = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, agent)
        .header("x-forwarded-for", from)
        .body(Body::from(body.to_string()))
        .expect("request");
    t.send(request).await
}

#[tokio::test]
async fn sessions_show_their_device_and_address_and_one_ends_alone() {
    let t = TestApp::with_config(Config {
        trust_forwarded_for: true,
        ..generous_limits()
    })
    .await;
    t.user("root", "Root Admin", Role::Admin).await;
    let maria = t.user("maria", "Maria Lopez", Role::Member).await;
    let admin = t.login("root", "app").await;
    let web = sign_in(
        &t,
        json!({"username": "maria", "password": PASSWORD, "client": "web"}),
        FIREFOX,
        "203.0.113.5",
    )
    .await;
    assert_eq!(web.0, StatusCode::OK, "{}", web.1);
    let phone = sign_in(
        &t,
        json!({"username": "maria", "password": PASSWORD, "client": "app", "device_name": "Maria's iPhone"}),
        IPHONE,
        "198.51.100.77",
    )
    .await;
    assert_eq!(phone.0, StatusCode::OK, "{}", phone.1);
    let (web_token, phone_token) = (
        web.1["token"].as_str().unwrap().to_owned(),
        phone.1["token"].as_str().unwrap().to_owned(),
    );
    let phone_id = phone.1["session"]["id"].as_str().unwrap().to_owned();

    let list = ok(t
        .get(&format!("/api/v1/admin/users/{maria}/sessions"), &admin)
        .await);
    assert_eq!(list["user_id"], maria.to_string());
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{list}");
    assert_eq!(sessions[0]["id"], phone_id, "newest first");
    assert_eq!(
        sessions[0]["device"],
        "Maria's iPhone (Safari 17 on iOS 17)"
    );
    assert_eq!(sessions[0]["device_name"], "Maria's iPhone");
    assert_eq!(sessions[0]["address"], "198.51.100.77");
    assert_eq!(sessions[0]["client"], "app");
    assert_eq!(sessions[1]["device"], "Firefox 132 on Windows 10");
    assert_eq!(sessions[1]["address"], "203.0.113.5");
    assert_eq!(sessions[1]["current"], false);

    // The web session moves to another address: its last address follows.
    let moved = Request::get("/api/v1/auth/session")
        .header(header::AUTHORIZATION, format!("Bearer {web_token}"))
        .header("x-forwarded-for", "203.0.113.99")
        .body(Body::empty())
        .expect("request");
    ok(t.send(moved).await);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let list = ok(t
            .get(&format!("/api/v1/admin/users/{maria}/sessions"), &admin)
            .await);
        if list["sessions"][1]["last_address"] == "203.0.113.99" {
            assert_eq!(list["sessions"][1]["address"], "203.0.113.5");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "last address never followed: {list}"
        );
        tokio::task::yield_now().await;
    }

    // The lost phone: that session ends, the browser's stays.
    let ended = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/sessions/{phone_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(ended.0, StatusCode::OK, "{}", ended.1);
    assert_eq!(ended.1, json!({"sessions_revoked": 1, "users_affected": 1}));
    let reply = t.get("/api/v1/auth/session", &phone_token).await;
    assert_code(&reply, StatusCode::UNAUTHORIZED, "session_revoked");
    ok(t.get("/api/v1/auth/session", &web_token).await);
    let again = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/sessions/{phone_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_code(&again, StatusCode::NOT_FOUND, "session_not_found");
    let audit = t.audit_entries(&admin).await;
    assert_eq!(audit[0]["action"], "end_session");
    assert_eq!(audit[0]["target_username"], "maria");
    assert_eq!(audit[0]["sessions_revoked"], 1);
    let left = ok(t
        .get(&format!("/api/v1/admin/users/{maria}/sessions"), &admin)
        .await);
    assert_eq!(left["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_own_session_unknown_users_and_bad_device_names_are_refused() {
    let t = TestApp::new().await;
    let root = t.user("root", "Root Admin", Role::Admin).await;
    let admin = t.login("root", "app").await;
    let own = ok(t
        .get(&format!("/api/v1/admin/users/{root}/sessions"), &admin)
        .await);
    assert_eq!(own["sessions"][0]["current"], true);
    let own_id = own["sessions"][0]["id"].as_str().unwrap().to_owned();
    let reply = t
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/sessions/{own_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_code(&reply, StatusCode::CONFLICT, "own_session");
    ok(t.get("/api/v1/auth/session", &admin).await);
    let nobody = Uuid::new_v4();
    let reply = t
        .get(&format!("/api/v1/admin/users/{nobody}/sessions"), &admin)
        .await;
    assert_code(&reply, StatusCode::NOT_FOUND, "user_not_found");
    let before = t.snapshot(&admin).await;
    for name in [
        json!(""),
        json!("x".repeat(101)),
        json!("tab\tname"),
        json!(7),
    ] {
        let reply = t
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(&json!({"username": "root", "password": PASSWORD, "client": "app", "device_name": name})),
            )
            .await;
        assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{name}: {}", reply.1);
    }
    assert_eq!(
        t.snapshot(&admin).await,
        before,
        "refused sign-ins opened nothing"
    );
}
