//! The contract's facts the UI needs, read from `curfew` (their one home) and handed to the
//! page by the `contract` command: the form limits, a human label for every audit action,
//! the administrators' event names, and the names of the app's own window events. The page
//! keeps no copies of them.

use std::collections::BTreeMap;

use curfew::api::{AdminEvent, AuditAction};
use curfew::limits::{FormLimits, FORM_LIMITS};
use serde::Serialize;

use crate::events::{ADMIN_EVENT, SIGNED_OUT};

#[derive(Debug, Clone, Serialize)]
pub struct Contract {
    pub limits: FormLimits,
    /// Audit action code → what the Activity view says after the actor's name.
    pub audit_actions: BTreeMap<&'static str, &'static str>,
    /// The `type` of each administrators' event the window receives on `channels.admin_event`.
    pub admin_events: &'static [&'static str],
    /// A refused sign-in's `reason` code (as the audit records it) → why, in words.
    pub sign_in_refusals: BTreeMap<&'static str, &'static str>,
    /// Each service token scope, in order, with what it allows in words.
    pub token_scopes: Vec<(&'static str, &'static str)>,
    /// A service token's name: at most this many characters.
    pub token_name_max: usize,
    /// The columns a CSV import may have (`username` is required).
    pub import_columns: &'static [&'static str],
    /// A server's name in the app's list: at most this many characters.
    pub server_name_max: usize,
    pub channels: Channels,
}

/// The codes curfewd gives a refused sign-in, and what the Activity view says for each.
/// (They are the login route's error codes; `curfew` has no list of them yet.)
pub const SIGN_IN_REFUSALS: [(&str, &str); 3] = [
    ("invalid_credentials", "wrong username or password"),
    ("account_deactivated", "the account is deactivated"),
    ("maintenance", "sign-ins were frozen for maintenance"),
];

/// The window events the app emits and the page listens for.
#[derive(Debug, Clone, Serialize)]
pub struct Channels {
    /// Each administrators' event, as curfewd sent it (`{type, ...}`).
    pub admin_event: &'static str,
    /// The server signed the admin out; the payload says why.
    pub signed_out: &'static str,
}

impl Contract {
    pub fn current() -> Contract {
        Contract {
            limits: FORM_LIMITS,
            audit_actions: AuditAction::ALL
                .iter()
                .map(|action| (action.as_str(), action.label()))
                .collect(),
            admin_events: &AdminEvent::EVENT_NAMES,
            sign_in_refusals: SIGN_IN_REFUSALS.into_iter().collect(),
            token_scopes: curfew::api::TokenScope::ALL
                .iter()
                .map(|scope| (scope.as_str(), scope.describe()))
                .collect(),
            token_name_max: curfew::api::tokens::TOKEN_NAME_MAX,
            import_columns: &curfew::api::IMPORT_COLUMNS,
            server_name_max: crate::servers::NAME_MAX,
            channels: Channels {
                admin_event: ADMIN_EVENT,
                signed_out: SIGNED_OUT,
            },
        }
    }
}
