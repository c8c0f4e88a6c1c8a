//! Locating the optional real-world fixtures (Alpine and melange repositories).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::PathBuf;

/// Returns the `apk` fixture folder, or `None` (after printing why) when it is absent.
/// `XTASK_SHARED_FIXTURES` overrides the default `../shared/fixtures` next to the
/// workspace root.
pub fn apk_fixtures() -> Option<PathBuf> {
    let root = match std::env::var_os("XTASK_SHARED_FIXTURES") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"),
    };
    let apk = root.join("apk");
    if apk.is_dir() {
        Some(apk)
    } else {
        eprintln!(
            "skipped: real-data fixtures not found at `{}` (set XTASK_SHARED_FIXTURES)",
            apk.display()
        );
        None
    }
}
