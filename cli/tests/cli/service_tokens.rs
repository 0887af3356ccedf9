//! Service tokens made with `curfewd token create`, used by `curfew` from CURFEW_TOKEN and
//! `--token-file`, listed and revoked with `curfewd token`; and `curfewd user import`
//! against the same real database while curfewd serves it.

use curfew::api::ClientKind::{App, Web};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curfew_runs_on_a_service_token_within_its_scopes() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let alice = server.login("alice", App).await;

    let made = server
        .curfewd(&[
            "token",
            "create",
            "--name",
            "ci deploy",
            "--scope",
            "read,force_logout",
        ])
        .expect(0);
    let token = made.stdout.trim().to_owned();
    assert!(token.starts_with("cft_"), "{made:?}");
    assert!(made.stderr.contains("printed once"), "{made:?}");
    let home = tempfile::tempdir().unwrap();
    let curfew = || {
        let mut c = Curfew::new(home.path());
        c.env("CURFEW_SERVER", &server.url)
            .env("CURFEW_TOKEN", &token);
        c
    };

    let users = curfew().run(["users", "--json"]).expect(0).json();
    assert_eq!(usernames(&users), ["alice", "root"]);
    let done = curfew()
        .run(["logout", "alice", "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(done["sessions_revoked"], 1, "{done}");
    assert_revoked(&alice).await;
    // No maintenance scope: refused as "not permitted", the server's sentence once.
    let refused = curfew()
        .run([
            "maintenance",
            "schedule",
            "--at",
            "in 2h",
            "--message",
            "Update",
            "--yes",
        ])
        .expect(3);
    assert!(refused.stderr.contains("maintenance scope"), "{refused:?}");
    assert!(refused.stderr.contains("ci deploy"), "{refused:?}");

    // The same token from a file.
    let file = home.path().join("token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let mut from_file = Curfew::new(home.path());
    from_file.env("CURFEW_SERVER", &server.url);
    let listed = from_file
        .run(["--token-file", file.to_str().unwrap(), "users", "--json"])
        .expect(0)
        .json();
    assert_eq!(usernames(&listed), ["alice", "root"]);

    // The audit names the token; the list shows its use.
    let audit = Curfew::with_token(home.path(), &server, &root)
        .run(["audit", "--json"])
        .expect(0)
        .json();
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "logout_user")
        .expect("the logout is audited");
    assert_eq!(entry["actor_username"], "ci deploy");
    assert_eq!(entry["actor_kind"], "service_token");
    until(
        "the token's use is recorded",
        std::time::Duration::from_secs(5),
        || server.curfewd(&["token", "list"]).stdout.contains("used "),
    );
    let list = server.curfewd(&["token", "list"]).expect(0);
    assert!(
        list.stdout
            .contains("ci deploy  read,force_logout  no expiry  used "),
        "{list:?}"
    );
    assert!(
        !list.stdout.contains(&token[4..]),
        "the list never shows the token"
    );

    assert!(
        !server.log_text().contains(&token[4..]),
        "curfewd never logs a service token"
    );
    server.curfewd(&["token", "revoke", "ci deploy"]).expect(0);
    let refused = curfew().run(["users"]).expect(3);
    assert!(refused.stderr.contains("revoked"), "{refused:?}");
    let again = server.curfewd(&["token", "revoke", "ci deploy"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(server
        .curfewd(&["token", "create", "--name", "x", "--scope", "admin"])
        .stderr
        .contains("unknown scope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curfewd_user_import_previews_applies_and_refuses_bad_files() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let alice = server.login("alice", App).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("people.csv");
    std::fs::write(
        &good,
        "\u{feff}username;display_name;email;role;active\r\n\
         carol;\"Diaz; Carol\";carol@example.com;support;yes\r\n\
         alice;Alice Martin;;;no\r\n",
    )
    .unwrap();
    let path = good.to_str().unwrap();

    let preview = server
        .curfewd(&["user", "import", path, "--dry-run"])
        .expect(0);
    assert!(
        preview
            .stdout
            .contains("would import: 1 new, 1 changed, 0 unchanged of 2 rows"),
        "{preview:?}"
    );
    assert_live(&alice).await;
    let names = |page: curfew::api::UserPage| {
        let mut names: Vec<String> = page.users.into_iter().map(|u| u.username).collect();
        names.sort();
        names
    };
    assert_eq!(
        names(root.users(&Default::default()).await.unwrap()),
        ["alice", "root"]
    );

    let applied = server.curfewd(&["user", "import", path]).expect(0);
    assert!(
        applied.stdout.contains("imported: 1 new, 1 changed"),
        "{applied:?}"
    );
    assert!(applied.stdout.contains("1 sessions ended"), "{applied:?}");
    assert_revoked(&alice).await;
    let page = root.users(&Default::default()).await.unwrap();
    let carol = page
        .users
        .iter()
        .find(|u| u.username == "carol")
        .expect("carol");
    assert_eq!(carol.display_name, "Diaz; Carol");
    let again = server.curfewd(&["user", "import", path]).expect(0);
    assert!(
        again.stdout.contains("0 new, 0 changed, 2 unchanged"),
        "{again:?}"
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "username,role\ndan,member\neve,boss\n").unwrap();
    let refused = server
        .curfewd(&["user", "import", bad.to_str().unwrap()])
        .expect(1);
    assert!(refused.stderr.contains("line      3  error"), "{refused:?}");
    assert!(
        refused.stderr.contains("nothing was imported"),
        "{refused:?}"
    );
    let unknown = dir.path().join("unknown.csv");
    std::fs::write(&unknown, "username,team\ndan,x\n").unwrap();
    let refused = server
        .curfewd(&["user", "import", unknown.to_str().unwrap()])
        .expect(1);
    assert!(refused.stderr.contains("\"team\""), "{refused:?}");
    let page = root.users(&Default::default()).await.unwrap();
    assert!(
        !page.users.iter().any(|u| u.username == "dan"),
        "nothing applied"
    );
}
