//! Every route of the contract, written once. The server's router, its OpenAPI document
//! and the client all read their paths from here, and a router test fails when a route
//! exists in one of them and not in the others.
//!
//! Paths are relative to [`API_PREFIX`] and use axum's `{param}` syntax, which is also
//! OpenAPI's.

use uuid::Uuid;

/// Prefix of every route of the contract.
pub const API_PREFIX: &str = "/api/v1";

/// The HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    Get,
    Post,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// One route: a method and a path under [`API_PREFIX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route {
    pub verb: Verb,
    pub path: &'static str,
}

impl Route {
    const fn new(verb: Verb, path: &'static str) -> Route {
        Route { verb, path }
    }

    /// The path with its `{id}` filled in.
    pub fn with_id(&self, id: Uuid) -> String {
        self.path.replace("{id}", &id.to_string())
    }

    /// The full path, prefix included, as the OpenAPI document lists it.
    pub fn full_path(&self) -> String {
        format!("{API_PREFIX}{}", self.path)
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb.as_str(), self.full_path())
    }
}

use Verb::{Delete, Get, Patch, Post};

// End users.
pub const LOGIN: Route = Route::new(Post, "/auth/login");
pub const SESSION: Route = Route::new(Get, "/auth/session");
pub const LOGOUT: Route = Route::new(Post, "/auth/logout");
pub const CHANGE_PASSWORD: Route = Route::new(Post, "/auth/password");
pub const NOTICES: Route = Route::new(Get, "/notices");
pub const NOTICE_STREAM: Route = Route::new(Get, "/notices/stream");

// Administrators.
pub const ADMIN_ME: Route = Route::new(Get, "/admin/me");
pub const USERS: Route = Route::new(Get, "/admin/users");
pub const SESSION_SUMMARY: Route = Route::new(Get, "/admin/sessions/summary");
pub const USER_COUNTS: Route = Route::new(Get, "/admin/users/counts");
pub const BULK_LOGOUT: Route = Route::new(Post, "/admin/users/logout");
pub const BULK_DEACTIVATE: Route = Route::new(Post, "/admin/users/deactivate");
pub const LOGOUT_IDLE: Route = Route::new(Post, "/admin/sessions/logout-idle");
pub const CREATE_USER: Route = Route::new(Post, "/admin/users");
pub const UPDATE_USER: Route = Route::new(Patch, "/admin/users/{id}");
pub const DELETE_USER: Route = Route::new(Delete, "/admin/users/{id}");
pub const RESET_PASSWORD: Route = Route::new(Post, "/admin/users/{id}/password");
pub const LOGOUT_USER: Route = Route::new(Post, "/admin/users/{id}/logout");
pub const USER_SESSIONS: Route = Route::new(Get, "/admin/users/{id}/sessions");
pub const END_SESSION: Route = Route::new(Delete, "/admin/sessions/{id}");
pub const DEACTIVATE_USER: Route = Route::new(Post, "/admin/users/{id}/deactivate");
pub const ACTIVATE_USER: Route = Route::new(Post, "/admin/users/{id}/activate");
pub const LOGOUT_ALL: Route = Route::new(Post, "/admin/logout-all");
pub const AUDIT: Route = Route::new(Get, "/admin/audit");
pub const AUDIT_EXPORT: Route = Route::new(Get, "/admin/audit/export");
pub const MAINTENANCE: Route = Route::new(Get, "/admin/maintenance");
pub const SCHEDULE_MAINTENANCE: Route = Route::new(Post, "/admin/maintenance");
pub const CANCEL_MAINTENANCE: Route = Route::new(Delete, "/admin/maintenance/{id}");
pub const END_MAINTENANCE: Route = Route::new(Post, "/admin/maintenance/{id}/end");
pub const MOVE_MAINTENANCE: Route = Route::new(Patch, "/admin/maintenance/{id}");
pub const SCHEDULE_SERIES: Route = Route::new(Post, "/admin/maintenance/series");
pub const CANCEL_SERIES: Route = Route::new(Delete, "/admin/maintenance/{id}/series");
pub const ADMIN_EVENTS: Route = Route::new(Get, "/admin/events");
pub const SIGN_IN_THROTTLES: Route = Route::new(Get, "/admin/sign-in-throttles");
pub const CLEAR_SIGN_IN_THROTTLE: Route = Route::new(Post, "/admin/sign-in-throttles/clear");
pub const IMPORT_USERS: Route = Route::new(Post, "/admin/users/import");
pub const SERVICE_TOKENS: Route = Route::new(Get, "/admin/tokens");
pub const CREATE_SERVICE_TOKEN: Route = Route::new(Post, "/admin/tokens");
pub const REVOKE_SERVICE_TOKEN: Route = Route::new(Delete, "/admin/tokens/{id}");

// The document itself.
pub const OPENAPI: Route = Route::new(Get, "/openapi.json");

/// Every route of the contract.
pub const ALL: &[Route] = &[
    LOGIN,
    SESSION,
    LOGOUT,
    CHANGE_PASSWORD,
    NOTICES,
    NOTICE_STREAM,
    ADMIN_ME,
    USERS,
    CREATE_USER,
    UPDATE_USER,
    DELETE_USER,
    RESET_PASSWORD,
    SESSION_SUMMARY,
    USER_COUNTS,
    BULK_LOGOUT,
    BULK_DEACTIVATE,
    LOGOUT_IDLE,
    LOGOUT_USER,
    USER_SESSIONS,
    END_SESSION,
    DEACTIVATE_USER,
    ACTIVATE_USER,
    LOGOUT_ALL,
    AUDIT,
    AUDIT_EXPORT,
    MAINTENANCE,
    SCHEDULE_MAINTENANCE,
    CANCEL_MAINTENANCE,
    END_MAINTENANCE,
    MOVE_MAINTENANCE,
    SCHEDULE_SERIES,
    CANCEL_SERIES,
    ADMIN_EVENTS,
    SIGN_IN_THROTTLES,
    CLEAR_SIGN_IN_THROTTLE,
    IMPORT_USERS,
    SERVICE_TOKENS,
    CREATE_SERVICE_TOKEN,
    REVOKE_SERVICE_TOKEN,
    OPENAPI,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_unique_and_absolute() {
        let mut seen = std::collections::HashSet::new();
        for route in ALL {
            assert!(route.path.starts_with('/'), "{route}");
            assert!(seen.insert(*route), "{route} is listed twice");
        }
    }

    #[test]
    fn ids_are_filled_in() {
        let id = Uuid::nil();
        assert_eq!(LOGOUT_USER.with_id(id), format!("/admin/users/{id}/logout"));
    }
}
