//! What each command does, on the `curfew` client. Everything a command needs from the
//! command line (WHEN, durations, the user) is checked before anything changes, and every
//! destructive command names what it will do, in numbers, before it does it.

use std::io::{BufRead, IsTerminal, Write};

use curfew::api::{
    AdminUser, AuditAction, AuditEntry, AuditQuery, ClientKind, LoginRequest, MaintenanceRequest,
    MaintenanceWindow, UserFilter, UserQuery, DEFAULT_FREEZE_BEFORE, DEFAULT_WARN_BEFORE,
};
use curfew::limits::{PAGE_DEFAULT, PAGE_MAX};
use curfew::Client;
use jiff::ZonedDateTime;
use serde_json::json;
use uuid::Uuid;

use crate::keychain::Keychain;
use crate::output::{count, number, out, outln, table};
use crate::profile::{self, Profile};
use crate::when::{self, human_seconds, local_time, Toward};
use crate::{Cli, Command, Failure, Global, Maintenance};

pub async fn run(cli: Cli) -> Result<(), Failure> {
    let g = &cli.global;
    match &cli.command {
        Command::Login {
            username,
            print_token,
        } => login(g, username, *print_token).await,
        Command::Signout => signout(g).await,
        Command::Users {
            online,
            deactivated,
            search,
        } => {
            let status = match (online, deactivated) {
                (true, _) => Some(UserFilter::Online),
                (_, true) => Some(UserFilter::Deactivated),
                _ => None,
            };
            users(g, status, search.as_deref()).await
        }
        Command::Logout { user } => logout_user(g, user).await,
        Command::LogoutAll { keep_admins } => logout_all(g, *keep_admins).await,
        Command::Deactivate { user } => deactivate(g, user).await,
        Command::Activate { user } => activate(g, user).await,
        Command::Maintenance(m) => maintenance(g, m).await,
        Command::Audit { since } => audit(g, since.as_deref()).await,
        Command::Completions { .. } | Command::Man => unreachable!("main prints these"),
    }
}

fn not_signed_in() -> Failure {
    Failure::not_permitted(
        "Not signed in: run `curfew login --server URL --username NAME`, or set CURFEW_TOKEN \
         (with --server URL) for scripts.",
    )
}

/// The signed-in client: `--token-file`, else `CURFEW_TOKEN`, else the keychain entry of
/// the profile `curfew login` saved.
async fn connect(g: &Global) -> Result<Client, Failure> {
    let explicit = if let Some(path) = &g.token_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!(
                "Could not read the token file {} ({e}).",
                path.display()
            ))
        })?;
        let token = text.lines().next().unwrap_or("").trim().to_owned();
        if token.is_empty() {
            return Err(Failure::usage(format!(
                "The token file {} is empty.",
                path.display()
            )));
        }
        Some((token, "--token-file"))
    } else {
        match std::env::var("CURFEW_TOKEN") {
            Ok(token) if !token.trim().is_empty() => {
                Some((token.trim().to_owned(), "CURFEW_TOKEN"))
            }
            _ => None,
        }
    };
    if let Some((token, source)) = explicit {
        let server = g
            .server
            .clone()
            .or_else(|| profile::load().map(|p| p.server))
            .ok_or_else(|| {
                Failure::usage(format!(
                    "With {source}, say which server: --server URL or CURFEW_SERVER."
                ))
            })?;
        return Ok(Client::new(&server)?.with_token(token));
    }
    let profile = profile::load().ok_or_else(not_signed_in)?;
    let server = match &g.server {
        Some(server) => curfew::parse_server_url(server)?.to_string(),
        None => profile.server.clone(),
    };
    let account = Keychain::account(&profile.username, &server);
    let token = Keychain::platform()
        .load(&account)
        .map_err(Failure::error)?
        .ok_or_else(not_signed_in)?;
    Ok(Client::new(&server)?.with_token(token))
}

/// Asks `question` on the terminal unless `--yes`; without a terminal, refuses.
fn confirm(g: &Global, question: &str) -> Result<(), Failure> {
    if g.yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::usage(format!(
            "{question}\nNothing was done: standard input is not a terminal, so there is no one \
             to ask. Add --yes to do it without asking."
        )));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::error(format!("Could not read the answer ({e}).")))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Failure::error("Nothing was done.")),
    }
}

