//! External tools the integration tests run (skopeo, umoci, docker-registry, openssl,
//! pyspdxtools), shared by the build and publish tests.

use std::process::Command;

/// Returns true when `tool` is on `PATH`. A missing tool fails the test with
/// `install_hint`, unless `XTASK_SKIP_MISSING_TOOLS=1`, which skips with a message instead.
pub fn require_tool(tool: &str, install_hint: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return true;
    }
    if std::env::var("XTASK_SKIP_MISSING_TOOLS").is_ok_and(|value| value == "1") {
        eprintln!("skipped: `{tool}` is not installed");
        return false;
    }
    panic!(
        "`{tool}` is not installed; install it with `{install_hint}` (or run `bash .ci/setup`), \
         or set XTASK_SKIP_MISSING_TOOLS=1 to skip this test"
    );
}
