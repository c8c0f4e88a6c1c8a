//! Release times: the moment a release record was written, always in UTC.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// A point in time in UTC, written as RFC 3339 with a `Z` suffix
/// (`2025-01-31T12:00:00Z`, with fractional seconds only when they are non-zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReleaseTime(DateTime<Utc>);

/// Error from parsing a [`ReleaseTime`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseTimeError {
    /// The string is not an RFC 3339 date and time.
    #[error(
        "invalid release time `{value}`: {reason} (expected RFC 3339, such as `2025-01-31T12:00:00Z`)"
    )]
    Syntax {
        /// The rejected string.
        value: String,
        /// The RFC 3339 parser's message.
        reason: String,
    },
    /// The time carries an offset other than UTC.
    #[error("invalid release time `{0}`: the offset must be UTC (`Z`)")]
    Offset(String),
    /// A Unix time outside the range that can be represented.
    #[error("invalid release time: {0} seconds since the Unix epoch is out of range")]
    OutOfRange(i64),
}

impl ReleaseTime {
    /// Creates a release time from seconds since the Unix epoch, as in
    /// `SOURCE_DATE_EPOCH`.
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, ReleaseTimeError> {
        DateTime::from_timestamp(seconds, 0)
            .map(Self)
            .ok_or(ReleaseTimeError::OutOfRange(seconds))
    }

    /// Returns the time as a `chrono` value.
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// Returns the calendar date, `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        self.0.format("%Y-%m-%d").to_string()
    }
}

impl From<DateTime<Utc>> for ReleaseTime {
    fn from(time: DateTime<Utc>) -> Self {
        Self(time)
    }
}

impl FromStr for ReleaseTime {
    type Err = ReleaseTimeError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let parsed = DateTime::<FixedOffset>::parse_from_rfc3339(value).map_err(|error| {
            ReleaseTimeError::Syntax {
                value: value.to_owned(),
                reason: error.to_string(),
            }
        })?;
        if parsed.offset().local_minus_utc() != 0 {
            return Err(ReleaseTimeError::Offset(value.to_owned()));
        }
        Ok(Self(parsed.with_timezone(&Utc)))
    }
}

impl TryFrom<String> for ReleaseTime {
    type Error = ReleaseTimeError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<ReleaseTime> for String {
    fn from(time: ReleaseTime) -> Self {
        time.to_string()
    }
}

impl fmt::Display for ReleaseTime {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trips() {
        for text in ["2025-01-31T12:00:00Z", "2025-01-31T12:00:00.250Z"] {
            let time: ReleaseTime = text.parse().expect("valid time");
            assert_eq!(time.to_string(), text);
        }
    }

    #[test]
    fn time_normalises_zero_offset() {
        let time: ReleaseTime = "2025-01-31T12:00:00+00:00".parse().expect("valid time");
        assert_eq!(time.to_string(), "2025-01-31T12:00:00Z");
        assert_eq!(time.date(), "2025-01-31");
    }

    #[test]
    fn time_rejects_bad_input() {
        let offset = "2025-01-31T12:00:00+02:00".parse::<ReleaseTime>();
        assert!(
            matches!(offset, Err(ReleaseTimeError::Offset(_))),
            "{offset:?}"
        );
        let date_only = "2025-01-31".parse::<ReleaseTime>();
        assert!(
            matches!(date_only, Err(ReleaseTimeError::Syntax { .. })),
            "{date_only:?}"
        );
    }

    #[test]
    fn time_from_unix_seconds() {
        let time = ReleaseTime::from_unix_seconds(1_700_000_000).expect("in range");
        assert_eq!(time.to_string(), "2023-11-14T22:13:20Z");
        let far = ReleaseTime::from_unix_seconds(i64::MAX);
        assert_eq!(far, Err(ReleaseTimeError::OutOfRange(i64::MAX)));
    }
}
