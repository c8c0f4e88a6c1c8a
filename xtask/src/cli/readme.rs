//! `cargo xtask readme`: regenerates the release-status table in `README.md` and the
//! header of each image README, or checks that they are up to date.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use super::{Context, load_catalog};
use crate::readme::github::{self, GitHubSettings, RunSelector};
use crate::readme::{self, GeneratedFile, TableInput};
use crate::release::{RECORDS_FILE, ReleaseRecords};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write nothing. Print a unified diff of each stale file and exit with 1 when
    /// any file is stale.
    #[arg(long)]
    pub check: bool,

    /// Before rendering, store the outcome of each release job of a GitHub Actions
    /// run in `releases.json`. Reads `GITHUB_REPOSITORY` (owner/name), `GITHUB_TOKEN`
    /// (optional) and `GITHUB_API_URL` (default https://api.github.com).
    #[arg(long)]
    pub github: bool,

    /// Workflow run to read with `--github`, such as the run executing this command.
    /// Defaults to the latest completed run of the release workflow on `main`.
    #[arg(long, value_name = "ID", requires = "github")]
    pub run_id: Option<u64>,

    /// Before rendering, merge the release records of every `releases.json` found
    /// under DIR, such as those that release jobs uploaded as artifacts.
    #[arg(long, value_name = "DIR")]
    pub merge_records: Option<PathBuf>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(context)?;
    let input = TableInput::from(&catalog);
    let mut records = ReleaseRecords::load(&context.root)?;
    let records_changed = update_records(&mut records, &input, &args)?;

    let mut files = readme::generate(&context.root, &input, &records)?;
    if records_changed {
        files.push(records_file(&context.root, &records)?);
    }
    if args.check {
        return Ok(check(context, &args, &files));
    }
    let written = readme::write_files(&context.root, &files)?;
    for path in &written {
        tracing::info!("updated {path}");
    }
    if written.is_empty() {
        tracing::info!("README files are up to date");
    }
    Ok(ExitCode::SUCCESS)
}

/// Applies `--merge-records` and `--github` to `records` and returns whether either
/// ran. If one did, `releases.json` is written or checked along with the READMEs.
fn update_records(
    records: &mut ReleaseRecords,
    input: &TableInput,
    args: &Args,
) -> anyhow::Result<bool> {
    if let Some(folder) = &args.merge_records {
        for path in record_files(folder)? {
            let text = fs_err::read_to_string(&path)?;
            records.merge(ReleaseRecords::from_json(&text, &path)?);
            tracing::debug!(path = %path.display(), "merged release records");
        }
    }
    if args.github {
        let settings = GitHubSettings::from_env()?;
        let selector = args
            .run_id
            .map_or(RunSelector::LatestCompleted, RunSelector::Id);
        let run = github::fetch_release_run(&settings, selector)?;
        let stored = run.apply(records, input);
        tracing::info!(run = run.id, jobs = stored, "read release job outcomes");
    }
    Ok(args.github || args.merge_records.is_some())
}

/// Lists every `releases.json` under `folder`, sorted so that merges are repeatable.
/// A missing folder lists nothing, because a run whose release jobs all failed
/// uploads no records.
fn record_files(folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    if !folder.exists() {
        tracing::info!(folder = %folder.display(), "no release records to merge");
        return Ok(found);
    }
    let mut pending = vec![folder.to_owned()];
    while let Some(current) = pending.pop() {
        let entries = fs_err::read_dir(&current)
            .with_context(|| format!("failed to list release records in `{}`", folder.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|name| name == RECORDS_FILE) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn records_file(root: &Path, records: &ReleaseRecords) -> anyhow::Result<GeneratedFile> {
    let path = ReleaseRecords::path(root);
    let current = match fs_err::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error.into()),
    };
    Ok(GeneratedFile {
        path: RECORDS_FILE.to_owned(),
        current,
        expected: records.to_json(),
    })
}

fn check(context: &Context, args: &Args, files: &[GeneratedFile]) -> ExitCode {
    let diffs = readme::stale_diffs(files);
    if diffs.is_empty() {
        tracing::info!("README files are up to date");
        return ExitCode::SUCCESS;
    }
    for diff in &diffs {
        print!("{diff}");
    }
    let command = readme::fix_command(given_directory(&context.root).as_deref(), &fix_flags(args));
    eprintln!(
        "error: {} generated file(s) are out of date\n  hint: run `{command}` and commit the result",
        diffs.len()
    );
    ExitCode::from(1)
}

/// Returns the catalog folder to repeat in the fix command: `None` for the current
/// directory, a relative path below it, or the absolute path otherwise.
fn given_directory(root: &Path) -> Option<PathBuf> {
    let current = std::env::current_dir().ok()?;
    if root == current {
        return None;
    }
    let relative = root.strip_prefix(&current).map(Path::to_owned);
    Some(relative.unwrap_or_else(|_| root.to_owned()))
}

/// Returns the flags besides `--check` that the fix command must repeat.
fn fix_flags(args: &Args) -> Vec<String> {
    let mut flags = Vec::new();
    if args.github {
        flags.push("--github".to_owned());
    }
    if let Some(id) = args.run_id {
        flags.extend(["--run-id".to_owned(), id.to_string()]);
    }
    if let Some(folder) = &args.merge_records {
        flags.extend(["--merge-records".to_owned(), folder.display().to_string()]);
    }
    flags
}
