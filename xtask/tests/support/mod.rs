//! Shared pieces of the publish tests: external tools, a loopback `docker-registry`,
//! generated OCI layouts, a fault-injecting proxy and small HTTP stand-ins.
//!
//! Every server started here listens on 127.0.0.1 only and is stopped by PID (or its
//! accept thread is stopped) when its handle is dropped.

#![allow(dead_code)]

pub mod http;
pub mod layout;
pub mod proxy;
pub mod registry;

use std::process::Command;

/// Checks whether `tool` is installed. When it is not, fails the test with an install hint, or
/// with `XTASK_SKIP_MISSING_TOOLS=1` prints a skip message and returns false.
pub fn require_tool(tool: &str, debian_package: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return true;
    }
    if std::env::var("XTASK_SKIP_MISSING_TOOLS").is_ok_and(|value| value == "1") {
        eprintln!("skipped: `{tool}` is not installed (Debian package `{debian_package}`)");
        return false;
    }
    panic!(
        "`{tool}` is not installed; install it with `apt-get install {debian_package}` \
         (or run `.ci/setup`), or set XTASK_SKIP_MISSING_TOOLS=1 to skip this test"
    );
}

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Runs a command and returns stdout; fails the test with stderr when it fails.
pub fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("failed to run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed with {}:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
