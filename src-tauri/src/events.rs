//! Desktop notifications from curfewd's administrator event stream. The watcher reconnects
//! with back-off, says when the connection is lost and back, and stops (saying so) when the
//! server revokes the admin's token. A watcher of the server signed in to also passes every
//! event to the window, so that open views refresh, and keeps the tray's line; one of
//! another remembered server ([`crate::others`]) only notifies, each notification led by
//! that server's name.

use std::time::Duration;

use curfew::api::{AdminEvent, MaintenanceList};
use curfew::Client;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::session::AppState;

/// The window events the app emits; the page learns these names from the `contract`
/// command. Each admin event goes out as curfewd sent it: its `type` is one of
/// `curfew::api::AdminEvent::EVENT_NAMES`.
pub const ADMIN_EVENT: &str = "curfew://admin-event";
pub const SIGNED_OUT: &str = "curfew://signed-out";

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(60);

/// The notification for an event: (summary, body).
pub fn describe(event: &AdminEvent) -> (String, String) {
    match event {
        AdminEvent::WarningSent { offset_seconds, sessions_reached, .. } => (
            "Maintenance warning sent".into(),
            format!(
                "Users were warned {} before the start ({} open session{} reached).",
                human_duration(*offset_seconds),
                sessions_reached,
                if *sessions_reached == 1 { "" } else { "s" }
            ),
        ),
        AdminEvent::FreezeStarted { .. } => (
            "Sign-ins frozen".into(),
            "Users other than administrators cannot sign in until the maintenance ends.".into(),
        ),
        AdminEvent::MassLogoutDone { sessions_revoked, users_affected, .. } => (
            "Maintenance started: users logged out".into(),
            format!(
                "{sessions_revoked} session{} of {users_affected} user{} ended. You stay signed in.",
                if *sessions_revoked == 1 { "" } else { "s" },
                if *users_affected == 1 { "" } else { "s" }
            ),
        ),
        AdminEvent::WindowEnded { .. } => (
            "Maintenance ended".into(),
            "Users can sign in again.".into(),
        ),
        AdminEvent::WindowCancelled { .. } => (
            "Maintenance cancelled".into(),
            "Users were told that the maintenance will not happen.".into(),
        ),
        AdminEvent::StepFailed { message, .. } => ("Maintenance step failed".into(), message.clone()),
        AdminEvent::UsersChanged {
            action,
            actor_username,
            sessions_revoked,
            ..
        } => (
            "Users changed".into(),
            format!(
                "{actor_username} {} ({sessions_revoked} session{} ended).",
                action.label(),
                if *sessions_revoked == 1 { "" } else { "s" }
            ),
        ),
        AdminEvent::AuditRecorded { action } => {
            ("Activity".into(), format!("Someone {}.", action.label()))
        }
    }
}

/// Whether an event is worth a desktop notification: maintenance is; another
/// administrator's changes to users and new audit entries only refresh the open views.
pub fn notifies(event: &AdminEvent) -> bool {
    !matches!(
        event,
        AdminEvent::UsersChanged { .. } | AdminEvent::AuditRecorded { .. }
    )
}

/// The event as the admin should read it: a warning that went out earlier than its
/// configured offset (a window scheduled 3 minutes ahead folds its 60, 15 and 5 minute
/// warnings into one sent at once) says how long before the start it really went out.
pub fn as_it_happened(
    event: &AdminEvent,
    list: Option<&MaintenanceList>,
    now: chrono::DateTime<chrono::Utc>,
) -> AdminEvent {
    let AdminEvent::WarningSent {
        window_id,
        offset_seconds,
        sessions_reached,
    } = event
    else {
        return event.clone();
    };
    let lead = list
        .and_then(|l| l.windows.iter().find(|w| w.id == *window_id))
        .map(|w| (w.starts_at - now).num_seconds())
        .filter(|lead| *lead > 0 && (lead - offset_seconds).abs() > 30);
    match lead {
        Some(lead) => AdminEvent::WarningSent {
            window_id: *window_id,
            // Whole minutes read better than "173 s"; under a minute and a half, seconds.
            offset_seconds: if lead >= 90 {
                (lead + 30) / 60 * 60
            } else {
                lead
            },
            sessions_reached: *sessions_reached,
        },
        None => event.clone(),
    }
}

