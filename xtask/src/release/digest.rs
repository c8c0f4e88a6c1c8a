//! Content digests of released images, as the registry reports them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The only algorithm images are released with.
const ALGORITHM: &str = "sha256";

/// Number of hexadecimal characters in a SHA-256 digest.
const HEX_LENGTH: usize = 64;

/// Number of hexadecimal characters kept by [`Digest::short`].
const SHORT_HEX_LENGTH: usize = 12;

/// A SHA-256 content digest in OCI form, `sha256:` followed by 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

/// Error from parsing a [`Digest`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The algorithm prefix is missing or is not `sha256`.
    #[error("invalid digest `{0}`: expected the prefix `sha256:`")]
    Algorithm(String),
    /// The hex part has the wrong length or contains other characters.
    #[error("invalid digest `{0}`: expected 64 lowercase hexadecimal digits after `sha256:`")]
    Hex(String),
}

impl Digest {
    /// Returns the whole digest, `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the hexadecimal part, without the algorithm prefix.
    pub fn hex(&self) -> &str {
        &self.0[ALGORITHM.len() + 1..]
    }

    /// Returns the short form shown in tables: the prefix and the first 12 hex digits.
    pub fn short(&self) -> &str {
        &self.0[..ALGORITHM.len() + 1 + SHORT_HEX_LENGTH]
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let Some(hex) = value.strip_prefix("sha256:") else {
            return Err(DigestError::Algorithm(value.to_owned()));
        };
        let lower_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if hex.len() != HEX_LENGTH || !hex.chars().all(lower_hex) {
            return Err(DigestError::Hex(value.to_owned()));
        }
        Ok(Self(value.to_owned()))
    }
}

impl TryFrom<String> for Digest {
    type Error = DigestError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Digest> for String {
    fn from(digest: Digest) -> Self {
        digest.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn digest_parts() {
        let digest: Digest = VALID.parse().expect("valid digest");
        assert_eq!(digest.as_str(), VALID);
        assert_eq!(digest.hex(), &VALID[7..]);
        assert_eq!(digest.short(), "sha256:0123456789ab");
        assert_eq!(digest.to_string(), VALID);
    }

    #[test]
    fn digest_rejects_bad_input() {
        let cases = [
            ("", DigestError::Algorithm(String::new())),
            ("0123", DigestError::Algorithm("0123".into())),
            ("sha512:00", DigestError::Algorithm("sha512:00".into())),
            ("sha256:", DigestError::Hex("sha256:".into())),
            ("sha256:0123", DigestError::Hex("sha256:0123".into())),
        ];
        for (input, expected) in cases {
            assert_eq!(input.parse::<Digest>(), Err(expected), "input `{input}`");
        }
        let upper = VALID.to_uppercase().replace("SHA256", "sha256");
        assert!(upper.parse::<Digest>().is_err(), "uppercase hex");
        let long = format!("{VALID}0");
        assert!(long.parse::<Digest>().is_err(), "65 hex digits");
        let non_hex = VALID.replace('a', "g");
        assert!(non_hex.parse::<Digest>().is_err(), "non-hex digit");
    }

    #[test]
    fn digest_serde_validates() {
        let json = format!("\"{VALID}\"");
        let digest: Digest = serde_json::from_str(&json).expect("valid digest");
        assert_eq!(serde_json::to_string(&digest).expect("serializable"), json);
        let error = serde_json::from_str::<Digest>("\"sha256:xyz\"").expect_err("invalid digest");
        assert!(error.to_string().contains("invalid digest"), "{error}");
    }
}
