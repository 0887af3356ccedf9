//! The admin's signed-in state and every flow that changes it: start-up with a remembered
//! token, sign-in, sign-out, switching to another server (each with its own remembered
//! token, see [`crate::servers`]), and being signed out by the server. The commands take the
//! signed-in [`Client`] from here and call it themselves; what it answers comes back
//! through [`AppState::checked`], which turns a 401 into being signed out.
//!
//! Invariants: the token lives only here, in the `curfew` client and in the keychain; a
//! 401 from the server signs the app out and forgets the saved token, so a revoked token is
//! never tried twice; the app is signed in to one server at a time, and leaving one keeps
//! its remembered token (a token not remembered is revoked, never left behind).

use std::path::PathBuf;

use curfew::api::{ClientKind, LoginRequest, Me, Permission, Role, UserPage, UserQuery};
use curfew::Client;
use serde::Serialize;
use tokio::sync::RwLock;

use crate::error::{Error, Result};
use crate::keychain::Keychain;
use crate::profile::Profile;
use crate::servers::{name_for, SavedServer, ServerList, ServersFile};

/// Users the UI asks for at a time (the server allows up to
/// `curfew::limits::PAGE_MAX`).
pub const USER_PAGE: u32 = 100;

struct SignedIn {
    client: Client,
    me: Me,
    /// The server's name in the app's list ("production").
    name: String,
    server: String,
    account: String,
    remembered: bool,
}

/// What the UI learns about the signed-in admin: never the token.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// The server's name in the app's list, which the top bar, notifications and the
    /// tray show.
    pub server_name: String,
    pub server: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub permissions: Vec<Permission>,
    pub remembered: bool,
    /// Set when "Remember me" was asked for but the keychain refused.
    pub keychain_warning: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StartupView {
    pub signed_in: Option<SessionView>,
    /// Server and username to fill in on the sign-in screen.
    pub profile: Option<Profile>,
    /// Why the saved sign-in could not be used, if it could not.
    pub notice: Option<String>,
    pub keychain: &'static str,
    /// Every server the app knows (no tokens), and which one this is about.
    pub servers: Vec<SavedServer>,
    pub current: Option<String>,
    /// The list's first page in its default order (no search, no filter, by name), asked
    /// for alongside the check of a remembered sign-in: the list needs no second round
    /// trip, made while the page lays out the shell, before its first rows. `None` when
    /// not signed in or when that page could not be had (the list then asks, and says why).
    pub first_users: Option<UserPage>,
}

/// The query of the list's first page as the console opens (see
/// [`StartupView::first_users`]).
pub fn first_users_query() -> UserQuery {
    UserQuery {
        limit: Some(USER_PAGE),
        ..UserQuery::default()
    }
}

pub struct AppState {
    keychain: Keychain,
    servers: ServersFile,
    signed_in: RwLock<Option<SignedIn>>,
    /// The task that turns admin events into notifications while signed in.
    watcher: std::sync::Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    /// The start-up begun as the app starts ([`AppState::begin_startup`]), until the page
    /// asks for it.
    early: std::sync::Mutex<Option<tauri::async_runtime::JoinHandle<StartupView>>>,
}

impl AppState {
    pub fn new(keychain: Keychain, config_dir: PathBuf) -> AppState {
        AppState {
            keychain,
            servers: ServersFile::in_dir(&config_dir),
            signed_in: RwLock::new(None),
            watcher: std::sync::Mutex::new(None),
            early: std::sync::Mutex::new(None),
        }
    }

