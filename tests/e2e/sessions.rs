//! Revocation semantics against a real curfewd: immediate 401, streams told and closed,
//! logout-all atomic against racing logins, deactivation, audit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use curfew::api::{
    AuditAction, AuditQuery, ClientKind, LoginRequest, Notice, RevocationReason, UserFilter,
    UserQuery,
};
use curfew::{Client, NoticeStream};

use crate::support::{assert_rejected, Server, PASSWORD};

pub async fn user_id(admin: &Client, username: &str) -> uuid::Uuid {
    let page = admin
        .users(&UserQuery {
            q: Some(username.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    page.users
        .iter()
        .find(|u| u.username == username)
        .unwrap_or_else(|| panic!("{username} not listed"))
        .id
}

/// The next notice within a deadline; it must be `session_revoked` with `reason`, and the
/// stream must end right after it.
async fn expect_revoked(stream: &mut NoticeStream, reason: RevocationReason) {
    let notice = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("no notice within 5 s")
        .expect("stream ended without session_revoked")
        .expect("notice");
    match notice {
        Notice::SessionRevoked(revoked) => {
            assert_eq!(revoked.reason, reason);
            assert!(!revoked.message.is_empty());
        }
        other => panic!("expected session_revoked, got {other:?}"),
    }
    let after = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("stream stayed open after session_revoked");
    assert!(
        after.is_none(),
        "stream went on after session_revoked: {after:?}"
    );
}

#[tokio::test]
async fn logout_of_one_user_fails_their_next_request_and_ends_their_streams() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    server.add_user("bob", "member");
    let (admin, _) = server.login("root", ClientKind::App).await;
    let (alice_app, _) = server.login("alice", ClientKind::App).await;
    let (alice_web, _) = server.login("alice", ClientKind::Web).await;
    let (bob, _) = server.login("bob", ClientKind::Web).await;
    let mut alice_stream = alice_web.notice_stream().await.unwrap();
    let mut bob_stream = bob.notice_stream().await.unwrap();

    let alice = user_id(&admin, "alice").await;
    let listed = admin
        .users(&UserQuery {
            q: Some("alice".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (listed.users[0].app_sessions, listed.users[0].web_sessions),
        (1, 1)
    );

    let result = admin.logout_user(alice).await.unwrap();
    assert_eq!(result.sessions_revoked, 2);
    assert_eq!(result.users_affected, 1);

    assert_rejected(&alice_app, "session_revoked").await;
    assert_rejected(&alice_web, "session_revoked").await;
    expect_revoked(&mut alice_stream, RevocationReason::AdminLogout).await;
    // Bob is untouched: his session works and his stream is still open.
    bob.session().await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), bob_stream.next())
            .await
            .is_err(),
        "bob's stream received something"
    );

    let listed = admin
        .users(&UserQuery {
            q: Some("alice".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (listed.users[0].app_sessions, listed.users[0].web_sessions),
        (0, 0)
    );

    // Repeating it is harmless and says so.
    assert_eq!(admin.logout_user(alice).await.unwrap().sessions_revoked, 0);
    let audit = admin.audit(&AuditQuery::default()).await.unwrap();
    let entry = &audit.entries[1];
    assert_eq!(entry.action, AuditAction::LogoutUser);
    assert_eq!(entry.actor_username, "root");
    assert_eq!(entry.target_username.as_deref(), Some("alice"));
    assert_eq!(entry.sessions_revoked, 2);
}

#[tokio::test]
async fn signing_out_ends_only_that_session_and_its_stream() {
    let server = Server::start();
    server.add_user("carol", "member");
    let (web, _) = server.login("carol", ClientKind::Web).await;
    let (app, _) = server.login("carol", ClientKind::App).await;
    let mut stream = web.notice_stream().await.unwrap();
    web.logout().await.unwrap();
    expect_revoked(&mut stream, RevocationReason::SignedOut).await;
    assert_rejected(&web, "session_revoked").await;
    app.session().await.unwrap();
}

#[tokio::test]
async fn logout_all_spares_the_caller_and_optionally_the_administrators() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("root2", "admin");
    server.add_user("helpdesk", "support");
    for name in ["m1", "m2", "m3"] {
        server.add_user(name, "member");
    }
    let (root, root_login) = server.login("root", ClientKind::App).await;
    let (root_web, _) = server.login("root", ClientKind::Web).await;
    let (root2, _) = server.login("root2", ClientKind::App).await;
    let (helpdesk, _) = server.login("helpdesk", ClientKind::Web).await;
    let mut members = Vec::new();
    for name in ["m1", "m2", "m3"] {
        members.push(server.login(name, ClientKind::App).await.0);
        members.push(server.login(name, ClientKind::Web).await.0);
    }
    let mut streams = Vec::new();
    for member in &members {
        streams.push(member.notice_stream().await.unwrap());
    }
    let summary = root.session_summary().await.unwrap();
    assert_eq!(summary.app_sessions + summary.web_sessions, 10);
    assert_eq!(summary.administrator_sessions, 4);
    // The preview counts what the call will do: everything but the caller's own session.
    assert_eq!(
        (summary.logout_all.sessions, summary.logout_all.users),
        (9, 6)
    );
    assert_eq!(
        (
            summary.logout_all_keep_admins.sessions,
            summary.logout_all_keep_admins.app_sessions,
            summary.logout_all_keep_admins.users
        ),
        (6, 3, 3)
    );

    let kept = root.logout_all(true).await.unwrap();
    assert_eq!((kept.sessions_revoked, kept.users_affected), (6, 3));
    for member in &members {
        assert_rejected(member, "session_revoked").await;
    }
    for stream in &mut streams {
        expect_revoked(stream, RevocationReason::LogoutAll).await;
    }
    for admin in [&root, &root_web, &root2, &helpdesk] {
        admin.session().await.unwrap();
    }

    // Without keep_admins: everyone but the caller's own session, even the caller's other one.
    let everyone = root.logout_all(false).await.unwrap();
    assert_eq!((everyone.sessions_revoked, everyone.users_affected), (3, 3));
    for other in [&root_web, &root2, &helpdesk] {
        assert_rejected(other, "session_revoked").await;
    }
    let me = root.admin_me().await.unwrap();
    assert_eq!(me.session_id, root_login.session.id);

    // Idempotent: nothing left to revoke, still audited.
    let again = root.logout_all(false).await.unwrap();
    assert_eq!((again.sessions_revoked, again.users_affected), (0, 0));
    let audit = root.audit(&AuditQuery::default()).await.unwrap();
    let logout_alls: Vec<_> = audit
        .entries
        .iter()
        .filter(|e| e.action == AuditAction::LogoutAll)
        .map(|e| (e.sessions_revoked, e.users_affected, e.keep_admins))
        .collect();
    assert_eq!(
        logout_alls,
        vec![(0, 0, Some(false)), (3, 3, Some(false)), (6, 3, Some(true))]
    );
}

/// Logins racing a logout-all: every session whose login finished before the call was
/// sent is revoked, every one started after it returned survives, and the ones in between
/// are exactly the ones the server counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_racing_logout_all_are_revoked_or_created_after_never_left_alive() {
    // Every racing login must stay a session of its own: no per-user limit in the way.
    let server = Server::start_with(crate::support::ServerOptions {
        args: vec!["--sessions-per-user".into(), "1000000".into()],
        ..Default::default()
    });
    server.add_user("root", "admin");
    server.add_user("racer", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let base = server.client();
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..6 {
        let base = base.clone();
        let stop = Arc::clone(&stop);
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let login = base
                    .login(&LoginRequest {
                        username: "racer".into(),
                        password: PASSWORD.into(),
                        client: ClientKind::Web,
                        device_name: None,
                    })
                    .await;
                match login {
                    Ok((client, _)) => done.push((client, sent, Instant::now())),
                    // Password checks are bounded: past the bound curfewd answers busy at
                    // once, and a client tries again a little later.
                    Err(e) if e.code() == Some("busy") => {
                        tokio::time::sleep(Duration::from_millis(20)).await
                    }
                    Err(e) => panic!("racing login: {e}"),
                }
            }
            done
        }));
    }
    // Let logins pile up on both sides of the call.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let called = Instant::now();
    let result = root.logout_all(false).await.unwrap();
    let returned = Instant::now();
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, Ordering::Relaxed);
    let mut logins = Vec::new();
    for worker in workers {
        logins.extend(worker.await.unwrap());
    }
    let (mut before, mut after, mut dead) = (0, 0, 0);
    for (client, sent, received) in &logins {
        let alive = client.session().await.is_ok();
        if !alive {
            dead += 1;
        }
        if *received < called {
            before += 1;
            assert!(!alive, "a session created before logout-all survived it");
        } else if *sent > returned {
            after += 1;
            assert!(
                alive,
                "a session created after logout-all returned was revoked"
            );
        }
    }
    assert!(
        before > 0 && after > 0,
        "the race did not happen: {before} before, {after} after"
    );
    assert_eq!(
        dead, result.sessions_revoked,
        "the server's count differs from the sessions that died"
    );
}

