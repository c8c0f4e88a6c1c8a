//! Helpers for tests that need external programs.

use super::tools::Tool;

/// Returns whether `tool` is installed. A missing tool fails the test with an install
/// hint, unless `XTASK_SKIP_MISSING_TOOLS=1` is set, in which case the test prints a
/// skip message and the caller returns early.
pub fn require_tool(tool: Tool) -> bool {
    match tool.find() {
        Ok(_) => true,
        Err(missing) if skip_missing_tools() => {
            eprintln!("skipped: {missing} (XTASK_SKIP_MISSING_TOOLS=1)");
            false
        }
        Err(missing) => panic!("{missing}; or set XTASK_SKIP_MISSING_TOOLS=1 to skip"),
    }
}

fn skip_missing_tools() -> bool {
    std::env::var("XTASK_SKIP_MISSING_TOOLS").is_ok_and(|value| value == "1")
}
