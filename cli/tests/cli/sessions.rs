//! One user's sessions and ending one of them (the lost phone), sign-in throttles, the
//! sign-ins in the audit log, and the device name `curfew login` sends.

use curfew::api::ClientKind::{self, App, Web};
use curfew::api::{AuditCategory, AuditQuery, LoginRequest};
use curfew::Client;
use serde_json::Value;
use uuid::Uuid;

use crate::support::*;

/// A new session of `username` with a device name, through the library.
async fn login_named(server: &Server, username: &str, kind: ClientKind, device: &str) -> Client {
    server
        .client()
        .login(&LoginRequest {
            username: username.into(),
            password: PASSWORD.into(),
            client: kind,
            device_name: Some(device.into()),
        })
        .await
        .unwrap_or_else(|e| panic!("login {username}: {e}"))
        .0
}

async fn user_id(admin: &Client, username: &str) -> Uuid {
    admin
        .users(&Default::default())
        .await
        .unwrap()
        .users
        .into_iter()
        .find(|u| u.username == username)
        .unwrap_or_else(|| panic!("no user {username}"))
        .id
}

async fn session_id(client: &Client) -> Uuid {
    client.session().await.unwrap().id
}

/// The session of `token` as an administrator sees it among `user`'s.
async fn device_of(
    server: &Server,
    admin: &Client,
    user: Uuid,
    token: &str,
) -> curfew::api::AdminSession {
    let session = server.client().with_token(token).session().await.unwrap();
    admin
        .user_sessions(user)
        .await
        .unwrap()
        .sessions
        .into_iter()
        .find(|s| s.id == session.id)
        .expect("the new session")
}

