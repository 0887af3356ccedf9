//! Every SQL statement curfewd runs lives here, written once for SQLite and PostgreSQL,
//! one file per aggregate: [`users`], [`sessions`], [`audit`], [`maintenance`]; `db`
//! connects, migrates and holds the column helpers.
//!
//! The store decides nothing: it runs the statements the core asks for, each in the
//! transaction the core's rule needs. Invariants its statements keep:
//! - a session is live only while `revoked_at IS NULL AND expires_at > now`; once revoked it
//!   never becomes live again (no statement clears `revoked_at`);
//! - every forced revocation is one `UPDATE` statement, whatever the number of sessions,
//!   and it commits together with its audit entry; a session inserted before that
//!   statement is revoked by it, one inserted after it is not touched;
//! - deactivating a user revokes their sessions in the same transaction;
//! - each user's `live_app_sessions` and `live_web_sessions` count their sessions with
//!   `counted = 1 AND revoked_at IS NULL`, changed by triggers in the statement that
//!   changes a session (migration 0016); a read of them first settles the sessions whose
//!   time ran out ([`live_counts`]), so they are the live sessions at that moment;
//! - only token hashes are stored, never tokens.

pub mod accounts;
pub mod audit;
pub mod bulk;
mod check_reads;
mod db;
pub mod import;
mod live_counts;
pub mod maintenance;
pub mod oidc;
pub mod scim;
pub mod series;
mod session_check;
pub mod sessions;
mod sqlite_file;
mod steps;
pub mod tokens;
pub mod user_list;
pub mod users;
mod windows;

pub use accounts::{AccountOutcome, UserChange};
pub use audit::{Actor, AuditCursor, AuditRecord, AuditSelection};
pub use bulk::{BulkDeactivation, BulkOutcome, IdleOutcome};
pub use import::{ExistingUser, ImportOutcome, ImportUpdate};
pub use maintenance::{AnnouncedWindow, Freeze, NewWindow, WindowError};
pub use series::{NewSeries, NextOccurrences, Occurrence, SeriesRow};
pub use sessions::{EndedSession, MassRevocation, NewSession, SessionRecord, SessionRow, Spared};
pub use steps::{DueStep, StepTx, StepWindow};
pub use tokens::{NewServiceTokenRow, ServiceTokenRecord, TokenStoreError};
pub use user_list::{UserCursor, UserMatching};
pub use users::{NewUser, StoreError, UserRecord};
pub use windows::Moved;

pub use db::{from_millis, millis, redact_url, serve_lock, Backend, Store, Tx};
pub use sqlite_file::ServeLock;
