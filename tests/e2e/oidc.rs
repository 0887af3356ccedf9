//! Signing in through the organisation's identity provider, with real parts: the
//! certified `oidc-provider` for Node (`tests/oidc/provider.mjs`), curfewd as its relying
//! party, and the gate's nginx in front of the Django office app, in headless Chromium.
//! maria (provisioned with her email) signs in through the provider and lands in the app
//! with `Remote-User`; the admin's logout shows the overlay and the next click goes back
//! to sign in (and straight through, as her provider session lives); her sign-out at the
//! provider's own logout page ends the Curfew session by back-channel logout and the open
//! page shows it; deactivated, she is refused. olga gets the admin role from her group;
//! a replayed callback is refused; signing out of the gate signs out at the provider;
//! nobody (not provisioned) is told to ask the administrator; a sign-in cancelled at the
//! provider, ID tokens the provider spoils (tampered, unsigned, for another audience,
//! expired, another nonce or issuer) and a member's sign-in during a login freeze are
//! refused with a page. Screenshots are
//! `target/e2e-screenshots/oidc-*.png`.

// The gate tests' browser, compiled here too (it is private to their module).
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "gate/browser.rs"]
mod browser;
mod provider;
mod stack;
mod steps;

use std::time::{Duration, Instant};

use chrono::Utc;
use curfew::api::{ClientKind, MaintenanceRequest, Role};

use browser::Browser;
use stack::{Backchannel, OidcGate, DISPLAY_NAME, OVERLAY_WITHIN, PROVIDER};
use steps::{
    assert_no_new_session, callback_path, click_provider, page_status, provider_login, until_on,
    until_path_unblocked, Shots,
};

