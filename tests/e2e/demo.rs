//! The demo's passwords as the README gives them: the ones `cargo xtask demo` seeds, and
//! the ones `curfewd demo-seed` prints when it is run on its own.

use std::process::Command;

use curfew::api::{ClientKind, LoginRequest, Role, UserStatus};

use crate::support::{curfewd_bin, Server};

/// The text after `before` up to the next backtick, in `text`.
fn quoted_after<'a>(text: &'a str, before: &str) -> &'a str {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("the README no longer says {before:?}"))
        + before.len();
    let rest = &text[start..];
    &rest[..rest.find('`').expect("a closing backtick")]
}

fn seed(server: &Server, admin_password: Option<&str>) -> String {
    let mut seed = Command::new(curfewd_bin());
    seed.args(["demo-seed", "--database-url", &server.database_url])
        .args(["--users", "20"])
        .env("CURFEW_LOG", "warn");
    if let Some(password) = admin_password {
        seed.args(["--admin-password", password]);
    }
    let out = seed.output().expect("demo-seed runs");
    assert!(
        out.status.success(),
        "demo-seed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

async fn signs_in(server: &Server, username: &str, password: &str) -> bool {
    server
        .client()
        .login(&LoginRequest {
            username: username.into(),
            password: password.into(),
            client: ClientKind::App,
            device_name: None,
        })
        .await
        .is_ok()
}

/// The first demo member's username, from the seeded users.
async fn a_member(server: &Server, admin_password: &str) -> String {
    let (admin, _) = server
        .client()
        .login(&LoginRequest {
            username: "admin".into(),
            password: admin_password.into(),
            client: ClientKind::App,
            device_name: None,
        })
        .await
        .expect("the admin signs in");
    let page = admin
        .users(&Default::default())
        .await
        .expect("the admin lists users");
    page.users
        .into_iter()
        .find(|u| u.role == Role::Member && u.status == UserStatus::Active)
        .expect("an active demo member")
        .username
}

#[tokio::test]
async fn the_readmes_demo_passwords_sign_in() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("the README");
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let admin_password = quoted_after(&flat, "username filled in: the password is `");
    let member_password = quoted_after(&flat, "every other demo user's is `");
    // `cargo xtask demo` seeds the password the README gives.
    let xtask = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/xtask/src/main.rs"))
        .expect("xtask's source");
    let xtask = xtask.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        xtask.contains(&format!("\"--admin-password\", \"{admin_password}\"")),
        "cargo xtask demo does not seed the README's admin password {admin_password:?}"
    );

    let server = Server::start();
    seed(&server, Some(admin_password));
    assert!(signs_in(&server, "admin", admin_password).await);
    let member = a_member(&server, admin_password).await;
    assert!(
        signs_in(&server, &member, member_password).await,
        "{member} with the README's {member_password:?}"
    );
    assert!(!signs_in(&server, "admin", "wrong-password").await);

    // On its own, demo-seed prints a new admin password, and it is the one that works.
    let alone = Server::start();
    let printed = seed(&alone, None);
    let line = printed
        .lines()
        .find(|l| l.starts_with("admin:"))
        .unwrap_or_else(|| panic!("demo-seed printed no admin line: {printed}"));
    let random = line.split_whitespace().last().expect("a password");
    assert_ne!(random, admin_password, "{printed}");
    assert!(signs_in(&alone, "admin", random).await, "{printed}");
    assert!(!signs_in(&alone, "admin", admin_password).await);
}
