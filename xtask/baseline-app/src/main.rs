//! The app benchmark's baseline: what any Tauri 2 app with Curfew's crates costs before it
//! does anything. One window with Curfew's size and CSP, the notification plugin Curfew
//! loads, and an empty page; no commands, no tray, no network. `cargo xtask bench --only
//! app` measures it beside Curfew in the same run (see xtask/src/appbench.rs).

// As Curfew's: no extra console window on Windows in release.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .run(tauri::generate_context!())
        .expect("error while running the benchmark's baseline app");
}