fn read_password(username: &str, server: &str) -> Result<String, Failure> {
    let stdin = std::io::stdin();
    let password = if stdin.is_terminal() {
        rpassword::prompt_password(format!("Password for {username} at {server}: "))
            .map_err(|e| Failure::error(format!("Could not read the password ({e}).")))?
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::error(format!("Could not read the password ({e}).")))?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    if password.is_empty() {
        return Err(Failure::usage(
            "No password: type it at the prompt, or give it as one line on standard input.",
        ));
    }
    Ok(password)
}

async fn login(g: &Global, username: &str, print_token: bool) -> Result<(), Failure> {
    let server = g
        .server
        .as_deref()
        .ok_or_else(|| Failure::usage("curfew login needs --server URL (or CURFEW_SERVER)."))?;
    let server = curfew::parse_server_url(server)?.to_string();
    let username = username.trim();
    if username.is_empty() {
        return Err(Failure::usage("The username is empty."));
    }
    if print_token {
        let password = read_password(username, &server)?;
        let (_, response) = Client::new(&server)?
            .login(&LoginRequest {
                username: username.to_owned(),
                password,
                client: ClientKind::App,
                device_name: None,
            })
            .await?;
        outln!("{}", response.token);
        return Ok(());
    }
    let keychain = Keychain::platform();
    let account = Keychain::account(username, &server);
    // Find out before signing in whether the token can be kept, so that no session is
    // opened that nothing holds.
    let previous = keychain.load(&account).map_err(Failure::error)?;
    let profile = Profile {
        server: server.clone(),
        username: username.to_owned(),
    };
    // The desktop app keeps its token in the same entry: a live one is this computer's
    // sign-in already, and replacing it would leave the app's session behind.
    if let Some(token) = previous {
        match Client::new(&server)?.with_token(token).session().await {
            Ok(session) => {
                profile::save(&profile).map_err(Failure::error)?;
                print_login(g, &server, &session, &keychain, false);
                return Ok(());
            }
            Err(e) if e.is_unauthorized() => {}
            Err(e) => return Err(e.into()),
        }
    }
    let password = read_password(username, &server)?;
    let (client, response) = Client::new(&server)?
        .login(&LoginRequest {
            username: username.to_owned(),
            password,
            client: ClientKind::App,
            device_name: None,
        })
        .await?;
    let saved = keychain
        .save(&account, &response.token)
        .and_then(|()| profile::save(&profile));
    if let Err(message) = saved {
        let _ = client.logout().await;
        return Err(Failure::error(message));
    }
    print_login(g, &server, &response.session, &keychain, true);
    Ok(())
}

fn print_login(
    g: &Global,
    server: &str,
    session: &curfew::api::Session,
    keychain: &Keychain,
    new_session: bool,
) {
    let server = server.trim_end_matches('/');
    if g.json {
        crate::output::json(&json!({
            "server": server,
            "username": session.username,
            "role": session.role,
            "session_id": session.id,
            "expires_at": session.expires_at,
            "keychain": keychain.name(),
            "new_session": new_session,
        }));
    } else if new_session {
        outln!(
            "Signed in to {server} as {} ({}). The token is kept in the {}.",
            session.username,
            session.role.as_str(),
            keychain.name()
        );
    } else {
        outln!(
            "Already signed in to {server} as {} ({}): the token in the {} is still good.",
            session.username,
            session.role.as_str(),
            keychain.name()
        );
    }
}

async fn signout(g: &Global) -> Result<(), Failure> {
    let Some(profile) = profile::load() else {
        if g.json {
            crate::output::json(&json!({ "signed_out": false }));
        } else {
            outln!("Not signed in; nothing to do.");
        }
        return Ok(());
    };
    let server = match &g.server {
        Some(server) => curfew::parse_server_url(server)?.to_string(),
        None => profile.server.clone(),
    };
    let keychain = Keychain::platform();
    let account = Keychain::account(&profile.username, &server);
    let token = keychain.load(&account).map_err(Failure::error)?;
    if let Some(token) = &token {
        match Client::new(&server)?
            .with_token(token.clone())
            .logout()
            .await
        {
            Ok(()) => {}
            // Already ended on the server: only the keychain entry is left to go.
            Err(e) if e.is_unauthorized() => {}
            Err(e) => {
                return Err(Failure::error(format!(
                    "{e} The token is still in the keychain; run `curfew signout` again."
                )))
            }
        }
        keychain.delete(&account).map_err(Failure::error)?;
    }
    let server = server.trim_end_matches('/');
    if g.json {
        crate::output::json(&json!({
            "signed_out": token.is_some(),
            "server": server,
            "username": profile.username,
        }));
    } else if token.is_some() {
        outln!(
            "Signed out of {server}; the token is gone from the {}.",
            keychain.name()
        );
    } else {
        outln!("Not signed in to {server}; nothing to do.");
    }
    Ok(())
}

