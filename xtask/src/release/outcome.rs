//! The outcome of a variant's most recent release job in GitHub Actions.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The conclusion of a GitHub Actions job, as the REST API's `conclusion` field
/// reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    /// The job succeeded.
    Success,
    /// A step failed.
    Failure,
    /// The job was cancelled.
    Cancelled,
    /// The job ran past its time limit.
    TimedOut,
    /// The job was skipped, for example because a job it needs failed.
    Skipped,
    /// The job finished without success or failure.
    Neutral,
    /// The job waits for a manual approval.
    ActionRequired,
    /// The job could not start, for example because of an invalid workflow file.
    StartupFailure,
    /// The job was superseded before it finished.
    Stale,
    /// A value that GitHub added after this tool was written.
    #[serde(other)]
    Unknown,
}

impl Conclusion {
    /// Returns the API's spelling of the conclusion.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed_out",
            Self::Skipped => "skipped",
            Self::Neutral => "neutral",
            Self::ActionRequired => "action_required",
            Self::StartupFailure => "startup_failure",
            Self::Stale => "stale",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Conclusion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The last finished release job of one image variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobOutcome {
    // Fields in alphabetical order, so that the JSON keys come out sorted.
    /// How the job finished.
    pub conclusion: Conclusion,
    /// The workflow run the job belongs to.
    pub run: u64,
    /// The job's page on GitHub.
    pub url: String,
}
