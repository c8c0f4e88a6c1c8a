//! Shared pieces of the publish tests: external tools, a loopback `docker-registry`,
//! generated OCI layouts, a fault-injecting proxy, a token server and small HTTP
//! stand-ins.
//!
//! Every server started here listens on 127.0.0.1 only and is stopped by PID (or its
//! accept thread is stopped) when its handle is dropped.

#![allow(dead_code)]

pub mod http;
pub mod layout;
pub mod proxy;
pub mod registry;
pub mod token;

#[path = "../common/tools.rs"]
mod tools;

use std::process::{Command, Output};

/// Fails the test with an `apt-get install` hint when `tool` is missing, or skips it with
/// `XTASK_SKIP_MISSING_TOOLS=1`; see `common/tools.rs`.
pub fn require_tool(tool: &str, debian_package: &str) -> bool {
    tools::require_tool(tool, &format!("apt-get install {debian_package}"))
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

/// Returns process output bytes as text, invalid UTF-8 replaced.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Fails the test with the exit status, stdout and stderr when `output` is a failure.
pub fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed with {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}
