//! Demo data: realistic names, a mix of app and web sessions, a few deactivated accounts,
//! one admin whose credentials are printed, and one support account.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use curfew::api::{ClientKind, Role, UserStatus};
use rand::seq::SliceRandom;
use rand::Rng;

use uuid::Uuid;

use crate::core::secrets;
use crate::store::sessions::{insert_session_in, NewSession};
use crate::store::users::insert_user_in;
use crate::store::{NewUser, Store};

const FIRST: &[&str] = &[
    "Alice", "Bob", "Carol", "David", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Victor",
    "Wen", "Xavier", "Yara", "Zoë", "Amir", "Björn", "Chloé", "Dmitri", "Elif", "Fatima", "Giulia",
    "Hannah", "Ivan", "Jamal", "Keiko", "Lucía", "Mateo", "Nadia", "Oscar", "Priya", "Rafael",
    "Sofia", "Tomás", "Ulla", "Vera", "William", "Ximena", "Yusuf", "Zainab", "Aiko", "Bruno",
    "Camille", "Diego", "Esther", "Felix", "Gabriel", "Helga", "Isaac",
];

const LAST: &[&str] = &[
    "Martin",
    "Okafor",
    "Diaz",
    "Nguyen",
    "Schmidt",
    "Haddad",
    "Kowalski",
    "Tanaka",
    "García",
    "Andersson",
    "Adeyemi",
    "O'Brien",
    "Patel",
    "Rossi",
    "Novak",
    "Fernández",
    "Murphy",
    "Silva",
    "Larsen",
    "Cohen",
    "Kim",
    "Dubois",
    "Müller",
    "Yilmaz",
    "Hernández",
    "Ivanova",
    "Khan",
    "Costa",
    "Jensen",
    "Mensah",
    "Sato",
    "Lindqvist",
    "Moreau",
    "Popescu",
    "Horvat",
    "Wójcik",
    "Nakamura",
    "Ribeiro",
    "Bauer",
    "Eriksen",
    "Chen",
    "Singh",
    "Ali",
    "Park",
    "Lopez",
    "Jovanović",
    "Virtanen",
    "Brennan",
    "Quispe",
    "Abebe",
];

pub struct SeedPlan {
    pub users: usize,
    pub sessions_per_user: usize,
    pub online_share: f64,
    pub deactivated_share: f64,
    pub admin_password: Option<String>,
    pub tokens_out: Option<PathBuf>,
}

pub struct SeedSummary {
    pub users: usize,
    pub deactivated: usize,
    pub sessions: usize,
    pub admin_password: String,
    pub support_password: String,
    pub member_password: String,
}

impl fmt::Display for SeedSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seeded {} users ({} deactivated) with {} live sessions",
            self.users, self.deactivated, self.sessions
        )?;
        writeln!(
            f,
            "admin:   username admin    password {}",
            self.admin_password
        )?;
        writeln!(
            f,
            "support: username support  password {}",
            self.support_password
        )?;
        write!(
            f,
            "members: every other demo user has the password {}",
            self.member_password
        )
    }
}

