//! Bad input is refused in the contract's shape and changes nothing.

use super::*;

#[tokio::test]
async fn bad_login_bodies_are_refused_and_change_nothing() {
    let f = fixture().await;
    let t = &f.t;
    let before = t.snapshot(&f.admin).await;
    let login = "/api/v1/auth/login";
    let json = Some("application/json");

    let cases: Vec<(&str, StatusCode, &str)> = vec![
        (
            r#"{"username": "alice", "password": "#,
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        ("{username: alice}", StatusCode::BAD_REQUEST, "invalid_json"),
        ("", StatusCode::BAD_REQUEST, "invalid_json"),
        (
            r#"{"username": 42, "password": true, "client": "app"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        ("[]", StatusCode::BAD_REQUEST, "invalid_body"),
        ("null", StatusCode::BAD_REQUEST, "invalid_body"),
    ];
    for (body, status, code) in cases {
        let reply = t.post_bytes(login, None, json, body.to_owned()).await;
        assert_code(&reply, status, code);
    }

    // Right password, but the body is wrong: still no session.
    let right = |extra: Value| {
        let mut body = json!({ "username": "alice", "password": PASSWORD, "client": "app" });
        for (k, v) in extra.as_object().expect("object") {
            if v.is_null() {
                body.as_object_mut().expect("object").remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for body in [
        right(json!({ "client": null })),
        right(json!({ "password": null })),
        right(json!({ "client": "desktop" })),
        right(json!({ "client": "APP" })),
        right(json!({ "role": "admin" })),
        // The fields in an array: serde would take it as the struct; the contract does not.
        json!(["alice", PASSWORD, "app"]),
    ] {
        let reply = t.call(Method::POST, login, None, Some(&body)).await;
        assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let reply = t
        .post_bytes(
            login,
            None,
            json,
            format!(r#"{{"username": "bob", "username": "alice", "password": "{PASSWORD}", "client": "app"}}"#),
        )
        .await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_body");
    // serde_json reports a non-string where an enum belongs as a syntax error
    // (invalid_json, not invalid_body): a 400 either way.
    for client in [json!(["app"]), json!(1), json!(true)] {
        let body = right(json!({ "client": client }));
        let reply = t.call(Method::POST, login, None, Some(&body)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, None);
    }

    // JSON without the JSON content type.
    let valid = right(json!({})).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let reply = t.post_bytes(login, None, content_type, valid.clone()).await;
        assert_code(
            &reply,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
    }

    // 10 MB, with a length and streamed without one.
    let huge = format!(
        r#"{{"username": "alice", "password": "{}", "client": "app"}}"#,
        "a".repeat(TEN_MB)
    );
    let reply = t.post_bytes(login, None, json, huge.clone()).await;
    assert_code(&reply, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let chunks: Vec<Result<Bytes, std::io::Error>> = huge
        .into_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let streamed = Body::from_stream(futures_util::stream::iter(chunks));
    let reply = t.post_bytes(login, None, json, streamed).await;
    assert_code(&reply, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");

    // Field checks before any password hashing.
    let long_name = "a".repeat(10_000);
    let reply = t.login_reply(&long_name, PASSWORD, "web").await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_username");
    let reply = t.login_reply("alice", &"p".repeat(2000), "web").await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_password");
    for (username, password) in [("", PASSWORD), ("   ", PASSWORD), ("alice", "")] {
        let reply = t.login_reply(username, password, "web").await;
        assert_code(&reply, StatusCode::BAD_REQUEST, "missing_credentials");
    }
    // Names no account can have are simply wrong credentials.
    for username in ["zoë", "山田", "alice\u{0}", "' OR 1=1 --"] {
        let reply = t.login_reply(username, PASSWORD, "web").await;
        assert_code(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }

    f.assert_unchanged(&before).await;
}

#[tokio::test]
async fn bad_admin_input_is_refused_and_changes_nothing() {
    let f = fixture().await;
    let t = &f.t;
    let admin = f.admin.as_str();
    let before = t.snapshot(admin).await;
    let logout_all = "/api/v1/admin/logout-all";
    let json = Some("application/json");

    for (body, code) in [
        (r#"{"keep_admins": "#, "invalid_json"),
        ("", "invalid_json"),
        (
            r#"{"keep_admins": false, "everyone": true}"#,
            "invalid_body",
        ),
        (r#"{"keep_admins": "false"}"#, "invalid_body"),
        (r#"{"keep_admins": 0}"#, "invalid_body"),
        ("{}", "invalid_body"),
        // serde would read these as {"keep_admins": false} and sign everyone out.
        ("[false]", "invalid_body"),
        ("[true]", "invalid_body"),
        (
            r#"{"keep_admins": true, "keep_admins": false}"#,
            "invalid_body",
        ),
        ("false", "invalid_body"),
    ] {
        let reply = t.post_bytes(logout_all, Some(admin), json, body).await;
        assert_code(&reply, StatusCode::BAD_REQUEST, code);
    }
    let reply = t
        .post_bytes(logout_all, Some(admin), None, r#"{"keep_admins": false}"#)
        .await;
    assert_code(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let huge = format!(
        r#"{{"keep_admins": false, "pad": "{}"}}"#,
        "a".repeat(TEN_MB)
    );
    let reply = t.post_bytes(logout_all, Some(admin), json, huge).await;
    assert_code(&reply, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");

    // Ids: unknown (but valid) and not UUIDs at all.
    let unknown = Uuid::new_v4();
    let long_id = "f".repeat(300);
    for action in ["logout", "deactivate", "activate"] {
        let reply = t
            .post(
                &format!("/api/v1/admin/users/{unknown}/{action}"),
                admin,
                None,
            )
            .await;
        assert_code(&reply, StatusCode::NOT_FOUND, "user_not_found");
        for bad_id in ["not-a-uuid", "1", "%27%20OR%201%3D1%20--", long_id.as_str()] {
            let reply = t
                .post(
                    &format!("/api/v1/admin/users/{bad_id}/{action}"),
                    admin,
                    None,
                )
                .await;
            assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_id");
        }
    }

    // Limits, filters and cursors.
    for route in ["/api/v1/admin/users", "/api/v1/admin/audit"] {
        for (limit, code) in [
            ("-1", "invalid_query"),
            ("0", "invalid_limit"),
            ("501", "invalid_limit"),
            ("99999999999", "invalid_query"),
            ("ten", "invalid_query"),
        ] {
            let reply = t.get(&format!("{route}?limit={limit}"), admin).await;
            assert_code(&reply, StatusCode::BAD_REQUEST, code);
        }
        let reply = ok(t.get(&format!("{route}?limit=500"), admin).await);
        assert!(reply["next_cursor"].is_null());
        for cursor in [
            "!!not base64!!".to_owned(),
            "AAAA".to_owned(),
            cursor_of(&json!(["just one part"])),
            cursor_of(&json!(["a", "b", "c"])),
            cursor_of(&json!({ "a": "b" })),
            cursor_of(&json!([1, 2])),
            cursor_of(&json!(["a\u{0}", "b"])),
        ] {
            let reply = t
                .get(&format!("{route}{}", query(&[("cursor", &cursor)])), admin)
                .await;
            assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_cursor");
        }
    }
    let reply = t
        .get(
            &format!(
                "/api/v1/admin/audit{}",
                query(&[("cursor", &cursor_of(&json!(["soon", "x"])))])
            ),
            admin,
        )
        .await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_cursor");
    for status in ["everyone", "ACTIVE", ""] {
        let reply = t.users(admin, &[("status", status)]).await;
        assert_code(&reply, StatusCode::BAD_REQUEST, "invalid_query");
    }
    let reply = t.users(admin, &[("q", "a".repeat(101).as_str())]).await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "search_too_long");
    let reply = t.users(admin, &[("q", "é".repeat(101).as_str())]).await;
    assert_code(&reply, StatusCode::BAD_REQUEST, "search_too_long");
    // The limit counts characters, not bytes.
    let page = ok(t.users(admin, &[("q", "é".repeat(100).as_str())]).await);
    assert!(usernames(&page).is_empty());

    f.assert_unchanged(&before).await;
}

#[tokio::test]
async fn searches_are_text_not_sql_or_patterns() {
    let f = fixture().await;
    let t = &f.t;
    let admin = f.admin.as_str();
    let before = t.snapshot(admin).await;
    let everyone = usernames(&ok(t.users(admin, &[]).await));
    assert_eq!(everyone.len(), 6);

    for (q, expected) in [
        ("' OR 1=1 --", vec![]),
        ("' OR '1'='1", vec![]),
        ("\"; DROP TABLE users; --", vec![]),
        ("%", vec!["percy"]),
        ("%%", vec![]),
        ("_", vec!["under_score"]),
        ("__", vec![]),
        ("\\", vec![]),
        ("'", vec!["mallory"]),
        ("o'b", vec!["mallory"]),
        ("100%", vec!["percy"]),
        ("r_s", vec!["under_score"]),
        ("a%n", vec![]),
        ("a_i", vec![]),
    ] {
        let page = ok(t.users(admin, &[("q", q)]).await);
        assert_eq!(usernames(&page), expected, "search {q:?}");
    }
    // Blank searches are no search.
    for q in ["", "   "] {
        assert_eq!(usernames(&ok(t.users(admin, &[("q", q)]).await)), everyone);
    }
    for q in ["al\u{0}ice", "a\u{7}"] {
        assert_code(
            &t.users(admin, &[("q", q)]).await,
            StatusCode::BAD_REQUEST,
            "invalid_search",
        );
    }

    let script = "<script>alert(1)</script>";
    let path = format!("/api/v1/admin/users{}", query(&[("q", script)]));
    let request = Request::get(&path)
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .body(Body::empty())
        .expect("request");
    let (status, headers, bytes) = t.send_raw(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).expect("content type"),
        "application/json"
    );
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    assert!(
        !text.contains('<'),
        "nothing of the search comes back: {text}"
    );
    let page: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(page, json!({ "users": [], "next_cursor": null }));

    // The users table survived the SQL-looking searches.
    assert_eq!(usernames(&ok(t.users(admin, &[]).await)), everyone);
    f.assert_unchanged(&before).await;
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_json() {
    let f = fixture().await;
    let t = &f.t;
    let admin = f.admin.as_str();
    let before = t.snapshot(admin).await;
    let some_id = Uuid::new_v4();
    for path in [
        "/api/v1/nope".to_owned(),
        "/nope".to_owned(),
        "/web/nope.js".to_owned(),
        "/api/v2/admin/users".to_owned(),
        "/api/v1/admin/users/".to_owned(),
        format!("/api/v1/admin/users/{some_id}/explode"),
        format!("/api/v1/admin/users/{some_id}/sessions/more"),
    ] {
        for token in [None, Some(admin)] {
            let reply = t.call(Method::GET, &path, token, None).await;
            assert_code(&reply, StatusCode::NOT_FOUND, "not_found");
            let reply = t
                .call(
                    Method::POST,
                    &path,
                    token,
                    Some(&json!({ "keep_admins": false })),
                )
                .await;
            assert_code(&reply, StatusCode::NOT_FOUND, "not_found");
        }
    }
    for (method, path) in [
        (Method::GET, "/api/v1/auth/login".to_owned()),
        (Method::DELETE, "/api/v1/auth/session".to_owned()),
        (Method::GET, "/api/v1/auth/logout".to_owned()),
        (Method::DELETE, "/api/v1/admin/users".to_owned()),
        (Method::PUT, "/api/v1/admin/logout-all".to_owned()),
        (Method::GET, "/api/v1/admin/logout-all".to_owned()),
        (Method::GET, format!("/api/v1/admin/users/{some_id}/logout")),
        (
            Method::DELETE,
            format!("/api/v1/admin/users/{some_id}/deactivate"),
        ),
        (Method::POST, "/api/v1/admin/audit".to_owned()),
        (Method::POST, "/api/v1/openapi.json".to_owned()),
        (Method::POST, "/healthz".to_owned()),
    ] {
        for token in [None, Some(admin)] {
            let reply = t.call(method.clone(), &path, token, None).await;
            assert_code(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        }
    }
    f.assert_unchanged(&before).await;
}
