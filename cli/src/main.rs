//! `curfew`: the command line for curfewd, on the `curfew` library's client. Human tables
//! by default, `--json` for scripts; destructive commands ask first (or need `--yes`);
//! the exit code says what happened (see [`EXIT_CODES`]).

mod commands;
mod keychain;
mod output;
mod profile;
mod when;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use uuid::Uuid;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  error: the server refused or could not be reached, or you answered no
  2  usage: bad arguments or WHEN, a USER that is not one username, or a destructive
     command without --yes when there is no terminal to ask
  3  not permitted: not signed in, the token was refused (401) or lacks the permission (403)
  4  not found: no such user, session, maintenance window or throttled account

Signing in:
  curfew login --server URL --username NAME keeps the token in the OS keychain (service
  dev.curfew.app) and the server and username in the config dir; later commands use them.
  For scripts, set CURFEW_TOKEN (or --token-file PATH) with --server URL (or CURFEW_SERVER).

WHEN: RFC 3339 (2026-12-05T22:00:00Z), \"2026-12-05 22:00\", \"in 2h\", \"2h ago\",
\"22:00\", \"today 22:00\", \"tomorrow 22:00\", \"yesterday 08:00\", in local time.";

/// The command line for curfewd: list users and their sessions, log them out, end one
/// session, deactivate them, let throttled sign-ins through, schedule maintenance and read
/// the audit log, from a terminal, cron or CI.
#[derive(Debug, Parser)]
#[command(name = "curfew", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The curfewd to talk to [default: the one `curfew login` saved]
    #[arg(long, global = true, env = "CURFEW_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Read the session token from this file (its first line) instead of the keychain;
    /// CURFEW_TOKEN does the same from the environment
    #[arg(long, global = true, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Print machine-readable JSON on standard output
    #[arg(long, global = true)]
    pub json: bool,
    /// Do what a destructive command does without asking
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in (password from a prompt, or from standard input when it is not a
    /// terminal) and keep the token in the OS keychain
    Login {
        #[arg(long, value_name = "NAME")]
        username: String,
        /// Print the token on standard output instead of keeping it (for CURFEW_TOKEN or
        /// --token-file); nothing is saved on this computer
        #[arg(long)]
        print_token: bool,
        /// What administrators see this sign-in as, 1 to 100 characters [default: this
        /// computer's name followed by " (curfew command line)"]
        #[arg(long, value_name = "NAME")]
        device_name: Option<String>,
    },
    /// End this command line's own session and delete its token from the keychain
    Signout,
    /// List users with their live sessions
    Users {
        /// Only users with a live session
        #[arg(long, conflicts_with = "deactivated")]
        online: bool,
        /// Only deactivated users
        #[arg(long)]
        deactivated: bool,
        /// Only users whose username or name contains Q (case-insensitive)
        #[arg(long, value_name = "Q")]
        search: Option<String>,
    },
    /// One user's live sessions: device, client, addresses, when signed in and last seen
    Sessions {
        /// A username
        user: String,
    },
    /// End one session (the lost phone); the user's other sessions stay
    EndSession {
        /// The session's id, as `curfew sessions USER` shows it
        session_id: Uuid,
        /// Look for the session among this user's only [default: every user signed in]
        #[arg(long, value_name = "USER")]
        user: Option<String>,
    },
    /// Accounts with failed sign-ins in the last minute; `throttles clear USERNAME` lets
    /// one try again at once
    Throttles {
        #[command(subcommand)]
        action: Option<Throttles>,
    },
    /// Log out a user: end every session of theirs
    Logout {
        /// A username
        user: String,
    },
    /// Log out everyone but you
    LogoutAll {
        /// Also keep the other administrators (admin and support) signed in
        #[arg(long)]
        keep_admins: bool,
    },
    /// Deactivate a user: end their sessions; they cannot sign in until activated
    Deactivate {
        /// A username
        user: String,
    },
    /// Activate a deactivated user
    Activate {
        /// A username
        user: String,
    },
    /// Maintenance windows: warnings, a login freeze, one mass logout at the start
    #[command(subcommand)]
    Maintenance(Maintenance),
    /// Who did what to whom, newest first (the latest 50 without --since); administrators'
    /// actions unless --sign-ins or --all
    Audit {
        /// Every entry since WHEN
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Sign-ins and refused sign-ins instead, with client, address and the refusal
        #[arg(long, conflicts_with = "all")]
        sign_ins: bool,
        /// Administrators' actions and sign-ins together
        #[arg(long)]
        all: bool,
    },
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
}

