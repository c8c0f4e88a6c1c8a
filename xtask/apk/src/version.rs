//! Package versions and their ordering, as apk-tools 2.14 defines them.
//!
//! A version is `digits{.digits}[letter[digits]]{_suffix[digits]}[-rdigits]`, for example
//! `1.2.3a_rc1_p2-r4`. Comparison walks the tokens of both versions side by side:
//! numbers compare as numbers (except that a dot-separated component with a leading zero
//! compares as a string, as in Gentoo), letters by byte value, and suffixes in the order
//! `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p`. When one
//! version runs out of tokens first, the longer one is greater unless its next token is
//! a pre-release suffix. The `~<commit>` token of apk-tools 3 is not supported.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// Errors from [`Version::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The string is empty.
    #[error("invalid version ``: the version is empty")]
    Empty,
    /// The string breaks the version grammar at a byte offset.
    #[error(
        "invalid version `{version}` at byte {offset}: {reason}\n\
         hint: apk versions look like `1.2.3a_rc1-r0` (digits, dots, one letter, `_suffix`, `-rN`)"
    )]
    Invalid {
        /// The whole version string.
        version: String,
        /// Byte offset of the first character that breaks the grammar.
        offset: usize,
        /// The grammar rule broken at that offset.
        reason: &'static str,
    },
}

/// Suffix kinds in ascending order. `None` is the position of a plain release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Suffix {
    Alpha,
    Beta,
    Pre,
    Rc,
    None,
    Cvs,
    Svn,
    Git,
    Hg,
    P,
}

impl Suffix {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "alpha" => Self::Alpha,
            "beta" => Self::Beta,
            "pre" => Self::Pre,
            "rc" => Self::Rc,
            "cvs" => Self::Cvs,
            "svn" => Self::Svn,
            "git" => Self::Git,
            "hg" => Self::Hg,
            "p" => Self::P,
            _ => return None,
        })
    }
}

/// Token kinds. The declaration order matters: when two versions agree on every shared
/// token, the one whose next kind is larger is the smaller version (apk-tools rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    Revision,
    End,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Token {
    InitialDigit(String),
    Digit(String),
    Letter(u8),
    Suffix(Suffix),
    SuffixNumber(String),
    Revision(String),
}

impl Token {
    fn kind(&self) -> Kind {
        match self {
            Self::InitialDigit(_) => Kind::InitialDigit,
            Self::Digit(_) => Kind::Digit,
            Self::Letter(_) => Kind::Letter,
            Self::Suffix(_) => Kind::Suffix,
            Self::SuffixNumber(_) => Kind::SuffixNumber,
            Self::Revision(_) => Kind::Revision,
        }
    }
}

/// A validated apk version. Equality, ordering and hashing follow apk-tools, so `01.0`
/// equals `1.0`, while [`Version::as_str`] keeps the original spelling.
#[derive(Debug, Clone)]
pub struct Version {
    text: String,
    tokens: Vec<Token>,
}

impl Version {
    /// Parses and validates a version string.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let tokens = tokenize(text)?;
        Ok(Self {
            text: text.to_owned(),
            tokens,
        })
    }

    /// Returns the version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns true when `prefix` matches this version token by token, the `~` rule of
    /// apk dependencies (`1.2.3` matches `~1.2` but `1.20` does not).
    pub fn has_prefix(&self, prefix: &Version) -> bool {
        match compare_tokens(&self.tokens, &prefix.tokens) {
            (Ordering::Equal, _) => true,
            (_, Some(b_ended)) => b_ended,
            _ => false,
        }
    }
}

