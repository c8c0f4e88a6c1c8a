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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Token<'a> {
    InitialDigit(&'a str),
    Digit(&'a str),
    Letter(u8),
    Suffix(Suffix),
    SuffixNumber(&'a str),
    Revision(&'a str),
}

impl Token<'_> {
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
///
/// Only the text is stored, and comparisons tokenize it again, as apk-tools does: indexes
/// hold tens of thousands of versions but the resolver compares few of them, so this
/// saves an allocation per version component.
#[derive(Debug, Clone)]
pub struct Version {
    text: String,
}

impl Version {
    /// Parses and validates a version string.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        if text.is_empty() {
            return Err(VersionError::Empty);
        }
        let mut tokens = Tokens::new(text);
        for token in &mut tokens {
            if let Err((offset, reason)) = token {
                return Err(VersionError::Invalid {
                    version: text.to_owned(),
                    offset,
                    reason,
                });
            }
        }
        Ok(Self {
            text: text.to_owned(),
        })
    }

    /// Returns the version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns true when `prefix` matches this version token by token, the `~` rule of
    /// apk dependencies (`1.2.3` matches `~1.2` but `1.20` does not).
    pub fn has_prefix(&self, prefix: &Version) -> bool {
        match compare_tokens(&self.text, &prefix.text) {
            (Ordering::Equal, _) => true,
            (_, Some(b_ended)) => b_ended,
            _ => false,
        }
    }

    fn tokens(&self) -> impl Iterator<Item = Token<'_>> {
        // The text was validated by `parse`, so no token is an error.
        Tokens::new(&self.text).map_while(Result::ok)
    }
}

/// An iterator over the tokens of a version string. It yields an error, then stops, at
/// the first byte that breaks the grammar. Beyond apk-tools 2.14 it also rejects an
/// empty component after `.`, an empty `_` suffix and `-r` without digits, which
/// apk-tools reads as zero or as no suffix and so hides typos.
struct Tokens<'a> {
    text: &'a str,
    pos: usize,
    last: Option<Kind>,
    failed: bool,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            last: None,
            failed: false,
        }
    }

    fn digits_end(&self, start: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut end = start;
        while bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        end
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or_default()
    }

    fn next_token(&mut self) -> Result<Option<Token<'a>>, (usize, &'static str)> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let Some(last) = self.last else {
            let end = self.digits_end(0);
            if end == 0 {
                return Err((0, "a version starts with a digit"));
            }
            self.pos = end;
            return Ok(Some(Token::InitialDigit(self.slice(0, end))));
        };
        let Some(&byte) = bytes.get(start) else {
            return Ok(None);
        };
        let token = match byte {
            b'a'..=b'z' => {
                if last > Kind::Digit {
                    return Err((start, "a letter may only follow a number"));
                }
                self.pos += 1;
                Token::Letter(byte)
            }
            b'.' | b'0'..=b'9' => {
                if byte == b'.' {
                    if last > Kind::Digit {
                        return Err((start, "`.` may only follow a number"));
                    }
                    self.pos += 1;
                }
                let end = self.digits_end(self.pos);
                if end == self.pos {
                    return Err((self.pos, "expected digits"));
                }
                let value = self.slice(self.pos, end);
                self.pos = end;
                match last {
                    Kind::Suffix => Token::SuffixNumber(value),
                    Kind::InitialDigit | Kind::Digit if byte == b'.' => Token::Digit(value),
                    // Digits right after a letter, as in Alpine's `0.99f7-r1`: apk-tools
                    // 2.10 accepts them as a further number component.
                    Kind::Letter if byte != b'.' => Token::Digit(value),
                    _ => return Err((start, "digits are not allowed here")),
                }
            }
            b'_' => {
                if last > Kind::SuffixNumber {
                    return Err((start, "a `_suffix` may not follow the revision"));
                }
                let mut end = start + 1;
                while bytes.get(end).is_some_and(u8::is_ascii_lowercase) {
                    end += 1;
                }
                let suffix = Suffix::from_name(self.slice(start + 1, end)).ok_or((
                    start,
                    "unknown suffix (expected alpha, beta, pre, rc, cvs, svn, git, hg or p)",
                ))?;
                self.pos = end;
                Token::Suffix(suffix)
            }
            b'-' => {
                if bytes.get(start + 1) != Some(&b'r') || last >= Kind::Revision {
                    return Err((start, "`-` must start a single `-rN` revision"));
                }
                let end = self.digits_end(start + 2);
                if end == start + 2 {
                    return Err((end, "expected the revision number after `-r`"));
                }
                self.pos = end;
                Token::Revision(self.slice(start + 2, end))
            }
            _ => return Err((start, "unexpected character")),
        };
        Ok(Some(token))
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<Token<'a>, (usize, &'static str)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_token() {
            Ok(Some(token)) => {
                self.last = Some(token.kind());
                Some(Ok(token))
            }
            Ok(None) => None,
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}

/// Compares digit strings as unbounded non-negative integers.
fn compare_numbers(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn compare_token(a: &Token<'_>, b: &Token<'_>) -> Ordering {
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

/// Compares two validated versions. The second value is set when they differ only in
/// length, and is true when `b` is the one that ended (the `~` prefix rule needs it).
fn compare_tokens(a: &str, b: &str) -> (Ordering, Option<bool>) {
    let mut tokens_a = Tokens::new(a).map_while(Result::ok);
    let mut tokens_b = Tokens::new(b).map_while(Result::ok);
    loop {
        let ta = tokens_a.next();
        let tb = tokens_b.next();
        let kind_a = ta.map_or(Kind::End, |t| t.kind());
        let kind_b = tb.map_or(Kind::End, |t| t.kind());
        if kind_a != kind_b || kind_a == Kind::End {
            return (
                tail_order(ta, tb, kind_a, kind_b),
                Some(kind_b == Kind::End),
            );
        }
        if let (Some(ta), Some(tb)) = (ta, tb) {
            let order = compare_token(&ta, &tb);
            if order != Ordering::Equal {
                return (order, None);
            }
        }
    }
}

/// Orders two versions whose shared tokens are equal, from the kinds of their next tokens.
fn tail_order(ta: Option<Token<'_>>, tb: Option<Token<'_>>, ka: Kind, kb: Kind) -> Ordering {
    if ka == kb {
        return Ordering::Equal;
    }
    if let Some(Token::Suffix(s)) = ta
        && s < Suffix::None
    {
        return Ordering::Less;
    }
    if let Some(Token::Suffix(s)) = tb
        && s < Suffix::None
    {
        return Ordering::Greater;
    }
    // The version whose next token kind is larger (End being the largest) is smaller.
    kb.cmp(&ka)
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_tokens(&self.text, &other.text).0
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
        for token in self.tokens() {
            match token {
                Token::InitialDigit(n) | Token::SuffixNumber(n) | Token::Revision(n) => {
                    (token.kind(), n.trim_start_matches('0')).hash(state);
                }
                Token::Digit(n) if !n.starts_with('0') => (token.kind(), n).hash(state),
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
