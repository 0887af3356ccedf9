//! One gated site that signs people in through an identity provider: the tests' OpenID
//! Provider, curfewd with `--oidc-config` naming it `testidp` (secret from a file), the
//! office app (Django, trusting `Remote-User`) and nginx running `deploy/`'s file in
//! front of both (the gate tests' parts, from `curfew_testkit::gate`).

use std::time::Duration;

use curfew::api::{ClientKind, NewUserRequest, Role};
use curfew_testkit::gate::{self, Process};
use uuid::Uuid;

use super::provider::{IdentityProvider, Registration};
use crate::support::{Server, ServerOptions};

/// The provider's name in curfewd's config and URLs.
pub const PROVIDER: &str = "testidp";
/// The button says "Sign in with" this.
pub const DISPLAY_NAME: &str = "Test IdP";

pub struct OidcGate {
    // Stopped first (fields drop in order): the proxy, the app, then curfewd and the
    // provider.
    _nginx: Process,
    _app: Process,
    pub server: Server,
    pub idp: IdentityProvider,
    /// The gated app as the browser opens it: `http://127.0.0.1:PORT`.
    pub url: String,
    idp_port: u16,
    registration: Registration,
    _dir: tempfile::TempDir,
}

/// curfewd's OIDC settings, as the README's example (`rp_logout` before the roles table,
/// or TOML would put it inside).
fn oidc_config(issuer: &str, secret_file: &std::path::Path) -> String {
    format!(
        r#"password_sign_in = true

[[provider]]
name = "{PROVIDER}"
display_name = "{DISPLAY_NAME}"
issuer = "{issuer}"
client_id = "curfew"
client_secret_file = "{secret}"
link_by_email = true
create_users = false
role_claim = "groups"
# The provider releases groups for the groups scope only.
scopes = ["openid", "email", "profile", "groups"]
rp_logout = true

[provider.roles]
"curfew-admins" = "admin"
"#,
        secret = secret_file.display()
    )
}

/// Where the provider posts its logout tokens.
#[derive(Clone, Copy, Debug)]
pub enum Backchannel {
    /// curfewd's own address.
    Curfewd,
    /// The gated host, through nginx's `/.curfew/` location (as the README registers it).
    Gate,
}

impl OidcGate {
    pub fn start(backchannel: Backchannel) -> OidcGate {
        let dir = tempfile::tempdir().unwrap();
        let (port, curfewd_port, idp_port, app_port) = (
            curfew_testkit::free_port(),
            curfew_testkit::free_port(),
            curfew_testkit::free_port(),
            curfew_testkit::free_port(),
        );
        let url = format!("http://127.0.0.1:{port}");
        let curfewd = format!("127.0.0.1:{curfewd_port}");
        let secret = Uuid::new_v4().simple().to_string();
        let registration = Registration {
            secret: secret.clone(),
            redirect_uris: vec![format!("{url}/.curfew/oidc/{PROVIDER}/callback")],
            // Where curfewd may send the browser back after signing out there.
            post_logout_redirect_uris: vec![
                format!("{url}/.curfew/sign-in"),
                format!("{url}/.curfew/signed-out"),
                format!("{url}/.curfew/oidc/{PROVIDER}/signed-out"),
                format!("{url}/"),
            ],
            backchannel_logout_uri: match backchannel {
                Backchannel::Curfewd => format!("http://{curfewd}"),
                Backchannel::Gate => url.clone(),
            } + &format!("/.curfew/oidc/{PROVIDER}/backchannel-logout"),
        };
        let idp = IdentityProvider::start(idp_port, &registration);
        let secret_file = dir.path().join("testidp-secret");
        std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let config = dir.path().join("oidc.toml");
        std::fs::write(&config, oidc_config(&idp.issuer, &secret_file)).unwrap();
        let server = Server::start_with(ServerOptions {
            bind: curfewd.clone(),
            args: vec![
                "--gate-host".into(),
                format!("127.0.0.1:{port}"),
                "--brand-name".into(),
                "Acme Office".into(),
                "--trust-forwarded-for".into(),
                "--oidc-config".into(),
                config.display().to_string(),
            ],
            ..ServerOptions::default()
        });
        server.add_user("root", "admin");
        let app = gate::start_webapp(dir.path(), app_port, false).unwrap_or_else(|e| panic!("{e}"));
        let nginx_dir = dir.path().join("nginx");
        std::fs::create_dir_all(&nginx_dir).unwrap();
        let nginx = gate::start_nginx(&gate::NginxSetup {
            dir: &nginx_dir,
            port,
            curfewd: &curfewd,
            app: &format!("127.0.0.1:{app_port}"),
            workers: "1",
            extra_http: "",
            access_log: true,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        OidcGate {
            _nginx: nginx,
            _app: app,
            server,
            idp,
            url,
            idp_port,
            registration,
            _dir: dir,
        }
    }

    /// Stops the provider and starts it again on the same address: it signs with a new
    /// key (a new `kid`), as a provider does when it rolls its keys, and forgets its
    /// sessions.
    pub fn restart_idp(&mut self) {
        let port = self.idp_port;
        // The old one stops (its drop) before the new one takes the port.
        self.idp = {
            drop(std::mem::replace(
                &mut self.idp,
                IdentityProvider::placeholder(),
            ));
            IdentityProvider::start(port, &self.registration)
        };
    }

    pub async fn admin(&self) -> curfew::Client {
        self.server.login("root", ClientKind::App).await.0
    }

    /// A Curfew user with this email and no password: they sign in through the provider.
    pub async fn provision(
        &self,
        admin: &curfew::Client,
        username: &str,
        display_name: &str,
        email: &str,
        role: Role,
    ) -> Uuid {
        admin
            .create_user(&NewUserRequest {
                username: username.into(),
                display_name: Some(display_name.into()),
                email: Some(email.into()),
                role,
                password: None,
            })
            .await
            .unwrap_or_else(|e| panic!("create {username}: {e}"))
            .id
    }

    /// Everything curfewd and the provider logged, for a failure's message.
    pub fn logs(&self) -> String {
        format!(
            "--- curfewd ---\n{}\n--- the OpenID Provider ---\n{}",
            self.server.log_text(),
            self.idp.log_text()
        )
    }
}

/// The time a back-channel logout may take to reach an open page.
pub const OVERLAY_WITHIN: Duration = Duration::from_secs(2);