#[derive(Debug, Subcommand)]
pub enum Throttles {
    /// Forget an account's failed sign-ins so it may try again at once
    Clear {
        /// The username as `curfew throttles` lists it
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Maintenance {
    /// Schedule a window
    Schedule {
        /// When it starts and everyone but you is signed out
        #[arg(long, value_name = "WHEN")]
        at: String,
        /// What users are told
        #[arg(long, value_name = "TEXT")]
        message: String,
        /// Warnings this long before the start [default: 60m,15m,5m,1m]
        #[arg(long, value_name = "DURATIONS", value_delimiter = ',', value_parser = parse_seconds)]
        warn: Option<Vec<i64>>,
        /// Logins freeze this long before the start [default: 5m]
        #[arg(long, value_name = "DURATION", value_parser = parse_seconds)]
        freeze: Option<i64>,
        /// When it ends and logins open again [default: when an administrator ends it]
        #[arg(long, value_name = "WHEN")]
        ends: Option<String>,
        /// Also keep the other administrators signed in at the start
        #[arg(long)]
        keep_admins: bool,
        /// Repeat it: an RRULE such as FREQ=WEEKLY;BYDAY=MO;COUNT=10 (weekly or monthly; needs --ends)
        #[arg(long, value_name = "RRULE")]
        repeat: Option<String>,
        /// The time zone the repeat keeps its wall time in [default: this computer's]
        #[arg(long, value_name = "ZONE", requires = "repeat")]
        time_zone: Option<String>,
    },
    /// Move or edit a window before it starts (warned users are told the new time)
    Move {
        id: Uuid,
        /// The new start
        #[arg(long, value_name = "WHEN")]
        at: String,
        /// The new end [default: the same length as before, or none]
        #[arg(long, value_name = "WHEN")]
        ends: Option<String>,
        /// What users are told [default: unchanged]
        #[arg(long, value_name = "TEXT")]
        message: Option<String>,
        /// Warnings this long before the start [default: unchanged]
        #[arg(long, value_name = "DURATIONS", value_delimiter = ',', value_parser = parse_seconds)]
        warn: Option<Vec<i64>>,
        /// Logins freeze this long before the start [default: unchanged]
        #[arg(long, value_name = "DURATION", value_parser = parse_seconds)]
        freeze: Option<i64>,
    },
    /// Upcoming and running windows, then the latest finished ones
    List,
    /// Cancel a window before it starts (warned users are told)
    Cancel { id: Uuid },
    /// End a running window now
    End { id: Uuid },
}

fn parse_seconds(text: &str) -> Result<i64, String> {
    when::parse_seconds(text)
}

/// What went wrong, and the exit code that says so.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn error(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
    pub fn not_permitted(message: impl Into<String>) -> Failure {
        Failure {
            code: 3,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure {
            code: 4,
            message: message.into(),
        }
    }
}

impl From<curfew::Error> for Failure {
    fn from(e: curfew::Error) -> Failure {
        let code = match &e {
            curfew::Error::InvalidUrl(_) | curfew::Error::InsecureUrl(_) => 2,
            _ => match e.status() {
                Some(401 | 403) => 3,
                Some(404) => 4,
                _ => 1,
            },
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    match cli.command {
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "curfew", &mut script);
            output::write_stdout(&script);
            return ExitCode::SUCCESS;
        }
        Command::Man => {
            let mut page = Vec::new();
            return match clap_mangen::Man::new(Cli::command()).render(&mut page) {
                Ok(()) => {
                    output::write_stdout(&page);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("curfew: {e}");
                    ExitCode::from(1)
                }
            };
        }
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("curfew: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("curfew: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
