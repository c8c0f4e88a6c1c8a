//! `cargo xtask changed`: prints the images that the commits between two revisions
//! affect, or every image, or the images named on the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::Context;
use crate::changes::{self, ChangeSet, GraphInput, Revisions, output};

/// Arguments of `cargo xtask changed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Base revision. Files are compared from its merge base with the head, as in
    /// `git diff BASE...HEAD`. Default: the merge base of the head with `origin/main`
    /// when that ref exists and does not contain the head, else the previous commit.
    /// On a push of several commits, pass the commit before the push.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,

    /// Head revision. Default: `HEAD`.
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,

    /// Also count staged, unstaged and untracked (not ignored) changes.
    #[arg(long)]
    pub working_tree: bool,

    /// Select every variant of every image instead of comparing revisions, as a
    /// nightly rebuild does.
    #[arg(long, conflicts_with_all = ["image", "base", "head", "working_tree"])]
    pub all: bool,

    /// Select every variant of image NAME instead of comparing revisions. Repeat it to
    /// select more images.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["base", "head", "working_tree"])]
    pub image: Vec<String>,

    /// Print the images, their variants, the reasons each was selected and the
    /// removed images as JSON.
    #[arg(long, conflicts_with = "matrix")]
    pub json: bool,

    /// Print the GitHub Actions matrix `{"include": [{"image", "variant"}, ...]}`. An
    /// empty `include` fails a matrix job, so skip the job when `include` is empty.
    #[arg(long)]
    pub matrix: bool,

    /// File to append `matrix=`, `images=` and `removed=` step outputs to.
    #[arg(
        long,
        env = "GITHUB_OUTPUT",
        value_name = "FILE",
        hide_env_values = true
    )]
    pub github_output: Option<PathBuf>,
}

/// Runs the command. Prints image names (or JSON, or the matrix) on stdout and, when
/// a GitHub output file is set, appends the step outputs to it.
pub fn run(context: &Context, args: &Args) -> anyhow::Result<ExitCode> {
    // NOTE: the catalog is read from disk, so `--head` should name the checked-out
    // commit. Otherwise images added or removed between the two are misjudged.
    let catalog = super::load_catalog(context)?;
    let input = GraphInput::from_catalog(&catalog);
    let changes = select(context, args, &input)?;
    tracing::info!(
        files = changes.files.len(),
        images = changes.images.len(),
        removed = ?changes.removed_names(),
        "selected the images"
    );

    let text = if args.json {
        output::json(&changes)?
    } else if args.matrix {
        output::matrix_json(&changes)?
    } else {
        output::names(&changes)
    };
    print!("{text}");

    if let Some(path) = &args.github_output {
        output::append_github_output(path, &changes)?;
        tracing::debug!(path = %path.display(), "appended the step outputs");
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn select(
    context: &Context,
    args: &Args,
    input: &GraphInput,
) -> anyhow::Result<ChangeSet> {
    if args.all {
        return Ok(changes::all_images(input));
    }
    if !args.image.is_empty() {
        return Ok(changes::requested_images(input, &args.image)?);
    }
    let revisions = Revisions {
        base: args.base.clone(),
        head: args.head.clone(),
        working_tree: args.working_tree,
    };
    changes::changed_images(&context.root, &revisions, input)
        .context("failed to compute the changed images")
}