    /// Starts [`AppState::startup`] at once, as the app starts: reading the keychain and
    /// asking the server whether the remembered sign-in still holds then run while WebKit
    /// starts its processes and loads the page, instead of after. The page's first
    /// `startup` call takes the answer; any later one starts afresh.
    pub fn begin_startup<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
        use tauri::Manager;
        let handle = app.clone();
        let task =
            tauri::async_runtime::spawn(async move { handle.state::<AppState>().startup().await });
        if let Ok(mut early) = app.state::<AppState>().early.lock() {
            *early = Some(task);
        }
    }

    /// What the page starts with: the start-up begun early if it is still to be taken,
    /// else a fresh one.
    pub async fn startup_for_page(&self) -> StartupView {
        let early = self.early.lock().ok().and_then(|mut e| e.take());
        if let Some(task) = early {
            if let Ok(view) = task.await {
                return view;
            }
        }
        self.startup().await
    }

    /// The signed-in client, for the commands and for background work such as the event
    /// watcher. Pass what it answers through [`AppState::checked`].
    pub async fn client(&self) -> Result<Client> {
        self.signed_in
            .read()
            .await
            .as_ref()
            .map(|s| s.client.clone())
            .ok_or(Error::NotSignedIn)
    }

    /// What the signed-in server is called where the admin reads it (the top bar,
    /// notifications, the tray, file names): its name in the app's list.
    pub async fn server_label(&self) -> Option<String> {
        self.signed_in.read().await.as_ref().map(|s| s.name.clone())
    }

    /// A client for `saved` with its remembered token, and the token's keychain account;
    /// `None` when it is not remembered or the keychain has no token for it.
    pub async fn remembered_client(&self, saved: &SavedServer) -> Option<(Client, String)> {
        if !saved.remember {
            return None;
        }
        let account = Keychain::account(&saved.username, &saved.server);
        let probe = account.clone();
        let token = self.keychain(move |k| k.load(&probe)).await.ok()??;
        let client = Client::new(&saved.server).ok()?.with_token(token);
        Some((client, account))
    }

    /// Deletes the remembered token of a server not signed in to, which that server no
    /// longer accepts (the current server's goes through [`AppState::revoked`]).
    pub async fn forget_token(&self, account: String) {
        if let Err(e) = self.keychain(move |k| k.delete(&account)).await {
            tracing::warn!(error = %e, "could not delete a token its server refused");
        }
    }

    /// Replaces the event watcher (stopping the previous one).
    pub fn set_watcher(&self, task: Option<tauri::async_runtime::JoinHandle<()>>) {
        let previous = std::mem::replace(&mut *self.watcher.lock().expect("watcher lock"), task);
        if let Some(previous) = previous {
            previous.abort();
        }
    }

    /// Keychain calls may block on D-Bus; keep them off the async threads.
    async fn keychain<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Keychain) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let keychain = self.keychain.clone();
        tokio::task::spawn_blocking(move || f(&keychain))
            .await
            .map_err(|e| Error::Keychain(format!("The keychain call failed: {e}")))?
    }

    fn view(signed: &SignedIn, keychain_warning: Option<String>) -> SessionView {
        SessionView {
            server_name: signed.name.clone(),
            server: signed.server.clone(),
            username: signed.me.username.clone(),
            display_name: signed.me.display_name.clone(),
            role: signed.me.role,
            permissions: signed.me.permissions.clone(),
            remembered: signed.remembered,
            keychain_warning,
        }
    }

    /// At start: the current server, with its remembered token if there is one and the
    /// server still accepts it.
    pub async fn startup(&self) -> StartupView {
        let list = self.servers.load();
        self.resume(&list, list.current().cloned()).await
    }

    /// Opens `saved` (the sign-in screen for it when its token is not remembered or no
    /// longer accepted; the blank sign-in screen for `None`).
    async fn resume(&self, list: &ServerList, saved: Option<SavedServer>) -> StartupView {
        let keychain = self.keychain.name();
        let view = |signed_in: Option<SessionView>, notice: Option<String>| StartupView {
            signed_in,
            profile: saved.as_ref().map(SavedServer::profile),
            notice,
            keychain,
            servers: list.servers.clone(),
            current: saved.as_ref().map(|s| s.name.clone()),
            first_users: None,
        };
        let Some(entry) = saved.clone() else {
            return view(None, None);
        };
        if !entry.remember {
            return view(None, None);
        }
        let account = Keychain::account(&entry.username, &entry.server);
        let token = {
            let account = account.clone();
            match self.keychain(move |k| k.load(&account)).await {
                Ok(Some(token)) => token,
                Ok(None) => return view(None, None),
                Err(e) => return view(None, Some(e.to_string())),
            }
        };
        let client = match Client::new(&entry.server) {
            Ok(client) => client.with_token(token),
            Err(e) => return view(None, Some(e.to_string())),
        };
        // Both at once: a token the server refuses fails both, and the page is dropped.
        let first_query = first_users_query();
        let (me, first_users) = tokio::join!(client.admin_me(), client.users(&first_query));
        match me {
            Ok(me) => {
                let signed = SignedIn {
                    client,
                    me,
                    name: entry.name.clone(),
                    server: entry.server.clone(),
                    account,
                    remembered: true,
                };
                let session = Self::view(&signed, None);
                *self.signed_in.write().await = Some(signed);
                StartupView {
                    first_users: first_users.ok(),
                    ..view(Some(session), None)
                }
            }
            Err(e) if matches!(e.status(), Some(401 | 403)) => {
                let _ = self.keychain(move |k| k.delete(&account)).await;
                view(None, Some(saved_sign_in_refused(&e.to_string())))
            }
            Err(e) => view(
                None,
                Some(format!("Could not check your saved sign-in: {e}")),
            ),
        }
    }

    /// Leaves the server signed in to, if any: a remembered token stays in the keychain
    /// for the way back; one not remembered is revoked (it could not be used again).
    async fn leave(&self) {
        self.set_watcher(None);
        let Some(signed) = self.signed_in.write().await.take() else {
            return;
        };
        if !signed.remembered {
            if let Err(e) = signed.client.logout().await {
                tracing::warn!(error = %e, "could not end the session left behind");
            }
        }
    }

    /// Switches to the server named `name`: signed in with its remembered token, or the
    /// sign-in screen filled in for it.
    pub async fn switch_to(&self, name: &str) -> Result<StartupView> {
        let mut list = self.servers.load();
        let target = list.find(name).cloned().ok_or_else(|| {
            Error::InvalidInput(format!(
                "No server is named {name}. Pick one from the list, or add it."
            ))
        })?;
        self.leave().await;
        list.current = Some(target.name.clone());
        self.servers.save(&list)?;
        Ok(self.resume(&list, Some(target)).await)
    }

    /// Leaves the current server for the blank sign-in screen, to add another; the list
    /// and the current server's remembered sign-in stay.
    pub async fn add_server(&self) -> StartupView {
        self.leave().await;
        let list = self.servers.load();
        self.resume(&list, None).await
    }

    /// Forgets the server named `name`: signs out of it (its token revoked, if the server
    /// answers, and deleted from the keychain), removes it from the list, and opens the
    /// server that is current after it.
    pub async fn remove_server(&self, name: &str) -> Result<StartupView> {
        let mut list = self.servers.load();
        let target = list.find(name).cloned().ok_or_else(|| {
            Error::InvalidInput(format!("No server is named {name}. Refresh the list."))
        })?;
        let current = self.server_label().await;
        if current.as_deref() == Some(target.name.as_str()) {
            // Signed in to it: the usual sign-out, which revokes and forgets.
            if let Err(e) = self.sign_out().await {
                tracing::warn!(error = %e, "could not sign out of the server forgotten");
            }
        } else {
            let account = Keychain::account(&target.username, &target.server);
            let probe = account.clone();
            if let Ok(Some(token)) = self.keychain(move |k| k.load(&probe)).await {
                if let Ok(client) = Client::new(&target.server) {
                    let _ = client.with_token(token).logout().await;
                }
            }
            self.keychain(move |k| k.delete(&account)).await?;
        }
        list.remove(&target.name);
        self.servers.save(&list)?;
        if self.signed_in.read().await.is_some() {
            // Still signed in to another: stay there.
            return Ok(self.resume_current_view(&list).await);
        }
        let next = list.current().cloned();
        Ok(self.resume(&list, next).await)
    }

    /// The view of the session as it is (after forgetting another server).
    async fn resume_current_view(&self, list: &ServerList) -> StartupView {
        let signed_in = self.signed_in.read().await;
        let signed = signed_in.as_ref().expect("signed in");
        StartupView {
            signed_in: Some(Self::view(signed, None)),
            profile: list.current().map(SavedServer::profile),
            notice: None,
            keychain: self.keychain.name(),
            servers: list.servers.clone(),
            current: Some(signed.name.clone()),
            first_users: None,
        }
    }

    /// The servers the app knows and which one is current.
    pub fn server_list(&self) -> ServerList {
        self.servers.load()
    }

    pub async fn sign_in(
        &self,
        name: Option<&str>,
        server: &str,
        username: &str,
        password: &str,
        remember: bool,
    ) -> Result<SessionView> {
        let username = username.trim();
        if username.is_empty() || password.is_empty() {
            return Err(Error::InvalidInput(
                "Enter the server address, your username and your password.".into(),
            ));
        }
        let server = curfew::parse_server_url(server)?.to_string();
        let name = name_for(name, &server)?;
        let mut list = self.servers.load();
        // Refused before signing in: the name is another server's.
        list.upsert(SavedServer {
            name: name.clone(),
            server: server.clone(),
            username: username.to_owned(),
            remember,
        })?;
        let account = Keychain::account(username, &server);
        if remember {
            // Find out before signing in whether the token can be kept, so the admin can
            // choose to go on without it.
            let probe = account.clone();
            self.keychain(move |k| k.load(&probe).map(|_| ())).await?;
        }
        let (client, _) = Client::new(&server)?
            .login(&LoginRequest {
                username: username.to_owned(),
                password: password.to_owned(),
                client: ClientKind::App,
                device_name: Some("Curfew desktop app".into()),
            })
            .await?;
        let me = match client.admin_me().await {
            Ok(me) => me,
            Err(e) => {
                // Not an administrator: leave no session behind.
                let _ = client.logout().await;
                return Err(e.into());
            }
        };
        let mut keychain_warning = None;
        let mut remembered = false;
        if remember {
            let (account, token) = (
                account.clone(),
                client.token().unwrap_or_default().to_owned(),
            );
            match self.keychain(move |k| k.save(&account, &token)).await {
                Ok(()) => remembered = true,
                Err(e) => keychain_warning = Some(e.to_string()),
            }
        } else {
            let account = account.clone();
            let _ = self.keychain(move |k| k.delete(&account)).await;
        }
        list.upsert(SavedServer {
            name: name.clone(),
            server: server.clone(),
            username: me.username.clone(),
            remember: remembered,
        })?;
        self.servers.save(&list)?;
        // Signed in here now: the server signed in to before is left.
        self.leave().await;
        let signed = SignedIn {
            client,
            me,
            name,
            server,
            account,
            remembered,
        };
        let view = Self::view(&signed, keychain_warning);
        *self.signed_in.write().await = Some(signed);
        Ok(view)
    }

    /// Revokes the token on the server and forgets it here, even if the server cannot be
    /// reached (then the error says so, after forgetting).
    pub async fn sign_out(&self) -> Result<()> {
        self.set_watcher(None);
        let Some(signed) = self.signed_in.write().await.take() else {
            return Ok(());
        };
        let revoked = signed.client.logout().await;
        let account = signed.account.clone();
        self.keychain(move |k| k.delete(&account)).await?;
        match revoked {
            Ok(()) => Ok(()),
            Err(e) if e.is_unauthorized() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// What a call the signed-in client made means for the session: a 401 signs the app
    /// out (forgetting the saved token), unless the admin signed in afresh meanwhile.
    pub async fn checked<T>(&self, client: &Client, result: curfew::Result<T>) -> Result<T> {
        match result {
            Ok(value) => Ok(value),
            Err(e) if e.is_unauthorized() => {
                self.revoked(client).await;
                // The server's sentence says who signed the admin out and what to do next.
                Err(Error::SignedOut(e.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The server no longer accepts `client`'s token (a 401, or the event stream's
    /// `session_revoked`): sign the app out and forget the saved token, unless the admin
    /// signed in afresh meanwhile. Returns whether that session was the current one.
    pub async fn revoked(&self, client: &Client) -> bool {
        let ended = {
            let mut signed_in = self.signed_in.write().await;
            let same = signed_in
                .as_ref()
                .is_some_and(|s| s.client.token() == client.token());
            if same {
                signed_in.take()
            } else {
                None
            }
        };
        let Some(signed) = ended else {
            return false;
        };
        let account = signed.account;
        if let Err(e) = self.keychain(move |k| k.delete(&account)).await {
            tracing::warn!(error = %e, "could not forget the revoked sign-in");
        }
        true
    }
}

/// Why a remembered sign-in was refused at start, told once: the server's sentence may
/// already say "Sign in again."
pub fn saved_sign_in_refused(why: &str) -> String {
    if why.contains("Sign in again") {
        format!("Your saved sign-in no longer works: {why}")
    } else {
        format!("Your saved sign-in no longer works: {why} Sign in again.")
    }
}
