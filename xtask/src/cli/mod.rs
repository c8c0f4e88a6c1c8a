//! Command-line front end: parses arguments, sets up logging and dispatches to one
//! module per command. Only this module prints to stdout or draws progress bars.

mod build;
mod changed;
mod keygen;
mod lint;
mod list;
mod logging;
mod offline;
mod output;
mod package;
mod progress;
mod publish;
mod readme;
mod registry_args;
mod release;
mod resolve;
mod signing_args;
mod test;
mod verify;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Parser, Subcommand};

use crate::catalog::Catalog;

/// `cargo xtask`: lint, inspect and release the image catalog.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about, long_about = None)]
pub struct Cli {
    /// Catalog root to work on (the folder holding `catalog.yaml`); defaults to the
    /// current directory.
    #[arg(short = 'C', long = "directory", value_name = "DIR", global = true)]
    pub directory: Option<PathBuf>,

    /// Log more detail: `-v` for debug, `-vv` for trace. `RUST_LOG` overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `cargo xtask`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build images into OCI layouts under `out/images/`, or one apko config with `--config`.
    Build(build::Args),
    /// Check every catalog file and report all problems at once.
    Lint(lint::Args),
    /// Print the catalog: images, variants, tags and architectures.
    List(list::Args),
    /// Push built images to their registry, sign and attest them.
    Publish(publish::Args),
    /// Check an image's cosign signature with a public key.
    Verify(verify::Args),
    /// Generate an RSA key pair for an APK repository, or a cosign pair with `--cosign`.
    Keygen(keygen::Args),
    /// Show what an image's config, or a list of packages, resolves to for one architecture.
    Resolve(resolve::Args),
    /// Regenerate the release-status table in README.md and the image README
    /// headers, or check them with `--check`.
    Readme(readme::Args),
    /// Print the images that the commits between two revisions affect.
    Changed(changed::Args),
    /// Build recipes from `packages/` into the local signed APK repository.
    Package(package::Args),
    /// Run built images' checks and test scripts through bwrap or Docker.
    Test(test::Args),
    /// Build, test, publish and sign the selected images, then update the README table.
    Release(release::Args),
    /// Start an image for a test script (the command behind `$RUN`).
    #[command(hide = true)]
    LaunchImage(test::LaunchArgs),
}

/// Settings every command receives.
#[derive(Debug, Clone)]
pub struct Context {
    /// The catalog root, absolute.
    pub root: PathBuf,
    /// Whether stderr is a terminal, so progress may be drawn as bars.
    pub interactive: bool,
    /// Whether the tool runs inside GitHub Actions (`GITHUB_ACTIONS=true`).
    pub github_actions: bool,
}

/// Runs the command line and maps the outcome to the process exit code: 0 on success,
/// 1 when the command found problems, 2 when it could not run.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The launcher works without a catalog and passes its exit code through untouched.
    if let Command::LaunchImage(args) = &cli.command {
        return Ok(test::launch(args));
    }
    let context = context(cli.directory)?;
    match cli.command {
        Command::Build(args) => build::run(&context, args),
        Command::Lint(args) => lint::run(&context, args),
        Command::List(args) => list::run(&context, args),
        Command::Publish(args) => publish::run(&context, args),
        Command::Verify(args) => verify::run(&context, args),
        Command::Keygen(args) => keygen::run(&context, args),
        Command::Resolve(args) => resolve::run(&context, args),
        Command::Readme(args) => readme::run(&context, args),
        Command::Changed(args) => changed::run(&context, &args),
        Command::Package(args) => package::run(&context, args),
        Command::Test(args) => test::run(&context, args),
        Command::Release(args) => release::run(&context, args),
        Command::LaunchImage(args) => Ok(test::launch(&args)),
    }
}

fn context(directory: Option<PathBuf>) -> anyhow::Result<Context> {
    let current = std::env::current_dir()?;
    let root = match directory {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => current.join(dir),
        None => current,
    };
    if !root.is_dir() {
        bail!(
            "catalog root `{}` is not a folder\nhint: name an existing folder with `-C DIR`",
            root.display()
        );
    }
    Ok(Context {
        root,
        interactive: std::io::stderr().is_terminal(),
        github_actions: std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true"),
    })
}

/// Loads the catalog for commands that need a valid one. Problems are printed to
/// stderr first, so the user sees all of them, not only a count.
pub fn load_catalog(context: &Context) -> anyhow::Result<Catalog> {
    require_catalog(context)?;
    match Catalog::load(&context.root) {
        Ok(catalog) => Ok(catalog),
        Err(diagnostics) => {
            for diagnostic in diagnostics.sorted() {
                eprintln!("{diagnostic}");
            }
            bail!(
                "the catalog at `{}` has {} error(s); `cargo xtask lint` lists them",
                context.root.display(),
                diagnostics.error_count()
            )
        }
    }
}

/// Fails unless the root contains `catalog.yaml`, so that a command started in the wrong
/// folder says so instead of reporting every file as missing.
pub fn require_catalog(context: &Context) -> anyhow::Result<()> {
    if !context.root.join(crate::catalog::CATALOG_FILE).exists() {
        bail!(
            "`{}` has no `{}`, so it is not a catalog root\nhint: run the command in the catalog root, or name the root with `-C DIR`",
            context.root.display(),
            crate::catalog::CATALOG_FILE
        );
    }
    Ok(())
}

/// Parses a `-j`/`--jobs` value when the command line is read, so that `-j 0` fails
/// before any build starts.
pub fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("0 threads cannot build anything; give at least 1".to_owned()),
        Ok(jobs) => Ok(jobs),
        Err(_) => Err(format!(
            "`{text}` is not a thread count; give a whole number of at least 1"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_rejects_zero_and_non_numbers() {
        assert_eq!(parse_jobs("1"), Ok(1));
        assert_eq!(parse_jobs("16"), Ok(16));
        assert!(parse_jobs("0").is_err());
        assert!(parse_jobs("-1").is_err());
        assert!(parse_jobs("two").is_err());
    }
}