/// Splits `text` into tokens. Rejects what apk-tools 2.14 rejects, and also an empty
/// component after `.`, an empty `_` suffix and `-r` without digits, which apk-tools
/// reads as zero or as no suffix and so hides typos.
fn tokenize(text: &str) -> Result<Vec<Token>, VersionError> {
    if text.is_empty() {
        return Err(VersionError::Empty);
    }
    let bytes = text.as_bytes();
    let invalid = |offset: usize, reason: &'static str| VersionError::Invalid {
        version: text.to_owned(),
        offset,
        reason,
    };
    let digits_end = |start: usize| {
        let mut end = start;
        while bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        end
    };
    let slice = |start: usize, end: usize| text.get(start..end).unwrap_or_default().to_owned();

    let mut pos = digits_end(0);
    if pos == 0 {
        return Err(invalid(0, "a version starts with a digit"));
    }
    let mut tokens = vec![Token::InitialDigit(slice(0, pos))];
    let mut last = Kind::InitialDigit;
    while let Some(&byte) = bytes.get(pos) {
        let start = pos;
        match byte {
            b'a'..=b'z' => {
                if last > Kind::Digit {
                    return Err(invalid(start, "a letter may only follow a number"));
                }
                tokens.push(Token::Letter(byte));
                last = Kind::Letter;
                pos += 1;
            }
            b'.' | b'0'..=b'9' => {
                if byte == b'.' {
                    if last > Kind::Digit {
                        return Err(invalid(start, "`.` may only follow a number"));
                    }
                    pos += 1;
                }
                let end = digits_end(pos);
                if end == pos {
                    return Err(invalid(pos, "expected digits"));
                }
                let value = slice(pos, end);
                tokens.push(match last {
                    Kind::Suffix => Token::SuffixNumber(value),
                    Kind::InitialDigit | Kind::Digit if byte == b'.' => Token::Digit(value),
                    // Digits right after a letter, as in Alpine's `0.99f7-r1`: apk-tools
                    // 2.10 accepts them as a further number component.
                    Kind::Letter if byte != b'.' => Token::Digit(value),
                    _ => return Err(invalid(start, "digits are not allowed here")),
                });
                last = tokens.last().map_or(Kind::Digit, Token::kind);
                pos = end;
            }
            b'_' => {
                if last > Kind::SuffixNumber {
                    return Err(invalid(start, "a `_suffix` may not follow the revision"));
                }
                let mut end = start + 1;
                while bytes.get(end).is_some_and(u8::is_ascii_lowercase) {
                    end += 1;
                }
                let name = slice(start + 1, end);
                let suffix = Suffix::from_name(&name).ok_or_else(|| {
                    invalid(
                        start,
                        "unknown suffix (expected alpha, beta, pre, rc, cvs, svn, git, hg or p)",
                    )
                })?;
                tokens.push(Token::Suffix(suffix));
                last = Kind::Suffix;
                pos = end;
            }
            b'-' => {
                if bytes.get(pos + 1) != Some(&b'r') || last >= Kind::Revision {
                    return Err(invalid(start, "`-` must start a single `-rN` revision"));
                }
                let end = digits_end(pos + 2);
                if end == pos + 2 {
                    return Err(invalid(end, "expected the revision number after `-r`"));
                }
                tokens.push(Token::Revision(slice(pos + 2, end)));
                last = Kind::Revision;
                pos = end;
            }
            _ => return Err(invalid(start, "unexpected character")),
        }
    }
    Ok(tokens)
}

/// Compares digit strings as unbounded non-negative integers.
fn compare_numbers(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn compare_token(a: &Token, b: &Token) -> Ordering {
    match (a, b) {
        (Token::Digit(a), Token::Digit(b)) if a.starts_with('0') || b.starts_with('0') => {
            a.as_bytes().cmp(b.as_bytes())
        }
        (Token::InitialDigit(a), Token::InitialDigit(b))
        | (Token::Digit(a), Token::Digit(b))
        | (Token::SuffixNumber(a), Token::SuffixNumber(b))
        | (Token::Revision(a), Token::Revision(b)) => compare_numbers(a, b),
        (Token::Letter(a), Token::Letter(b)) => a.cmp(b),
        (Token::Suffix(a), Token::Suffix(b)) => a.cmp(b),
        _ => a.kind().cmp(&b.kind()),
    }
}

/// Compares token lists. The second value tells, when the lists differ only in length,
/// whether `b` is the one that ended (needed by the `~` prefix rule).
fn compare_tokens(a: &[Token], b: &[Token]) -> (Ordering, Option<bool>) {
    let mut index = 0;
    loop {
        let ta = a.get(index);
        let tb = b.get(index);
        let (kind_a, kind_b) = (
            ta.map_or(Kind::End, Token::kind),
            tb.map_or(Kind::End, Token::kind),
        );
        if kind_a != kind_b || kind_a == Kind::End {
            return (
                tail_order(ta, tb, kind_a, kind_b),
                Some(kind_b == Kind::End),
            );
        }
        if let (Some(ta), Some(tb)) = (ta, tb) {
            let order = compare_token(ta, tb);
            if order != Ordering::Equal {
                return (order, None);
            }
        }
        index += 1;
    }
}

/// Orders two versions whose shared tokens are equal, from the kinds of their next tokens.
fn tail_order(ta: Option<&Token>, tb: Option<&Token>, ka: Kind, kb: Kind) -> Ordering {
    if ka == kb {
        return Ordering::Equal;
    }
    if let Some(Token::Suffix(s)) = ta
        && *s < Suffix::None
    {
        return Ordering::Less;
    }
    if let Some(Token::Suffix(s)) = tb
        && *s < Suffix::None
    {
        return Ordering::Greater;
    }
    // The version whose next token kind is larger (End being the largest) is smaller.
    kb.cmp(&ka)
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_tokens(&self.tokens, &other.tokens).0
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Numbers hash without leading zeros, except in `.` components where apk-tools
        // compares leading zeros as strings, so that equal versions hash equally.
        for token in &self.tokens {
            match token {
                Token::InitialDigit(n) | Token::SuffixNumber(n) | Token::Revision(n) => {
                    (token.kind(), n.trim_start_matches('0')).hash(state);
                }
                Token::Digit(n) if !n.starts_with('0') => (token.kind(), n.as_str()).hash(state),
                other => other.hash(state),
            }
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests;