/// The user whose username is `name`; anything else is refused, never guessed.
async fn resolve_user(client: &Client, name: &str) -> Result<AdminUser, Failure> {
    let wanted = name.trim().to_lowercase();
    if wanted.is_empty() {
        return Err(Failure::usage("The username is empty."));
    }
    let mut cursor = None;
    let mut others = Vec::new();
    loop {
        let page = client
            .users(&UserQuery {
                q: Some(wanted.clone()),
                status: None,
                cursor,
                limit: Some(PAGE_MAX),
            })
            .await?;
        for user in page.users {
            if user.username == wanted {
                return Ok(user);
            }
            others.push(user.username);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    if others.is_empty() {
        return Err(Failure::not_found(format!("No user is named {name:?}.")));
    }
    let shown: Vec<&str> = others.iter().take(10).map(String::as_str).collect();
    let more = if others.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    Err(Failure::usage(format!(
        "{name:?} is not a username, and it matches {}: {}{more}. Give the exact username.",
        count(others.len() as i64, "user", "users"),
        shown.join(", ")
    )))
}

async fn all_users(
    client: &Client,
    status: Option<UserFilter>,
    search: Option<&str>,
) -> Result<Vec<AdminUser>, Failure> {
    let mut users = Vec::new();
    let mut cursor = None;
    loop {
        let page = client
            .users(&UserQuery {
                q: search.map(str::to_owned),
                status,
                cursor,
                limit: Some(PAGE_MAX),
            })
            .await?;
        users.extend(page.users);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(users),
        }
    }
}

fn when_or_dash(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(local_time).unwrap_or_else(|| "-".into())
}

async fn users(
    g: &Global,
    status: Option<UserFilter>,
    search: Option<&str>,
) -> Result<(), Failure> {
    let client = connect(g).await?;
    let users = all_users(&client, status, search).await?;
    if g.json {
        crate::output::json(&json!({ "users": users }));
        return Ok(());
    }
    if users.is_empty() {
        outln!("No users.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.username.clone(),
                u.display_name.clone(),
                u.role.as_str().into(),
                u.status.as_str().into(),
                number(u.app_sessions),
                number(u.web_sessions),
                when_or_dash(u.last_seen_at),
            ]
        })
        .collect();
    out!(
        "{}",
        table(
            &[
                "USERNAME",
                "NAME",
                "ROLE",
                "STATUS",
                "APP",
                "WEB",
                "LAST SEEN"
            ],
            &rows
        )
    );
    Ok(())
}

fn sessions_of(user: &AdminUser) -> String {
    format!(
        "{} ({} app, {} web)",
        count(user.app_sessions + user.web_sessions, "session", "sessions"),
        number(user.app_sessions),
        number(user.web_sessions)
    )
}

async fn logout_user(g: &Global, name: &str) -> Result<(), Failure> {
    let client = connect(g).await?;
    let user = resolve_user(&client, name).await?;
    confirm(
        g,
        &format!(
            "Log out {} ({}): end {}?",
            user.username,
            user.display_name,
            sessions_of(&user)
        ),
    )?;
    let result = client.logout_user(user.id).await?;
    if g.json {
        crate::output::json(&json!({
            "user_id": user.id,
            "username": user.username,
            "sessions_revoked": result.sessions_revoked,
            "users_affected": result.users_affected,
        }));
    } else {
        outln!(
            "Logged out {}: {} ended.",
            user.username,
            count(result.sessions_revoked, "session", "sessions")
        );
    }
    Ok(())
}

