//! The gate's routes: the checks in nginx's and Caddy's shapes, the sign-in form and its
//! cookie, return-to and cross-site refusals, the maintenance answer, sign-out.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use curfew::api::Role;
use serde_json::json;

use super::*;
use crate::core::gate::GateConfig;

const HOST: &str = "127.0.0.1:8443";
const OTHER_APP: &str = "wiki.example.org";

async fn gated(trust_proxy: bool) -> TestApp {
    TestApp::with_config(Config {
        trust_forwarded_for: trust_proxy,
        gate: GateConfig {
            hosts: vec![HOST.into(), OTHER_APP.into()],
            brand_name: "Acme <Works>".into(),
            cookie_domain: None,
        },
        ..generous_limits()
    })
    .await
}

/// A browser's request to the gate on `host`, with extra headers.
fn browser(method: Method, path: &str, host: &str, extra: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, host)
        .header(header::USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36");
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).expect("request")
}

fn form(path: &str, host: &str, fields: &[(&str, &str)], extra: &[(&str, &str)]) -> Request<Body> {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        body.append_pair(name, value);
    }
    let mut request = browser(Method::POST, path, host, extra);
    request.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    *request.body_mut() = Body::from(body.finish());
    request
}

fn text(headers: &HeaderMap, name: impl header::AsHeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Signs `username` in through the form; returns the `Set-Cookie` value.
async fn sign_in(t: &TestApp, username: &str) -> String {
    let (status, headers, body) = t
        .send_raw(form(
            "/.curfew/sign-in",
            HOST,
            &[
                ("username", username),
                ("password", PASSWORD),
                ("rd", "/wiki?page=1"),
            ],
            &[("sec-fetch-site", "same-origin")],
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(text(&headers, header::LOCATION), "/wiki?page=1");
    text(&headers, header::SET_COOKIE)
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn check(t: &TestApp, cookie: Option<&str>) -> (StatusCode, HeaderMap) {
    let extra: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    let (status, headers, _) = t
        .send_raw(browser(Method::GET, "/.curfew/auth", HOST, &extra))
        .await;
    (status, headers)
}

#[tokio::test]
async fn the_checks_answer_in_each_proxys_shape_and_follow_revocation() {
    let t = gated(false).await;
    let id = t.user("maria", "Maria Chen", Role::Member).await;
    t.user("root", "Root", Role::Admin).await;
    let admin = t.login("root", "app").await;

    // No session: nginx gets 401, Caddy and Traefik a redirect that comes back.
    assert_eq!(check(&t, None).await.0, StatusCode::UNAUTHORIZED);
    let (status, headers, _) = t
        .send_raw(browser(
            Method::GET,
            "/.curfew/forward",
            HOST,
            &[("x-forwarded-uri", "/wiki/a b?x=1")],
        ))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        text(&headers, header::LOCATION),
        "/.curfew/sign-in?rd=%2Fwiki%2Fa+b%3Fx%3D1"
    );

    let set_cookie = sign_in(&t, "maria").await;
    assert!(set_cookie.starts_with("curfew_session="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} in {set_cookie}"
        );
    }
    let cookie = cookie_pair(&set_cookie);
    let (status, headers) = check(&t, Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text(&headers, "remote-user"), "maria");
    assert_eq!(text(&headers, "remote-name"), "Maria Chen");
    assert_eq!(text(&headers, "remote-groups"), "member");
    assert_eq!(
        text(&headers, "remote-email"),
        "",
        "no email is known: empty, not absent"
    );
    assert!(headers.get("remote-email").is_some());
    let session = text(&headers, "remote-session");
    assert!(
        !cookie.contains(&session),
        "the session id is not the token"
    );

    // The gate session is a web session the admin sees with its browser in words.
    let sessions = ok(t
        .get(&format!("/api/v1/admin/users/{id}/sessions"), &admin)
        .await);
    let listed = &sessions["sessions"][0];
    assert_eq!(listed["id"], session.as_str());
    assert_eq!(listed["client"], "web");
    assert!(
        listed["device"]
            .as_str()
            .unwrap_or_default()
            .contains("Chrome"),
        "{sessions}"
    );

    // Revocation lands at the very next check, in both shapes.
    ok(
        t.post(&format!("/api/v1/admin/users/{id}/logout"), &admin, None)
            .await,
    );
    assert_eq!(check(&t, Some(&cookie)).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, _) = t
        .send_raw(browser(
            Method::GET,
            "/.curfew/forward",
            HOST,
            &[("cookie", &cookie)],
        ))
        .await;
    assert_eq!(status, StatusCode::FOUND);
}

#[tokio::test]
async fn only_served_hosts_and_https_or_loopback_carry_a_session() {
    let t = gated(true).await;
    t.user("maria", "Maria", Role::Member).await;
    let (status, _, body) = t
        .send_raw(browser(
            Method::GET,
            "/.curfew/sign-in",
            "evil.example",
            &[],
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("does not serve the host evil.example"));

    // A served host over plain HTTP that is not loopback: refused, no session made.
    let (status, _, body) = t
        .send_raw(form(
            "/.curfew/sign-in",
            OTHER_APP,
            &[("username", "maria"), ("password", PASSWORD)],
            &[("sec-fetch-site", "same-origin")],
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&body).contains("HTTPS"));

    // Over HTTPS (the trusted proxy says so): the __Host- cookie, Secure.
    let (status, headers, _) = t
        .send_raw(form(
            "/.curfew/sign-in",
            OTHER_APP,
            &[("username", "maria"), ("password", PASSWORD)],
            &[
                ("sec-fetch-site", "same-origin"),
                ("x-forwarded-proto", "https"),
            ],
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set_cookie = text(&headers, header::SET_COOKIE);
    assert!(
        set_cookie.starts_with("__Host-curfew_session="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    assert!(!set_cookie.contains("Domain="), "{set_cookie}");

    // Without a configured host the gate is off.
    let off = TestApp::new().await;
    let (status, _, _) = off
        .send_raw(browser(Method::GET, "/.curfew/auth", HOST, &[]))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn off_site_return_addresses_and_cross_site_posts_are_refused() {
    let t = gated(false).await;
    t.user("maria", "Maria", Role::Member).await;
    for rd in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "https://wiki.example.org@evil.example/",
    ] {
        let path = format!("/.curfew/sign-in{}", query(&[("rd", rd)]));
        let (status, _, body) = t.send_raw(browser(Method::GET, &path, HOST, &[])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{rd}");
        assert!(
            String::from_utf8_lossy(&body).contains("not one of this organisation"),
            "{rd}"
        );
    }
    // Another gated app is a fine place to go back to.
    let path = format!(
        "/.curfew/sign-in{}",
        query(&[("rd", "https://wiki.example.org/page")])
    );
    let (status, _, body) = t.send_raw(browser(Method::GET, &path, HOST, &[])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("value=\"https://wiki.example.org/page\""));

    // Posts from another site, or with nothing saying where from: no session made.
    for extra in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "https://evil.example")],
        vec![],
    ] {
        let (status, headers, _) = t
            .send_raw(form(
                "/.curfew/sign-in",
                HOST,
                &[("username", "maria"), ("password", PASSWORD)],
                &extra,
            ))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{extra:?}");
        assert!(headers.get(header::SET_COOKIE).is_none());
    }
    let cookie = cookie_pair(&sign_in(&t, "maria").await);
    let (status, _, _) = t
        .send_raw(browser(
            Method::POST,
            "/.curfew/sign-out",
            HOST,
            &[("cookie", &cookie), ("origin", "https://evil.example")],
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        check(&t, Some(&cookie)).await.0,
        StatusCode::OK,
        "still signed in"
    );
    let (status, headers, _) = t
        .send_raw(browser(
            Method::POST,
            "/.curfew/sign-out",
            HOST,
            &[("cookie", &cookie), ("origin", &format!("http://{HOST}"))],
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(text(&headers, header::SET_COOKIE).contains("Max-Age=0"));
    assert_eq!(check(&t, Some(&cookie)).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_refused_sign_in_reshows_the_form_with_one_escaped_sentence() {
    let t = gated(false).await;
    let (status, _, body) = t
        .send_raw(form(
            "/.curfew/sign-in",
            HOST,
            &[
                ("username", "<img src=x>"),
                ("password", "wrong"),
                ("rd", "/x"),
            ],
            &[("sec-fetch-site", "same-origin")],
        ))
        .await;
    let page = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("Wrong username or password."), "{page}");
    assert_eq!(page.matches("Wrong username or password.").count(), 1);
    assert!(page.contains("value=\"&lt;img src=x&gt;\""), "{page}");
    assert!(!page.contains("<img src=x>"));
    assert!(
        page.contains("Acme &lt;Works&gt;"),
        "the brand name, escaped"
    );
}

#[tokio::test]
async fn maintenance_keeps_members_out_and_lets_administrators_through() {
    let t = gated(false).await;
    t.user("maria", "Maria", Role::Member).await;
    t.user("root", "Root", Role::Admin).await;
    let admin = t.login("root", "app").await;
    let member = cookie_pair(&sign_in(&t, "maria").await);
    let root = cookie_pair(&sign_in(&t, "root").await);
    let starts_at = (chrono::Utc::now() + chrono::Duration::minutes(3)).to_rfc3339();
    let ends_at = (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
    let window = json!({ "starts_at": starts_at, "ends_at": ends_at, "message": "Database upgrade.", "freeze_before": 600 });
    let created = t
        .post("/api/v1/admin/maintenance", &admin, Some(&window))
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);

    let (status, headers) = check(&t, Some(&member)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let retry: u64 = text(&headers, header::RETRY_AFTER)
        .parse()
        .expect("Retry-After");
    assert!((1..=1800).contains(&retry), "{retry}");
    let (status, headers, body) = t
        .send_raw(browser(
            Method::GET,
            "/.curfew/forward",
            HOST,
            &[("cookie", &member)],
        ))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::RETRY_AFTER).is_some());
    assert!(String::from_utf8_lossy(&body).contains("Database upgrade."));
    assert_eq!(
        check(&t, Some(&root)).await.0,
        StatusCode::OK,
        "admins pass"
    );
    let (status, _, body) = t
        .send_raw(browser(Method::GET, "/.curfew/sign-in", HOST, &[]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("Only administrators can sign in"));
}

#[tokio::test]
async fn a_cookie_domain_gives_one_secure_cookie_for_every_subdomain() {
    let t = TestApp::with_config(Config {
        trust_forwarded_for: true,
        gate: GateConfig {
            hosts: vec![OTHER_APP.into()],
            brand_name: "Acme".into(),
            cookie_domain: Some("example.org".into()),
        },
        ..generous_limits()
    })
    .await;
    t.user("maria", "Maria", Role::Member).await;
    let (status, headers, _) = t
        .send_raw(form(
            "/.curfew/sign-in",
            OTHER_APP,
            &[("username", "maria"), ("password", PASSWORD)],
            &[
                ("sec-fetch-site", "same-origin"),
                ("x-forwarded-proto", "https"),
            ],
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set_cookie = text(&headers, header::SET_COOKIE);
    assert!(
        set_cookie.starts_with("__Secure-curfew_session="),
        "{set_cookie}"
    );
    assert!(
        set_cookie.contains("; Secure") && set_cookie.contains("; Domain=example.org"),
        "{set_cookie}"
    );
    // The check reads that cookie, and only over HTTPS.
    let cookie = cookie_pair(&set_cookie);
    let (status, _, _) = t
        .send_raw(browser(
            Method::GET,
            "/.curfew/auth",
            OTHER_APP,
            &[("cookie", &cookie), ("x-forwarded-proto", "https")],
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
}
