//! Repeating maintenance through the router: what a series request refuses, its first
//! occurrence, the next one created when an occurrence is cancelled or starts (once, even
//! when two schedulers try), and cancelling the whole series.

use chrono::{Datelike, Duration, Timelike, Utc};
use curfew::api::StepKind;

use super::*;
use crate::core::AppState;

/// A weekly rule on the weekday of `start` (UTC), `count` times.
fn weekly(start: chrono::DateTime<Utc>, count: u32) -> String {
    let day =
        ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][start.weekday().num_days_from_monday() as usize];
    format!("FREQ=WEEKLY;BYDAY={day};COUNT={count}")
}

fn series(start: chrono::DateTime<Utc>, rule: &str, zone: &str) -> Value {
    json!({
        "window": {
            "starts_at": start.to_rfc3339(),
            "ends_at": (start + Duration::hours(1)).to_rfc3339(),
            "message": "Weekly update",
            "warn_before": [],
        },
        "repeat": { "rule": rule, "time_zone": zone },
    })
}

async fn windows(t: &TestApp, token: &str) -> Vec<Value> {
    ok(t.get("/api/v1/admin/maintenance", token).await)["windows"]
        .as_array()
        .unwrap()
        .clone()
}

/// Runs the logout step of `window` now, as a scheduler does.
async fn start_now(t: &TestApp, state: &AppState, window: &str) -> bool {
    sqlx::query("UPDATE maintenance_steps SET due_at = $1 WHERE window_id = $2 AND kind IN ('freeze', 'logout')")
        .bind(crate::now_ms() - 1)
        .bind(window)
        .execute(&t.store.pool)
        .await
        .unwrap();
    let mut ran = false;
    for step in state.due_steps().await.unwrap() {
        if step.window_id.to_string() == window {
            state.run_step(&step).await.unwrap();
            ran |= step.kind == StepKind::Logout;
        }
    }
    ran
}