#[tokio::test]
async fn deactivation_revokes_sessions_and_refuses_login_until_activated() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("dave", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let (dave_app, _) = server.login("dave", ClientKind::App).await;
    let (dave_web, _) = server.login("dave", ClientKind::Web).await;
    let mut stream = dave_app.notice_stream().await.unwrap();
    let dave = user_id(&root, "dave").await;

    let change = root.deactivate(dave).await.unwrap();
    assert_eq!(change.sessions_revoked, 2);
    assert_eq!(change.user.status, curfew::api::UserStatus::Deactivated);
    assert_eq!((change.user.app_sessions, change.user.web_sessions), (0, 0));
    assert_rejected(&dave_app, "session_revoked").await;
    assert_rejected(&dave_web, "session_revoked").await;
    expect_revoked(&mut stream, RevocationReason::Deactivated).await;

    let refused = server
        .client()
        .login(&LoginRequest {
            username: "dave".into(),
            password: PASSWORD.into(),
            client: ClientKind::App,
            device_name: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(403), Some("account_deactivated"))
    );

    let deactivated = root
        .users(&UserQuery {
            status: Some(UserFilter::Deactivated),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(deactivated.users.len(), 1);
    assert_eq!(deactivated.users[0].username, "dave");

    let change = root.activate(dave).await.unwrap();
    assert_eq!(change.user.status, curfew::api::UserStatus::Active);
    let (again, _) = server.login("dave", ClientKind::Web).await;
    again.session().await.unwrap();

    let audit = root.audit(&AuditQuery::default()).await.unwrap();
    let actions: Vec<_> = audit
        .entries
        .iter()
        .map(|e| (e.action, e.target_username.clone(), e.sessions_revoked))
        .collect();
    assert_eq!(
        actions,
        vec![
            (AuditAction::Activate, Some("dave".into()), 0),
            (AuditAction::Deactivate, Some("dave".into()), 2),
        ]
    );
    assert!(audit.entries.iter().all(|e| e.actor_username == "root"));
}

#[tokio::test]
async fn online_filter_and_paging_follow_live_sessions() {
    let server = Server::start();
    server.add_user("root", "admin");
    for name in ["p1", "p2", "p3", "p4", "p5"] {
        server.add_user(name, "member");
    }
    let (root, _) = server.login("root", ClientKind::App).await;
    let (p2, _) = server.login("p2", ClientKind::Web).await;
    server.login("p4", ClientKind::App).await;
    let online = |root: Client| async move {
        root.users(&UserQuery {
            status: Some(UserFilter::Online),
            ..Default::default()
        })
        .await
        .unwrap()
        .users
        .into_iter()
        .map(|u| u.username)
        .collect::<Vec<_>>()
    };
    assert_eq!(online(root.clone()).await, vec!["p2", "p4", "root"]);
    p2.logout().await.unwrap();
    assert_eq!(online(root.clone()).await, vec!["p4", "root"]);

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = root
            .users(&UserQuery {
                limit: Some(2),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(page.users.len() <= 2);
        seen.extend(page.users.into_iter().map(|u| u.username));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, vec!["p1", "p2", "p3", "p4", "p5", "root"]);
}

/// The lost phone: the administrator sees the user's sessions with their devices and ends
/// the phone's alone; its open stream is told within a second, the browser keeps going.
#[tokio::test]
async fn ending_the_lost_phones_session_tells_its_stream_and_spares_the_rest() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("maria", "member");
    let (admin, _) = server.login("root", ClientKind::App).await;
    let (browser, _) = server.login("maria", ClientKind::Web).await;
    let (phone, phone_login) = server
        .client()
        .login(&LoginRequest {
            username: "maria".into(),
            password: PASSWORD.into(),
            client: ClientKind::App,
            device_name: Some("Maria's iPhone".into()),
        })
        .await
        .unwrap();
    let mut phone_stream = phone.notice_stream().await.unwrap();
    let mut browser_stream = browser.notice_stream().await.unwrap();
    let maria = user_id(&admin, "maria").await;
    let listed = admin.user_sessions(maria).await.unwrap();
    assert_eq!(listed.sessions.len(), 2);
    let listed_phone = &listed.sessions[0];
    assert_eq!(listed_phone.id, phone_login.session.id);
    assert!(
        listed_phone.device.starts_with("Maria's iPhone"),
        "{}",
        listed_phone.device
    );
    assert_eq!(listed_phone.address.as_deref(), Some("127.0.0.1"));
    // The library's own requests carry no browser agent: the web session says what it is.
    assert!(!listed.sessions[1].device.is_empty());

    let started = Instant::now();
    let ended = admin.end_session(phone_login.session.id).await.unwrap();
    assert_eq!(ended.sessions_revoked, 1);
    expect_revoked(&mut phone_stream, RevocationReason::AdminLogout).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "told after {:?}",
        started.elapsed()
    );
    assert_rejected(&phone, "session_revoked").await;
    browser
        .session()
        .await
        .expect("the browser's session stays");
    let quiet = tokio::time::timeout(Duration::from_millis(300), browser_stream.next()).await;
    assert!(
        quiet.is_err(),
        "the browser's stream was told something: {quiet:?}"
    );
    let audit = admin.audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(audit.entries[0].action, AuditAction::EndSession);
    assert_eq!(audit.entries[0].target_username.as_deref(), Some("maria"));
}

/// Another administrator's changes reach this one's event stream at once, so its lists
/// follow: a logout of everyone, one user's logout, a new account.
#[tokio::test]
async fn administrators_hear_of_each_others_changes_to_users() {
    use curfew::api::{AdminEvent, NewUserRequest, Role};
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("deputy", "admin");
    server.add_user("erin", "member");
    let (root, _) = server.login("root", ClientKind::App).await;
    let (deputy, _) = server.login("deputy", ClientKind::App).await;
    server.login("erin", ClientKind::Web).await;
    let mut events = deputy.admin_events().await.unwrap();
    let erin = user_id(&root, "erin").await;
    root.logout_user(erin).await.unwrap();
    root.logout_all(true).await.unwrap();
    root.create_user(&NewUserRequest {
        username: "frank".into(),
        display_name: None,
        email: None,
        role: Role::Member,
        password: None,
    })
    .await
    .unwrap();
    let mut heard = Vec::new();
    while heard.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(2), events.next())
            .await
            .expect("an event within 2 s")
            .expect("the stream goes on")
            .expect("an event");
        if let AdminEvent::UsersChanged {
            action,
            actor_username,
            user_id,
            sessions_revoked,
            ..
        } = event
        {
            assert_eq!(actor_username, "root");
            heard.push((action, user_id, sessions_revoked));
        }
    }
    assert_eq!(heard[0], (AuditAction::LogoutUser, Some(erin), 1));
    assert_eq!(heard[1].0, AuditAction::LogoutAll);
    assert_eq!(heard[1].1, None);
    assert_eq!(heard[2].0, AuditAction::CreateUser);
}
