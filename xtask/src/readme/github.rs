//! Release job outcomes from GitHub Actions: the per-variant jobs of a run of the
//! release workflow, read through the REST API with octocrab.

use std::fmt;

use serde::Deserialize;

use super::input::TableInput;
use crate::release::{Conclusion, JobOutcome, ReleaseRecords};

/// File name of the release workflow under `.github/workflows/`.
pub const RELEASE_WORKFLOW: &str = "release.yaml";

/// Branch whose release runs count.
pub const RELEASE_BRANCH: &str = "main";

/// API root used when `GITHUB_API_URL` is not set.
const DEFAULT_API_URL: &str = "https://api.github.com";

/// Jobs requested per page; 100 is the maximum the API allows.
const JOBS_PER_PAGE: u32 = 100;

/// Pages of jobs read at most, which bounds the requests to 2,000 jobs per run.
const MAX_JOB_PAGES: u32 = 20;

/// API root, repository and credentials for reading the release workflow.
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    /// API root, such as `https://api.github.com`.
    pub api_url: String,
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// Token for the API; anonymous requests when absent.
    pub token: Option<Token>,
}

/// An API token. Its `Debug` output is redacted so that it never reaches logs.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token.
    pub fn new(token: String) -> Self {
        Self(token)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Token(<redacted>)")
    }
}

/// The run of the release workflow to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunSelector {
    /// The most recent completed run on the release branch.
    LatestCompleted,
    /// The run with this id, such as the run that is executing the command.
    Id(u64),
}

/// The finished release jobs of one workflow run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRun {
    /// The run id.
    pub id: u64,
    /// Jobs that release one image variant, in the order the API listed them.
    pub jobs: Vec<VariantJob>,
}

/// A finished release job of one image variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantJob {
    /// Image name from the job name.
    pub image: String,
    /// Variant name from the job name.
    pub variant: String,
    /// The job's conclusion, run and page.
    pub outcome: JobOutcome,
}

/// Failure to read the release workflow.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// `GITHUB_REPOSITORY` is not set.
    #[error(
        "`GITHUB_REPOSITORY` is not set\n  hint: set it to the `owner/name` of the repository whose release workflow to read"
    )]
    MissingRepository,
    /// `GITHUB_REPOSITORY` is not of the form `owner/name`.
    #[error("invalid `GITHUB_REPOSITORY` value `{0}`: expected `owner/name`")]
    InvalidRepository(String),
    /// The API client could not be built, for example from an invalid API URL.
    #[error("failed to set up the GitHub API client for `{url}`")]
    Client {
        /// The API root.
        url: String,
        /// The underlying failure.
        #[source]
        source: octocrab::Error,
    },
    /// The async runtime for the API client could not start.
    #[error("failed to start the runtime for GitHub API requests")]
    Runtime(#[source] std::io::Error),
    /// An API request failed or returned an unexpected reply.
    #[error("GitHub API request `GET {route}` failed")]
    Request {
        /// The request path.
        route: String,
        /// The underlying failure.
        #[source]
        source: octocrab::Error,
    },
    /// The workflow has no completed run on the release branch.
    #[error(
        "no completed run of `{RELEASE_WORKFLOW}` on branch `{RELEASE_BRANCH}` in `{owner}/{repo}`"
    )]
    NoCompletedRun {
        /// Repository owner.
        owner: String,
        /// Repository name.
        repo: String,
    },
}

/// A page of `GET /repos/{owner}/{repo}/actions/workflows/{file}/runs`, reduced to
/// the fields used here; octocrab's own models reject conclusions added after it.
#[derive(Deserialize)]
struct RunsPage {
    workflow_runs: Vec<RunSummary>,
}

#[derive(Deserialize)]
struct RunSummary {
    id: u64,
}

/// A page of `GET /repos/{owner}/{repo}/actions/runs/{id}/jobs`.
#[derive(Deserialize)]
struct JobsPage {
    total_count: u64,
    jobs: Vec<JobSummary>,
}

#[derive(Deserialize)]
struct JobSummary {
    name: String,
    status: String,
    conclusion: Option<Conclusion>,
    html_url: String,
}

