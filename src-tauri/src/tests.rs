//! The command layer on Tauri's mock runtime, with an in-memory keychain: what reaches the
//! webview, in the `{error, message}` shape, including keychain failures.

use std::sync::Arc;

use curfew::api::{AdminEvent, AuditAction};
use curfew::limits::{FORM_LIMITS, MESSAGE_MAX, SEARCH_MAX};
use keyring_core::mock;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

use crate::keychain::{Keychain, SERVICE};
use crate::profile::{Profile, ProfileFile};
use crate::session::AppState;

struct Harness {
    _app: tauri::App<tauri::test::MockRuntime>,
    window: WebviewWindow<tauri::test::MockRuntime>,
    store: Arc<mock::Store>,
    dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = mock::Store::new().unwrap();
    let app = crate::with_commands(mock_builder())
        .build(mock_context(noop_assets()))
        .unwrap();
    app.manage(AppState::new(
        Keychain::with_store(store.clone(), "test keychain"),
        dir.path().to_path_buf(),
    ));
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    Harness {
        _app: app,
        window,
        store,
        dir,
    }
}

fn invoke(h: &Harness, cmd: &str, body: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(body),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(&h.window, request).map(|body| body.deserialize::<Value>().unwrap())
}

fn error_code(result: Result<Value, Value>) -> (String, String) {
    let error = result.expect_err("expected an error");
    (
        error["error"].as_str().unwrap_or_default().to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A port nothing listens on: proves a command failed before touching the network.
fn dead_server() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

#[test]
fn first_start_has_no_profile_and_names_the_keychain() {
    let h = harness();
    let view = invoke(&h, "startup", json!({})).unwrap();
    assert_eq!(view["signed_in"], Value::Null);
    assert_eq!(view["profile"], Value::Null);
    assert_eq!(view["keychain"], "test keychain");
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let h = harness();
    let (code, message) = error_code(invoke(
        &h,
        "sign_in",
        json!({"server": "http://curfew.example.com", "username": "root", "password": "pw", "remember": false}),
    ));
    assert_eq!(code, "insecure_url");
    assert!(message.contains("https://"), "{message}");
}

#[test]
fn empty_fields_are_refused_before_anything_else() {
    let h = harness();
    let (code, _) = error_code(invoke(
        &h,
        "sign_in",
        json!({"server": dead_server(), "username": " ", "password": "pw", "remember": false}),
    ));
    assert_eq!(code, "invalid_input");
}

#[test]
fn an_unreachable_server_is_named() {
    let h = harness();
    let server = dead_server();
    let (code, message) = error_code(invoke(
        &h,
        "sign_in",
        json!({"server": server, "username": "root", "password": "pw", "remember": false}),
    ));
    assert_eq!(code, "unreachable");
    assert!(message.contains("Could not reach the server"), "{message}");
}

#[test]
fn a_locked_keychain_is_reported_before_signing_in() {
    let h = harness();
    let server = dead_server();
    // The probe before sign-in reads this entry: make that read fail.
    let account = Keychain::account("root", &format!("{server}/"));
    let entry = keyring_core::Entry::new_in_store(
        &(h.store.clone() as Arc<keyring_core::CredentialStore>),
        SERVICE,
        &account,
    )
    .unwrap();
    let cred: &mock::Cred = entry.as_any().downcast_ref().unwrap();
    cred.set_error(keyring_core::Error::NoStorageAccess(
        "prompt dismissed".into(),
    ));
    let (code, message) = error_code(invoke(
        &h,
        "sign_in",
        json!({"server": server, "username": "root", "password": "pw", "remember": true}),
    ));
    // Not "unreachable": the keychain was checked first, and the sentence offers a way on.
    assert_eq!(code, "keychain_unavailable");
    assert!(message.contains("test keychain is locked"), "{message}");
    assert!(message.contains("Remember me"), "{message}");
}

#[test]
fn commands_need_a_signed_in_admin_and_valid_input() {
    let h = harness();
    for (cmd, body) in [
        ("list_users", json!({})),
        ("session_summary", json!({})),
        ("logout_all", json!({"keepAdmins": false})),
        ("audit", json!({})),
        ("audit", json!({"category": "sign_in"})),
        (
            "create_user",
            json!({"request": {"username": "alice", "role": "member"}}),
        ),
        (
            "update_user",
            json!({"id": uuid::Uuid::nil(), "update": {"email": null}}),
        ),
        (
            "reset_password",
            json!({"id": uuid::Uuid::nil(), "reset": {"sign_out": true}}),
        ),
        ("delete_user", json!({"id": uuid::Uuid::nil()})),
        ("user_sessions", json!({"id": uuid::Uuid::nil()})),
        ("end_session", json!({"id": uuid::Uuid::nil()})),
        ("sign_in_throttles", json!({})),
        ("clear_sign_in_throttle", json!({"username": "alice"})),
    ] {
        let (code, message) = error_code(invoke(&h, cmd, body));
        assert_eq!(code, "not_signed_in", "{cmd}");
        assert!(message.contains("Sign in"), "{message}");
    }
    let (code, message) = error_code(invoke(
        &h,
        "list_users",
        json!({"q": "x".repeat(SEARCH_MAX + 1)}),
    ));
    assert_eq!(code, "invalid_input");
    assert!(message.contains(&SEARCH_MAX.to_string()), "{message}");
    // Checked before anything else, so also when not signed in.
    let (code, message) = error_code(invoke(
        &h,
        "schedule_maintenance",
        json!({"request": {
            "starts_at": "2030-01-01T00:00:00Z",
            "message": "x".repeat(MESSAGE_MAX + 1),
        }}),
    ));
    assert_eq!(code, "invalid_input");
    assert!(message.contains(&MESSAGE_MAX.to_string()), "{message}");
    // Arguments of the wrong shape are refused by Tauri before the command runs.
    assert!(invoke(&h, "logout_user", json!({"id": "not-a-uuid"})).is_err());
    assert!(invoke(&h, "list_users", json!({"status": "everyone"})).is_err());
    assert!(invoke(&h, "audit", json!({"category": "everything"})).is_err());
    assert!(invoke(
        &h,
        "create_user",
        json!({"request": {"username": "alice", "role": "owner"}})
    )
    .is_err());
}

#[test]
fn a_remembered_token_for_a_dead_server_keeps_the_profile_and_explains() {
    let h = harness();
    let server = format!("{}/", dead_server());
    ProfileFile::in_dir(h.dir.path())
        .save(&Profile {
            server: server.clone(),
            username: "root".into(),
            remember: true,
        })
        .unwrap();
    Keychain::with_store(h.store.clone(), "test keychain")
        .save(&Keychain::account("root", &server), "saved-token")
        .unwrap();
    let view = invoke(&h, "startup", json!({})).unwrap();
    assert_eq!(view["signed_in"], Value::Null);
    assert_eq!(view["profile"]["username"], "root");
    let notice = view["notice"].as_str().unwrap();
    assert!(notice.contains("Could not reach"), "{notice}");
    assert!(
        !notice.contains("saved-token"),
        "the token leaked into a message"
    );
}

#[test]
fn the_contract_command_gives_the_page_a_label_for_every_audit_action() {
    let h = harness();
    // Before signing in: the page loads it first.
    let contract = invoke(&h, "contract", json!({})).unwrap();
    let labels = contract["audit_actions"].as_object().unwrap();
    assert_eq!(labels.len(), AuditAction::ALL.len(), "{labels:?}");
    for action in AuditAction::ALL {
        let label = labels[action.as_str()].as_str().unwrap_or_default();
        assert_eq!(label, action.label(), "{action:?}");
        assert!(
            !label.is_empty() && !label.contains('_'),
            "{action:?} is shown as {label:?}"
        );
    }
    assert_eq!(
        contract["limits"],
        serde_json::to_value(FORM_LIMITS).unwrap()
    );
    assert_eq!(contract["limits"]["message_max"], MESSAGE_MAX);
    assert_eq!(contract["admin_events"], json!(AdminEvent::EVENT_NAMES));
    for code in ["invalid_credentials", "account_deactivated", "maintenance"] {
        let words = contract["sign_in_refusals"][code]
            .as_str()
            .unwrap_or_default();
        assert!(
            !words.is_empty() && !words.contains('_'),
            "{code}: {words:?}"
        );
    }
    assert_eq!(
        contract["channels"],
        json!({
            "admin_event": crate::events::ADMIN_EVENT,
            "signed_out": crate::events::SIGNED_OUT,
        })
    );
}

#[test]
fn a_refused_saved_sign_in_says_sign_in_again_once() {
    use crate::session::saved_sign_in_refused;
    assert_eq!(
        saved_sign_in_refused("An administrator signed everyone out. Sign in again."),
        "Your saved sign-in no longer works: An administrator signed everyone out. Sign in again."
    );
    assert_eq!(
        saved_sign_in_refused("The session is not valid."),
        "Your saved sign-in no longer works: The session is not valid. Sign in again."
    );
}

#[test]
fn index_html_preloads_every_module_of_the_page() {
    let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
    let index = std::fs::read_to_string(ui.join("index.html")).unwrap();
    let mut missing = Vec::new();
    for dir in ["lib", "views"] {
        for entry in std::fs::read_dir(ui.join(dir)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let href = format!("<link rel=\"modulepreload\" href=\"{dir}/{name}\">");
            if name.ends_with(".js") && !index.contains(&href) {
                missing.push(format!("{dir}/{name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "index.html does not preload {missing:?}"
    );
}
