//! Transactions PostgreSQL ends to break a deadlock run again (`store::db::again_if_contended`).
//! With the users' live-session counts (migration 0016), a logout-all locks the sessions
//! and then their users, while a deactivation or a sign-in locks a user and then its
//! sessions: at the same moment, on the same user, each waits for the other.

use super::*;

/// How many transactions of this database wait for a lock now.
async fn waiting_for_locks(t: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(&t.store.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_logout_all_that_meets_a_deadlock_runs_again_and_answers() {
    if std::env::var("CURFEW_TEST_BACKEND").as_deref() != Ok("postgres") {
        return; // SQLite takes one writer at a time: no deadlock to meet.
    }
    let t = TestApp::new().await;
    t.user("root", "Root", Role::Admin).await;
    let alice = t.user("alice", "Alice", Role::Member).await;
    let admin = t.login("root", "app").await;
    t.login("alice", "web").await;

    // As a deactivation does: alice's row first (held), then her sessions.
    let mut other = t.store.pool.begin().await.unwrap();
    sqlx::query("UPDATE users SET display_name = display_name WHERE id = $1")
        .bind(alice.to_string())
        .execute(&mut *other)
        .await
        .unwrap();
    let body = json!({ "keep_admins": false });
    let logout_all = t.post("/api/v1/admin/logout-all", &admin, Some(&body));
    let deactivation_like = async {
        // The logout-all has locked the sessions and waits for alice's row.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while waiting_for_locks(&t).await == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the logout-all never waited for alice's row"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Now her sessions: a deadlock, which PostgreSQL breaks by ending the
        // transaction that waited first, the logout-all's.
        sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at WHERE user_id = $1")
            .bind(alice.to_string())
            .execute(&mut *other)
            .await
            .unwrap();
        other.commit().await.unwrap();
    };
    let ((status, body, _), ()) = tokio::join!(logout_all, deactivation_like);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sessions_revoked"], 1, "{body}");
    assert_eq!(body["users_affected"], 1, "{body}");
}
