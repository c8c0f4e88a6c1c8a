//! SHA-256 content digests (`sha256:<64 hex digits>`), the only algorithm we write.

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// Length of a SHA-256 digest in hex digits.
const HEX_LEN: usize = 64;

/// Error for text that is not a `sha256:` digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest `{0}`: expected `sha256:` followed by 64 lowercase hex digits")]
pub struct DigestError(pub String);

/// A SHA-256 content digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Computes the digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self::from_bytes(&Sha256::digest(bytes))
    }

    fn from_bytes(hash: &[u8]) -> Self {
        Self {
            hex: hex::encode(hash),
        }
    }

    /// Parses `sha256:<hex>`.
    pub fn parse(text: &str) -> Result<Self, DigestError> {
        let invalid = || DigestError(text.to_owned());
        let hex = text.strip_prefix("sha256:").ok_or_else(invalid)?;
        let valid = hex.len() == HEX_LEN
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Err(invalid());
        }
        Ok(Self {
            hex: hex.to_owned(),
        })
    }

    /// Returns the hex part, which is also the blob's file name in a layout.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A writer that passes bytes through to `inner` while computing their digest and size,
/// so a stream is hashed without being held in memory.
pub struct DigestWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> DigestWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Returns the inner writer, the digest and the byte count of everything written.
    pub fn finish(self) -> (W, Digest, u64) {
        let digest = Digest::from_bytes(&self.hasher.finalize());
        (self.inner, digest, self.size)
    }

    /// Returns the inner writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let count = self.inner.write(buf)?;
        let written = buf.get(..count).unwrap_or_default();
        self.hasher.update(written);
        self.size += count as u64;
        Ok(count)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn digest_of_empty_input() {
        assert_eq!(Digest::sha256_of(b"").to_string(), EMPTY);
    }

    #[test]
    fn digest_parse_round_trips() {
        let digest = Digest::parse(EMPTY).expect("valid digest");
        assert_eq!(digest.to_string(), EMPTY);
    }

    #[test]
    fn digest_parse_rejects_bad_forms() {
        let upper = EMPTY.to_uppercase().replace("SHA256", "sha256");
        for text in ["", "sha256:", "sha512:00", "e3b0c442", upper.as_str()] {
            assert!(Digest::parse(text).is_err(), "`{text}` must be rejected");
        }
    }

    #[test]
    fn digest_writer_matches_one_shot() {
        let mut writer = DigestWriter::new(Vec::new());
        writer.write_all(b"hello ").expect("write");
        writer.write_all(b"world").expect("write");
        let (bytes, digest, size) = writer.finish();
        assert_eq!(bytes, b"hello world");
        assert_eq!(size, 11);
        assert_eq!(digest, Digest::sha256_of(b"hello world"));
    }
}
