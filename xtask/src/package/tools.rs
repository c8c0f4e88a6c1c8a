//! External programs the builder runs, and how to install each when it is missing.

use std::path::PathBuf;

/// An external program and the Debian package that provides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// Program name looked up in `PATH`.
    pub program: &'static str,
    /// Debian package to install.
    pub package: &'static str,
}

/// bubblewrap, the sandbox every build step runs in.
pub const BWRAP: Tool = Tool {
    program: "bwrap",
    package: "bubblewrap",
};

/// qemu user-mode emulation, to run aarch64 programs on an x86_64 host.
pub const QEMU_AARCH64: Tool = Tool {
    program: "qemu-aarch64-static",
    package: "qemu-user-static",
};

/// The GNU C cross compiler for aarch64.
pub const GCC_AARCH64: Tool = Tool {
    program: "aarch64-linux-gnu-gcc",
    package: "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
};

/// The native GNU C compiler and make.
pub const GCC: Tool = Tool {
    program: "gcc",
    package: "build-essential",
};

/// Error for a program that is not installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{program}` not found in PATH; install it with `apt-get install {package}` (or run `bash .ci/setup`)"
)]
pub struct MissingTool {
    /// The program.
    pub program: &'static str,
    /// The Debian package that provides it.
    pub package: &'static str,
}

impl Tool {
    /// Returns the program's path, or an error with the command that installs it.
    pub fn find(self) -> Result<PathBuf, MissingTool> {
        find_in_path(self.program).ok_or(MissingTool {
            program: self.program,
            package: self.package,
        })
    }
}

/// Returns the first executable file called `program` in `PATH`.
pub fn find_in_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}