fn human_duration(seconds: i64) -> String {
    match seconds {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// A desktop notification, its summary led by the server's name ("staging: Maintenance
/// warning sent") so that the admin knows which server it is about.
fn notify<R: Runtime>(app: &AppHandle<R>, server: &str, summary: &str, body: &str) {
    let summary = &format!("{server}: {summary}");
    tracing::info!(summary, "notification");
    if let Err(e) = app
        .notification()
        .builder()
        .title(summary)
        .body(body)
        .show()
    {
        tracing::warn!(error = %e, "could not show a notification");
    }
}

/// Which server a watcher follows.
#[derive(Debug, Clone)]
pub enum Followed {
    /// The one signed in to, which the window and the tray show.
    Current,
    /// Another remembered server: only its notifications; a token it refuses is deleted
    /// from the keychain under `account`.
    Other { account: String },
}

/// Follows the event stream of the server named `server` until the token is revoked or
/// the task is aborted (sign-out, or a switch to another server).
pub async fn watch<R: Runtime>(
    app: AppHandle<R>,
    client: Client,
    server: String,
    followed: Followed,
) {
    let shown = matches!(followed, Followed::Current);
    let mut retry = FIRST_RETRY;
    let mut lost = false;
    loop {
        match client.admin_events().await {
            Ok(mut stream) => {
                if lost {
                    notify(
                        &app,
                        &server,
                        "Curfew reconnected",
                        "Notifications about maintenance are back.",
                    );
                    lost = false;
                }
                retry = FIRST_RETRY;
                while let Some(Ok(event)) = stream.next().await {
                    tracing::info!(event = event.event_name(), "admin event");
                    // Windows change state (or appear, through other administrators):
                    // the list keeps the tray's next-window line true, and says when a
                    // warning really went out.
                    // (A new audit entry changes no window: sign-ins come often.)
                    let list = if matches!(event, AdminEvent::AuditRecorded { .. })
                        || !(shown || notifies(&event))
                    {
                        None
                    } else {
                        client.maintenance().await.ok()
                    };
                    if notifies(&event) {
                        let (summary, body) =
                            describe(&as_it_happened(&event, list.as_ref(), chrono::Utc::now()));
                        notify(&app, &server, &summary, &body);
                    }
                    if !shown {
                        continue;
                    }
                    let _ = app.emit(ADMIN_EVENT, &event);
                    if let Some(list) = &list {
                        crate::tray::show_next(&app, list);
                    }
                }
            }
            Err(e) if e.is_unauthorized() => {
                refused(&app, &client, &server, &followed, &e.to_string()).await;
                return;
            }
            Err(_) => {}
        }
        // The stream ended: revoked, or the connection dropped.
        match client.admin_me().await {
            Err(e) if e.is_unauthorized() => {
                refused(&app, &client, &server, &followed, &e.to_string()).await;
                return;
            }
            Ok(_) => {}
            Err(e) => {
                if !lost {
                    notify(
                        &app,
                        &server,
                        "Curfew lost its connection",
                        &format!("{e} Retrying; maintenance still runs on the server."),
                    );
                    lost = true;
                }
            }
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(LAST_RETRY);
    }
}

/// The server revoked this token: signed out of it, the token forgotten, the admin told.
async fn refused<R: Runtime>(
    app: &AppHandle<R>,
    client: &Client,
    server: &str,
    followed: &Followed,
    why: &str,
) {
    match followed {
        Followed::Current => signed_out(app, client, server, why).await,
        Followed::Other { account } => {
            if let Some(state) = app.try_state::<AppState>() {
                state.forget_token(account.clone()).await;
            }
            notify(app, server, "Curfew signed you out", why);
        }
    }
}

/// The server revoked this token: the app signs out and forgets the saved token (the
/// keychain entry goes with it), then tells the admin and the window.
async fn signed_out<R: Runtime>(app: &AppHandle<R>, client: &Client, server: &str, why: &str) {
    // A command may have met the 401 first and signed out already: then this does nothing
    // more, but the admin is still told (the window ignores a second sign-out).
    if let Some(state) = app.try_state::<AppState>() {
        state.revoked(client).await;
    }
    crate::tray::set_server(app, None);
    crate::tray::set_status(app, "Not signed in");
    notify(app, server, "Curfew signed you out", why);
    let _ = app.emit(SIGNED_OUT, why);
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn notifications_say_what_happened_in_numbers() {
        let id = Uuid::nil();
        let (summary, body) = describe(&AdminEvent::WarningSent {
            window_id: id,
            offset_seconds: 900,
            sessions_reached: 12,
        });
        assert_eq!(summary, "Maintenance warning sent");
        assert_eq!(
            body,
            "Users were warned 15 min before the start (12 open sessions reached)."
        );
        let (_, body) = describe(&AdminEvent::MassLogoutDone {
            window_id: id,
            sessions_revoked: 1,
            users_affected: 1,
        });
        assert_eq!(body, "1 session of 1 user ended. You stay signed in.");
        let (_, body) = describe(&AdminEvent::WarningSent {
            window_id: id,
            offset_seconds: 45,
            sessions_reached: 1,
        });
        assert!(
            body.contains("45 s") && body.contains("1 open session reached"),
            "{body}"
        );
    }

    #[test]
    fn a_folded_warning_says_when_it_really_went_out() {
        use curfew::api::{MaintenanceList, MaintenanceWindow, WindowState};
        let now = chrono::Utc::now();
        let window = MaintenanceWindow {
            id: Uuid::new_v4(),
            starts_at: now + chrono::Duration::seconds(178),
            ends_at: None,
            message: "m".into(),
            warn_before: vec![3600, 900, 300, 60],
            freeze_before: 300,
            keep_admins: false,
            created_by_username: "root".into(),
            created_at: now,
            state: WindowState::Scheduled,
            finished_at: None,
            steps: vec![],
            series: None,
            moved_from: None,
        };
        let list = MaintenanceList {
            windows: vec![window.clone()],
        };
        let folded = AdminEvent::WarningSent {
            window_id: window.id,
            offset_seconds: 300,
            sessions_reached: 2,
        };
        let (_, body) = describe(&as_it_happened(&folded, Some(&list), now));
        assert_eq!(
            body,
            "Users were warned 3 min before the start (2 open sessions reached)."
        );
        // On time, or without the list: as configured.
        let on_time = AdminEvent::WarningSent {
            window_id: window.id,
            offset_seconds: 180,
            sessions_reached: 2,
        };
        assert_eq!(as_it_happened(&on_time, Some(&list), now), on_time);
        assert_eq!(as_it_happened(&folded, None, now), folded);
    }
}
