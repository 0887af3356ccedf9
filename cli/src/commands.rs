//! What each command does, on the `curfew` client. Everything a command needs from the
//! command line (WHEN, durations, the user) is checked before anything changes, and every
//! destructive command names what it will do, in numbers, before it does it.

use std::io::{BufRead, IsTerminal, Write};

use curfew::api::{
    AdminSession, AdminUser, AuditCategory, AuditEntry, AuditQuery, ClientKind, LoginRequest,
    MaintenanceChange, MaintenanceRequest, MaintenanceWindow, Repeat, SeriesRequest, UserFilter,
    UserQuery, DEFAULT_FREEZE_BEFORE, DEFAULT_WARN_BEFORE,
};
use curfew::limits::{DEVICE_NAME_MAX, NEXT_OCCURRENCES_SHOWN, PAGE_DEFAULT, PAGE_MAX};
use curfew::recurrence::Recurrence;
use curfew::Client;
use jiff::ZonedDateTime;
use serde_json::json;
use uuid::Uuid;

use crate::keychain::Keychain;
use crate::output::{count, number, out, outln, table};
use crate::profile::{self, Profile};
use crate::when::{self, human_seconds, local_time, Toward};
use crate::{Cli, Command, Failure, Global, Maintenance, Throttles};

pub async fn run(cli: Cli) -> Result<(), Failure> {
    let g = &cli.global;
    match &cli.command {
        Command::Login {
            username,
            print_token,
            device_name,
        } => login(g, username, *print_token, device_name.as_deref()).await,
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
        Command::Sessions { user } => sessions(g, user).await,
        Command::EndSession { session_id, user } => {
            end_session(g, *session_id, user.as_deref()).await
        }
        Command::Throttles { action: None } => throttles(g).await,
        Command::Throttles {
            action: Some(Throttles::Clear { username }),
        } => clear_throttle(g, username).await,
        Command::Logout { user } => logout_user(g, user).await,
        Command::LogoutAll { keep_admins } => logout_all(g, *keep_admins).await,
        Command::Deactivate { user } => deactivate(g, user).await,
        Command::Activate { user } => activate(g, user).await,
        Command::Maintenance(m) => maintenance(g, m).await,
        Command::Audit {
            since,
            sign_ins,
            all,
        } => {
            let category = match (sign_ins, all) {
                (true, _) => AuditCategory::SignIn,
                (_, true) => AuditCategory::All,
                _ => AuditCategory::Admin,
            };
            audit(g, since.as_deref(), category).await
        }
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

/// This computer's name, from the OS; `None` if it cannot be told.
fn hostname() -> Option<String> {
    let from_os = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| {
            std::process::Command::new("hostname")
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .filter(|out| out.status.success())
                .and_then(|out| String::from_utf8(out.stdout).ok())
        })?;
    let name: String = from_os.chars().filter(|c| !c.is_control()).collect();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// The device name a sign-in sends: `--device-name` checked as curfewd checks it, else
/// this computer's name followed by " (curfew command line)", at most
/// [`DEVICE_NAME_MAX`] characters either way.
fn sign_in_device_name(given: Option<&str>) -> Result<String, Failure> {
    const SUFFIX: &str = " (curfew command line)";
    if let Some(name) = given {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > DEVICE_NAME_MAX {
            return Err(Failure::usage(format!(
                "The device name must be 1 to {DEVICE_NAME_MAX} characters."
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(Failure::usage(
                "The device name contains control characters; give plain text.",
            ));
        }
        return Ok(name.to_owned());
    }
    Ok(match hostname() {
        Some(host) => {
            let room = DEVICE_NAME_MAX - SUFFIX.chars().count();
            let host: String = host.chars().take(room).collect();
            format!("{}{SUFFIX}", host.trim_end())
        }
        None => "curfew command line".to_owned(),
    })
}

async fn login(
    g: &Global,
    username: &str,
    print_token: bool,
    device_name: Option<&str>,
) -> Result<(), Failure> {
    let device_name = Some(sign_in_device_name(device_name)?);
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
                device_name: device_name.clone(),
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
            device_name,
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
                ..UserQuery::default()
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
                ..UserQuery::default()
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

fn or_dash(text: Option<&str>) -> String {
    text.map(str::to_owned).unwrap_or_else(|| "-".into())
}

async fn sessions(g: &Global, name: &str) -> Result<(), Failure> {
    let client = connect(g).await?;
    let user = resolve_user(&client, name).await?;
    let list = client.user_sessions(user.id).await?;
    if g.json {
        crate::output::json(&list);
        return Ok(());
    }
    if list.sessions.is_empty() {
        outln!("{} has no live sessions.", user.username);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = list
        .sessions
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.device.clone(),
                s.client.as_str().into(),
                or_dash(s.address.as_deref()),
                or_dash(s.last_address.as_deref()),
                local_time(s.created_at),
                local_time(s.last_seen_at),
                if s.current { "this session" } else { "" }.into(),
            ]
        })
        .collect();
    out!(
        "{}",
        table(
            &[
                "ID",
                "DEVICE",
                "CLIENT",
                "ADDRESS",
                "LAST ADDRESS",
                "SIGNED IN",
                "LAST SEEN",
                "CURRENT"
            ],
            &rows
        )
    );
    Ok(())
}

/// The live session `id` and its user: among `name`'s sessions if given, else among the
/// sessions of every user signed in.
async fn find_session(
    client: &Client,
    id: Uuid,
    name: Option<&str>,
) -> Result<(AdminUser, AdminSession), Failure> {
    let users = match name {
        Some(name) => vec![resolve_user(client, name).await?],
        None => all_users(client, Some(UserFilter::Online), None).await?,
    };
    for user in users {
        let found = client
            .user_sessions(user.id)
            .await?
            .sessions
            .into_iter()
            .find(|s| s.id == id);
        if let Some(session) = found {
            return Ok((user, session));
        }
    }
    let whose = match name {
        Some(name) => format!("of {name} "),
        None => String::new(),
    };
    Err(Failure::not_found(format!(
        "No live session {whose}has the id {id}. `curfew sessions USER` shows a user's sessions."
    )))
}

async fn end_session(g: &Global, id: Uuid, name: Option<&str>) -> Result<(), Failure> {
    let client = connect(g).await?;
    let (user, session) = find_session(&client, id, name).await?;
    // The caller's own session is the server's to refuse (sign out instead): nothing to ask.
    if !session.current {
        confirm(
            g,
            &format!(
                "End the {} session of {} ({}) on {:?}, signed in {} from {}, last seen {}? \
                 Their other sessions stay.",
                session.client.as_str(),
                user.username,
                user.display_name,
                session.device,
                local_time(session.created_at),
                or_dash(session.address.as_deref()),
                local_time(session.last_seen_at),
            ),
        )?;
    }
    let result = client.end_session(id).await?;
    if g.json {
        crate::output::json(&json!({
            "session_id": id,
            "user_id": user.id,
            "username": user.username,
            "device": session.device,
            "sessions_revoked": result.sessions_revoked,
            "users_affected": result.users_affected,
        }));
    } else {
        outln!(
            "Ended the session of {} on {:?}: {} ended.",
            user.username,
            session.device,
            count(result.sessions_revoked, "session", "sessions")
        );
    }
    Ok(())
}

async fn throttles(g: &Global) -> Result<(), Failure> {
    let client = connect(g).await?;
    let list = client.sign_in_throttles().await?;
    if g.json {
        crate::output::json(&list);
        return Ok(());
    }
    if list.accounts.is_empty() {
        outln!("No failed sign-ins in the last minute.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = list
        .accounts
        .iter()
        .map(|a| {
            vec![
                a.username.clone(),
                if a.user_id.is_some() { "yes" } else { "no" }.into(),
                number(a.failures.into()),
                number(a.refused.into()),
                number(a.addresses.into()),
                a.throttled_for_seconds
                    .map(|s| human_seconds(s.min(i64::MAX as u64) as i64))
                    .unwrap_or_else(|| "-".into()),
                local_time(a.last_attempt_at),
            ]
        })
        .collect();
    out!(
        "{}",
        table(
            &[
                "USERNAME",
                "A USER",
                "FAILURES",
                "REFUSED",
                "ADDRESSES",
                "THROTTLED FOR",
                "LAST ATTEMPT"
            ],
            &rows
        )
    );
    outln!(
        "Throttled after {} in a minute (on this instance).",
        count(
            list.failures_allowed.into(),
            "failed sign-in",
            "failed sign-ins"
        )
    );
    Ok(())
}

async fn clear_throttle(g: &Global, name: &str) -> Result<(), Failure> {
    let username = name.trim().to_lowercase();
    if username.is_empty() {
        return Err(Failure::usage("The username is empty."));
    }
    let client = connect(g).await?;
    let list = client.sign_in_throttles().await?;
    let question = match list.accounts.iter().find(|a| a.username == username) {
        Some(a) => format!(
            "Let {username} try to sign in again at once? Forgets {} in the last minute from {}{}.",
            count(a.failures.into(), "failed sign-in", "failed sign-ins"),
            count(a.addresses.into(), "address", "addresses"),
            match a.throttled_for_seconds {
                Some(s) => format!(
                    "; throttled for {} more",
                    human_seconds(s.min(i64::MAX as u64) as i64)
                ),
                None => String::new(),
            }
        ),
        None => format!("Let {username} try to sign in again at once?"),
    };
    confirm(g, &question)?;
    client.clear_sign_in_throttle(&username).await?;
    if g.json {
        crate::output::json(&json!({ "username": username, "cleared": true }));
    } else {
        outln!("{username} may try to sign in again now.");
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

/// This computer's IANA time zone, the one `--at` is read in (UTC when it has no name).
fn system_time_zone() -> String {
    jiff::tz::TimeZone::system()
        .iana_name()
        .unwrap_or("UTC")
        .to_owned()
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
            repeat,
            time_zone,
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
            // A repeat is read here by the same code curfewd decides with, so a rule it
            // would refuse never reaches the confirmation.
            let repeat = repeat.as_ref().map(|rule| Repeat {
                rule: rule.clone(),
                time_zone: time_zone.clone().unwrap_or_else(system_time_zone),
            });
            let repeats = match &repeat {
                Some(repeat) => {
                    let recurrence = Recurrence::parse(repeat, request.starts_at)
                        .map_err(|e| Failure::usage(e.message))?;
                    let starts: Vec<String> = recurrence
                        .starts()
                        .iter()
                        .take(NEXT_OCCURRENCES_SHOWN)
                        .map(|s| local_time(*s))
                        .collect();
                    format!(
                        " It repeats {}: {}{}.",
                        recurrence.description(),
                        starts.join("; "),
                        if recurrence.starts().len() > starts.len() {
                            "; …"
                        } else {
                            ""
                        }
                    )
                }
                None => String::new(),
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
                     now)? Users read: {:?}{repeats}",
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
            let window = match repeat {
                Some(repeat) => {
                    client
                        .schedule_series(&SeriesRequest {
                            window: request,
                            repeat,
                        })
                        .await?
                }
                None => client.schedule_maintenance(&request).await?,
            };
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
        Maintenance::Move {
            id,
            at,
            ends,
            message,
            warn,
            freeze,
        } => {
            let now = ZonedDateTime::now();
            let starts = when::parse_when(at, &now, Toward::Future).map_err(Failure::usage)?;
            let ends = ends
                .as_deref()
                .map(|e| when::parse_when(e, &now, Toward::Future))
                .transpose()
                .map_err(Failure::usage)?;
            let client = connect(g).await?;
            let window = find_window(&client, *id).await?;
            let starts_at = when::to_chrono(starts);
            let change = MaintenanceChange {
                starts_at,
                ends_at: ends
                    .map(when::to_chrono)
                    .or_else(|| window.ends_at.map(|e| starts_at + (e - window.starts_at))),
                message: message.clone().unwrap_or_else(|| window.message.clone()),
                warn_before: warn.clone().unwrap_or_else(|| window.warn_before.clone()),
                freeze_before: freeze.unwrap_or(window.freeze_before),
            };
            confirm(
                g,
                &format!(
                    "Move the maintenance window of {} ({:?}) to {}, until {}? Users who were \
                     warned are told the new time.",
                    local_time(window.starts_at),
                    window.message,
                    local_time(change.starts_at),
                    change
                        .ends_at
                        .map(local_time)
                        .unwrap_or_else(|| "an administrator ends it".into()),
                ),
            )?;
            let window = client.change_maintenance(*id, &change).await?;
            if g.json {
                crate::output::json(&window);
            } else {
                print_window("Moved", &window);
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

async fn audit(g: &Global, since: Option<&str>, category: AuditCategory) -> Result<(), Failure> {
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
                // The server's default stays the server's: admin is sent as nothing.
                category: (category != AuditCategory::Admin).then_some(category),
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
    // Whom, in the Activity view's words ("4 users: alice, carol, dave and 1 more"); an
    // entry on everyone says so rather than counting.
    let target = |e: &AuditEntry| {
        if e.target_username.is_none() && e.action.is_on_everyone() {
            return "everyone".to_string();
        }
        e.target_in_words().unwrap_or_else(|| "-".into())
    };
    let (headers, rows): (&[&str], Vec<Vec<String>>) = match category {
        AuditCategory::Admin => (
            &["WHEN", "ACTOR", "ACTION", "TARGET", "SESSIONS", "USERS"],
            entries
                .iter()
                .map(|e| {
                    vec![
                        local_time(e.at),
                        e.actor_username.clone(),
                        e.action.label().into(),
                        target(e),
                        number(e.sessions_revoked),
                        number(e.users_affected),
                    ]
                })
                .collect(),
        ),
        AuditCategory::SignIn => (
            &["WHEN", "USER", "ACTION", "CLIENT", "ADDRESS", "REASON"],
            entries
                .iter()
                .map(|e| {
                    vec![
                        local_time(e.at),
                        e.actor_username.clone(),
                        e.action.label().into(),
                        or_dash(e.client.map(ClientKind::as_str)),
                        or_dash(e.address.as_deref()),
                        or_dash(e.reason.as_deref()),
                    ]
                })
                .collect(),
        ),
        AuditCategory::All => (
            &[
                "WHEN", "ACTOR", "ACTION", "TARGET", "SESSIONS", "USERS", "CLIENT", "ADDRESS",
                "REASON",
            ],
            entries
                .iter()
                .map(|e| {
                    let sign_in = e.action.category() == AuditCategory::SignIn;
                    vec![
                        local_time(e.at),
                        e.actor_username.clone(),
                        e.action.label().into(),
                        if sign_in { "-".into() } else { target(e) },
                        if sign_in {
                            "-".into()
                        } else {
                            number(e.sessions_revoked)
                        },
                        if sign_in {
                            "-".into()
                        } else {
                            number(e.users_affected)
                        },
                        or_dash(e.client.map(ClientKind::as_str)),
                        or_dash(e.address.as_deref()),
                        or_dash(e.reason.as_deref()),
                    ]
                })
                .collect(),
        ),
    };
    out!("{}", table(headers, &rows));
    Ok(())
}