impl GitHubSettings {
    /// Reads the settings from `GITHUB_REPOSITORY`, `GITHUB_TOKEN` and
    /// `GITHUB_API_URL`.
    pub fn from_env() -> Result<Self, GitHubError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, which maps a variable name to its value.
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, GitHubError> {
        let value = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let repository = value("GITHUB_REPOSITORY").ok_or(GitHubError::MissingRepository)?;
        let Some((owner, repo)) = repository.split_once('/') else {
            return Err(GitHubError::InvalidRepository(repository));
        };
        if owner.is_empty() || repo.is_empty() || repo.contains('/') {
            return Err(GitHubError::InvalidRepository(repository.clone()));
        }
        Ok(Self {
            api_url: value("GITHUB_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_owned()),
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            token: value("GITHUB_TOKEN").map(Token::new),
        })
    }
}

/// Reads the finished release jobs of the selected run. Blocks on a current-thread
/// runtime of its own.
pub fn fetch_release_run(
    settings: &GitHubSettings,
    selector: RunSelector,
) -> Result<ReleaseRun, GitHubError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(GitHubError::Runtime)?;
    runtime.block_on(async {
        let client = client(settings)?;
        let id = match selector {
            RunSelector::Id(id) => id,
            RunSelector::LatestCompleted => latest_completed_run(&client, settings).await?,
        };
        let jobs = release_jobs(&client, settings, id).await?;
        Ok(ReleaseRun { id, jobs })
    })
}

fn client(settings: &GitHubSettings) -> Result<octocrab::Octocrab, GitHubError> {
    let client_error = |source| GitHubError::Client {
        url: settings.api_url.clone(),
        source,
    };
    let mut builder = octocrab::Octocrab::builder()
        .base_uri(settings.api_url.as_str())
        .map_err(client_error)?;
    if let Some(Token(token)) = &settings.token {
        builder = builder.personal_token(token.clone());
    }
    builder.build().map_err(client_error)
}

async fn latest_completed_run(
    client: &octocrab::Octocrab,
    settings: &GitHubSettings,
) -> Result<u64, GitHubError> {
    let route = format!(
        "/repos/{}/{}/actions/workflows/{RELEASE_WORKFLOW}/runs",
        settings.owner, settings.repo
    );
    let query = [
        ("branch", RELEASE_BRANCH),
        ("status", "completed"),
        ("per_page", "1"),
    ];
    let page: RunsPage = get(client, &route, &query).await?;
    // The API lists runs newest first.
    let run = page
        .workflow_runs
        .first()
        .ok_or_else(|| GitHubError::NoCompletedRun {
            owner: settings.owner.clone(),
            repo: settings.repo.clone(),
        })?;
    tracing::debug!(run = run.id, "latest completed release run");
    Ok(run.id)
}

async fn release_jobs(
    client: &octocrab::Octocrab,
    settings: &GitHubSettings,
    run: u64,
) -> Result<Vec<VariantJob>, GitHubError> {
    let route = format!(
        "/repos/{}/{}/actions/runs/{run}/jobs",
        settings.owner, settings.repo
    );
    let mut jobs = Vec::new();
    let mut seen = 0;
    for page_number in 1..=MAX_JOB_PAGES {
        let per_page = JOBS_PER_PAGE.to_string();
        let page_text = page_number.to_string();
        let query = [
            ("filter", "latest"),
            ("per_page", per_page.as_str()),
            ("page", page_text.as_str()),
        ];
        let page: JobsPage = get(client, &route, &query).await?;
        let count = page.jobs.len() as u64;
        seen += count;
        jobs.extend(
            page.jobs
                .into_iter()
                .filter_map(|job| variant_job(job, run)),
        );
        if count == 0 || seen >= page.total_count {
            return Ok(jobs);
        }
    }
    tracing::warn!(
        run,
        pages = MAX_JOB_PAGES,
        "stopped reading jobs at the page limit"
    );
    Ok(jobs)
}

async fn get<T: serde::de::DeserializeOwned>(
    client: &octocrab::Octocrab,
    route: &str,
    query: &[(&str, &str)],
) -> Result<T, GitHubError> {
    tracing::debug!(route, "GitHub API request");
    client
        .get(route, Some(query))
        .await
        .map_err(|source| GitHubError::Request {
            route: route.to_owned(),
            source,
        })
}