const OVERLAY: &str = "[role=dialog], [role=alertdialog]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_sign_in_and_every_way_out() {
    let gate = OidcGate::start(Backchannel::Curfewd);
    let admin = gate.admin().await;
    let maria = gate
        .provision(
            &admin,
            "maria",
            "Maria Chen",
            "maria@example.org",
            Role::Member,
        )
        .await;
    let b = Browser::open("oidc").await;
    let mut shots = Shots::new("maria");

    // (1) Without a session: the gate's sign-in page offers the provider (and, as
    // configured, the password form); the provider's login page; back in the app.
    b.goto(&format!("{}/notes/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    let has_password = b
        .js("return !!document.querySelector('input[name=password]');")
        .await;
    assert_eq!(
        has_password.as_bool(),
        Some(true),
        "password_sign_in = true shows the form"
    );
    shots.take(&b, "sign-in-page").await;
    let button = click_provider(&b).await;
    assert_eq!(button.trim(), format!("Sign in with {DISPLAY_NAME}"));
    b.until_path("/interaction/").await;
    let at = b.url().await;
    assert!(
        at.as_str().starts_with(&gate.idp.issuer),
        "the provider's login page, not {at}"
    );
    shots.take(&b, "provider-login").await;
    provider_login(&b, "maria").await;
    b.text("#notes-title", "Notes of maria").await;
    assert_eq!(b.url().await.path(), "/notes/", "back where she was going");
    b.click("#nav-hello").await;
    b.text("#hello", "Hello, maria").await;
    b.text("#remote-email", "maria@example.org").await;
    b.text("#remote-groups", "member").await;
    let page_session = b.text("#remote-session", "-").await;
    shots.take(&b, "signed-in").await;
    let sessions = admin.user_sessions(maria).await.unwrap().sessions;
    let web = sessions
        .iter()
        .find(|s| s.client == ClientKind::Web)
        .unwrap_or_else(|| panic!("no web session for maria in {sessions:?}"));
    assert_eq!(web.id.to_string(), page_session, "the app got the session");
    assert_eq!(gate.idp.events("login").len(), 1);

    // (2) The admin logs maria out in Curfew: the open page says so at once; the next
    // navigation goes back through the sign-in page; her provider session still lives,
    // so the button brings her straight back without the provider's login page.
    let ended_at = Instant::now();
    admin.logout_user(maria).await.unwrap();
    let overlay = b
        .until_banner(OVERLAY, "An administrator signed you out", OVERLAY_WITHIN)
        .await;
    eprintln!("the admin's logout showed after {:?}", ended_at.elapsed());
    assert!(overlay.contains("Sign in again"), "{overlay}");
    shots.take(&b, "admin-logout-overlay").await;
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    click_provider(&b).await;
    b.text("#hello", "Hello, maria").await;
    assert_eq!(
        gate.idp.events("login").len(),
        1,
        "the provider's session signed her in again without its login page"
    );

    // (3) maria signs out at the provider's own logout page, in another tab: its
    // back-channel logout ends the Curfew session and the app's page shows it.
    let app_tab = b.client.window().await.unwrap();
    let tab = b.client.new_window(true).await.unwrap();
    b.client.switch_to_window(tab.handle.clone()).await.unwrap();
    b.goto(&format!("{}/session/end", gate.idp.issuer)).await;
    b.text("body", "Sign out of Test IdP?").await;
    shots.take(&b, "provider-logout-page").await;
    let backchannels = gate.idp.events("backchannel.success").len();
    let clicked_at = Instant::now();
    b.click("#op-logout-yes").await;
    b.text("#op-signed-out", "signed out").await;
    let sent = gate.idp.events("backchannel.error");
    assert!(
        sent.is_empty(),
        "curfewd refused the logout token: {sent:?}\n{}",
        gate.logs()
    );
    let event = gate
        .idp
        .until_event("backchannel.success", backchannels, Duration::from_secs(5))
        .await;
    assert_eq!(event["account"], "maria", "{event}");
    b.client.close_window().await.unwrap();
    b.client.switch_to_window(app_tab).await.unwrap();
    let overlay = b
        .until_banner(OVERLAY, "Sign in again", OVERLAY_WITHIN)
        .await;
    eprintln!(
        "the provider's logout showed after {:?}: {overlay:?}",
        clicked_at.elapsed()
    );
    assert!(
        !overlay.contains("An administrator"),
        "the provider's logout is not told as an administrator's: {overlay}"
    );
    shots.take(&b, "provider-logout-overlay").await;
    let left = admin.user_sessions(maria).await.unwrap().sessions;
    assert!(
        left.iter().all(|s| s.client != ClientKind::Web),
        "the back-channel logout left {left:?}"
    );
    // Signed out at the provider too: its login page this time.
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    click_provider(&b).await;
    b.until_path("/interaction/").await;

    // Deactivated in Curfew, she cannot sign in through the provider.
    admin.deactivate(maria).await.unwrap();
    let stale = b.session_cookie().await;
    provider_login(&b, "maria").await;
    b.until_path(&callback_path()).await;
    let status = page_status(&b).await;
    let body = b.text("body", "").await;
    shots.take(&b, "deactivated").await;
    assert_eq!(status, 403, "a deactivated user: {body}");
    assert!(!body.contains("Hello"), "{body}");
    assert_no_new_session(&b, stale).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_roles_replays_and_refusals() {
    let gate = OidcGate::start(Backchannel::Gate);
    let admin = gate.admin().await;
    // olga is a member in Curfew: her provider group makes her an admin.
    gate.provision(
        &admin,
        "olga",
        "Olga Berg",
        "olga@example.org",
        Role::Member,
    )
    .await;
    let b = Browser::open("oidc").await;
    let mut shots = Shots::new("olga");

    // (6) olga's group `curfew-admins` maps to the role admin.
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    click_provider(&b).await;
    let redirects = gate.idp.events("redirect").len();
    provider_login(&b, "olga").await;
    b.text("#hello", "Hello, olga").await;
    let groups = b.text("#remote-groups", "").await;
    shots.take(&b, "signed-in-as-admin").await;
    assert_eq!(
        groups.trim(),
        "admin",
        "Remote-Groups from the group mapping\n{}",
        gate.logs()
    );

    // (5) The same callback (code and state) a second time, in the same browser: refused
    // with a page, and olga stays who she was.
    let callback = gate
        .idp
        .until_event("redirect", redirects, Duration::from_secs(5))
        .await;
    let callback = callback["location"].as_str().expect("location").to_owned();
    assert!(
        callback.starts_with(&format!("{}/.curfew/oidc/{PROVIDER}/callback?", gate.url)),
        "{callback}"
    );
    b.goto(&callback).await;
    let body = b.text("body", "").await;
    let status = page_status(&b).await;
    shots.take(&b, "replayed-callback").await;
    assert_eq!(status, 400, "a replayed callback: {body}");
    assert!(
        !body.trim().is_empty() && !body.contains("Hello"),
        "a page that says why: {body:?}"
    );

    // The provider ends olga's session from its side (its back-channel logout, sent by
    // the provider's own code to the gated host, through nginx): the gate session ends
    // and the open page shows it.
    b.goto(&format!("{}/", gate.url)).await;
    b.text("#hello", "Hello, olga").await;
    let (status, ended) = gate.idp.end_sessions_of("olga").await;
    assert_eq!(status, 200, "{ended}\n{}", gate.logs());
    assert_eq!(ended["ended"], 1, "{ended}");
    b.until_banner(OVERLAY, "Sign in again", OVERLAY_WITHIN)
        .await;
    shots.take(&b, "provider-ended-overlay").await;
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;

    // (4) nobody is at the provider but not in Curfew (create_users = false).
    let stale = b.session_cookie().await;
    click_provider(&b).await;
    provider_login(&b, "nobody").await;
    b.until_path(&callback_path()).await;
    let body = b.text("body", "").await;
    let status = page_status(&b).await;
    shots.take(&b, "not-provisioned").await;
    assert!(
        body.to_lowercase().contains("ask your administrator"),
        "{body:?}"
    );
    assert_eq!(status, 403, "{body}");
    assert_no_new_session(&b, stale).await;
    let users = admin
        .users(&curfew::api::UserQuery {
            q: Some("nobody".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(users.users.is_empty(), "nobody was created: {users:?}");

    // The provider ends nobody's session from its side: curfewd answers the logout token
    // of a session it never opened with 200 (Back-Channel Logout 1.0, 2.8).
    let (status, ended) = gate.idp.end_sessions_of("nobody").await;
    assert_eq!(status, 200, "{ended}\n{}", gate.logs());
    assert_eq!(ended["ended"], 1, "{ended}");

    // Last, signing out of the gate signs out at the provider too (RP-initiated logout):
    // from the app's page, the provider's end-session endpoint with the client and where
    // to come back; confirmed there, back on the gate.
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    click_provider(&b).await;
    provider_login(&b, "olga").await;
    b.text("#hello", "Hello, olga").await;
    b.js(
        "const f = document.createElement('form'); f.method = 'post'; \
          f.action = '/.curfew/sign-out'; document.body.append(f); f.submit(); return null;",
    )
    .await;
    let end = until_path_unblocked(&b, "/session/end").await;
    assert!(end.as_str().starts_with(&gate.idp.issuer), "{end}");
    let param = |name: &str| {
        end.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("client_id").as_deref(), Some("curfew"), "{end}");
    let back = param("post_logout_redirect_uri").unwrap_or_default();
    assert!(
        back.starts_with(&gate.url),
        "post_logout_redirect_uri {back:?}"
    );
    b.text("body", "Sign out of Test IdP?").await;
    shots.take(&b, "rp-logout-confirm").await;
    b.click("#op-logout-yes").await;
    until_on(&b, &gate.url).await;
    shots.take(&b, "rp-logout-back").await;
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    // Signed out there too: the provider's login page this time.
    click_provider(&b).await;
    b.until_path("/interaction/").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_refused_at_the_callback() {
    let gate = OidcGate::start(Backchannel::Curfewd);
    let admin = gate.admin().await;
    let maria = gate
        .provision(
            &admin,
            "maria",
            "Maria Chen",
            "maria@example.org",
            Role::Member,
        )
        .await;
    let b = Browser::open("oidc").await;
    let mut shots = Shots::new("tokens");
    // maria cancels at the provider: it answers the callback with access_denied.
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    click_provider(&b).await;
    b.until_path("/interaction/").await;
    b.click("#op-login-cancel").await;
    b.until_path(&callback_path()).await;
    let body = b.text("body", "").await;
    let status = page_status(&b).await;
    shots.take(&b, "cancelled").await;
    eprintln!("cancelled: {status} {body:?}");
    assert!(
        (400..600).contains(&status) && !body.contains("Hello"),
        "cancelled at the provider: {status} {body:?}"
    );
    assert!(b.session_cookie().await.is_none(), "no session");

    // A good sign-in, then out of Curfew only: the provider's session lives, so each
    // attempt below goes straight from the button to the callback.
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    click_provider(&b).await;
    provider_login(&b, "maria").await;
    b.text("#hello", "Hello, maria").await;
    admin.logout_user(maria).await.unwrap();

    for how in [
        "tampered", "unsigned", "audience", "expired", "nonce", "issuer",
    ] {
        gate.idp.spoil_next_id_token(how).await;
        let spoiled = gate.idp.events("spoiled").len();
        b.goto(&format!("{}/", gate.url)).await;
        b.until_path("/.curfew/sign-in").await;
        let stale = b.session_cookie().await;
        click_provider(&b).await;
        let at = b.until_path(&callback_path()).await;
        let body = b.text("body", "").await;
        let status = page_status(&b).await;
        shots.take(&b, how).await;
        eprintln!("{how}: {status} {body:?}");
        let event = gate
            .idp
            .until_event("spoiled", spoiled, Duration::from_secs(5))
            .await;
        assert_eq!(event["how"], how, "the provider spoiled {event}");
        assert_eq!(at.path(), callback_path(), "{how}: refused at the callback");
        assert!(
            matches!(status, 401 | 502),
            "{how}: a bad ID token answered {status}: {body}"
        );
        assert!(
            !body.trim().is_empty() && !body.contains("Hello"),
            "{how}: a page that says why: {body:?}"
        );
        assert_no_new_session(&b, stale).await;
        let sessions = admin.user_sessions(maria).await.unwrap().sessions;
        assert!(
            sessions.iter().all(|s| s.client != ClientKind::Web),
            "{how}: a session from a bad token: {sessions:?}"
        );
    }

    // The login freeze before a maintenance window holds for sign-ins through the
    // provider too: maria (a member) gets the maintenance page.
    let window = admin
        .schedule_maintenance(&MaintenanceRequest {
            starts_at: Utc::now() + chrono::Duration::minutes(10),
            ends_at: None,
            message: "Payroll update: back at noon.".into(),
            warn_before: vec![],
            freeze_before: 900,
            keep_admins: true,
        })
        .await
        .unwrap();
    b.goto(&format!("{}/.curfew/sign-in?rd=%2F", gate.url))
        .await;
    let stale = b.session_cookie().await;
    click_provider(&b).await;
    b.until_path(&callback_path()).await;
    let body = b.text("body", "").await;
    let status = page_status(&b).await;
    shots.take(&b, "frozen").await;
    assert_eq!(status, 503, "a member's sign-in during the freeze: {body}");
    assert!(!body.contains("Hello"), "{body}");
    assert_no_new_session(&b, stale).await;
    admin.cancel_maintenance(window.id).await.unwrap();

    // The same way with a good token, no freeze, signs her in: the refusals were real.
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    click_provider(&b).await;
    b.text("#hello", "Hello, maria").await;
    b.close().await;
}

/// The provider rolls its signing key: curfewd, which kept the old key set, fetches the
/// keys again when an ID token names a key it does not know, and the sign-in passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_keys_rolled_at_the_provider_are_fetched_again() {
    let mut gate = OidcGate::start(Backchannel::Curfewd);
    let admin = gate.admin().await;
    let maria = gate
        .provision(
            &admin,
            "maria",
            "Maria Chen",
            "maria@example.org",
            Role::Member,
        )
        .await;
    let b = Browser::open("oidc").await;
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    click_provider(&b).await;
    provider_login(&b, "maria").await;
    b.text("#hello", "Hello, maria").await;
    let discovered_by = Instant::now();
    admin.logout_user(maria).await.unwrap();

    // A new key with a new kid; curfewd still holds the old key set.
    gate.restart_idp();
    // curfewd fetches keys again at most every two seconds (REDISCOVER_AFTER): past that,
    // an unknown kid makes it fetch them.
    let again_at = discovered_by + Duration::from_secs(2);
    tokio::time::sleep_until(again_at.into()).await;
    b.goto(&format!("{}/", gate.url)).await;
    b.until_path("/.curfew/sign-in").await;
    click_provider(&b).await;
    provider_login(&b, "maria").await;
    // The provider's redirect and the callback's are still under way when the login form
    // is gone: wait for the app's page, and say what the page and the logs show if not.
    if let Err(refused) = b.try_text("body", "Hello, maria").await {
        panic!(
            "a sign-in signed with the provider's new key: {refused}\n{}",
            gate.logs()
        );
    }
    b.close().await;
}
