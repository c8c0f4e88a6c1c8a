//! Package checksums in apk's text form: `Q1` + base64 of a SHA-1 digest, as in the `C:`
//! index field and the `Z:` installed-database field.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest as _, Sha1};

/// Errors from [`Checksum::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumError {
    /// The text is not `Q1` followed by base64 of 20 bytes.
    #[error(
        "invalid checksum `{text}`: expected `Q1` followed by base64 of a 20-byte SHA-1 digest"
    )]
    Invalid {
        /// The checksum as written.
        text: String,
    },
}

/// A SHA-1 digest written as `Q1` + base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checksum(pub [u8; 20]);

impl Checksum {
    /// Computes the checksum of `bytes`.
    pub fn sha1_of(bytes: &[u8]) -> Self {
        Self(Sha1::digest(bytes).into())
    }

    /// Parses the `Q1...` text form.
    pub fn parse(text: &str) -> Result<Self, ChecksumError> {
        let invalid = || ChecksumError::Invalid { text: text.into() };
        let encoded = text.strip_prefix("Q1").ok_or_else(invalid)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| invalid())?;
        let digest: [u8; 20] = bytes.try_into().map_err(|_| invalid())?;
        Ok(Self(digest))
    }

    /// Returns the digest as lowercase hex, the form of `.PKGINFO` and PAX headers.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Q1{}", STANDARD.encode(self.0))
    }
}

impl FromStr for Checksum {
    type Err = ChecksumError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_round_trips() {
        let text = "Q1R4MwduR1pAnDMb+3kQscmyNxJPY=";
        let checksum = Checksum::parse(text).expect("valid checksum");
        assert_eq!(checksum.to_string(), text);
    }

    #[test]
    fn checksum_rejects_bad_forms() {
        for text in [
            "",
            "Q1",
            "Q2R4MwduR1pAnDMb+3kQscmyNxJPY=",
            "Q1AAAA",
            "Q1!!!",
        ] {
            assert!(Checksum::parse(text).is_err(), "`{text}` must be rejected");
        }
    }

    #[test]
    fn checksum_of_empty_input() {
        assert_eq!(
            Checksum::sha1_of(b"").to_hex(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
    }
}