fn variant_job(job: JobSummary, run: u64) -> Option<VariantJob> {
    let Some((image, variant)) = parse_job_name(&job.name) else {
        tracing::trace!(job = job.name, "not a release job");
        return None;
    };
    let conclusion = match (job.status.as_str(), job.conclusion) {
        ("completed", Some(conclusion)) => conclusion,
        _ => {
            tracing::debug!(
                job = job.name,
                status = job.status,
                "release job not finished"
            );
            return None;
        }
    };
    Some(VariantJob {
        image: image.to_owned(),
        variant: variant.to_owned(),
        outcome: JobOutcome {
            conclusion,
            run,
            url: job.html_url,
        },
    })
}

/// Splits a matrix job name `release (<image>, <variant>)` into image and variant.
pub fn parse_job_name(name: &str) -> Option<(&str, &str)> {
    let inner = name.strip_prefix("release (")?.strip_suffix(')')?;
    let (image, variant) = inner.split_once(", ")?;
    let valid = |part: &str| !part.is_empty() && !part.contains([',', ' ', '(', ')']);
    (valid(image) && valid(variant)).then_some((image, variant))
}

impl ReleaseRun {
    /// Stores the outcome of each job whose image and variant are in `input` and
    /// returns how many were stored. Jobs of other variants are logged and skipped.
    pub fn apply(&self, records: &mut ReleaseRecords, input: &TableInput) -> usize {
        let mut stored = 0;
        for job in &self.jobs {
            let known = input.images.iter().any(|image| {
                image.name == job.image
                    && image
                        .variants
                        .iter()
                        .any(|variant| variant.name == job.variant)
            });
            if !known {
                tracing::debug!(
                    image = job.image,
                    variant = job.variant,
                    "job of a variant not in the catalog"
                );
                continue;
            }
            records.set_job_outcome(&job.image, &job.variant, job.outcome.clone());
            stored += 1;
        }
        stored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names() {
        let cases = [
            ("release (nginx, latest)", Some(("nginx", "latest"))),
            (
                "release (glibc-dynamic, dev)",
                Some(("glibc-dynamic", "dev")),
            ),
            ("release (nginx)", None),
            ("release (nginx, latest, amd64)", None),
            ("release (, latest)", None),
            ("changed", None),
            ("readme", None),
            ("Release (nginx, latest)", None),
        ];
        for (name, expected) in cases {
            assert_eq!(parse_job_name(name), expected, "{name}");
        }
    }

    #[test]
    fn unfinished_jobs_are_skipped() {
        let job = |status: &str, conclusion| JobSummary {
            name: "release (nginx, latest)".into(),
            status: status.into(),
            conclusion,
            html_url: "https://github.test/job/1".into(),
        };
        assert!(variant_job(job("in_progress", None), 1).is_none());
        assert!(variant_job(job("queued", None), 1).is_none());
        assert!(variant_job(job("completed", None), 1).is_none());
        let finished = variant_job(job("completed", Some(Conclusion::Failure)), 1);
        let outcome = finished.map(|job| job.outcome.conclusion);
        assert_eq!(outcome, Some(Conclusion::Failure));
    }

    #[test]
    fn settings_from_variables() {
        let variables = [
            ("GITHUB_REPOSITORY", "example/images"),
            ("GITHUB_TOKEN", "ghp_secret_value"),
            ("GITHUB_API_URL", "http://127.0.0.1:9"),
        ];
        let lookup = |name: &str| {
            variables
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        let settings = GitHubSettings::from_lookup(lookup).expect("valid settings");
        assert_eq!(settings.owner, "example");
        assert_eq!(settings.repo, "images");
        assert_eq!(settings.api_url, "http://127.0.0.1:9");
        let debug = format!("{settings:?}");
        assert!(!debug.contains("ghp_secret_value"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn settings_defaults_and_errors() {
        let only_repository = |name: &str| (name == "GITHUB_REPOSITORY").then(|| "o/r".to_owned());
        let settings = GitHubSettings::from_lookup(only_repository).expect("valid settings");
        assert_eq!(settings.api_url, "https://api.github.com");
        assert!(settings.token.is_none());

        let missing = GitHubSettings::from_lookup(|_| None);
        assert!(
            matches!(missing, Err(GitHubError::MissingRepository)),
            "{missing:?}"
        );
        for bad in ["images", "/images", "example/", "a/b/c"] {
            let result = GitHubSettings::from_lookup(|name| {
                (name == "GITHUB_REPOSITORY").then(|| bad.to_owned())
            });
            assert!(
                matches!(result, Err(GitHubError::InvalidRepository(_))),
                "{bad}"
            );
        }
    }
}
