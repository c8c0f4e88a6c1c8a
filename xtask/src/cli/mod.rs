//! Command-line front end: parses arguments, sets up logging and dispatches to one
//! module per command. Only this module prints to stdout or draws progress bars.

mod lint;
mod list;
mod logging;
mod package;

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check every catalog file and report all problems at once.
    Lint(lint::Args),
    /// Print the catalog: images, variants, tags and architectures.
    List(list::Args),
    /// Build recipes from `packages/` into the local signed APK repository.
    Package(package::Args),
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
    let context = context(cli.directory)?;
    match cli.command {
        Command::Lint(args) => lint::run(&context, args),
        Command::List(args) => list::run(&context, args),
        Command::Package(args) => package::run(&context, args),
    }
}

fn context(directory: Option<PathBuf>) -> anyhow::Result<Context> {
    let current = std::env::current_dir()?;
    let root = match directory {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => current.join(dir),
        None => current,
    };
    Ok(Context {
        root,
        interactive: std::io::stderr().is_terminal(),
        github_actions: std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true"),
    })
}

/// Loads the catalog for commands that need a valid one. Problems are printed to
/// stderr first, so the user sees all of them, not only a count.
pub fn load_catalog(context: &Context) -> anyhow::Result<Catalog> {
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
