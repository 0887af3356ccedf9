//! The gate with real parts: Debian's nginx (`auth_request`, the banner injected with
//! `sub_filter`) and Caddy (`forward_auth`, the banner in the app's own template), each
//! running the very file of `deploy/`, in front of a third-party Django app that trusts
//! `Remote-User`. In headless Chromium: the sign-in and back, the admin's ended session
//! shown at once, the maintenance warning in the app's page, the freeze's maintenance
//! page while an admin passes, sign-in again after the window. Over plain HTTP: forged
//! identity headers, off-site return addresses and cross-site posts are refused.

mod browser;
mod stack;

use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use curfew::api::{ClientKind, MaintenanceRequest, WindowState};

use browser::Browser;
use stack::{location, session_cookie, set_cookies, Gate, Proxy, BRAND};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_gate_in_the_browser() {
    in_the_browser(Proxy::Nginx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caddy_gate_in_the_browser() {
    in_the_browser(Proxy::Caddy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_gate_refuses_forgeries() {
    refuses_forgeries(Proxy::Nginx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caddy_gate_refuses_forgeries() {
    refuses_forgeries(Proxy::Caddy).await;
}

async fn in_the_browser(proxy: Proxy) {
    let gate = Gate::start(proxy);
    let admin = gate.admin().await;
    let wendy_id = gate.user_id(&admin, "wendy").await;
    let mut b = Browser::open(proxy.name()).await;

    // Without a session: Curfew's sign-in page with the organisation's name, then back.
    b.goto(&format!("{}/notes/", gate.url)).await;
    let sign_in = b.until_path("/.curfew/sign-in").await;
    assert!(
        sign_in
            .query_pairs()
            .any(|(k, v)| k == "rd" && v == "/notes/"),
        "{sign_in}"
    );
    b.text("body", BRAND).await;
    b.sign_in("wendy").await;
    b.text("#notes-title", "Notes of wendy").await;
    assert_eq!(b.url().await.path(), "/notes/");

    // The app works as before: another page, a form POST.
    b.click("#nav-hello").await;
    b.text("#hello", "Hello, wendy").await;
    let page_session = b.text("#remote-session", "-").await;
    b.click("#nav-notes").await;
    b.fill("#note-text", "Quarterly figures are in the blue folder")
        .await;
    b.click("#note-save").await;
    b.text("#notes", "Quarterly figures").await;
    let banner_script = b
        .js("return document.querySelectorAll('script[src=\"/.curfew/banner.js\"]').length;")
        .await;
    assert_eq!(banner_script, 1, "the page loads Curfew's banner once");

    // The admin sees the gate session with the browser in words and the address.
    let (wendy_app, _) = gate.server.login("wendy", ClientKind::App).await;
    let sessions = admin.user_sessions(wendy_id).await.unwrap().sessions;
    let web = sessions
        .iter()
        .find(|s| s.client == ClientKind::Web)
        .unwrap_or_else(|| panic!("no web session in {sessions:?}"));
    assert_eq!(
        web.id.to_string(),
        page_session,
        "the app got the session's id"
    );
    assert!(
        web.device.contains("Chrome") && web.device.contains("on Linux"),
        "device {:?}",
        web.device
    );
    assert_eq!(web.address.as_deref(), Some("127.0.0.1"), "{web:?}");
    assert_eq!(sessions.len(), 2, "{sessions:?}");

    // A maintenance window a few minutes ahead: the warning and its countdown in the
    // app's own page, under the app's CSP; then cancelled.
    let starts_at = Utc::now() + chrono::Duration::minutes(14) + chrono::Duration::seconds(20);
    let window = admin
        .schedule_maintenance(&MaintenanceRequest {
            starts_at,
            ends_at: None,
            message: "Payroll update: the office app closes for an hour.".into(),
            warn_before: vec![3600, 60],
            freeze_before: 60,
            keep_admins: true,
        })
        .await
        .unwrap();
    let warning = b
        .until_banner(".bar", "Payroll update", Duration::from_secs(5))
        .await;
    assert!(
        warning.contains("Maintenance in 15 min") && warning.contains("save your work"),
        "{warning}"
    );
    assert_eq!(b.csp_violations().await, Vec::<String>::new());
    b.shot("warning").await;
    // The warning docks at the bottom, and the reader can make it small: the app's own
    // controls are never covered for the hour before a window.
    let docked = b
        .js("const bar = document.querySelector('curfew-banner').shadowRoot.querySelector('.bar'); \
             const box = bar.getBoundingClientRect(); \
             bar.querySelector('button.toggle').click(); \
             return [Math.round(innerHeight - box.bottom), box.width, document.querySelector('curfew-banner').shadowRoot.querySelector('.bar').classList.contains('small')];")
        .await;
    assert_eq!(docked[0], 0, "the warning sits at the bottom: {docked}");
    assert_eq!(docked[2], true, "Hide makes it small: {docked}");
    b.until_banner(".bar button.toggle", "Show", Duration::from_secs(2))
        .await;
    b.shot("warning-small").await;
    // Moved half an hour later: the banner says so in words, in full again.
    let later = (starts_at + chrono::Duration::minutes(30)).trunc_subsecs(3);
    admin
        .change_maintenance(
            window.id,
            &curfew::api::MaintenanceChange {
                starts_at: later,
                ends_at: None,
                message: "Payroll update: the office app closes for an hour.".into(),
                warn_before: vec![3600, 60],
                freeze_before: 60,
            },
        )
        .await
        .unwrap();
    let moved = b
        .until_banner(".bar", "Maintenance moved to", Duration::from_secs(5))
        .await;
    assert!(moved.contains("Maintenance in 45 min"), "{moved}");
    b.shot("moved").await;
    admin.cancel_maintenance(window.id).await.unwrap();
    b.until_banner(".bar", "cancelled", Duration::from_secs(5))
        .await;
    b.shot("cancelled").await;

    // The admin ends the gate session: the open page says so within a second, the user's
    // other session stays, and the next click lands on the sign-in page.
    let ended_at = Instant::now();
    admin.end_session(web.id).await.unwrap();
    let overlay = b
        .until_banner(
            "[role=dialog], [role=alertdialog]",
            "An administrator signed you out",
            Duration::from_secs(5),
        )
        .await;
    let took = ended_at.elapsed();
    eprintln!("{proxy:?}: the overlay showed {took:?} after the DELETE was sent");
    assert!(took < Duration::from_secs(1), "the overlay took {took:?}");
    assert!(overlay.contains("Sign in again"), "{overlay}");
    b.shot("signed-out-overlay").await;
    wendy_app
        .session()
        .await
        .expect("the other session survives");
    let left = admin.user_sessions(wendy_id).await.unwrap().sessions;
    assert!(
        left.iter().all(|s| s.id != web.id) && left.len() == 1,
        "{left:?}"
    );
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    b.sign_in("wendy").await;
    b.text("#hello", "Hello, wendy").await;

    // The freeze: a member gets the maintenance page (503 with Retry-After), an admin
    // still gets through; the page left open is told at the start why the member was
    // signed out; after the end, signing in works again.
    let root_cookie = gate.sign_in_cookie("root").await;
    let wendy_cookie = b.session_cookie().await.expect("the browser's cookie");
    let starts_at = Utc::now() + chrono::Duration::seconds(10);
    let window = admin
        .schedule_maintenance(&MaintenanceRequest {
            starts_at,
            ends_at: Some(starts_at + chrono::Duration::seconds(4)),
            message: "Server move: back at once.".into(),
            warn_before: vec![],
            freeze_before: 60,
            keep_admins: true,
        })
        .await
        .unwrap();
    let frozen = gate.get("/", Some(&wendy_cookie)).await;
    assert_eq!(
        frozen.status(),
        503,
        "{proxy:?}: a member during the freeze"
    );
    assert!(frozen.headers().contains_key("retry-after"), "{frozen:?}");
    let body = frozen.text().await.unwrap();
    assert!(body.contains("Server move"), "{body}");
    let through = gate.get("/", Some(&root_cookie)).await;
    assert_eq!(through.status(), 200, "an admin during the freeze");
    assert!(through.text().await.unwrap().contains("Hello, root"));
    // In a second tab (the same cookie), the app answers the maintenance page.
    let app_tab = b.client.window().await.unwrap();
    let tab = b.client.new_window(true).await.unwrap();
    b.client.switch_to_window(tab.handle).await.unwrap();
    b.goto(&format!("{}/notes/", gate.url)).await;
    b.text("body", "Server move").await;
    b.shot("maintenance-page").await;
    b.client.close_window().await.unwrap();
    b.client.switch_to_window(app_tab).await.unwrap();
    assert!(
        Utc::now() < starts_at,
        "the freeze checks ran past the window's start: make the lead time longer"
    );
    let overlay = b
        .until_banner(
            "[role=dialog], [role=alertdialog]",
            "scheduled maintenance",
            Duration::from_secs(30),
        )
        .await;
    assert!(overlay.contains("Sign in again"), "{overlay}");
    b.shot("maintenance-overlay").await;

    gate.until("the window ends", Duration::from_secs(30), || async {
        let list = admin.maintenance().await.unwrap();
        list.windows
            .iter()
            .any(|w| w.id == window.id && w.state == WindowState::Ended)
    })
    .await;
    b.goto(&format!("{}/notes/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    b.sign_in("wendy").await;
    b.text("#notes-title", "Notes of wendy").await;
    b.shot("after-the-window").await;
    b.close().await;
}

async fn refuses_forgeries(proxy: Proxy) {
    let gate = Gate::start(proxy);
    let forged: &[(&str, &str)] = &[
        ("Remote-User", "root"),
        ("Remote-Groups", "admin"),
        ("Remote-Email", "root@evil.example"),
        ("Remote-Name", "Mallory"),
        ("Remote-Session", "forged"),
        ("Remote_User", "root"),
    ];

    // The app trusts whatever Remote-User it gets (that is why only the proxy may reach
    // it): straight to the app, the header is believed.
    let direct = gate.get_at(&gate.app_url, "/whoami", None, forged).await;
    let direct: serde_json::Value = direct.json().await.unwrap();
    assert_eq!(direct["username"], "root", "{direct}");

    // Through the proxy without a session: the sign-in page, never the app.
    let anonymous = gate.get_at(&gate.url, "/whoami", None, forged).await;
    assert_eq!(anonymous.status(), 302, "{proxy:?}");
    assert!(
        location(&anonymous).starts_with("/.curfew/sign-in?rd="),
        "{anonymous:?}"
    );
    // The return address whole, query included.
    let deep = gate.get("/notes/?tab=mine&sort=new", None).await;
    let to = url::Url::parse("http://x")
        .unwrap()
        .join(&location(&deep))
        .unwrap();
    assert_eq!(to.path(), "/.curfew/sign-in", "{deep:?}");
    let rd: Vec<String> = to
        .query_pairs()
        .filter(|(k, _)| k == "rd")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(rd, ["/notes/?tab=mine&sort=new"], "{proxy:?}: {to}");

    // Signed in: the cookie's shape, and only Curfew's identity reaches the app.
    let signed_in = gate
        .post_sign_in("wendy", "/notes/", &[("origin", gate.origin())])
        .await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/notes/");
    let set = set_cookies(&signed_in).join("\n");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{attribute} missing: {set}");
    }
    let cookie = session_cookie(&signed_in).expect("curfew_session");
    let seen = gate.whoami(&cookie, forged).await;
    assert_eq!(seen["username"], "wendy", "{proxy:?}: {seen}");
    assert_eq!(seen["groups"], "member", "{proxy:?}: {seen}");
    assert_eq!(seen["name"], "wendy", "{proxy:?}: {seen}");
    assert_ne!(seen["session"], "forged", "{proxy:?}: {seen}");
    // wendy has no email: the app gets none (or an empty one), not the forged one nor a
    // proxy's unfilled placeholder (checked last, so the checks below run regardless).
    let email = seen["email"].as_str().unwrap_or_default().to_owned();

    // Return addresses off-site are refused, on the page and by the form.
    for rd in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
    ] {
        let page = gate
            .get(&format!("/.curfew/sign-in?rd={}", encode(rd)), None)
            .await;
        assert_eq!(page.status(), 400, "{proxy:?}: GET sign-in rd={rd}");
        let post = gate
            .post_sign_in("wendy", rd, &[("origin", gate.origin())])
            .await;
        assert_eq!(post.status(), 400, "{proxy:?}: POST sign-in rd={rd}");
        assert!(!location(&post).contains("evil"), "{post:?}");
        assert!(session_cookie(&post).is_none(), "{post:?}");
    }
    let absolute = format!("{}/notes/", gate.url);
    let on_host = gate
        .post_sign_in("wendy", &absolute, &[("origin", gate.origin())])
        .await;
    assert_eq!(on_host.status(), 303, "an absolute rd on the gate's host");
    assert_eq!(location(&on_host), absolute);

    // Cross-site posts with the cookie are refused: sign-in (login CSRF) and sign-out.
    let evil = [("origin", "https://evil.example")];
    let login_csrf = gate.post_sign_in("wendy", "/", &evil).await;
    assert_eq!(login_csrf.status(), 403, "{proxy:?}: cross-site sign-in");
    assert!(session_cookie(&login_csrf).is_none());
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("sec-fetch-site", "cross-site")][..],
    ] {
        let mut request = gate
            .http
            .post(format!("{}/.curfew/sign-out", gate.url))
            .header("cookie", &cookie);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(
            refused.status(),
            403,
            "{proxy:?}: cross-site sign-out {headers:?}"
        );
    }
    assert_eq!(
        gate.get("/", Some(&cookie)).await.status(),
        200,
        "still signed in"
    );

    // The same sign-out from the site itself ends the session.
    let signed_out = gate
        .http
        .post(format!("{}/.curfew/sign-out", gate.url))
        .header("cookie", &cookie)
        .header("origin", gate.origin())
        .send()
        .await
        .unwrap();
    assert!(
        signed_out.status().is_success() || signed_out.status().is_redirection(),
        "{signed_out:?}"
    );
    let after = gate.get("/", Some(&cookie)).await;
    assert_eq!(after.status(), 302, "{proxy:?}: after sign-out");

    assert!(email.is_empty(), "{proxy:?}: Remote-Email {email:?}");
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The README shows the very files the tests run.
#[test]
fn the_readme_shows_the_deploy_files_verbatim() {
    let root = curfew_testkit::gate::repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for (file, fence) in [
        (curfew_testkit::gate::nginx_site_file(), "```nginx\n"),
        (curfew_testkit::gate::caddyfile(), "```caddyfile\n"),
    ] {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            readme.contains(&format!("{fence}{text}```\n")),
            "README.md does not show {} verbatim",
            file.display()
        );
    }
}