async fn logout_all(g: &Global, keep_admins: bool) -> Result<(), Failure> {
    let client = connect(g).await?;
    let summary = client.session_summary().await?;
    let preview = if keep_admins {
        summary.logout_all_keep_admins
    } else {
        summary.logout_all
    };
    let admins = if keep_admins {
        "the other administrators stay signed in too"
    } else {
        "the other administrators are signed out too"
    };
    confirm(
        g,
        &format!(
            "Sign out {} ({}: {} app, {} web)? You stay signed in; {admins}.",
            count(preview.users, "user", "users"),
            count(preview.sessions, "session", "sessions"),
            number(preview.app_sessions),
            number(preview.web_sessions)
        ),
    )?;
    let result = client.logout_all(keep_admins).await?;
    if g.json {
        crate::output::json(&json!({
            "sessions_revoked": result.sessions_revoked,
            "users_affected": result.users_affected,
            "keep_admins": keep_admins,
        }));
    } else {
        outln!(
            "Signed out {} ({}).",
            count(result.users_affected, "user", "users"),
            count(result.sessions_revoked, "session", "sessions")
        );
    }
    Ok(())
}

async fn deactivate(g: &Global, name: &str) -> Result<(), Failure> {
    let client = connect(g).await?;
    let user = resolve_user(&client, name).await?;
    confirm(
        g,
        &format!(
            "Deactivate {} ({}) and end {}? They cannot sign in until activated.",
            user.username,
            user.display_name,
            sessions_of(&user)
        ),
    )?;
    let change = client.deactivate(user.id).await?;
    if g.json {
        crate::output::json(&change);
    } else {
        outln!(
            "Deactivated {}: {} ended.",
            change.user.username,
            count(change.sessions_revoked, "session", "sessions")
        );
    }
    Ok(())
}

async fn activate(g: &Global, name: &str) -> Result<(), Failure> {
    let client = connect(g).await?;
    let user = resolve_user(&client, name).await?;
    let change = client.activate(user.id).await?;
    if g.json {
        crate::output::json(&change);
    } else {
        outln!(
            "Activated {}: they can sign in again.",
            change.user.username
        );
    }
    Ok(())
}

