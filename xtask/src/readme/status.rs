//! The release state shown for each variant, derived from the release records and
//! the stored outcome of the variant's latest release job.

use std::fmt;

use crate::release::{Conclusion, JobOutcome, ReleaseRecord, ReleaseRecords};

/// Release state of one image variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseState {
    /// The latest release job succeeded, or a record exists and no later job failed or was cancelled.
    Released,
    /// The latest release job failed, timed out or could not start.
    Failing,
    /// The latest release job was cancelled.
    Cancelled,
    /// Nothing was ever released and no job has finished.
    NotReleased,
}

impl ReleaseState {
    /// Derives the state from the variant's record and latest job outcome. A job
    /// conclusion that does not decide the release, such as `skipped`, leaves the
    /// state to the record.
    pub fn of(record: Option<&ReleaseRecord>, job: Option<&JobOutcome>) -> Self {
        let from_job = job.and_then(|job| match job.conclusion {
            Conclusion::Success => Some(Self::Released),
            Conclusion::Failure | Conclusion::TimedOut | Conclusion::StartupFailure => {
                Some(Self::Failing)
            }
            Conclusion::Cancelled => Some(Self::Cancelled),
            Conclusion::Skipped
            | Conclusion::Neutral
            | Conclusion::ActionRequired
            | Conclusion::Stale
            | Conclusion::Unknown => None,
        });
        let from_record = match record {
            Some(_) => Self::Released,
            None => Self::NotReleased,
        };
        from_job.unwrap_or(from_record)
    }

    /// Looks up the state of `variant` of `image` in `records`.
    pub fn lookup(records: &ReleaseRecords, image: &str, variant: &str) -> Self {
        Self::of(
            records.get(image, variant),
            records.job_outcome(image, variant),
        )
    }

    /// Returns the words shown in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Released => "released",
            Self::Failing => "failing",
            Self::Cancelled => "cancelled",
            Self::NotReleased => "not released",
        }
    }
}

impl fmt::Display for ReleaseState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ReleaseRecord {
        let digest = format!("sha256:{}", "0".repeat(64));
        ReleaseRecord {
            archs: vec!["amd64".into()],
            digest: digest.parse().expect("valid digest"),
            signature: "registry.test/nginx:sha256-0.sig".into(),
            tags: vec!["latest".into()],
            time: "2025-01-31T12:00:00Z".parse().expect("valid time"),
        }
    }

    fn job(conclusion: Conclusion) -> JobOutcome {
        JobOutcome {
            conclusion,
            run: 1,
            url: "https://github.test/run/1".into(),
        }
    }

    #[test]
    fn state_table() {
        use Conclusion::*;
        use ReleaseState::*;
        let cases = [
            (false, None, NotReleased),
            (true, None, Released),
            (false, Some(Success), Released),
            (true, Some(Failure), Failing),
            (false, Some(TimedOut), Failing),
            (false, Some(StartupFailure), Failing),
            (true, Some(Conclusion::Cancelled), ReleaseState::Cancelled),
            (true, Some(Skipped), Released),
            (false, Some(Skipped), NotReleased),
            (true, Some(Unknown), Released),
        ];
        for (has_record, conclusion, expected) in cases {
            let record = has_record.then(record);
            let job = conclusion.map(job);
            let state = ReleaseState::of(record.as_ref(), job.as_ref());
            assert_eq!(state, expected, "record {has_record}, job {conclusion:?}");
        }
    }
}
