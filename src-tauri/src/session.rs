//! The admin's signed-in state and every flow that changes it: start-up with a remembered
//! token, sign-in, sign-out, and being signed out by the server. The commands take the
//! signed-in [`Client`] from here and call it themselves; what it answers comes back
//! through [`AppState::checked`], which turns a 401 into being signed out.
//!
//! Invariants: the token lives only here, in the `curfew` client and in the keychain; a
//! 401 from the server signs the app out and forgets the saved token, so a revoked token is
//! never tried twice.

use std::path::PathBuf;

use curfew::api::{ClientKind, LoginRequest, Me, Permission, Role};
use curfew::Client;
use serde::Serialize;
use tokio::sync::RwLock;

use crate::error::{Error, Result};
use crate::keychain::Keychain;
use crate::profile::{Profile, ProfileFile};

struct SignedIn {
    client: Client,
    me: Me,
    server: String,
    account: String,
    remembered: bool,
}

/// What the UI learns about the signed-in admin: never the token.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
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
}

pub struct AppState {
    keychain: Keychain,
    profile: ProfileFile,
    signed_in: RwLock<Option<SignedIn>>,
    /// The task that turns admin events into notifications while signed in.
    watcher: std::sync::Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

impl AppState {
    pub fn new(keychain: Keychain, config_dir: PathBuf) -> AppState {
        AppState {
            keychain,
            profile: ProfileFile::in_dir(&config_dir),
            signed_in: RwLock::new(None),
            watcher: std::sync::Mutex::new(None),
        }
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

    /// What the signed-in server is called where the admin reads it (file names,
    /// notifications): its host.
    pub async fn server_label(&self) -> Option<String> {
        let signed_in = self.signed_in.read().await;
        let server = &signed_in.as_ref()?.server;
        Some(
            tauri::Url::parse(server)
                .ok()
                .and_then(|u| {
                    u.host_str()
                        .map(|h| u.port().map_or(h.to_owned(), |p| format!("{h}:{p}")))
                })
                .unwrap_or_else(|| server.clone()),
        )
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
            server: signed.server.clone(),
            username: signed.me.username.clone(),
            display_name: signed.me.display_name.clone(),
            role: signed.me.role,
            permissions: signed.me.permissions.clone(),
            remembered: signed.remembered,
            keychain_warning,
        }
    }

    /// At start: use a remembered token if there is one and the server still accepts it.
    pub async fn startup(&self) -> StartupView {
        let keychain = self.keychain.name();
        let Some(profile) = self.profile.load() else {
            return StartupView {
                signed_in: None,
                profile: None,
                notice: None,
                keychain,
            };
        };
        let no_session = |notice: Option<String>| StartupView {
            signed_in: None,
            profile: Some(profile.clone()),
            notice,
            keychain,
        };
        if !profile.remember {
            return no_session(None);
        }
        let account = Keychain::account(&profile.username, &profile.server);
        let token = {
            let account = account.clone();
            match self.keychain(move |k| k.load(&account)).await {
                Ok(Some(token)) => token,
                Ok(None) => return no_session(None),
                Err(e) => return no_session(Some(e.to_string())),
            }
        };
        let client = match Client::new(&profile.server) {
            Ok(client) => client.with_token(token),
            Err(e) => return no_session(Some(e.to_string())),
        };
        match client.admin_me().await {
            Ok(me) => {
                let signed = SignedIn {
                    client,
                    me,
                    server: profile.server.clone(),
                    account,
                    remembered: true,
                };
                let view = Self::view(&signed, None);
                *self.signed_in.write().await = Some(signed);
                StartupView {
                    signed_in: Some(view),
                    profile: Some(profile),
                    notice: None,
                    keychain,
                }
            }
            Err(e) if matches!(e.status(), Some(401 | 403)) => {
                let _ = self.keychain(move |k| k.delete(&account)).await;
                no_session(Some(saved_sign_in_refused(&e.to_string())))
            }
            Err(e) => no_session(Some(format!("Could not check your saved sign-in: {e}"))),
        }
    }

    pub async fn sign_in(
        &self,
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
        self.profile.save(&Profile {
            server: server.clone(),
            username: me.username.clone(),
            remember: remembered,
        })?;
        let signed = SignedIn {
            client,
            me,
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