fn offsets(seconds: &[i64]) -> String {
    seconds
        .iter()
        .map(|s| human_seconds(*s))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_window(verb: &str, window: &MaintenanceWindow) {
    outln!(
        "{verb} maintenance window {} ({}): starts {}, ends {}.",
        window.id,
        window.state.as_str(),
        local_time(window.starts_at),
        window
            .ends_at
            .map(local_time)
            .unwrap_or_else(|| "when an administrator ends it".into())
    );
    let rows: Vec<Vec<String>> = window
        .steps
        .iter()
        .map(|s| {
            vec![
                s.kind.as_str().into(),
                local_time(s.due_at),
                s.state.as_str().into(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        out!("{}", table(&["STEP", "DUE", "STATE"], &rows));
    }
}

async fn find_window(client: &Client, id: Uuid) -> Result<MaintenanceWindow, Failure> {
    client
        .maintenance()
        .await?
        .windows
        .into_iter()
        .find(|w| w.id == id)
        .ok_or_else(|| {
            Failure::not_found(format!(
                "No maintenance window has the id {id}. `curfew maintenance list` shows them."
            ))
        })
}

async fn maintenance(g: &Global, command: &Maintenance) -> Result<(), Failure> {
    match command {
        Maintenance::Schedule {
            at,
            message,
            warn,
            freeze,
            ends,
            keep_admins,
        } => {
            let now = ZonedDateTime::now();
            let starts = when::parse_when(at, &now, Toward::Future).map_err(Failure::usage)?;
            let ends = ends
                .as_deref()
                .map(|e| when::parse_when(e, &now, Toward::Future))
                .transpose()
                .map_err(Failure::usage)?;
            let request = MaintenanceRequest {
                starts_at: when::to_chrono(starts),
                ends_at: ends.map(when::to_chrono),
                message: message.clone(),
                warn_before: warn.clone().unwrap_or_else(|| DEFAULT_WARN_BEFORE.to_vec()),
                freeze_before: freeze.unwrap_or(DEFAULT_FREEZE_BEFORE),
                keep_admins: *keep_admins,
            };
            let client = connect(g).await?;
            let summary = client.session_summary().await?;
            let preview = if *keep_admins {
                summary.logout_all_keep_admins
            } else {
                summary.logout_all
            };
            let warnings = if request.warn_before.is_empty() {
                "no warnings".to_owned()
            } else {
                format!("warnings {} before", offsets(&request.warn_before))
            };
            let in_how_long = (request.starts_at - chrono::Utc::now())
                .num_seconds()
                .max(0);
            confirm(
                g,
                &format!(
                    "Schedule maintenance from {} (in {}) until {}: {warnings}, logins frozen \
                     {} before, and at the start everyone but you{} is signed out ({}, {} as of \
                     now)? Users read: {:?}",
                    local_time(request.starts_at),
                    human_seconds(if in_how_long >= 60 {
                        (in_how_long + 30) / 60 * 60
                    } else {
                        in_how_long
                    }),
                    request
                        .ends_at
                        .map(local_time)
                        .unwrap_or_else(|| "an administrator ends it".into()),
                    human_seconds(request.freeze_before),
                    if *keep_admins {
                        " and the other administrators"
                    } else {
                        ""
                    },
                    count(preview.users, "user", "users"),
                    count(preview.sessions, "session", "sessions"),
                    request.message
                ),
            )?;
            let window = client.schedule_maintenance(&request).await?;
            if g.json {
                crate::output::json(&window);
            } else {
                print_window("Scheduled", &window);
            }
        }
        Maintenance::List => {
            let client = connect(g).await?;
            let list = client.maintenance().await?;
            if g.json {
                crate::output::json(&list);
                return Ok(());
            }
            if list.windows.is_empty() {
                outln!("No maintenance windows.");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .windows
                .iter()
                .map(|w| {
                    vec![
                        w.id.to_string(),
                        w.state.as_str().into(),
                        local_time(w.starts_at),
                        when_or_dash(w.ends_at),
                        w.created_by_username.clone(),
                        w.message.clone(),
                    ]
                })
                .collect();
            out!(
                "{}",
                table(&["ID", "STATE", "STARTS", "ENDS", "BY", "MESSAGE"], &rows)
            );
        }
        Maintenance::Cancel { id } => {
            let client = connect(g).await?;
            let window = find_window(&client, *id).await?;
            confirm(
                g,
                &format!(
                    "Cancel the maintenance window of {} ({:?})? Users who were warned are told \
                     it is cancelled.",
                    local_time(window.starts_at),
                    window.message
                ),
            )?;
            let window = client.cancel_maintenance(*id).await?;
            if g.json {
                crate::output::json(&window);
            } else {
                print_window("Cancelled", &window);
            }
        }
        Maintenance::End { id } => {
            let client = connect(g).await?;
            let window = find_window(&client, *id).await?;
            confirm(
                g,
                &format!(
                    "End the maintenance window of {} ({:?}) now? Logins open again.",
                    local_time(window.starts_at),
                    window.message
                ),
            )?;
            let window = client.end_maintenance(*id).await?;
            if g.json {
                crate::output::json(&window);
            } else {
                print_window("Ended", &window);
            }
        }
    }
    Ok(())
}

async fn audit(g: &Global, since: Option<&str>) -> Result<(), Failure> {
    let since = since
        .map(|s| when::parse_when(s, &ZonedDateTime::now(), Toward::Past))
        .transpose()
        .map_err(Failure::usage)?
        .map(when::to_chrono);
    let client = connect(g).await?;
    let mut entries: Vec<AuditEntry> = Vec::new();
    let mut cursor = None;
    loop {
        let page = client
            .audit(&AuditQuery {
                cursor,
                limit: Some(if since.is_some() {
                    PAGE_MAX
                } else {
                    PAGE_DEFAULT
                }),
                ..AuditQuery::default()
            })
            .await?;
        let mut reached = since.is_none();
        for entry in page.entries {
            if since.is_some_and(|s| entry.at < s) {
                reached = true;
                break;
            }
            entries.push(entry);
        }
        match page.next_cursor {
            Some(next) if !reached => cursor = Some(next),
            _ => break,
        }
    }
    if g.json {
        crate::output::json(&json!({ "entries": entries }));
        return Ok(());
    }
    if entries.is_empty() {
        outln!("No audit entries.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                local_time(e.at),
                e.actor_username.clone(),
                e.action.label().into(),
                e.target_username.clone().unwrap_or_else(|| {
                    match e.action {
                        AuditAction::LogoutAll | AuditAction::MaintenanceLogout => "everyone",
                        _ => "-",
                    }
                    .into()
                }),
                number(e.sessions_revoked),
                number(e.users_affected),
            ]
        })
        .collect();
    out!(
        "{}",
        table(
            &["WHEN", "ACTOR", "ACTION", "TARGET", "SESSIONS", "USERS"],
            &rows
        )
    );
    Ok(())
}
