//! The application core: the shared state of one curfewd and the rules every entry point
//! (the HTTP routes, the scheduler, the cluster listener, the command line) goes through.
//!
//! Layers run one way: `http`, `scheduler` and `cluster` call the core; the core calls
//! [`crate::store`], which runs statements and decides nothing. Nothing here knows of
//! HTTP: errors are [`AppError`] kinds, which `http` maps to statuses.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod caller;
pub mod devices;
pub mod error;
pub mod gate;
pub mod hashing;
pub mod hub;
pub mod idle;
pub mod import;
mod import_csv;
pub mod listing;
pub mod maintenance;
pub mod notices;
pub mod oidc;
pub mod ratelimit;
pub mod recurrence;
pub mod scim;
pub mod secrets;
pub mod signal;
pub mod steps;
mod streams;
pub mod throttles;
pub mod tokens;
pub mod users;
pub mod validate;
pub mod windows;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

pub use error::{AppError, AppResult, ErrorKind};
use hashing::HashingGate;
use hub::{NoticeHub, StreamLimits};
use ratelimit::LoginLimiter;

use crate::store::Store;

/// How a server behaves, from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    pub session_ttl: Duration,
    /// A session unused this long ends (`None`: only the TTL ends it).
    pub session_idle: Option<Duration>,
    /// Live sessions a user may have; signing in past it ends their oldest.
    pub sessions_per_user: u32,
    pub login_per_minute_per_account: NonZeroU32,
    pub login_per_minute_per_address: NonZeroU32,
    /// Take the client address from the last `X-Forwarded-For` entry (behind a proxy).
    pub trust_forwarded_for: bool,
    /// How often open streams are checked against the database for expiry.
    pub sweep_interval: Duration,
    /// How many notice streams may be open (see [`hub`]).
    pub stream_limits: StreamLimits,
    /// Password checks at once (see [`hashing`]).
    pub login_concurrency: usize,
    /// Password checks allowed to wait; past that, sign-ins get 503 `busy`.
    pub login_queue: usize,
    /// The gate in front of existing web apps (off without hosts).
    pub gate: gate::config::GateConfig,
    /// Identity providers people may sign in through.
    pub oidc: oidc::config::OidcConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_ttl: Duration::from_secs(14 * 24 * 3600),
            session_idle: Some(Duration::from_secs(7 * 24 * 3600)),
            sessions_per_user: 100,
            login_per_minute_per_account: NonZeroU32::new(10).expect("non-zero"),
            login_per_minute_per_address: NonZeroU32::new(60).expect("non-zero"),
            trust_forwarded_for: false,
            sweep_interval: Duration::from_secs(10),
            stream_limits: StreamLimits::default(),
            login_concurrency: cores(),
            login_queue: 2 * cores(),
            gate: gate::config::GateConfig::default(),
            oidc: oidc::config::OidcConfig::default(),
        }
    }
}

/// The cores this process may use: as many password checks run at once.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// One curfewd: its database, its open streams, its limits.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hub: Arc<NoticeHub>,
    pub limiter: Arc<LoginLimiter>,
    pub hashing: Arc<HashingGate>,
    pub config: Arc<Config>,
    /// What `/admin/events` streams to administrators.
    pub events: tokio::sync::broadcast::Sender<curfew::api::AdminEvent>,
    /// Wakes the maintenance scheduler when a window is created.
    pub scheduler_wake: Arc<tokio::sync::Notify>,
    /// This process, to tell its own signals from other instances' (see [`signal`]).
    pub instance: Uuid,
    /// The gate's copy of the maintenance windows (see [`gate::freezes::FreezeCache`]).
    pub freezes: Arc<gate::freezes::FreezeCache>,
    /// The identity providers, as discovered (see [`oidc`]).
    pub oidc: Arc<oidc::runtime::Oidc>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        AppState {
            store,
            hub: Arc::new(NoticeHub::new(config.stream_limits)),
            limiter: Arc::new(LoginLimiter::new(
                config.login_per_minute_per_account,
                config.login_per_minute_per_address,
            )),
            hashing: Arc::new(HashingGate::new(
                config.login_concurrency,
                config.login_queue,
            )),
            oidc: Arc::new(oidc::runtime::Oidc::new(&config.oidc)),
            config: Arc::new(config),
            events: tokio::sync::broadcast::channel(256).0,
            scheduler_wake: Arc::new(tokio::sync::Notify::new()),
            instance: Uuid::new_v4(),
            freezes: Arc::default(),
        }
    }

    /// Whether curfewd can serve: it runs, and its database answers a trivial query.
    /// Constant work whatever the number of users or sessions.
    pub async fn health(&self) -> AppResult<()> {
        self.store.ping().await?;
        Ok(())
    }

    /// Ends the sessions idle past the configured timeout, so that counts and lists stop
    /// showing them (the session check refuses them at once either way).
    pub async fn expire_idle_sessions(&self) -> AppResult<u64> {
        let Some(idle) = self.config.session_idle else {
            return Ok(0);
        };
        let now = crate::now_ms();
        let ended = self
            .store
            .expire_idle(now - idle.as_millis() as i64, now)
            .await?;
        if ended > 0 {
            tracing::info!(sessions = ended, "ended idle sessions");
        }
        Ok(ended)
    }

    /// Periodic work: end idle sessions and the streams of ended ones, forget idle limiter keys, and now
    /// and then forget sessions that ended a month ago.
    pub async fn housekeeping(self) {
        let mut tick = tokio::time::interval(self.config.sweep_interval);
        let mut rounds: u64 = 0;
        loop {
            tick.tick().await;
            rounds += 1;
            if let Err(e) = self.expire_idle_sessions().await {
                tracing::warn!(error = ?e, "ending idle sessions failed");
            }
            // Sessions whose time ran out leave their users' counts here, so that the
            // reads of the counts (which settle first) seldom find any to write.
            if let Err(e) = self.store.settle_expired(crate::now_ms()).await {
                tracing::warn!(error = ?e, "settling expired sessions failed");
            }
            if let Err(e) = self.end_stale_streams(None).await {
                tracing::warn!(error = ?e, "stream sweep failed");
            }
            self.limiter.forget_idle();
            if rounds % 360 == 1 {
                let month_ago = crate::now_ms() - 30 * 24 * 3600 * 1000;
                match self.store.prune_sessions(month_ago).await {
                    Ok(n) if n > 0 => tracing::info!(sessions = n, "pruned ended sessions"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = ?e, "pruning sessions failed"),
                }
            }
        }
    }
}