#[tokio::test]
async fn a_series_is_checked_then_each_occurrence_follows_the_last_once() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    let admin = t.login("root", "app").await;
    let start = (Utc::now() + Duration::hours(2))
        .with_nanosecond(0)
        .unwrap();
    let path = "/api/v1/admin/maintenance/series";

    for (rule, zone, code) in [
        ("FREQ=DAILY;COUNT=3", "UTC", "repeat_unsupported"),
        ("FREQ=WEEKLY;BYDAY=MO", "UTC", "repeat_unbounded"),
        ("FREQ=WEEKLY;BYDAY=MO;COUNT=500", "UTC", "repeat_too_long"),
        (
            "FREQ=WEEKLY;BYDAY=MO;COUNT=3",
            "Nowhere/Special",
            "unknown_time_zone",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,TU,WE;COUNT=3",
            "UTC",
            "repeat_overlaps_itself",
        ),
    ] {
        let mut body = series(start, rule, zone);
        if code == "repeat_overlaps_itself" {
            body["window"]["ends_at"] = json!((start + Duration::hours(30)).to_rfc3339());
        }
        let reply = t.post(path, &admin, Some(&body)).await;
        assert_code(&reply, StatusCode::BAD_REQUEST, code);
        assert!(
            reply.1["message"].as_str().unwrap().len() > 20,
            "{}",
            reply.1
        );
    }
    let mut no_end = series(start, &weekly(start, 3), "UTC");
    no_end["window"]["ends_at"] = Value::Null;
    assert_code(
        &t.post(path, &admin, Some(&no_end)).await,
        StatusCode::BAD_REQUEST,
        "repeat_needs_end",
    );
    assert!(
        windows(&t, &admin).await.is_empty(),
        "refusals created nothing"
    );

    let created = t
        .post(
            path,
            &admin,
            Some(&series(start, &weekly(start, 3), "Europe/Berlin")),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let first = created.1;
    let series_id = first["series"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        first["starts_at"].as_str().unwrap(),
        start.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    let next: Vec<&str> = first["series"]["next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(next.len(), 3, "{first}");
    assert!(
        first["series"]["description"]
            .as_str()
            .unwrap()
            .starts_with("every week on "),
        "{first}"
    );
    // The overlap rule holds for occurrences: a one-off window on the first one is refused.
    let clash =
        json!({ "starts_at": (start + Duration::minutes(30)).to_rfc3339(), "message": "x" });
    assert_code(
        &t.post("/api/v1/admin/maintenance", &admin, Some(&clash))
            .await,
        StatusCode::CONFLICT,
        "window_overlaps",
    );

    // Cancelling the first occurrence creates the second, a week later.
    let first_id = first["id"].as_str().unwrap().to_owned();
    ok(t.call(
        Method::DELETE,
        &format!("/api/v1/admin/maintenance/{first_id}"),
        Some(&admin),
        None,
    )
    .await);
    let listed = windows(&t, &admin).await;
    let scheduled: Vec<&Value> = listed
        .iter()
        .filter(|w| w["state"] == "scheduled")
        .collect();
    assert_eq!(scheduled.len(), 1, "{listed:#?}");
    let second = scheduled[0].clone();
    let second_start: chrono::DateTime<Utc> =
        second["starts_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(second_start, start + Duration::weeks(1));
    assert_eq!(second["series"]["id"], series_id.as_str());
    assert_eq!(second["series"]["next"].as_array().unwrap().len(), 2);

    // The second starts: the third is created with it, once, though two schedulers try.
    let second_id = second["id"].as_str().unwrap().to_owned();
    let a = AppState::new(t.store.clone(), generous_limits());
    let b = AppState::new(t.store.clone(), generous_limits());
    assert!(start_now(&t, &a, &second_id).await);
    assert!(!start_now(&t, &b, &second_id).await, "the step runs once");
    let listed = windows(&t, &admin).await;
    let thirds: Vec<&Value> = listed
        .iter()
        .filter(|w| w["state"] == "scheduled")
        .collect();
    assert_eq!(thirds.len(), 1, "{listed:#?}");
    let third_start: chrono::DateTime<Utc> =
        thirds[0]["starts_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(third_start, start + Duration::weeks(2));
    let occurrences: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM maintenance_windows WHERE series_id = $1")
            .bind(&series_id)
            .fetch_one(&t.store.pool)
            .await
            .unwrap();
    assert_eq!(occurrences, 3);

    // The third is the last (COUNT=3): once it starts, the series is finished.
    let third_id = thirds[0]["id"].as_str().unwrap().to_owned();
    assert!(start_now(&t, &a, &third_id).await);
    let cancel_series = format!("/api/v1/admin/maintenance/{third_id}/series");
    assert_code(
        &t.call(Method::DELETE, &cancel_series, Some(&admin), None)
            .await,
        StatusCode::CONFLICT,
        "series_finished",
    );

    // The audit says it in words.
    let entries = t.audit_entries(&admin).await;
    let words: Vec<&str> = entries
        .iter()
        .filter(|e| e["action"] == "schedule_maintenance")
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        words
            .iter()
            .any(|w| w.starts_with("a repeating maintenance every week on")),
        "{words:?}"
    );
    assert!(
        words
            .iter()
            .any(|w| w.starts_with("occurrence 2 of 3 of the repeating maintenance")),
        "{words:?}"
    );
    assert!(
        words.iter().any(|w| w.starts_with("occurrence 3 of 3")),
        "{words:?}"
    );
}

#[tokio::test]
async fn cancelling_a_series_cancels_its_scheduled_occurrence_and_no_other_follows() {
    let t = TestApp::new().await;
    let start = (Utc::now() + Duration::hours(3))
        .with_nanosecond(0)
        .unwrap();
    let body = series(start, "FREQ=MONTHLY;BYMONTHDAY=1,15;COUNT=6", "UTC");
    let path = "/api/v1/admin/maintenance/series";
    let Scheduled {
        admin,
        member,
        id: first_id,
    } = t.scheduled(path, &body).await;
    assert_code(
        &t.post(path, &member, Some(&body)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let cancel = format!("/api/v1/admin/maintenance/{first_id}/series");
    assert_code(
        &t.call(Method::DELETE, &cancel, Some(&member), None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let cancelled = ok(t.call(Method::DELETE, &cancel, Some(&admin), None).await);
    assert_eq!(cancelled["state"], "cancelled");
    assert!(windows(&t, &admin)
        .await
        .iter()
        .all(|w| w["state"] == "cancelled"));
    assert_code(
        &t.call(Method::DELETE, &cancel, Some(&admin), None).await,
        StatusCode::CONFLICT,
        "series_finished",
    );
    let missing = format!("/api/v1/admin/maintenance/{}/series", Uuid::new_v4());
    assert_code(
        &t.call(Method::DELETE, &missing, Some(&admin), None).await,
        StatusCode::NOT_FOUND,
        "window_not_found",
    );
    let once = t
        .post(
            "/api/v1/admin/maintenance",
            &admin,
            Some(&json!({ "starts_at": (start + Duration::days(200)).to_rfc3339(), "message": "Once" })),
        )
        .await;
    let once_id = once.1["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(once.0, StatusCode::CREATED, "{}", once.1);
    assert_code(
        &t.call(
            Method::DELETE,
            &format!("/api/v1/admin/maintenance/{once_id}/series"),
            Some(&admin),
            None,
        )
        .await,
        StatusCode::CONFLICT,
        "window_not_repeating",
    );
    let entries = t.audit_entries(&admin).await;
    let cancel_entry = entries
        .iter()
        .find(|e| e["action"] == "cancel_maintenance")
        .expect("audited");
    assert!(
        cancel_entry["reason"]
            .as_str()
            .unwrap()
            .starts_with("the whole repeating maintenance every month on day 1 and 15"),
        "{cancel_entry}"
    );
}

#[tokio::test]
async fn an_occurrence_whose_start_fails_still_makes_way_for_the_next() {
    let t = TestApp::new().await;
    t.user("root", "Root Admin", Role::Admin).await;
    let admin = t.login("root", "app").await;
    let start = (Utc::now() + Duration::hours(2))
        .with_nanosecond(0)
        .unwrap();
    let created = t
        .post(
            "/api/v1/admin/maintenance/series",
            &admin,
            Some(&series(start, &weekly(start, 2), "UTC")),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let first = created.1["id"].as_str().unwrap().to_owned();
    // The logout step gives up (as the scheduler does after five failed attempts).
    sqlx::query(
        "UPDATE maintenance_steps SET due_at = $1 WHERE window_id = $2 AND kind = 'logout'",
    )
    .bind(crate::now_ms() - 1)
    .bind(&first)
    .execute(&t.store.pool)
    .await
    .unwrap();
    let state = AppState::new(t.store.clone(), generous_limits());
    let logout = state
        .due_steps()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.kind == StepKind::Logout)
        .expect("due");
    state.fail_step(&logout, "the database said no").await;
    state.fail_step(&logout, "the database said no").await;
    let listed = windows(&t, &admin).await;
    let next: Vec<&Value> = listed
        .iter()
        .filter(|w| w["id"] != first.as_str() && w["state"] == "scheduled")
        .collect();
    assert_eq!(next.len(), 1, "the second occurrence, once: {listed:#?}");
    let second: chrono::DateTime<Utc> = next[0]["starts_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(second, start + Duration::weeks(1));
}
