use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;

/// A position for every action; adding a variant without an arm does not compile, and
/// forgetting it in [`AuditAction::ALL`] fails the test below.
fn ordinal(action: AuditAction) -> usize {
    match action {
        AuditAction::LogoutUser => 0,
        AuditAction::LogoutAll => 1,
        AuditAction::Deactivate => 2,
        AuditAction::Activate => 3,
        AuditAction::ScheduleMaintenance => 4,
        AuditAction::CancelMaintenance => 5,
        AuditAction::EndMaintenance => 6,
        AuditAction::MaintenanceLogout => 7,
        AuditAction::SignIn => 8,
        AuditAction::SignInFailed => 9,
        AuditAction::ClearThrottle => 10,
        AuditAction::EndSession => 11,
        AuditAction::CreateUser => 12,
        AuditAction::UpdateUser => 13,
        AuditAction::ResetPassword => 14,
        AuditAction::DeleteUser => 15,
        AuditAction::ChangePassword => 16,
        AuditAction::ImportUsers => 17,
        AuditAction::CreateServiceToken => 18,
        AuditAction::RevokeServiceToken => 19,
        AuditAction::LogoutSelected => 20,
        AuditAction::DeactivateSelected => 21,
        AuditAction::LogoutIdle => 22,
        AuditAction::MoveMaintenance => 23,
    }
}

#[test]
fn every_audit_action_has_a_human_label() {
    let mut ordinals: Vec<usize> = AuditAction::ALL.iter().map(|a| ordinal(*a)).collect();
    ordinals.sort_unstable();
    assert_eq!(
        ordinals,
        (0..AuditAction::ALL.len()).collect::<Vec<_>>(),
        "AuditAction::ALL must list every action once"
    );
    let mut labels = std::collections::HashSet::new();
    for action in AuditAction::ALL {
        let label = action.label();
        assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        assert!(!label.trim().is_empty(), "{action:?} has no label");
        assert!(
            !label.contains('_'),
            "{action:?} is labelled with a code: {label}"
        );
        assert!(
            labels.insert(label),
            "{action:?} shares its label {label:?}"
        );
    }
}

#[test]
fn event_names_are_the_wire_tags() {
    let id = Uuid::nil();
    let notices = [
        Notice::SessionRevoked(SessionRevoked {
            session_id: id,
            reason: RevocationReason::Expired,
            at: DateTime::<Utc>::MIN_UTC,
            message: String::new(),
        }),
        Notice::MaintenanceCancelled(MaintenanceCancelled {
            window_id: id,
            message: String::new(),
        }),
    ];
    for notice in &notices {
        let tag = serde_json::to_value(notice).unwrap()["type"].clone();
        assert_eq!(tag, notice.event_name());
        assert!(Notice::EVENT_NAMES.contains(&notice.event_name()));
    }
    let events = [
        AdminEvent::FreezeStarted { window_id: id },
        AdminEvent::WindowEnded { window_id: id },
        AdminEvent::WindowCancelled { window_id: id },
        AdminEvent::StepFailed {
            window_id: id,
            step: StepKind::Logout,
            message: String::new(),
        },
        AdminEvent::UsersChanged {
            action: AuditAction::LogoutAll,
            actor_username: "root".into(),
            user_id: None,
            users_affected: 2,
            sessions_revoked: 3,
        },
        AdminEvent::AuditRecorded {
            action: AuditAction::SignIn,
        },
    ];
    for event in &events {
        let tag = serde_json::to_value(event).unwrap()["type"].clone();
        assert_eq!(tag, event.event_name());
        assert!(AdminEvent::EVENT_NAMES.contains(&event.event_name()));
    }
}

#[test]
fn every_revocation_reason_says_one_sentence() {
    for reason in [
        RevocationReason::SignedOut,
        RevocationReason::AdminLogout,
        RevocationReason::LogoutAll,
        RevocationReason::Deactivated,
        RevocationReason::Expired,
        RevocationReason::Maintenance,
        RevocationReason::SessionLimit,
        RevocationReason::Deleted,
        RevocationReason::PasswordChanged,
        RevocationReason::ProviderLogout,
    ] {
        let message = reason.message();
        assert!(message.ends_with('.'), "{message}");
        assert_eq!(RevocationReason::parse(reason.as_str()), Some(reason));
    }
}
