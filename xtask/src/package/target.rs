//! The architectures packages are built for, and what building for each one takes on
//! an x86_64 host: a GNU toolchain prefix, and an emulator for running test binaries.

use std::fmt;
use std::str::FromStr;

/// An architecture the package builder produces packages for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetArch {
    X86_64,
    Aarch64,
}

impl TargetArch {
    /// Every supported architecture, in build order.
    pub const ALL: [TargetArch; 2] = [TargetArch::X86_64, TargetArch::Aarch64];

    /// Returns the APK architecture name (`x86_64`, `aarch64`), used in repository paths.
    pub fn apk_name(self) -> &'static str {
        match self {
            TargetArch::X86_64 => "x86_64",
            TargetArch::Aarch64 => "aarch64",
        }
    }

    /// Returns the GNU triplet of Debian's toolchain for this architecture, which is also the
    /// prefix of its tools (`aarch64-linux-gnu-gcc`).
    pub fn gnu_triplet(self) -> &'static str {
        match self {
            TargetArch::X86_64 => "x86_64-linux-gnu",
            TargetArch::Aarch64 => "aarch64-linux-gnu",
        }
    }

    /// Returns the Rust target triplet, for `${{host.triplet.rust}}`.
    pub fn rust_triplet(self) -> &'static str {
        match self {
            TargetArch::X86_64 => "x86_64-unknown-linux-gnu",
            TargetArch::Aarch64 => "aarch64-unknown-linux-gnu",
        }
    }

    /// Returns the Go architecture name, for `${{build.goarch}}`.
    pub fn go_arch(self) -> &'static str {
        match self {
            TargetArch::X86_64 => "amd64",
            TargetArch::Aarch64 => "arm64",
        }
    }

    /// The architecture of the machine running the tool, when it is a supported one.
    pub fn host() -> Option<TargetArch> {
        TargetArch::from_str(std::env::consts::ARCH).ok()
    }

    /// The command that runs this architecture's binaries on the host, or `None` when
    /// they run natively. Only an x86_64 host is supported for cross builds, where
    /// there is no binfmt registration, so the emulator is invoked by name.
    pub fn emulator(self) -> Option<&'static str> {
        match self {
            TargetArch::X86_64 => None,
            TargetArch::Aarch64 => Some("qemu-aarch64-static"),
        }
    }

    /// Where Debian's cross packages put this architecture's C library, for qemu to
    /// load dynamically linked binaries from (`QEMU_LD_PREFIX`).
    pub fn cross_sysroot(self) -> &'static str {
        match self {
            TargetArch::X86_64 => "/",
            TargetArch::Aarch64 => "/usr/aarch64-linux-gnu",
        }
    }
}

impl fmt::Display for TargetArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.apk_name())
    }
}

/// Error for an architecture the package builder does not support.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported package architecture `{0}`; supported: x86_64 (amd64), aarch64 (arm64)")]
pub struct UnsupportedArch(pub String);

impl FromStr for TargetArch {
    type Err = UnsupportedArch;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "x86_64" | "amd64" => Ok(TargetArch::X86_64),
            "aarch64" | "arm64" => Ok(TargetArch::Aarch64),
            other => Err(UnsupportedArch(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_accepts_both_spellings() {
        assert_eq!("amd64".parse(), Ok(TargetArch::X86_64));
        assert_eq!("x86_64".parse(), Ok(TargetArch::X86_64));
        assert_eq!("arm64".parse(), Ok(TargetArch::Aarch64));
        assert_eq!("aarch64".parse(), Ok(TargetArch::Aarch64));
        assert!("riscv64".parse::<TargetArch>().is_err());
    }

    #[test]
    fn arch_cross_toolchain_prefix() {
        assert_eq!(TargetArch::Aarch64.gnu_triplet(), "aarch64-linux-gnu");
        assert_eq!(TargetArch::Aarch64.emulator(), Some("qemu-aarch64-static"));
        assert_eq!(TargetArch::X86_64.emulator(), None);
    }
}
