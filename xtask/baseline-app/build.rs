// The config sits beside this crate's Cargo.toml, where tauri-build looks by default.
fn main() {
    tauri_build::build();
}
