//! CPU architectures, accepted under their OCI names (`amd64`) and their APK names
//! (`x86_64`), as apko accepts both.

use std::fmt;
use std::str::FromStr;

/// An architecture an image can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Arch {
    Amd64,
    Arm64,
    I386,
    ArmV6,
    ArmV7,
    Ppc64le,
    S390x,
    Riscv64,
}

/// Spellings accepted in YAML: (OCI name, APK name) per architecture.
const NAMES: [(Arch, &str, &str); 8] = [
    (Arch::Amd64, "amd64", "x86_64"),
    (Arch::Arm64, "arm64", "aarch64"),
    (Arch::I386, "386", "x86"),
    (Arch::ArmV6, "arm/v6", "armhf"),
    (Arch::ArmV7, "arm/v7", "armv7"),
    (Arch::Ppc64le, "ppc64le", "ppc64le"),
    (Arch::S390x, "s390x", "s390x"),
    (Arch::Riscv64, "riscv64", "riscv64"),
];

impl Arch {
    /// Returns the OCI platform name (`amd64`, `arm64`, `arm/v7`).
    pub fn oci_name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(arch, ..)| *arch == self)
            .map_or("", |(_, oci, _)| oci)
    }

    /// Returns the APK architecture name used in repository paths (`x86_64`, `aarch64`).
    pub fn apk_name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(arch, ..)| *arch == self)
            .map_or("", |(_, _, apk)| apk)
    }

    /// Returns every accepted spelling, for error messages.
    pub fn accepted_names() -> String {
        NAMES
            .iter()
            .map(|(_, oci, apk)| format!("{oci} ({apk})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.oci_name())
    }
}

/// Error for a name that is no known architecture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown architecture `{0}`")]
pub struct UnknownArch(pub String);

impl FromStr for Arch {
    type Err = UnknownArch;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        // `arm64/v8` is how Docker names the arm64 platform with its variant.
        let name = if name == "arm64/v8" { "arm64" } else { name };
        NAMES
            .iter()
            .find(|(_, oci, apk)| *oci == name || *apk == name)
            .map(|(arch, ..)| *arch)
            .ok_or_else(|| UnknownArch(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_accepts_both_spellings() {
        assert_eq!("amd64".parse(), Ok(Arch::Amd64));
        assert_eq!("x86_64".parse(), Ok(Arch::Amd64));
        assert_eq!("aarch64".parse(), Ok(Arch::Arm64));
        assert_eq!("arm64".parse(), Ok(Arch::Arm64));
        assert_eq!("armv7".parse(), Ok(Arch::ArmV7));
    }

    #[test]
    fn arch_rejects_unknown_name() {
        assert_eq!(
            "sparc".parse::<Arch>(),
            Err(UnknownArch("sparc".to_string()))
        );
    }

    #[test]
    fn arch_names_round_trip() {
        for (arch, oci, apk) in NAMES {
            assert_eq!(arch.oci_name(), oci);
            assert_eq!(arch.apk_name(), apk);
        }
    }
}
