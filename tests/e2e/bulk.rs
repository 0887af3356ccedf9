//! The users list as a tool against a real curfewd: its orders and chip counts over HTTP,
//! Logout selected and Deactivate selected (all matching a search), and signing out idle
//! sessions, each telling the ended sessions' streams at once and sparing the caller.

use std::time::Duration;

use curfew::api::{
    AuditAction, AuditExportQuery, AuditFilter, AuditFormat, AuditQuery, ClientKind,
    RevocationReason, Role, UserMatch, UserQuery, UserSelection, UserSort,
};
use curfew::NoticeStream;

use crate::support::{assert_rejected, run_sql, Server};

/// The next notice must be `session_revoked` with `reason`, within a deadline.
async fn expect_revoked(stream: &mut NoticeStream, reason: RevocationReason) {
    let notice = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("no notice within 5 s")
        .expect("stream ended without session_revoked")
        .expect("notice");
    match notice {
        curfew::api::Notice::SessionRevoked(revoked) => assert_eq!(revoked.reason, reason),
        other => panic!("expected session_revoked, got {other:?}"),
    }
}

#[tokio::test]
async fn selections_and_idle_sessions_end_in_one_call_and_streams_hear_at_once() {
    let server = Server::start();
    server.add_user("root", "admin");
    for name in ["anna", "andy", "dan", "kim", "sue"] {
        server.add_user(name, "member");
    }
    let (admin, _) = server.login("root", ClientKind::App).await;
    let (root_web, _) = server.login("root", ClientKind::Web).await;
    let (anna, _) = server.login("anna", ClientKind::Web).await;
    let (andy, _) = server.login("andy", ClientKind::App).await;
    let (dan, _) = server.login("dan", ClientKind::Web).await;
    let (kim, _) = server.login("kim", ClientKind::Web).await;
    let mut anna_stream = anna.notice_stream().await.unwrap();
    let mut dan_stream = dan.notice_stream().await.unwrap();
    let mut kim_stream = kim.notice_stream().await.unwrap();

    // The list sorted by sessions, the counts following the search.
    let page = admin
        .users(&UserQuery {
            sort: Some(UserSort::Sessions),
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.users[0].username, "root", "two sessions first");
    let counts = admin
        .user_counts(&UserMatch {
            q: Some("an".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((counts.matching, counts.online), (3, 3), "{counts:?}");

    // Logout selected: every member matching "an" (anna, andy, dan), not only a page.
    let selection = UserSelection {
        ids: None,
        matching: Some(UserMatch {
            q: Some("an".into()),
            role: Some(Role::Member),
            ..Default::default()
        }),
    };
    let preview = admin.logout_selected(&selection, true).await.unwrap();
    assert_eq!((preview.users_affected, preview.sessions_revoked), (3, 3));
    let done = admin.logout_selected(&selection, false).await.unwrap();
    assert_eq!((done.users_affected, done.sessions_revoked), (3, 3));
    expect_revoked(&mut anna_stream, RevocationReason::AdminLogout).await;
    expect_revoked(&mut dan_stream, RevocationReason::AdminLogout).await;
    assert_rejected(&andy, "session_revoked").await;
    kim.session().await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), kim_stream.next())
            .await
            .is_err(),
        "kim's stream was told something"
    );
    let audit = admin.audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(audit.entries[0].action, AuditAction::LogoutSelected);
    assert_eq!(
        audit.entries[0].reason.as_deref(),
        Some("3 users: andy, anna and dan")
    );

    // Deactivate selected by id: kim's stream hears it, the caller's account is spared.
    let kim_id = crate::sessions::user_id(&admin, "kim").await;
    let root_id = crate::sessions::user_id(&admin, "root").await;
    let by_ids = UserSelection {
        ids: Some(vec![kim_id, root_id]),
        matching: None,
    };
    let done = admin.deactivate_selected(&by_ids, false).await.unwrap();
    assert_eq!((done.users_affected, done.sessions_revoked), (1, 1));
    assert!(done.own_account_spared);
    expect_revoked(&mut kim_stream, RevocationReason::Deactivated).await;
    admin.session().await.unwrap();

    // Idle for more than a day: sue's session, last used two days ago, and root's other
    // one; root's own session is spared however idle.
    let (sue, _) = server.login("sue", ClientKind::Web).await;
    let mut sue_stream = sue.notice_stream().await.unwrap();
    let two_days_ago = chrono::Utc::now().timestamp_millis() - 2 * 86_400_000;
    run_sql(
        &server.database_url,
        &format!(
            "UPDATE sessions SET last_seen_at = {two_days_ago} WHERE revoked_at IS NULL \
             AND user_id IN (SELECT id FROM users WHERE username IN ('sue', 'root'))"
        ),
    );
    let preview = admin.logout_idle(1, true).await.unwrap();
    assert_eq!((preview.sessions_revoked, preview.users_affected), (2, 2));
    let done = admin.logout_idle(1, false).await.unwrap();
    assert_eq!((done.sessions_revoked, done.users_affected), (2, 2));
    expect_revoked(&mut sue_stream, RevocationReason::AdminLogout).await;
    assert_rejected(&root_web, "session_revoked").await;
    admin.session().await.unwrap();
    let audit = admin.audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(audit.entries[0].action, AuditAction::LogoutIdle);
    assert_eq!(
        audit.entries[0].reason.as_deref(),
        Some("idle for more than 1 day")
    );

    // The CSV export names every user of each of these entries in its target column.
    let mut file = Vec::new();
    admin
        .export_audit(
            &AuditExportQuery::new(AuditFormat::Csv, None, AuditFilter::default()),
            &mut file,
        )
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(file.as_slice());
    let columns = reader.headers().unwrap().clone();
    let column = |name: &str| columns.iter().position(|c| c == name).unwrap();
    let (action, target) = (column("action"), column("target"));
    let targets: Vec<(String, String)> = reader
        .records()
        .map(Result::unwrap)
        .map(|row| (row[action].to_owned(), row[target].to_owned()))
        .collect();
    for (bulk, names) in [
        ("logout_selected", "andy anna dan"),
        ("deactivate_selected", "kim"),
        ("logout_idle", "root sue"),
    ] {
        assert!(
            targets.contains(&(bulk.to_owned(), names.to_owned())),
            "{bulk} naming {names}: {targets:?}"
        );
    }
}
