//! The providers at run time: their settings, what discovery found (kept, fetched
//! again when a token names an unknown key, at most every [`REDISCOVER_AFTER`]), the HTTP
//! client that reaches them (no redirects followed, short timeouts), and the logout
//! tokens already acted on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::CoreClient;
use openidconnect::{ClientId, ClientSecret, IssuerUrl, ProviderMetadataWithLogout, RedirectUrl};
use tokio::sync::Mutex;

use super::config::{OidcConfig, ProviderConfig};
use crate::core::error::{AppError, AppResult, ErrorKind};

/// How long a started sign-in may take at the provider.
pub const PENDING_FOR_MS: i64 = 10 * 60 * 1000;
/// Started sign-ins kept at most (each a small row); past it new ones wait.
pub const PENDING_MAX: i64 = 20_000;
/// A provider's keys are fetched again at most this often.
pub const REDISCOVER_AFTER: Duration = Duration::from_secs(2);

/// What discovery found about a provider.
pub struct Discovered {
    pub metadata: ProviderMetadataWithLogout,
    /// The same keys, for the logout token.
    pub keys: jsonwebtoken::jwk::JwkSet,
    at: Instant,
}

/// One provider: its settings and what was last discovered.
pub struct Provider {
    pub config: ProviderConfig,
    discovered: Mutex<Option<Arc<Discovered>>>,
    /// When discovery last failed: requests within [`REDISCOVER_AFTER`] of it fail at
    /// once, so a provider that is down is not asked again for every anonymous request.
    failed_at: std::sync::Mutex<Option<Instant>>,
}

/// The providers of this curfewd, with one HTTP client for all of them.
pub struct Oidc {
    pub password_sign_in: bool,
    pub providers: Vec<Provider>,
    http: reqwest::Client,
    /// Logout tokens' `jti`s already acted on (recent ones), against replays.
    pub(super) seen_logouts: std::sync::Mutex<std::collections::VecDeque<String>>,
}

/// The error an HTTP call to a provider gives `openidconnect`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl Oidc {
    pub fn new(config: &OidcConfig) -> Self {
        let http = reqwest::Client::builder()
            // Never follow a provider's redirects (SSRF), never wait long.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Oidc {
            password_sign_in: config.password_sign_in,
            providers: config
                .providers
                .iter()
                .cloned()
                .map(|config| Provider {
                    config,
                    discovered: Mutex::new(None),
                    failed_at: std::sync::Mutex::new(None),
                })
                .collect(),
            http,
            seen_logouts: Default::default(),
        }
    }

    pub fn provider(&self, name: &str) -> AppResult<&Provider> {
        self.providers
            .iter()
            .find(|p| p.config.name == name)
            .ok_or_else(|| {
                AppError::not_found(
                    "unknown_provider",
                    format!("Curfew has no identity provider named {name:?}. Use a sign-in button on the sign-in page."),
                )
            })
    }

    /// An HTTP client in the shape `openidconnect` calls.
    pub(super) fn client(
        &self,
    ) -> impl Fn(
        openidconnect::HttpRequest,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<openidconnect::HttpResponse, HttpError>> + Send,
        >,
    > + '_ {
        move |request: openidconnect::HttpRequest| {
            let http = self.http.clone();
            Box::pin(async move {
                let (parts, body) = request.into_parts();
                let mut outgoing = http.request(parts.method, parts.uri.to_string()).body(body);
                for (name, value) in &parts.headers {
                    outgoing = outgoing.header(name, value);
                }
                let response = outgoing
                    .send()
                    .await
                    .map_err(|e| HttpError(format!("cannot reach the provider: {e}")))?;
                let mut answer = openidconnect::http::Response::builder().status(response.status());
                for (name, value) in response.headers() {
                    answer = answer.header(name, value);
                }
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| HttpError(format!("the provider's answer broke off: {e}")))?;
                answer
                    .body(bytes.to_vec())
                    .map_err(|e| HttpError(e.to_string()))
            })
        }
    }

    /// What `provider` publishes: discovered on first use, again when `stale` (a token
    /// named an unknown key) and the last discovery is older than [`REDISCOVER_AFTER`].
    pub(super) async fn discovered(
        &self,
        provider: &Provider,
        stale: bool,
    ) -> AppResult<Arc<Discovered>> {
        let mut kept = provider.discovered.lock().await;
        if let Some(found) = kept.as_ref() {
            if !stale || found.at.elapsed() < REDISCOVER_AFTER {
                return Ok(found.clone());
            }
        }
        let unreachable = |what: String| {
            tracing::warn!(provider = %provider.config.name, error = %what, "identity provider discovery failed");
            AppError::retry(
                ErrorKind::Unavailable,
                "provider_unavailable",
                format!(
                    "Curfew cannot reach {} to sign you in right now. Try again in a minute, or \
                     sign in another way.",
                    provider.config.display_name
                ),
                30,
            )
        };
        let recently_failed = provider
            .failed_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|at| at.elapsed() < REDISCOVER_AFTER);
        if recently_failed {
            return Err(unreachable("it failed moments ago".into()));
        }
        let found = self.discover(provider).await.map_err(|what| {
            *provider.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            unreachable(what)
        })?;
        *kept = Some(found.clone());
        tracing::info!(provider = %provider.config.name, "discovered the identity provider");
        Ok(found)
    }

    /// Discovery itself: the provider's metadata and its keys.
    async fn discover(&self, provider: &Provider) -> Result<Arc<Discovered>, String> {
        let issuer = IssuerUrl::new(provider.config.issuer.clone()).map_err(|e| e.to_string())?;
        let http = self.client();
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &http)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let keys: jsonwebtoken::jwk::JwkSet = self
            .http
            .get(metadata.jwks_uri().url().as_str())
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let found = Arc::new(Discovered {
            metadata,
            keys,
            at: Instant::now(),
        });
        Ok(found)
    }

    /// The userinfo claims for `access_token`, if the provider has the endpoint and
    /// answers with JSON (a signed userinfo answer is left alone).
    pub(super) async fn user_info(
        &self,
        discovered: &Discovered,
        access_token: &str,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        let endpoint = discovered.metadata.userinfo_endpoint()?;
        let answer = self
            .http
            .get(endpoint.url().as_str())
            .bearer_auth(access_token)
            .send()
            .await
            .ok()?;
        if !answer.status().is_success() {
            tracing::warn!(status = %answer.status(), "the identity provider's userinfo answered with an error");
            return None;
        }
        answer.json().await.ok()
    }

    /// The relying-party client for `provider`, answering at `redirect_uri`.
    pub(super) fn rp_client(
        provider: &Provider,
        discovered: &Discovered,
        redirect_uri: &str,
    ) -> AppResult<
        openidconnect::core::CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
    > {
        let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| {
            AppError::bad_request(
                "invalid_redirect",
                format!("The sign-in address {redirect_uri} is not valid: {e}."),
            )
        })?;
        Ok(CoreClient::from_provider_metadata(
            discovered.metadata.clone(),
            ClientId::new(provider.config.client_id.clone()),
            Some(ClientSecret::new(provider.config.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }
}