fn sessions_of(value: &Value) -> &Vec<Value> {
    value["sessions"].as_array().expect("sessions")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_lists_one_users_devices_and_marks_the_callers_own() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let _phone = login_named(&server, "alice", App, "Alice's phone").await;
    let _web = server.login("alice", Web).await;
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);

    let listed = curfew()
        .run(["sessions", "alice", "--json"])
        .expect(0)
        .json();
    assert_eq!(listed["user_id"], user_id(&root, "alice").await.to_string());
    let sessions = sessions_of(&listed);
    assert_eq!(sessions.len(), 2, "{listed}");
    let phone = sessions
        .iter()
        .find(|s| s["client"] == "app")
        .expect("the app session");
    assert_eq!(phone["device_name"], "Alice's phone");
    assert!(
        phone["device"].as_str().unwrap().contains("Alice's phone"),
        "{phone}"
    );
    assert_eq!(phone["address"], "127.0.0.1", "{phone}");
    assert!(sessions.iter().all(|s| s["current"] == false), "{listed}");

    // The table: who, where, when; the caller's own session marked.
    let table = curfew().run(["sessions", "alice"]).expect(0).stdout;
    let lines: Vec<&str> = table.lines().collect();
    for header in [
        "ID",
        "DEVICE",
        "CLIENT",
        "ADDRESS",
        "LAST ADDRESS",
        "SIGNED IN",
        "LAST SEEN",
    ] {
        assert!(lines[0].contains(header), "{header}: {table}");
    }
    assert_eq!(lines.len(), 3, "{table}");
    assert!(table.contains("Alice's phone"), "{table}");
    let own = curfew().run(["sessions", "root"]).expect(0).stdout;
    let mine = session_id(&root).await.to_string();
    let row = own.lines().find(|l| l.contains(&mine)).expect("own row");
    assert!(row.contains("this session"), "{own}");
    let own = curfew()
        .run(["sessions", "root", "--json"])
        .expect(0)
        .json();
    assert_eq!(sessions_of(&own)[0]["current"], true, "{own}");

    curfew().run(["sessions", "nobody"]).expect(4);
    curfew().run(["sessions"]).expect(2);
    let member = server.login("alice", Web).await;
    Curfew::with_token(home.path(), &server, &member)
        .run(["sessions", "alice"])
        .expect(3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_session_names_the_user_and_device_and_ends_only_that_one() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let phone = login_named(&server, "alice", App, "Alice's phone").await;
    let web = server.login("alice", Web).await;
    let phone_id = session_id(&phone).await.to_string();
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);

    // No terminal and no --yes: the question names whose session and which device; nothing
    // is ended.
    let refused = curfew().run(["end-session", &phone_id]).expect(2);
    assert!(refused.stderr.contains("alice"), "{refused:?}");
    assert!(refused.stderr.contains("Alice's phone"), "{refused:?}");
    assert!(refused.stderr.contains("--yes"), "{refused:?}");
    assert!(refused.stdout.is_empty(), "{refused:?}");
    assert_live(&phone).await;
    assert_live(&web).await;

    let ended = curfew()
        .run(["end-session", &phone_id, "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(ended["session_id"], phone_id);
    assert_eq!(ended["username"], "alice");
    assert_eq!(ended["sessions_revoked"], 1, "{ended}");
    assert_revoked(&phone).await;
    assert_live(&web).await;
    let audit = root.audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(audit.entries[0].action.as_str(), "end_session");
    assert_eq!(audit.entries[0].target_username.as_deref(), Some("alice"));

    // Gone now: not found. Not a session id: usage. The caller's own: the server's refusal.
    let again = curfew().run(["end-session", &phone_id, "--yes"]).expect(4);
    assert_eq!(again.stderr.lines().count(), 1, "{again:?}");
    curfew()
        .run(["end-session", "not-an-id", "--yes"])
        .expect(2);
    let own = session_id(&root).await.to_string();
    let mine = curfew().run(["end-session", &own, "--yes"]).expect(1);
    assert!(mine.stderr.contains("Sign out instead"), "{mine:?}");
    assert_eq!(mine.stderr.lines().count(), 1, "{mine:?}");
    assert_live(&root).await;

    // The human answer names what was ended; --user finds it in one user's sessions only.
    let web_id = session_id(&web).await.to_string();
    let told = curfew()
        .run(["end-session", &web_id, "--user", "alice", "--yes"])
        .expect(0)
        .stdout;
    assert!(told.contains("Ended") && told.contains("alice"), "{told}");
    assert_revoked(&web).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttles_are_listed_and_cleared_after_asking() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    for _ in 0..3 {
        let wrong = server
            .client()
            .login(&LoginRequest {
                username: "alice".into(),
                password: "wrong password".into(),
                client: Web,
                device_name: None,
            })
            .await;
        assert!(wrong.is_err());
    }
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);

    let listed = curfew().run(["throttles", "--json"]).expect(0).json();
    let alice = listed["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["username"] == "alice")
        .unwrap_or_else(|| panic!("alice not listed: {listed}"));
    assert_eq!(alice["failures"], 3, "{listed}");
    assert!(listed["failures_allowed"].as_u64().is_some(), "{listed}");
    let table = curfew().run(["throttles"]).expect(0).stdout;
    assert!(table.starts_with("USERNAME"), "{table}");
    assert!(
        table.contains("FAILURES") && table.contains("alice"),
        "{table}"
    );

    // No terminal and no --yes: refused, still recorded.
    let refused = curfew().run(["throttles", "clear", "alice"]).expect(2);
    assert!(refused.stderr.contains("alice"), "{refused:?}");
    assert!(refused.stderr.contains("--yes"), "{refused:?}");
    let still = root.sign_in_throttles().await.unwrap();
    assert!(still.accounts.iter().any(|a| a.username == "alice"));

    let cleared = curfew()
        .run(["throttles", "clear", "alice", "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(cleared["username"], "alice", "{cleared}");
    assert_eq!(cleared["cleared"], true, "{cleared}");
    let after = root.sign_in_throttles().await.unwrap();
    assert!(!after.accounts.iter().any(|a| a.username == "alice"));
    let audit = root.audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(audit.entries[0].action.as_str(), "clear_throttle");

    // Nothing recorded any more: the server's sentence, not found.
    let again = curfew()
        .run(["throttles", "clear", "alice", "--yes"])
        .expect(4);
    assert_eq!(again.stderr.lines().count(), 1, "{again:?}");
    let none = curfew().run(["throttles"]).expect(0).stdout;
    assert!(none.contains("No failed sign-ins"), "{none}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_shows_sign_ins_with_sign_ins_and_everything_with_all() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let _alice = server.login("alice", App).await;
    let wrong = server
        .client()
        .login(&LoginRequest {
            username: "alice".into(),
            password: "wrong password".into(),
            client: Web,
            device_name: None,
        })
        .await;
    assert!(wrong.is_err());
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);
    curfew().run(["logout", "alice", "--yes"]).expect(0);

    let actions = |value: &Value| -> Vec<String> {
        value["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    };
    let admin = curfew().run(["audit", "--json"]).expect(0).json();
    assert_eq!(actions(&admin), ["logout_user"], "{admin}");

    let sign_ins = curfew()
        .run(["audit", "--sign-ins", "--json"])
        .expect(0)
        .json();
    let got = actions(&sign_ins);
    assert!(
        got.iter().all(|a| a == "sign_in" || a == "sign_in_failed"),
        "{sign_ins}"
    );
    assert_eq!(
        got.iter().filter(|a| *a == "sign_in").count(),
        2,
        "{sign_ins}"
    );
    let failed = sign_ins["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "sign_in_failed")
        .expect("the failed sign-in");
    assert_eq!(failed["reason"], "invalid_credentials", "{failed}");
    let expected = root
        .audit(&AuditQuery {
            category: Some(AuditCategory::SignIn),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(got.len(), expected.entries.len());
    let table = curfew().run(["audit", "--sign-ins"]).expect(0).stdout;
    assert!(table.starts_with("WHEN"), "{table}");
    assert!(
        table.contains("ADDRESS") && table.contains("REASON"),
        "{table}"
    );
    assert!(
        table.contains("failed to sign in") && table.contains("invalid_credentials"),
        "{table}"
    );

    let all = curfew().run(["audit", "--all", "--json"]).expect(0).json();
    let got = actions(&all);
    assert!(got.contains(&"logout_user".to_owned()), "{all}");
    assert!(got.contains(&"sign_in".to_owned()), "{all}");
    assert!(got.contains(&"sign_in_failed".to_owned()), "{all}");
    curfew()
        .run(["audit", "--all", "--since", "1h ago"])
        .expect(0);
    curfew().run(["audit", "--all", "--sign-ins"]).expect(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sends_a_device_name_or_this_computers_name() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let alice_id = user_id(&root, "alice").await;
    let home = tempfile::tempdir().unwrap();
    let login = |extra: &[&str]| {
        let mut args = vec![
            "login",
            "--server",
            &server.url,
            "--username",
            "alice",
            "--print-token",
        ];
        args.extend_from_slice(extra);
        Curfew::new(home.path())
            .stdin(&format!("{PASSWORD}\n"))
            .run(args)
    };
    let named = login(&["--device-name", "Ops laptop"]).expect(0);
    let session = device_of(&server, &root, alice_id, named.stdout.trim()).await;
    assert_eq!(session.device_name.as_deref(), Some("Ops laptop"));

    let default = login(&[]).expect(0);
    let session = device_of(&server, &root, alice_id, default.stdout.trim()).await;
    let name = session.device_name.expect("a device name by default");
    assert!(name.ends_with("(curfew command line)"), "{name:?}");
    assert!(name.chars().count() <= 100, "{name:?}");

    // Too long or empty: usage, before any password is read or session opened.
    let before = root.user_sessions(alice_id).await.unwrap().sessions.len();
    let long = "x".repeat(101);
    // (No password on standard input: curfew stops before reading it.)
    for name in [long.as_str(), " "] {
        let refused = Curfew::new(home.path())
            .run([
                "login",
                "--server",
                &server.url,
                "--username",
                "alice",
                "--print-token",
                "--device-name",
                name,
            ])
            .expect(2);
        assert!(refused.stderr.contains("device name"), "{refused:?}");
    }
    assert_eq!(
        root.user_sessions(alice_id).await.unwrap().sessions.len(),
        before
    );
}

#[test]
fn help_names_the_new_commands() {
    let home = tempfile::tempdir().unwrap();
    let help = Curfew::new(home.path()).run(["--help"]).expect(0).stdout;
    for needle in [
        "sessions",
        "end-session",
        "throttles",
        "no such user, session",
    ] {
        assert!(help.contains(needle), "{needle:?} missing from:\n{help}");
    }
    let audit = Curfew::new(home.path())
        .run(["audit", "--help"])
        .expect(0)
        .stdout;
    assert!(
        audit.contains("--sign-ins") && audit.contains("--all"),
        "{audit}"
    );
    let login = Curfew::new(home.path())
        .run(["login", "--help"])
        .expect(0)
        .stdout;
    assert!(login.contains("--device-name <NAME>"), "{login}");
}