fn ascii_fold(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'á' | 'à' | 'ä' | 'å' => Some('a'),
            'é' | 'è' | 'ë' => Some('e'),
            'í' | 'ï' => Some('i'),
            'ó' | 'ö' => Some('o'),
            'ú' | 'ü' => Some('u'),
            'ñ' => Some('n'),
            'ć' => Some('c'),
            'ł' => Some('l'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn random_password() -> String {
    let (token, _) = secrets::new_token();
    token[..16].to_owned()
}

pub async fn seed(store: &Store, plan: &SeedPlan) -> anyhow::Result<SeedSummary> {
    anyhow::ensure!(
        store.session_summary(crate::now_ms(), None).await?.users == 0,
        "the database already has users; demo-seed fills an empty database only"
    );
    let admin_password = plan.admin_password.clone().unwrap_or_else(random_password);
    let support_password = random_password();
    let member_password = "curfew-demo".to_owned();
    // One hash for all members: demo data, and hashing each would take minutes at 100k.
    let member_hash = secrets::hash_password(&member_password)?;
    let now = crate::now_ms();
    let expires = now + 14 * 24 * 3600 * 1000;
    let mut rng = rand::thread_rng();
    let mut tokens = match &plan.tokens_out {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => None,
    };

    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut batch = Vec::with_capacity(1000);
    let (mut deactivated, mut sessions) = (0, 0);
    for i in 0..plan.users {
        let (username, display_name, role, password_hash) = match i {
            0 => (
                "admin".to_owned(),
                "Ada Admin".to_owned(),
                Role::Admin,
                secrets::hash_password(&admin_password)?,
            ),
            1 => (
                "support".to_owned(),
                "Sam Support".to_owned(),
                Role::Support,
                secrets::hash_password(&support_password)?,
            ),
            _ => {
                let first = FIRST.choose(&mut rng).expect("names");
                let last = LAST.choose(&mut rng).expect("names");
                let base = format!("{}.{}", ascii_fold(first), ascii_fold(last));
                let n = seen.entry(base.clone()).or_default();
                *n += 1;
                let username = if *n == 1 { base } else { format!("{base}{n}") };
                let role = if rng.gen_bool(0.02) {
                    Role::Support
                } else {
                    Role::Member
                };
                (
                    username,
                    format!("{first} {last}"),
                    role,
                    member_hash.clone(),
                )
            }
        };
        let status = if i > 1 && rng.gen_bool(plan.deactivated_share) {
            deactivated += 1;
            UserStatus::Deactivated
        } else {
            UserStatus::Active
        };
        // Exactly `online_share` of the users, spread evenly (the admin signs in by hand).
        let online = status == UserStatus::Active
            && i > 0
            && ((i + 1) as f64 * plan.online_share).floor()
                > (i as f64 * plan.online_share).floor();
        let mut user_sessions = Vec::new();
        let mut last_seen = 0;
        if online {
            let first_kind = if rng.gen_bool(0.5) {
                ClientKind::App
            } else {
                ClientKind::Web
            };
            for k in 0..plan.sessions_per_user {
                let kind = match (first_kind, k % 2) {
                    (ClientKind::App, 0) | (ClientKind::Web, 1) => ClientKind::App,
                    _ => ClientKind::Web,
                };
                let (token, hash) = secrets::new_token();
                let at = now - rng.gen_range(0..3_600_000);
                last_seen = last_seen.max(at);
                if let Some(out) = tokens.as_mut() {
                    writeln!(out, "{username} {} {token}", kind.as_str())?;
                }
                user_sessions.push((kind, hash, at));
            }
        } else if rng.gen_bool(0.7) {
            last_seen = now - rng.gen_range(3_600_000..30 * 24 * 3_600_000);
        }
        sessions += user_sessions.len();
        batch.push((
            NewUser {
                username,
                display_name,
                email: None,
                role,
                status,
                password_hash,
            },
            last_seen,
            user_sessions,
        ));
        if batch.len() == 1000 {
            insert_batch(store, &batch, now, expires).await?;
            batch.clear();
        }
    }
    insert_batch(store, &batch, now, expires).await?;
    if let Some(mut out) = tokens {
        out.flush()?;
    }
    Ok(SeedSummary {
        users: plan.users,
        deactivated,
        sessions,
        admin_password,
        support_password,
        member_password,
    })
}

/// A demo user with its last-seen time (0: never) and its sessions (client, token hash,
/// last seen).
type DemoUser = (NewUser, i64, Vec<(ClientKind, String, i64)>);

/// Inserts users and their sessions in one transaction per batch, through the store's
/// row writers (the same statements sign-up and sign-in use).
async fn insert_batch(
    store: &Store,
    users: &[DemoUser],
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    let mut tx = store.begin().await?;
    for (user, last_seen, sessions) in users {
        let id = Uuid::new_v4();
        let last_seen = (*last_seen > 0).then_some(*last_seen);
        insert_user_in(&mut tx, id, user, now, last_seen).await?;
        for (client, token_hash, seen) in sessions {
            // Demo devices, so the sessions view has something to show.
            let (user_agent, address) = match client {
                ClientKind::Web => (DEMO_BROWSER, "192.0.2.10"),
                ClientKind::App => (DEMO_APP, "198.51.100.20"),
            };
            insert_session_in(
                &mut tx,
                &NewSession {
                    id: Uuid::new_v4(),
                    user_id: id,
                    client: *client,
                    token_hash,
                    at: *seen,
                    expires_at,
                    address: Some(address.to_owned()),
                    user_agent: Some(user_agent.to_owned()),
                    device_name: None,
                    idp: None,
                },
            )
            .await?;
        }
    }
    tx.commit().await
}

const DEMO_BROWSER: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0";
const DEMO_APP: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
