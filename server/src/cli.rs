//! The `curfewd` command line: `serve`, `user add`, `token`, `demo-seed`.

use std::io::Read;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use curfew::api::{Role, UserStatus};

use crate::core::{secrets, validate, AppState, Config};

mod database;
mod import;
mod tokens;

use crate::seed;
use crate::store::{NewUser, Store, StoreError};
use database::Database;

#[derive(Parser)]
#[command(name = "curfewd", version, about = "Curfew's session authority")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve {
        #[command(flatten)]
        database: Database,
        /// Address to listen on; port 0 picks a free port (the chosen one is printed).
        #[arg(long, env = "CURFEW_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Hours a session lives after sign-in.
        #[arg(long, env = "CURFEW_SESSION_TTL_HOURS", default_value_t = 336)]
        session_ttl_hours: u64,
        /// Hours without use after which a session ends (0: only the TTL ends it).
        #[arg(long, env = "CURFEW_SESSION_IDLE_HOURS", default_value_t = 168)]
        session_idle_hours: u64,
        /// Live sessions a user may have; signing in past it ends their oldest.
        #[arg(long, env = "CURFEW_SESSIONS_PER_USER", default_value_t = 100)]
        sessions_per_user: u32,
        /// Sign-in attempts a minute allowed per account.
        #[arg(
            long,
            env = "CURFEW_LOGIN_PER_MINUTE_PER_ACCOUNT",
            default_value = "10"
        )]
        login_per_minute_per_account: NonZeroU32,
        /// Sign-in attempts a minute allowed per client address.
        #[arg(
            long,
            env = "CURFEW_LOGIN_PER_MINUTE_PER_ADDRESS",
            default_value = "60"
        )]
        login_per_minute_per_address: NonZeroU32,
        /// Behind a reverse proxy: take the client address from X-Forwarded-For.
        #[arg(long, env = "CURFEW_TRUST_FORWARDED_FOR")]
        trust_forwarded_for: bool,
        /// Database connections in the pool.
        #[arg(long, env = "CURFEW_DB_CONNECTIONS", default_value_t = 16)]
        db_connections: u32,
        /// Seconds a client has to send a request's headers; also the longest an idle
        /// keep-alive connection stays open.
        #[arg(long, env = "CURFEW_HEADER_TIMEOUT_SECS", default_value_t = 20)]
        header_timeout_secs: u64,
        /// Connections open at once (default: what the open-file limit allows, at most
        /// 16384); past it, new connections are closed at once.
        #[arg(long, env = "CURFEW_MAX_CONNECTIONS")]
        max_connections: Option<usize>,
        /// Live notice streams one sign-in may hold (tabs of one browser share one).
        #[arg(long, env = "CURFEW_STREAMS_PER_SESSION", default_value_t = 8)]
        streams_per_session: usize,
        /// Live notice streams one user may hold over all their sign-ins.
        #[arg(long, env = "CURFEW_STREAMS_PER_USER", default_value_t = 32)]
        streams_per_user: usize,
        /// Password checks at once (default: one per core).
        #[arg(long, env = "CURFEW_LOGIN_CONCURRENCY")]
        login_concurrency: Option<usize>,
        /// Sign-ins allowed to wait for a password check; past that, 503 `busy`
        /// (default: two per core).
        #[arg(long, env = "CURFEW_LOGIN_QUEUE")]
        login_queue: Option<usize>,
        /// The gate: a host (`name` or `name:port`, as the browser writes it) whose web
        /// app the reverse proxy puts behind curfewd's /.curfew/ routes; repeat it (or
        /// separate with commas) for several apps. Without one the gate is off.
        #[arg(long = "gate-host", env = "CURFEW_GATE_HOSTS", value_delimiter = ',')]
        gate_hosts: Vec<String>,
        /// The organisation's name on the gate's sign-in and maintenance pages.
        #[arg(long, env = "CURFEW_BRAND_NAME", default_value = "Curfew")]
        brand_name: String,
        /// One gate cookie for every subdomain of this domain (e.g. example.org), instead
        /// of one per host.
        #[arg(long, env = "CURFEW_COOKIE_DOMAIN")]
        cookie_domain: Option<String>,
        /// Identity providers people sign in through (OpenID Connect): a TOML file; client
        /// secrets come from the environment or files it names, never from here.
        #[arg(long, env = "CURFEW_OIDC_CONFIG")]
        oidc_config: Option<PathBuf>,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Service tokens for scripts and provisioning: create (printed once), list, revoke.
    Token {
        #[command(subcommand)]
        command: tokens::TokenCommand,
    },
    /// Fill an empty database with demo users and live sessions.
    DemoSeed {
        #[command(flatten)]
        database: Database,
        #[arg(long, default_value_t = 200)]
        users: usize,
        #[arg(long, default_value_t = 2)]
        sessions_per_user: usize,
        /// Share of active users that have sessions (0 to 1).
        #[arg(long, default_value_t = 0.6)]
        online_share: f64,
        /// Share of users that are deactivated (0 to 1).
        #[arg(long, default_value_t = 0.03)]
        deactivated_share: f64,
        /// The admin's password (default: a new random one, printed).
        #[arg(long, env = "CURFEW_DEMO_ADMIN_PASSWORD")]
        admin_password: Option<String>,
        /// Write every demo session's token here, one "username client token" a line.
        #[arg(long)]
        tokens_out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        #[command(flatten)]
        database: Database,
        #[arg(long)]
        username: String,
        /// Shown to administrators; defaults to the username.
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, value_parser = ["admin", "support", "member"])]
        role: String,
        /// Read the password from standard input (required: passwords never go in arguments).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Create and change accounts from a CSV file (one transaction: with any row in error,
    /// nothing changes). New accounts have no password.
    Import(import::ImportArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CURFEW_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: log files and journald get plain lines
        // that tools such as fail2ban can match.
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("curfewd: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("curfewd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            database,
            bind,
            session_ttl_hours,
            session_idle_hours,
            sessions_per_user,
            login_per_minute_per_account,
            login_per_minute_per_address,
            trust_forwarded_for,
            db_connections,
            login_concurrency,
            login_queue,
            header_timeout_secs,
            max_connections,
            streams_per_session,
            streams_per_user,
            gate_hosts,
            brand_name,
            cookie_domain,
            oidc_config,
        } => {
            let open_files = crate::daemon::raise_open_file_limit();
            let max_connections =
                max_connections.unwrap_or_else(|| crate::daemon::connections_for(open_files));
            let url = database.url()?;
            let _serving = crate::store::serve_lock(&url)?;
            let store = Store::connect(&url, db_connections).await?;
            let config = Config {
                session_ttl: Duration::from_secs(session_ttl_hours.max(1) * 3600),
                session_idle: (session_idle_hours > 0)
                    .then(|| Duration::from_secs(session_idle_hours * 3600)),
                sessions_per_user: sessions_per_user.max(1),
                login_per_minute_per_account,
                login_per_minute_per_address,
                trust_forwarded_for,
                // Streams may take three quarters of the connections: the rest stay free
                // for session checks and administrators.
                stream_limits: crate::core::hub::StreamLimits {
                    per_session: streams_per_session.max(1),
                    per_user: streams_per_user.max(1),
                    total: (max_connections * 3 / 4).max(1),
                },
                login_concurrency: login_concurrency.unwrap_or_else(crate::core::cores),
                login_queue: login_queue.unwrap_or(2 * crate::core::cores()),
                gate: crate::core::gate::GateConfig {
                    hosts: gate_hosts
                        .into_iter()
                        .map(|h| h.trim().to_owned())
                        .filter(|h| !h.is_empty())
                        .collect(),
                    brand_name,
                    cookie_domain,
                },
                oidc: match &oidc_config {
                    Some(path) => {
                        crate::core::oidc::config::load(path, |var| std::env::var(var).ok())?
                    }
                    None => crate::core::oidc::OidcConfig::default(),
                },
                ..Config::default()
            };
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("cannot listen on {bind}"))?;
            let local = listener.local_addr()?;
            // The first line of standard output is the address; scripts and tests read it.
            println!("curfewd listening on http://{local}");
            tracing::info!(address = %local, "serving");
            tracing::info!(address = %local, max_connections, open_files = ?open_files, "limits");
            crate::daemon::serve(
                listener,
                AppState::new(store.clone(), config),
                shutdown_signal(),
                crate::daemon::ServeOptions {
                    header_timeout: Duration::from_secs(header_timeout_secs.max(1)),
                    max_connections,
                    drain: Duration::from_secs(10),
                },
            )
            .await?;
            store.close().await;
            tracing::info!("stopped");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    database,
                    username,
                    display_name,
                    role,
                    password_stdin: _,
                },
        } => {
            let username = validate::normalize_username(&username).map_err(anyhow::Error::msg)?;
            let display_name = validate::display_name(display_name.as_deref().unwrap_or(&username))
                .map_err(anyhow::Error::msg)?;
            let role = Role::parse(&role).context("role must be admin, support or member")?;
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("cannot read the password from standard input")?;
            let password = input.lines().next().unwrap_or_default().to_owned();
            validate::new_password(&password).map_err(anyhow::Error::msg)?;
            let store = database.open(2).await?;
            let user = NewUser {
                username: username.clone(),
                display_name,
                email: None,
                role,
                status: UserStatus::Active,
                password_hash: secrets::hash_password(&password)?,
            };
            let result = store.insert_user(&user, crate::now_ms()).await;
            store.close().await;
            match result {
                Ok(id) => {
                    println!("created {} {username} ({id})", role.as_str());
                    Ok(())
                }
                Err(StoreError::UsernameTaken(name)) => {
                    anyhow::bail!("the username {name} is taken; choose another")
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Token { command } => tokens::run(command).await,
        Command::User {
            command: UserCommand::Import(args),
        } => import::run(args).await,
        Command::DemoSeed {
            database,
            users,
            sessions_per_user,
            online_share,
            deactivated_share,
            admin_password,
            tokens_out,
        } => {
            anyhow::ensure!(users >= 1, "--users must be at least 1");
            anyhow::ensure!(
                (0.0..=1.0).contains(&online_share) && (0.0..=1.0).contains(&deactivated_share),
                "--online-share and --deactivated-share must be between 0 and 1"
            );
            let store = database.open(2).await?;
            let summary = seed::seed(
                &store,
                &seed::SeedPlan {
                    users,
                    sessions_per_user,
                    online_share,
                    deactivated_share,
                    admin_password,
                    tokens_out,
                },
            )
            .await;
            store.close().await;
            let summary = summary?;
            println!("{summary}");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
