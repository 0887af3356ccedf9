// The config lives at the repository root; commands are listed once here so that Tauri
// generates a permission for each and the capability can grant exactly these.
const COMMANDS: &[&str] = &[
    "contract",
    "startup",
    "sign_in",
    "sign_out",
    "switch_server",
    "add_server",
    "remove_server",
    "list_servers",
    "list_users",
    "session_summary",
    "user_counts",
    "logout_selected",
    "deactivate_selected",
    "logout_idle",
    "logout_user",
    "logout_all",
    "set_user_active",
    "audit",
    "export_audit",
    "list_maintenance",
    "schedule_maintenance",
    "cancel_maintenance",
    "end_maintenance",
    "preview_repeat",
    "schedule_series",
    "cancel_series",
    "change_maintenance",
    "create_user",
    "update_user",
    "reset_password",
    "delete_user",
    "user_sessions",
    "end_session",
    "sign_in_throttles",
    "clear_sign_in_throttle",
    "list_service_tokens",
    "create_service_token",
    "revoke_service_token",
    "import_users",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
