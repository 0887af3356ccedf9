//! Each command against a real curfewd, signed in with CURFEW_TOKEN, `--json` parsed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use curfew::api::ClientKind::{App, Web};
use serde_json::Value;

use crate::support::*;

fn at(value: &Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_lists_filters_and_searches() {
    let server = Server::start();
    for (name, role) in [
        ("root", "admin"),
        ("alice", "member"),
        ("bob", "member"),
        ("dave", "member"),
    ] {
        server.add_user(name, role);
    }
    let root = server.login("root", Web).await;
    let _alice = server.login("alice", App).await;
    let _bob = server.login("bob", Web).await;
    let dave_id = server
        .client()
        .with_token(root.token().unwrap())
        .users(&Default::default())
        .await
        .unwrap()
        .users
        .into_iter()
        .find(|u| u.username == "dave")
        .unwrap()
        .id;
    root.deactivate(dave_id).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);

    let all = curfew().run(["users", "--json"]).expect(0).json();
    assert_eq!(usernames(&all), ["alice", "bob", "dave", "root"]);
    let alice = all["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "alice")
        .unwrap();
    assert_eq!(alice["app_sessions"], 1);
    assert_eq!(alice["web_sessions"], 0);
    assert_eq!(alice["role"], "member");

    let online = curfew()
        .run(["users", "--online", "--json"])
        .expect(0)
        .json();
    assert_eq!(usernames(&online), ["alice", "bob", "root"]);
    let deactivated = curfew()
        .run(["users", "--deactivated", "--json"])
        .expect(0)
        .json();
    assert_eq!(usernames(&deactivated), ["dave"]);
    let found = curfew()
        .run(["users", "--search", "ALI", "--json"])
        .expect(0)
        .json();
    assert_eq!(usernames(&found), ["alice"]);

    // The human table: a header, then one aligned row per user.
    let table = curfew().run(["users", "--online"]).expect(0).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("USERNAME"), "{table}");
    assert!(lines[0].contains("LAST SEEN"), "{table}");
    assert_eq!(lines.len(), 4, "{table}");
    let column = lines[0].find("ROLE").unwrap();
    for line in &lines[1..] {
        assert!(
            ["admin", "member"]
                .iter()
                .any(|r| line[column..].starts_with(r)),
            "misaligned: {table}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_asks_then_ends_every_session_of_one_user() {
    let server = Server::start();
    for (name, role) in [("root", "admin"), ("alice", "member"), ("alicia", "member")] {
        server.add_user(name, role);
    }
    let root = server.login("root", Web).await;
    let alice_app = server.login("alice", App).await;
    let alice_web = server.login("alice", Web).await;
    let alicia = server.login("alicia", Web).await;
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);

    // No terminal and no --yes: the question in numbers, a refusal, and nothing changed.
    let refused = curfew().run(["logout", "alice"]).expect(2);
    assert!(
        refused
            .stderr
            .contains("Log out alice (alice): end 2 sessions (1 app, 1 web)?"),
        "{refused:?}"
    );
    assert!(refused.stderr.contains("--yes"), "{refused:?}");
    assert_live(&alice_app).await;
    assert_live(&alice_web).await;

    // A name that is not one username is refused, naming the candidates.
    let ambiguous = curfew().run(["logout", "ali", "--yes"]).expect(2);
    assert!(
        ambiguous.stderr.contains("alice") && ambiguous.stderr.contains("alicia"),
        "{ambiguous:?}"
    );
    curfew().run(["logout", "nobody", "--yes"]).expect(4);
    assert_live(&alice_app).await;
    assert_live(&alicia).await;

    let done = curfew()
        .run(["logout", "ALICE", "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(done["username"], "alice");
    assert_eq!(done["sessions_revoked"], 2);
    assert_eq!(done["users_affected"], 1);
    assert_revoked(&alice_app).await;
    assert_revoked(&alice_web).await;
    assert_live(&alicia).await;
    assert_live(&root).await;

    let human = curfew().run(["logout", "alicia", "-y"]).expect(0);
    assert_eq!(human.stdout, "Logged out alicia: 1 session ended.\n");
    assert_revoked(&alicia).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_all_names_the_numbers_and_keeps_the_admins_when_asked() {
    let server = Server::start();
    for (name, role) in [
        ("root", "admin"),
        ("carol", "support"),
        ("alice", "member"),
        ("bob", "member"),
    ] {
        server.add_user(name, role);
    }
    let root = server.login("root", Web).await;
    let carol = server.login("carol", App).await;
    let alice = server.login("alice", App).await;
    let bob_app = server.login("bob", App).await;
    let bob_web = server.login("bob", Web).await;
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);

    let refused = curfew().run(["logout-all"]).expect(2);
    assert!(
        refused.stderr.contains(
            "Sign out 3 users (4 sessions: 3 app, 1 web)? You stay signed in; the other \
             administrators are signed out too."
        ),
        "{refused:?}"
    );
    let refused = curfew().run(["logout-all", "--keep-admins"]).expect(2);
    assert!(
        refused
            .stderr
            .contains("Sign out 2 users (3 sessions: 2 app, 1 web)?"),
        "{refused:?}"
    );
    for client in [&carol, &alice, &bob_app, &bob_web] {
        assert_live(client).await;
    }

    let done = curfew()
        .run(["logout-all", "--keep-admins", "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(done["sessions_revoked"], 3);
    assert_eq!(done["users_affected"], 2);
    assert_eq!(done["keep_admins"], true);
    for client in [&alice, &bob_app, &bob_web] {
        assert_revoked(client).await;
    }
    assert_live(&carol).await;
    assert_live(&root).await;

    let human = curfew().run(["logout-all", "--yes"]).expect(0);
    assert_eq!(human.stdout, "Signed out 1 user (1 session).\n");
    assert_revoked(&carol).await;
    assert_live(&root).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivate_asks_ends_the_sessions_and_activate_undoes_it() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let alice = server.login("alice", App).await;
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);

    let refused = curfew().run(["deactivate", "alice"]).expect(2);
    assert!(
        refused
            .stderr
            .contains("Deactivate alice (alice) and end 1 session (1 app, 0 web)?"),
        "{refused:?}"
    );
    assert_live(&alice).await;
    let listed = curfew()
        .run(["users", "--deactivated", "--json"])
        .expect(0)
        .json();
    assert!(usernames(&listed).is_empty());

    let done = curfew()
        .run(["deactivate", "alice", "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(done["user"]["username"], "alice");
    assert_eq!(done["user"]["status"], "deactivated");
    assert_eq!(done["sessions_revoked"], 1);
    assert_revoked(&alice).await;
    let refused_login = server
        .client()
        .login(&curfew::api::LoginRequest {
            username: "alice".into(),
            password: PASSWORD.into(),
            client: App,
            device_name: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refused_login.code(), Some("account_deactivated"));

    // Activating is not destructive: no question.
    let done = curfew()
        .run(["activate", "alice", "--json"])
        .expect(0)
        .json();
    assert_eq!(done["user"]["status"], "active");
    server.login("alice", App).await;
    curfew().run(["activate", "nobody"]).expect(4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_is_scheduled_listed_and_cancelled() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let _alice = server.login("alice", App).await;
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);
    let schedule = [
        "maintenance",
        "schedule",
        "--at",
        "in 2h",
        "--message",
        "Upgrade to v2",
        "--warn",
        "60m,15m",
        "--freeze",
        "10m",
        "--ends",
        "in 3h",
    ];

    let refused = curfew().run(schedule).expect(2);
    assert!(refused.stderr.contains("(in 2h)"), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("warnings 1h, 15m before, logins frozen 10m before"),
        "{refused:?}"
    );
    assert!(
        refused
            .stderr
            .contains("at the start everyone but you is signed out (1 user, 1 session as of now)?"),
        "{refused:?}"
    );
    let list = curfew()
        .run(["maintenance", "list", "--json"])
        .expect(0)
        .json();
    assert_eq!(list["windows"].as_array().unwrap().len(), 0, "{list}");

    let before = Utc::now();
    let window = curfew()
        .args_then(schedule, ["--yes", "--json"])
        .expect(0)
        .json();
    let after = Utc::now();
    let starts = at(&window["starts_at"]);
    assert!(
        starts >= before + chrono::Duration::hours(2) - chrono::Duration::seconds(1)
            && starts <= after + chrono::Duration::hours(2),
        "{window}"
    );
    assert_eq!(
        (at(&window["ends_at"]) - starts).num_seconds(),
        3600,
        "{window}"
    );
    assert_eq!(window["warn_before"], serde_json::json!([3600, 900]));
    assert_eq!(window["freeze_before"], 600);
    assert_eq!(window["message"], "Upgrade to v2");
    assert_eq!(window["state"], "scheduled");
    let id = window["id"].as_str().unwrap().to_owned();

    let list = curfew()
        .run(["maintenance", "list", "--json"])
        .expect(0)
        .json();
    assert_eq!(list["windows"][0]["id"], id.as_str());
    let table = curfew().run(["maintenance", "list"]).expect(0).stdout;
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table.contains(&id) && table.contains("scheduled") && table.contains("Upgrade to v2"),
        "{table}"
    );

    let refused = curfew().run(["maintenance", "cancel", &id]).expect(2);
    assert!(
        refused.stderr.contains("Cancel the maintenance window of"),
        "{refused:?}"
    );
    let list = curfew()
        .run(["maintenance", "list", "--json"])
        .expect(0)
        .json();
    assert_eq!(list["windows"][0]["state"], "scheduled");

    let cancelled = curfew()
        .run(["maintenance", "cancel", &id, "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(cancelled["id"], id.as_str());
    assert_eq!(cancelled["state"], "cancelled");

    // Unknown windows, ids that are not ids, times and durations that are not.
    curfew()
        .run([
            "maintenance",
            "cancel",
            &uuid::Uuid::new_v4().to_string(),
            "--yes",
        ])
        .expect(4);
    curfew()
        .run([
            "maintenance",
            "end",
            &uuid::Uuid::new_v4().to_string(),
            "--yes",
        ])
        .expect(4);
    curfew()
        .run(["maintenance", "cancel", "not-an-id"])
        .expect(2);
    let bad = curfew()
        .run([
            "maintenance",
            "schedule",
            "--at",
            "soon",
            "--message",
            "x",
            "--yes",
        ])
        .expect(2);
    assert!(bad.stderr.contains("\"soon\" is not a time"), "{bad:?}");
    curfew()
        .run([
            "maintenance",
            "schedule",
            "--at",
            "in 1h",
            "--message",
            "x",
            "--warn",
            "5",
            "--yes",
        ])
        .expect(2);
    // The server's own refusal (a start in the past), its sentence once, exit 1.
    let past = curfew()
        .run([
            "maintenance",
            "schedule",
            "--at",
            "1h ago",
            "--message",
            "x",
            "--yes",
        ])
        .expect(1);
    assert_eq!(past.stderr.matches("curfew: ").count(), 1, "{past:?}");
    let list = curfew()
        .run(["maintenance", "list", "--json"])
        .expect(0)
        .json();
    assert_eq!(list["windows"].as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_window_is_ended_now() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let alice = server.login("alice", App).await;
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);

    // Parsed by curfew itself, so that its own start-up does not eat into the lead.
    let start = "in 3s";
    let window = curfew()
        .run([
            "maintenance",
            "schedule",
            "--at",
            start,
            "--message",
            "Now",
            "--warn",
            "1m",
            "--freeze",
            "1m",
            "--yes",
            "--json",
        ])
        .expect(0)
        .json();
    let id = window["id"].as_str().unwrap().to_owned();
    until("the window to start", Duration::from_secs(30), || {
        let list = curfew()
            .run(["maintenance", "list", "--json"])
            .expect(0)
            .json();
        list["windows"][0]["state"] == "running"
    });
    assert_revoked(&alice).await;
    assert_live(&root).await;

    let refused = curfew().run(["maintenance", "end", &id]).expect(2);
    assert!(
        refused.stderr.contains("End the maintenance window of") && refused.stderr.contains("now?"),
        "{refused:?}"
    );
    let ended = curfew()
        .run(["maintenance", "end", &id, "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(ended["state"], "ended");
    server.login("alice", App).await;
    // Ending it again is the server's refusal: exit 1, its sentence once.
    let again = curfew().run(["maintenance", "end", &id, "--yes"]).expect(1);
    assert_eq!(again.stderr.lines().count(), 1, "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_shows_who_did_what_since_when() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let _alice = server.login("alice", App).await;
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);

    curfew().run(["logout", "alice", "--yes"]).expect(0);
    let entries = curfew().run(["audit", "--json"]).expect(0).json();
    let first = &entries["entries"][0];
    assert_eq!(first["action"], "logout_user", "{entries}");
    assert_eq!(first["actor_username"], "root");
    assert_eq!(first["target_username"], "alice");
    assert_eq!(first["sessions_revoked"], 1);
    let table = curfew().run(["audit"]).expect(0).stdout;
    assert!(table.starts_with("WHEN"), "{table}");
    assert!(
        table.contains("logged out") && table.contains("alice"),
        "{table}"
    );

    let since = curfew()
        .run(["audit", "--since", "1h ago", "--json"])
        .expect(0)
        .json();
    assert!(
        since["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "logout_user"),
        "{since}"
    );
    let later = (Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let none = curfew()
        .run(["audit", "--since", &later, "--json"])
        .expect(0)
        .json();
    assert_eq!(none["entries"], serde_json::json!([]), "{none}");
    curfew().run(["audit", "--since", "last week"]).expect(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_names_the_users_of_an_entry_on_several_as_the_activity_view_does() {
    let server = Server::start();
    server.add_user("root", "admin");
    for name in ["alice", "carol", "dave", "erin"] {
        server.add_user(name, "member");
        server.login(name, Web).await;
    }
    let root = server.login("root", Web).await;
    let members = curfew::api::UserSelection {
        ids: None,
        matching: Some(curfew::api::UserMatch {
            role: Some(curfew::api::Role::Member),
            ..Default::default()
        }),
    };
    root.logout_selected(&members, false).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);

    let table = curfew().run(["audit"]).expect(0).stdout;
    let row = table
        .lines()
        .find(|l| l.contains("logged out selected users"))
        .unwrap_or_else(|| panic!("no logout_selected row:\n{table}"));
    assert!(
        row.contains("4 users: alice, carol, dave and 1 more"),
        "{table}"
    );
    let everything = curfew().run(["audit", "--all"]).expect(0).stdout;
    assert!(
        everything.contains("4 users: alice, carol, dave and 1 more"),
        "{everything}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_curfew_asks_and_the_answer_decides() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let alice = server.login("alice", App).await;
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("CURFEW_SERVER", server.url.as_str()),
        ("CURFEW_TOKEN", root.token().unwrap()),
    ];

    let declined = on_terminal(home.path(), &env, &["logout", "alice"], "n\n");
    assert_eq!(declined.code, 1, "{declined:?}");
    assert!(
        declined
            .stdout
            .contains("Log out alice (alice): end 1 session (1 app, 0 web)? [y/N]"),
        "{declined:?}"
    );
    assert!(
        declined.stdout.contains("Nothing was done."),
        "{declined:?}"
    );
    assert_live(&alice).await;

    let accepted = on_terminal(home.path(), &env, &["logout", "alice"], "y\n");
    assert_eq!(accepted.code, 0, "{accepted:?}");
    assert!(
        accepted
            .stdout
            .contains("Logged out alice: 1 session ended."),
        "{accepted:?}"
    );
    assert_revoked(&alice).await;

    // The password at a prompt on the terminal (here with a token printed, not kept).
    let login = on_terminal(
        home.path(),
        &[],
        &[
            "login",
            "--server",
            &server.url,
            "--username",
            "alice",
            "--print-token",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(login.code, 0, "{login:?}");
    assert!(login.stdout.contains("Password for alice at "), "{login:?}");
    let token = login.stdout.trim_end().lines().last().unwrap().trim();
    let session = server.client().with_token(token).session().await.unwrap();
    assert_eq!(session.username, "alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_repeats_and_moves() {
    let server = Server::start();
    server.add_user("root", "admin");
    let root = server.login("root", Web).await;
    let home = tempfile::tempdir().unwrap();
    let curfew = || Curfew::with_token(home.path(), &server, &root);
    let schedule = |rule: &'static str| {
        [
            "maintenance",
            "schedule",
            "--at",
            "in 2h",
            "--ends",
            "in 3h",
            "--message",
            "Weekly patching",
            "--repeat",
            rule,
            "--time-zone",
            "Europe/Berlin",
        ]
    };
    // A rule curfewd does not run is refused before anything is asked or sent.
    let refused = curfew().run(schedule("FREQ=DAILY;COUNT=3")).expect(2);
    assert!(refused.stderr.contains("weekly or monthly"), "{refused:?}");
    let asked = curfew()
        .run(schedule("FREQ=MONTHLY;BYMONTHDAY=1,15;COUNT=4"))
        .expect(2);
    assert!(
        asked
            .stderr
            .contains("It repeats every month on day 1 and 15 at"),
        "{asked:?}"
    );
    assert!(
        asked.stderr.contains("(Europe/Berlin), 4 times"),
        "{asked:?}"
    );
    let first = curfew()
        .args_then(
            schedule("FREQ=MONTHLY;BYMONTHDAY=1,15;COUNT=4"),
            ["--yes", "--json"],
        )
        .expect(0)
        .json();
    assert_eq!(first["series"]["time_zone"], "Europe/Berlin");
    assert_eq!(
        first["series"]["next"].as_array().unwrap().len(),
        4,
        "{first}"
    );
    let id = first["id"].as_str().unwrap().to_owned();

    // Move it an hour later: the length stays, and the window says where it came from.
    let moved = curfew()
        .run([
            "maintenance",
            "move",
            &id,
            "--at",
            "in 5h",
            "--yes",
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(moved["moved_from"], first["starts_at"], "{moved}");
    assert_eq!(
        (at(&moved["ends_at"]) - at(&moved["starts_at"])).num_seconds(),
        3600,
        "{moved}"
    );
    assert_eq!(moved["message"], "Weekly patching");
    curfew()
        .run([
            "maintenance",
            "move",
            &uuid::Uuid::new_v4().to_string(),
            "--at",
            "in 5h",
            "--yes",
        ])
        .expect(4);
}
