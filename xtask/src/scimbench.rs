//! Part of `cargo xtask bench --only import`: SCIM provisioning as an identity provider
//! drives it. 1,000 users created one `POST /scim/v2/Users` at a time (requests/s, as
//! Okta's and Entra's first sync sends them), then, with 100,000 users in the database,
//! `GET /scim/v2/Users?filter=userName eq "…"` lookups (p50/p99), the request both send
//! before every change. SQLite, release build, loopback.

use std::path::Path;
use std::time::{Duration, Instant};

use curfew::api::{ClientKind, LoginRequest, NewServiceToken, TokenScope};
use curfew::{Client, ClientOptions};
use hdrhistogram::Histogram;
use serde_json::json;

use crate::bench::{Curfewd, ADMIN_PASSWORD};

const CREATES: usize = 1_000;
const USERS_FOR_LOOKUPS: usize = 100_000;
const LOOKUPS: usize = 2_000;
/// Lookups in flight at once, as a provider's sync runs a few workers.
const LOOKUP_WORKERS: usize = 4;

pub struct ScimRun {
    pub creates: usize,
    pub creates_per_second: f64,
    pub users: usize,
    pub lookups: usize,
    pub lookup_p50_ms: f64,
    pub lookup_p99_ms: f64,
}

pub async fn run(bin: &Path) -> anyhow::Result<ScimRun> {
    let dir = crate::target_dir().join("bench").join("scim");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}", dir.join("scim.db").display());
    crate::importbench::add_admin(bin, &url)?;
    let server = Curfewd::start(bin, &url, &dir.join("curfewd.log"))?;
    let client = Client::with_options(
        &server.url,
        ClientOptions {
            request_timeout: Duration::from_secs(600),
            ..ClientOptions::default()
        },
    )?;
    let (admin, _) = client
        .login(&LoginRequest {
            username: "root".into(),
            password: ADMIN_PASSWORD.into(),
            client: ClientKind::App,
            device_name: Some("scim bench".into()),
        })
        .await?;
    let token = admin
        .create_service_token(&NewServiceToken {
            name: "SCIM bench".into(),
            scopes: vec![TokenScope::Scim],
            expires_in_days: None,
        })
        .await?
        .token;
    let http = reqwest::Client::new();
    let users = format!("{}/scim/v2/Users", server.url);

    eprintln!("==> SCIM: {CREATES} users created one request at a time");
    let started = Instant::now();
    for i in 0..CREATES {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("scim{i:05}@example.org"),
            "name": { "givenName": "Scim", "familyName": format!("User {i}") },
            "emails": [{ "primary": true, "value": format!("scim{i:05}@example.org"), "type": "work" }],
            "externalId": format!("ext-{i}"),
            "active": true
        });
        let answer = http
            .post(&users)
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await?;
        anyhow::ensure!(answer.status() == 201, "create {i}: {}", answer.status());
    }
    let creates_per_second = CREATES as f64 / started.elapsed().as_secs_f64();

    eprintln!("==> SCIM: filling the database to {USERS_FOR_LOOKUPS} users (CSV import)");
    let mut csv = String::from("username,display_name\n");
    for i in 0..USERS_FOR_LOOKUPS - CREATES {
        csv.push_str(&format!("person{i:06},Person {i}\n"));
    }
    let report = admin.import_users(csv, false).await?;
    anyhow::ensure!(report.applied, "the import was not applied");

    eprintln!("==> SCIM: {LOOKUPS} lookups by userName at {USERS_FOR_LOOKUPS} users");
    let mut histogram = Histogram::<u64>::new(3)?;
    let per_worker = LOOKUPS / LOOKUP_WORKERS;
    let mut workers = Vec::new();
    for w in 0..LOOKUP_WORKERS {
        let (http, users, token) = (http.clone(), users.clone(), token.clone());
        workers.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(per_worker);
            for n in 0..per_worker {
                let i = (w * per_worker + n) * 37 % (USERS_FOR_LOOKUPS - CREATES);
                let filter = format!("userName eq \"person{i:06}\"");
                let started = Instant::now();
                let answer = http
                    .get(&users)
                    .bearer_auth(&token)
                    .query(&[("filter", filter.as_str())])
                    .send()
                    .await?;
                let body: serde_json::Value = answer.json().await?;
                anyhow::ensure!(body["totalResults"] == 1, "lookup {i}: {body}");
                times.push(started.elapsed());
            }
            anyhow::Ok(times)
        }));
    }
    for worker in workers {
        for time in worker.await?? {
            histogram.record(time.as_micros() as u64)?;
        }
    }
    server.stop()?;
    Ok(ScimRun {
        creates: CREATES,
        creates_per_second,
        users: USERS_FOR_LOOKUPS,
        lookups: histogram.len() as usize,
        lookup_p50_ms: histogram.value_at_quantile(0.5) as f64 / 1000.0,
        lookup_p99_ms: histogram.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

pub fn print(run: &ScimRun) {
    println!();
    println!("SCIM provisioning (SQLite)");
    println!(
        "  POST /scim/v2/Users, one at a time: {} users, {:.0} requests/s",
        run.creates, run.creates_per_second
    );
    println!(
        "  GET /scim/v2/Users?filter=userName eq \"…\" at {} users, {} lookups by {LOOKUP_WORKERS} workers: p50 {:.2} ms, p99 {:.2} ms",
        run.users, run.lookups, run.lookup_p50_ms, run.lookup_p99_ms
    );
}
