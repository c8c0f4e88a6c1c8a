//! The build time: `SOURCE_DATE_EPOCH` when set, else the newest package build time, so
//! that rebuilding the same inputs gives the same timestamps.

/// Environment variable holding a Unix time in seconds, as defined by
/// reproducible-builds.org.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// Errors from reading `SOURCE_DATE_EPOCH`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SOURCE_DATE_EPOCH `{0}`: expected a Unix time in whole seconds")]
pub struct EpochError(pub String);

/// Reads `SOURCE_DATE_EPOCH`; `Ok(None)` when unset or empty.
pub fn source_date_epoch() -> Result<Option<u64>, EpochError> {
    match std::env::var(SOURCE_DATE_EPOCH) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => text.trim().parse().map(Some).map_err(|_| EpochError(text)),
        Err(_) => Ok(None),
    }
}

/// Formats a Unix time as RFC 3339 in UTC (`2023-01-31T12:00:00Z`).
pub fn rfc3339(epoch: u64) -> String {
    let days = epoch / 86_400;
    let seconds = epoch % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Converts days since 1970-01-01 to a proleptic Gregorian date, after Howard Hinnant's
/// `civil_from_days` (public domain, http://howardhinnant.github.io/date_algorithms.html).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_675_166_400), "2023-01-31T12:00:00Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
