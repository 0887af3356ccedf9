//! Exit codes, the server's sentence once, and what the command line generates from its
//! own definitions: help, shell completions, the man page.

use curfew::api::ClientKind::Web;
use curfew_testkit::free_port;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_say_what_went_wrong() {
    let server = Server::start();
    server.add_user("root", "admin");
    server.add_user("alice", "member");
    let root = server.login("root", Web).await;
    let alice = server.login("alice", Web).await;
    let home = tempfile::tempdir().unwrap();

    // 2: usage.
    for args in [
        vec!["frobnicate"],
        vec!["users", "--bogus"],
        vec!["users", "--online", "--deactivated"],
        vec!["logout"],
        vec!["maintenance", "schedule", "--message", "no start"],
    ] {
        let run = Curfew::with_token(home.path(), &server, &root).run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{args:?}: {run:?}");
    }
    let insecure = Curfew::with_token(home.path(), &server, &root)
        .env("CURFEW_SERVER", "http://curfew.example.com")
        .run(["users"])
        .expect(2);
    assert!(insecure.stderr.contains("https://"), "{insecure:?}");

    // 3: not permitted, with the server's sentence exactly once.
    let sentence = alice
        .users(&Default::default())
        .await
        .unwrap_err()
        .to_string();
    let member = Curfew::with_token(home.path(), &server, &alice)
        .run(["users"])
        .expect(3);
    assert_eq!(member.stderr, format!("curfew: {sentence}\n"));
    assert!(member.stdout.is_empty());
    let member = Curfew::with_token(home.path(), &server, &alice)
        .run(["logout-all", "--yes", "--json"])
        .expect(3);
    assert_eq!(member.stderr.matches(&sentence).count(), 1, "{member:?}");
    assert_live(&root).await;
    let nobody = Curfew::new(home.path()).run(["users"]).expect(3);
    assert!(nobody.stderr.contains("curfew login"), "{nobody:?}");
    // A token file whose session has ended.
    let ended = server.login("root", Web).await;
    let file = home.path().join("token");
    std::fs::write(&file, format!("{}\n", ended.token().unwrap())).unwrap();
    ended.logout().await.unwrap();
    let revoked = Curfew::new(home.path())
        .env("CURFEW_SERVER", &server.url)
        .run(["users", "--token-file", file.to_str().unwrap()])
        .expect(3);
    assert_eq!(revoked.stderr.lines().count(), 1, "{revoked:?}");
    // ...and one whose session is live works.
    std::fs::write(&file, root.token().unwrap()).unwrap();
    let listed = Curfew::new(home.path())
        .run([
            "users",
            "--json",
            "--server",
            &server.url,
            "--token-file",
            file.to_str().unwrap(),
        ])
        .expect(0)
        .json();
    assert_eq!(usernames(&listed), ["alice", "root"]);

    // 1: a server that cannot be reached.
    let unreachable = Curfew::with_token(home.path(), &server, &root)
        .env("CURFEW_SERVER", format!("http://127.0.0.1:{}", free_port()))
        .run(["users"])
        .expect(1);
    assert!(
        unreachable.stderr.contains("Could not reach the server"),
        "{unreachable:?}"
    );
}

#[test]
fn help_documents_the_exit_codes_and_the_commands() {
    let home = tempfile::tempdir().unwrap();
    let help = Curfew::new(home.path()).run(["--help"]).expect(0).stdout;
    for needle in [
        "Exit codes:",
        "0  done",
        "1  error",
        "2  usage",
        "3  not permitted",
        "4  not found",
        "CURFEW_TOKEN",
        "logout-all",
        "maintenance",
        "tomorrow 22:00",
    ] {
        assert!(help.contains(needle), "{needle:?} missing from:\n{help}");
    }
    let schedule = Curfew::new(home.path())
        .run(["maintenance", "schedule", "--help"])
        .expect(0)
        .stdout;
    assert!(schedule.contains("--warn <DURATIONS>"), "{schedule}");
    assert!(schedule.contains("60m,15m,5m,1m"), "{schedule}");
}

#[test]
fn completions_and_the_man_page_come_from_the_definitions() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bash = Curfew::new(home.path())
        .run(["completions", "bash"])
        .expect(0)
        .stdout;
    assert!(bash.contains("logout-all") && bash.contains("--keep-admins"));
    assert!(
        bash.lines()
            .any(|l| l.trim_start().starts_with("complete -F _curfew ") && l.ends_with(" curfew")),
        "the completion is registered for the binary `curfew`: {bash}"
    );
    let script = dir.path().join("curfew.bash");
    std::fs::write(&script, &bash).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash");
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    let zsh = Curfew::new(home.path())
        .run(["completions", "zsh"])
        .expect(0)
        .stdout;
    assert_eq!(zsh.lines().next(), Some("#compdef curfew"), "{zsh}");
    assert!(zsh.contains("maintenance"));
    let fish = Curfew::new(home.path())
        .run(["completions", "fish"])
        .expect(0)
        .stdout;
    assert!(fish.contains("complete -c curfew -n "), "{fish}");
    assert!(fish.contains("deactivate"));
    Curfew::new(home.path())
        .run(["completions", "tcsh"])
        .expect(2);

    let man = Curfew::new(home.path()).run(["man"]).expect(0).stdout;
    assert!(
        man.starts_with(".ie") || man.contains(".TH curfew"),
        "{man}"
    );
    assert!(man.contains(".TH curfew"), "{man}");
    assert!(man.contains("Exit codes"), "{man}");
    assert!(man.contains("logout\\-all"), "{man}");
}
