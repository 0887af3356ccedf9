//! How the webview draws. On Linux, Curfew's page is drawn by the CPU, without WebKitGTK's
//! GPU compositor: a table of text gains nothing from it, and it costs. Where there is no
//! GPU to use (a virtual machine, a remote desktop, Xvfb) the compositor runs on Mesa's
//! software rasteriser, which loads LLVM into the web process and held some 160 MiB more
//! there than the CPU path (measured: the web process of the app tests, 295 MiB against
//! 134 MiB), and took a few hundred milliseconds to paint the list after each search.
//! Elsewhere the platform's webview is left as it is.

use tauri::{Runtime, WebviewWindow};

/// Applied to the main window at start, before its page has drawn anything.
pub fn configure<R: Runtime>(window: &WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        let applied = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(e) = applied {
            tracing::warn!(error = %e, "the webview keeps its GPU compositor");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}
