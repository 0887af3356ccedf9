//! `curfewd token create|list|revoke`: service tokens from the server's own command line,
//! for the first set-up (before any administrator has signed in to the app). The rules
//! are the core's, as for the route; the token is printed once and never again.

use anyhow::Context;
use clap::Subcommand;
use curfew::api::{NewServiceToken, ServiceToken, TokenScope};
use uuid::Uuid;

use super::database::Database;
use crate::core::{AppError, AppState, Config};
use crate::store::Actor;

#[derive(Subcommand)]
pub(super) enum TokenCommand {
    /// Make a service token and print it once (only its SHA-256 is kept).
    Create {
        #[command(flatten)]
        database: Database,
        /// Names the token in lists and in the audit ("nightly logout").
        #[arg(long)]
        name: String,
        /// What it may do, comma-separated: scim, read, force_logout, maintenance.
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
        /// Days until it stops working (default: until revoked).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List the service tokens (never the tokens themselves).
    List {
        #[command(flatten)]
        database: Database,
    },
    /// Revoke a service token by id or name: its next request is refused.
    Revoke {
        #[command(flatten)]
        database: Database,
        /// The token's id, or the name of a token not revoked.
        token: String,
    },
}

/// Who the audit names for what is done on the server's command line.
pub(super) fn command_line_actor() -> Actor {
    Actor {
        user_id: Uuid::nil(),
        username: "curfewd".to_owned(),
        session_id: Uuid::nil(),
        service_token: false,
    }
}

/// A core refusal as the sentence it carries.
pub(super) fn sentence(error: AppError) -> anyhow::Error {
    match error {
        AppError::Client { message, .. } => anyhow::anyhow!(message),
        AppError::Internal(e) => e,
    }
}

fn line(token: &ServiceToken) -> String {
    let scopes: Vec<&str> = token.scopes.iter().map(|s| s.as_str()).collect();
    let state = if token.revoked_at.is_some() {
        "revoked".to_owned()
    } else if !token.is_live(chrono::Utc::now()) {
        "expired".to_owned()
    } else {
        match token.expires_at {
            Some(at) => format!("expires {}", at.format("%Y-%m-%d %H:%M UTC")),
            None => "no expiry".to_owned(),
        }
    };
    let used = match (&token.last_used_at, &token.last_used_address) {
        (Some(at), Some(address)) => {
            format!("used {} from {address}", at.format("%Y-%m-%d %H:%M UTC"))
        }
        (Some(at), None) => format!("used {}", at.format("%Y-%m-%d %H:%M UTC")),
        _ => "never used".to_owned(),
    };
    format!(
        "{}  {}  {}  {}  {}  by {}",
        token.id,
        token.name,
        scopes.join(","),
        state,
        used,
        token.created_by
    )
}

pub(super) async fn run(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            database,
            name,
            scope,
            expires_in_days,
        } => {
            let scopes = scope
                .iter()
                .map(|s| {
                    TokenScope::parse(s.trim()).with_context(|| {
                        format!("unknown scope {s:?}: use scim, read, force_logout or maintenance")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let store = database.open(2).await?;
            let state = AppState::new(store.clone(), Config::default());
            let created = state
                .create_service_token(
                    &command_line_actor(),
                    &NewServiceToken {
                        name,
                        scopes,
                        expires_in_days,
                    },
                )
                .await;
            store.close().await;
            let created = created.map_err(sentence)?;
            eprintln!(
                "made the service token {} ({}); it is printed once, keep it now:",
                created.service_token.name, created.service_token.id
            );
            println!("{}", created.token);
            Ok(())
        }
        TokenCommand::List { database } => {
            let store = database.open(2).await?;
            let state = AppState::new(store.clone(), Config::default());
            let list = state.service_tokens().await;
            store.close().await;
            let list = list.map_err(sentence)?;
            if list.tokens.is_empty() {
                eprintln!("no service tokens; make one with curfewd token create");
            }
            for token in &list.tokens {
                println!("{}", line(token));
            }
            Ok(())
        }
        TokenCommand::Revoke { database, token } => {
            let store = database.open(2).await?;
            let state = AppState::new(store.clone(), Config::default());
            let result = async {
                let id = match Uuid::parse_str(&token) {
                    Ok(id) => id,
                    Err(_) => {
                        let list = state.service_tokens().await.map_err(sentence)?;
                        let now = chrono::Utc::now();
                        list.tokens
                            .iter()
                            .find(|t| t.name == token && t.revoked_at.is_none())
                            .map(|t| t.id)
                            .or_else(|| {
                                list.tokens
                                    .iter()
                                    .find(|t| t.name == token && t.is_live(now))
                                    .map(|t| t.id)
                            })
                            .with_context(|| {
                                format!(
                                    "no service token named {token:?} is live; see curfewd token list"
                                )
                            })?
                    }
                };
                state
                    .revoke_service_token(&command_line_actor(), id)
                    .await
                    .map_err(sentence)
            }
            .await;
            store.close().await;
            let revoked = result?;
            println!("revoked {}", line(&revoked));
            Ok(())
        }
    }
}
