//! Moving or editing a scheduled window through the router: its steps planned again, the
//! move audited in words (as `move_maintenance`), and what it refuses (a started window, an
//! overlap, bad input).

use chrono::{Duration, Utc};
use curfew::api::Notice;

use super::*;
use crate::core::AppState;

async fn steps(t: &TestApp, window: &str) -> Vec<(String, i64, i64, String)> {
    sqlx::query_as::<_, (String, i64, i64, String)>(
        "SELECT kind, offset_seconds, due_at, state FROM maintenance_steps WHERE window_id = $1 ORDER BY due_at, kind",
    )
    .bind(window)
    .fetch_all(&t.store.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_scheduled_window_moves_with_its_steps_and_the_move_is_audited() {
    let t = TestApp::new().await;
    let start = Utc::now() + Duration::hours(2);
    let Scheduled { admin, member, id } = t
        .scheduled(
            "/api/v1/admin/maintenance",
            &json!({ "starts_at": start.to_rfc3339(), "ends_at": (start + Duration::hours(1)).to_rfc3339(),
                     "message": "Update", "warn_before": [3600, 60], "freeze_before": 300 }),
        )
        .await;
    let path = format!("/api/v1/admin/maintenance/{id}");
    let later = start + Duration::minutes(30);
    let change = json!({ "starts_at": later.to_rfc3339(), "ends_at": (later + Duration::hours(1)).to_rfc3339(),
                         "message": "Update, moved", "warn_before": [3600, 60], "freeze_before": 600 });

    // Refused: who may not, and what is not a window; nothing changes.
    assert_code(
        &t.call(Method::PATCH, &path, Some(&member), Some(&change))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let mut past = change.clone();
    past["starts_at"] = json!((Utc::now() - Duration::minutes(1)).to_rfc3339());
    assert_code(
        &t.call(Method::PATCH, &path, Some(&admin), Some(&past))
            .await,
        StatusCode::BAD_REQUEST,
        "starts_in_past",
    );
    let before = steps(&t, &id).await;
    assert_eq!(before.len(), 5, "{before:?}");

    let moved = ok(t
        .call(Method::PATCH, &path, Some(&admin), Some(&change))
        .await);
    assert_eq!(moved["message"], "Update, moved");
    assert_eq!(moved["freeze_before"], 600);
    let moved_from: chrono::DateTime<Utc> = moved["moved_from"].as_str().unwrap().parse().unwrap();
    assert_eq!(moved_from.timestamp(), start.timestamp());
    let now_steps = steps(&t, &id).await;
    let later_ms = later.timestamp_millis();
    let due = |kind: &str, offset: i64| {
        now_steps
            .iter()
            .find(|s| s.0 == kind && s.1 == offset)
            .unwrap_or_else(|| panic!("{kind} {offset}: {now_steps:?}"))
            .2
    };
    assert!((due("warning", 3600) - (later_ms - 3_600_000)).abs() < 1000);
    assert!((due("freeze", 0) - (later_ms - 600_000)).abs() < 1000);
    assert!((due("logout", 0) - later_ms).abs() < 1000);
    assert!(now_steps.iter().all(|s| s.3 == "pending"), "{now_steps:?}");
    let entries = t.audit_entries(&admin).await;
    let entry = entries
        .iter()
        .find(|e| {
            e["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("moved from "))
        })
        .expect("the move is audited in words");
    assert_eq!(entry["actor_username"], "root");
    // As a move of its own, not a second scheduling, and the filter by action finds it.
    assert_eq!(entry["action"], "move_maintenance", "{entry}");
    assert_eq!(entry["window_id"], json!(id));
    let moves = ok(t
        .call(
            Method::GET,
            "/api/v1/admin/audit?action=move_maintenance",
            Some(&admin),
            None,
        )
        .await);
    let moves = moves["entries"].as_array().unwrap();
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert_eq!(moves[0]["id"], entry["id"]);
    let schedulings = ok(t
        .call(
            Method::GET,
            "/api/v1/admin/audit?action=schedule_maintenance",
            Some(&admin),
            None,
        )
        .await);
    assert_eq!(schedulings["entries"].as_array().unwrap().len(), 1);

    // Another window on the new time: the move of this one onto it is refused.
    let other_start = later + Duration::hours(3);
    let other = t
        .post(
            "/api/v1/admin/maintenance",
            &admin,
            Some(&json!({ "starts_at": other_start.to_rfc3339(), "ends_at": (other_start + Duration::hours(1)).to_rfc3339(), "message": "Other" })),
        )
        .await;
    assert_eq!(other.0, StatusCode::CREATED);
    let mut clash = change.clone();
    clash["starts_at"] = json!((other_start + Duration::minutes(10)).to_rfc3339());
    clash["ends_at"] = json!((other_start + Duration::minutes(20)).to_rfc3339());
    assert_code(
        &t.call(Method::PATCH, &path, Some(&admin), Some(&clash))
            .await,
        StatusCode::CONFLICT,
        "window_overlaps",
    );

    // Once it has started it can no longer be moved.
    sqlx::query("UPDATE maintenance_steps SET due_at = $1 WHERE window_id = $2 AND kind IN ('freeze', 'logout')")
        .bind(crate::now_ms() - 1)
        .bind(&id)
        .execute(&t.store.pool)
        .await
        .unwrap();
    let state = AppState::new(t.store.clone(), generous_limits());
    for step in state.due_steps().await.unwrap() {
        state.run_step(&step).await.unwrap();
    }
    let admin = t.login("root", "web").await;
    assert_code(
        &t.call(Method::PATCH, &path, Some(&admin), Some(&change))
            .await,
        StatusCode::CONFLICT,
        "window_running",
    );
    let missing = format!("/api/v1/admin/maintenance/{}", Uuid::new_v4());
    assert_code(
        &t.call(Method::PATCH, &missing, Some(&admin), Some(&change))
            .await,
        StatusCode::NOT_FOUND,
        "window_not_found",
    );
}

#[tokio::test]
async fn a_window_moved_after_its_warning_is_in_the_notices_at_its_new_time_at_once() {
    let t = TestApp::new().await;
    // 30 minutes away with an hour's warning: the warning is due at once.
    let start = Utc::now() + Duration::minutes(30);
    let Scheduled { admin, member, id } = t
        .scheduled(
            "/api/v1/admin/maintenance",
            &json!({ "starts_at": start.to_rfc3339(), "ends_at": (start + Duration::hours(1)).to_rfc3339(),
                     "message": "Update", "warn_before": [3600, 60], "freeze_before": 0 }),
        )
        .await;
    let state = AppState::new(t.store.clone(), generous_limits());
    for step in state.due_steps().await.unwrap() {
        state.run_step(&step).await.unwrap();
    }
    let notices = ok(t.get("/api/v1/notices", &member).await);
    assert_eq!(notices["notices"][0]["window_id"], json!(id), "{notices}");
    assert!(notices["notices"][0].get("moved").is_none(), "{notices}");

    // Two hours later: the hour's warning is due again (later), and until then the
    // notices still say the window, at its new time and that it moved.
    let later = start + Duration::hours(2);
    ok(t.call(
        Method::PATCH,
        &format!("/api/v1/admin/maintenance/{id}"),
        Some(&admin),
        Some(
            &json!({ "starts_at": later.to_rfc3339(), "ends_at": (later + Duration::hours(1)).to_rfc3339(),
                     "message": "Update", "warn_before": [3600, 60], "freeze_before": 0 }),
        ),
    )
    .await);
    let notices = ok(t.get("/api/v1/notices", &member).await);
    let list = notices["notices"].as_array().unwrap();
    assert_eq!(
        list.len(),
        1,
        "the moved window is still announced: {notices}"
    );
    let notice = &list[0];
    assert_eq!(notice["type"], "maintenance_warning");
    assert_eq!(notice["window_id"], json!(id));
    let starts_at: chrono::DateTime<Utc> = notice["starts_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(starts_at.timestamp(), later.timestamp());
    let moved_from: chrono::DateTime<Utc> = notice["moved_from"].as_str().unwrap().parse().unwrap();
    assert_eq!(moved_from.timestamp(), start.timestamp());
    assert!(
        notice["moved"]
            .as_str()
            .is_some_and(|m| m.starts_with("Maintenance moved to ")),
        "{notice}"
    );
    let left = notice["seconds_left"].as_i64().unwrap();
    assert!((9000 - 5..=9000).contains(&left), "{left}");

    // Moved again (none of its warnings done now): still announced, from the last start.
    let again = later + Duration::minutes(30);
    ok(t.call(
        Method::PATCH,
        &format!("/api/v1/admin/maintenance/{id}"),
        Some(&admin),
        Some(
            &json!({ "starts_at": again.to_rfc3339(), "ends_at": (again + Duration::hours(1)).to_rfc3339(),
                     "message": "Update", "warn_before": [3600, 60], "freeze_before": 0 }),
        ),
    )
    .await);
    let notices = ok(t.get("/api/v1/notices", &member).await);
    let notice = &notices["notices"][0];
    let moved_from: chrono::DateTime<Utc> = notice["moved_from"].as_str().unwrap().parse().unwrap();
    assert_eq!(moved_from.timestamp(), later.timestamp(), "{notices}");
    let starts_at: chrono::DateTime<Utc> = notice["starts_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(starts_at.timestamp(), again.timestamp());
    // No warning due at once was planned again: the past-due ones stay dropped.
    let pending: Vec<i64> = steps(&t, &id)
        .await
        .into_iter()
        .filter(|s| s.0 == "warning" && s.3 == "pending")
        .map(|s| s.2)
        .collect();
    assert!(
        pending.iter().all(|due| *due > crate::now_ms()),
        "{pending:?}"
    );

    // A window moved before anyone was warned is not announced by the move.
    let quiet = later + Duration::days(1);
    let other = t
        .post(
            "/api/v1/admin/maintenance",
            &admin,
            Some(&json!({ "starts_at": quiet.to_rfc3339(), "message": "Later", "warn_before": [60] })),
        )
        .await;
    assert_eq!(other.0, StatusCode::CREATED, "{}", other.1);
    ok(t.call(
        Method::PATCH,
        &format!(
            "/api/v1/admin/maintenance/{}",
            other.1["id"].as_str().unwrap()
        ),
        Some(&admin),
        Some(
            &json!({ "starts_at": (quiet + Duration::hours(1)).to_rfc3339(), "message": "Later",
                      "warn_before": [60] }),
        ),
    )
    .await);
    let notices = ok(t.get("/api/v1/notices", &member).await);
    assert_eq!(notices["notices"].as_array().unwrap().len(), 1, "{notices}");
}

#[tokio::test]
async fn the_schedulers_warnings_of_a_window_moved_after_its_warning_say_it_moved() {
    let t = TestApp::new().await;
    // 30 minutes away with an hour's warning: the warning is due at once.
    let start = Utc::now() + Duration::minutes(30);
    let window = |at: chrono::DateTime<Utc>| {
        json!({ "starts_at": at.to_rfc3339(), "message": "Update", "warn_before": [3600, 60],
                "freeze_before": 0 })
    };
    let Scheduled { admin, member, id } = t
        .scheduled("/api/v1/admin/maintenance", &window(start))
        .await;
    let state = AppState::new(t.store.clone(), generous_limits());
    let (_subscription, mut heard) = state
        .hub
        .subscribe(Uuid::new_v4(), Uuid::new_v4(), true)
        .unwrap();
    for step in state.due_steps().await.unwrap() {
        state.run_step(&step).await.unwrap();
    }
    match heard.try_recv() {
        Ok(Notice::MaintenanceWarning(w)) => assert!(w.moved.is_none(), "{w:?}"),
        other => panic!("expected the first warning, got {other:?}"),
    }

    // Moved two hours later; then its next warning comes due and the scheduler sends it.
    let later = start + Duration::hours(2);
    ok(t.call(
        Method::PATCH,
        &format!("/api/v1/admin/maintenance/{id}"),
        Some(&admin),
        Some(&window(later)),
    )
    .await);
    sqlx::query(
        "UPDATE maintenance_steps SET due_at = $1 WHERE window_id = $2 AND kind = 'warning' \
         AND state = 'pending'",
    )
    .bind(crate::now_ms() - 1)
    .bind(&id)
    .execute(&t.store.pool)
    .await
    .unwrap();
    let due = state.due_steps().await.unwrap();
    assert_eq!(due.len(), 2, "both warnings planned again: {due:?}");
    for step in due {
        state.run_step(&step).await.unwrap();
    }
    let polled = ok(t.get("/api/v1/notices", &member).await);
    // Two warnings due at once send one (the other is skipped as stale); each says it moved.
    let mut sent_any = false;
    while let Ok(notice) = heard.try_recv() {
        let Notice::MaintenanceWarning(sent) = notice else {
            panic!("expected the scheduler's warning, got {notice:?}");
        };
        sent_any = true;
        assert_eq!(sent.starts_at.timestamp(), later.timestamp());
        assert_eq!(
            sent.moved_from.map(|f| f.timestamp()),
            Some(start.timestamp())
        );
        // The sentence `GET /notices` gives for the window, word for word.
        assert_eq!(json!(sent.moved), polled["notices"][0]["moved"], "{polled}");
        assert!(sent
            .moved
            .as_deref()
            .is_some_and(|m| m.starts_with("Maintenance moved to ")));
    }
    assert!(sent_any, "the scheduler sent no warning");
}
