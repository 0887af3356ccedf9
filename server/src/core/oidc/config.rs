//! The identity providers curfewd signs people in through, read from a TOML file
//! (`--oidc-config`). Invariants: a client secret comes from the environment or a file,
//! never from the command line or the file itself; a provider's issuer is HTTPS (plain
//! HTTP only on a loopback address, for tests and demos); names are URL-safe and unique;
//! role mappings name Curfew's roles. A file that breaks any of this stops curfewd at
//! start with a sentence saying what to fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use curfew::api::Role;
use serde::Deserialize;

/// Everything about signing in through providers.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// Whether the gate's sign-in page offers the password form too.
    pub password_sign_in: bool,
    pub providers: Vec<ProviderConfig>,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            password_sign_in: true,
            providers: Vec::new(),
        }
    }
}

/// One provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// In URLs: `/.curfew/oidc/<name>/…`.
    pub name: String,
    /// On the button: "Sign in with <display_name>".
    pub display_name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Link a provider user to the Curfew user with the same verified email.
    pub link_by_email: bool,
    /// Create an unknown person as a member (or the mapped role) at first sign-in.
    pub create_users: bool,
    /// The claim whose values map to a role (e.g. `groups`), with the mapping.
    pub role_claim: Option<String>,
    pub roles: BTreeMap<String, Role>,
    /// Signing out of the gate also signs out at the provider.
    pub rp_logout: bool,
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default = "yes")]
    password_sign_in: bool,
    #[serde(default, rename = "provider")]
    providers: Vec<ProviderFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderFile {
    name: String,
    display_name: Option<String>,
    issuer: String,
    client_id: String,
    client_secret_env: Option<String>,
    client_secret_file: Option<PathBuf>,
    #[serde(default)]
    link_by_email: bool,
    #[serde(default)]
    create_users: bool,
    role_claim: Option<String>,
    #[serde(default)]
    roles: BTreeMap<String, String>,
    #[serde(default)]
    rp_logout: bool,
    scopes: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

/// Reads and checks the file at `path`; `secret_of` looks an environment variable up.
pub fn load(path: &Path, secret_of: impl Fn(&str) -> Option<String>) -> anyhow::Result<OidcConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the OpenID Connect settings {}", path.display()))?;
    parse(&text, path.parent().unwrap_or(Path::new(".")), secret_of)
        .with_context(|| format!("in {}", path.display()))
}

/// Checks the text of a settings file; relative secret files are read from `dir`.
pub fn parse(
    text: &str,
    dir: &Path,
    secret_of: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<OidcConfig> {
    let file: File = toml::from_str(text).context("the file is not valid settings")?;
    let mut providers: Vec<ProviderConfig> = Vec::new();
    for p in file.providers {
        let name = p.name.trim().to_owned();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            bail!("provider name {name:?}: use lower-case letters, digits and - (it goes in URLs)");
        }
        if providers.iter().any(|q| q.name == name) {
            bail!("two providers are named {name}");
        }
        let issuer = url::Url::parse(&p.issuer)
            .with_context(|| format!("provider {name}: issuer {:?} is not a URL", p.issuer))?;
        let loopback = issuer.host_str().is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())
                || h == "[::1]"
        });
        if issuer.scheme() != "https" && !(issuer.scheme() == "http" && loopback) {
            bail!("provider {name}: the issuer must be an https:// address (http:// only on loopback)");
        }
        let client_secret = match (&p.client_secret_env, &p.client_secret_file) {
            (Some(var), None) => secret_of(var).filter(|s| !s.is_empty()).with_context(|| {
                format!("provider {name}: the environment variable {var} holding the client secret is not set")
            })?,
            (None, Some(file)) => {
                let file = if file.is_absolute() { file.clone() } else { dir.join(file) };
                std::fs::read_to_string(&file)
                    .with_context(|| format!("provider {name}: cannot read the client secret from {}", file.display()))?
                    .trim()
                    .to_owned()
            }
            _ => bail!(
                "provider {name}: give the client secret with exactly one of client_secret_env \
                 (an environment variable's name) or client_secret_file (a file's path)"
            ),
        };
        let mut roles = BTreeMap::new();
        for (value, role) in p.roles {
            let parsed = Role::parse(&role.to_lowercase()).with_context(|| {
                format!("provider {name}: {role:?} (for {value:?}) is not a role: admin, support or member")
            })?;
            roles.insert(value, parsed);
        }
        if !roles.is_empty() && p.role_claim.is_none() {
            bail!("provider {name}: roles are mapped but role_claim does not say from which claim");
        }
        providers.push(ProviderConfig {
            display_name: p.display_name.unwrap_or_else(|| name.clone()),
            name,
            issuer: p.issuer.trim_end_matches('/').to_owned(),
            client_id: p.client_id,
            client_secret,
            link_by_email: p.link_by_email,
            create_users: p.create_users,
            role_claim: p.role_claim,
            roles,
            rp_logout: p.rp_logout,
            scopes: p
                .scopes
                .unwrap_or_else(|| vec!["openid".into(), "email".into(), "profile".into()]),
        });
    }
    if !file.password_sign_in && providers.is_empty() {
        bail!("password_sign_in = false needs at least one provider, or nobody could sign in to the gate");
    }
    Ok(OidcConfig {
        password_sign_in: file.password_sign_in,
        providers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        password_sign_in = false
        [[provider]]
        name = "entra"
        display_name = "Microsoft"
        issuer = "https://login.microsoftonline.com/tenant/v2.0/"
        client_id = "abc"
        client_secret_env = "ENTRA_SECRET"
        link_by_email = true
        role_claim = "groups"
        [provider.roles]
        "curfew-admins" = "admin"
        "helpdesk" = "Support"
    "#;

    #[test]
    fn a_good_file_reads_whole() {
        let config = parse(GOOD, Path::new("."), |v| {
            (v == "ENTRA_SECRET").then(|| "s3cret".into())
        })
        .unwrap();
        assert!(!config.password_sign_in);
        let entra = &config.providers[0];
        assert_eq!(
            entra.issuer,
            "https://login.microsoftonline.com/tenant/v2.0"
        );
        assert_eq!(entra.client_secret, "s3cret");
        assert_eq!(entra.roles["helpdesk"], Role::Support);
        assert!(
            !entra.create_users,
            "just-in-time creation is off by default"
        );
    }

    #[test]
    fn mistakes_are_named() {
        let no_env = parse(GOOD, Path::new("."), |_| None).unwrap_err();
        assert!(format!("{no_env:#}").contains("ENTRA_SECRET"), "{no_env:#}");
        for (text, says) in [
            ("[[provider]]\nname='a'\nissuer='http://idp.example.org'\nclient_id='c'\nclient_secret_env='X'", "https://"),
            ("[[provider]]\nname='A B'\nissuer='https://x'\nclient_id='c'\nclient_secret_env='X'", "lower-case"),
            ("[[provider]]\nname='a'\nissuer='https://x'\nclient_id='c'\nclient_secret='inline'", "client_secret"),
            ("[[provider]]\nname='a'\nissuer='https://x'\nclient_id='c'\nclient_secret_env='X'\nrole_claim='g'\n[provider.roles]\nx='root'", "not a role"),
            ("password_sign_in = false", "at least one provider"),
        ] {
            let err = parse(text, Path::new("."), |_| Some("s".into())).unwrap_err();
            assert!(format!("{err:#}").contains(says), "{text}: {err:#}");
        }
    }
}
