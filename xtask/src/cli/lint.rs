//! `cargo xtask lint`: every problem in every catalog file, in one run.

use std::process::ExitCode;

use clap::ValueEnum;

use super::Context;
use super::output::print_line;
use crate::catalog;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format. Defaults to `github` inside GitHub Actions, `text` elsewhere.
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Fail on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `path:line:col: error: message`, with `hint:` lines.
    Text,
    /// GitHub Actions `::error file=...,line=...,col=...::` annotations.
    Github,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let diagnostics = catalog::lint(&context.root);
    let format = args.format.unwrap_or(if context.github_actions {
        Format::Github
    } else {
        Format::Text
    });
    for diagnostic in diagnostics.sorted() {
        match format {
            Format::Text => print_line(&diagnostic.to_string())?,
            Format::Github => print_line(&diagnostic.to_github_annotation())?,
        }
    }
    let errors = diagnostics.error_count();
    let warnings = diagnostics.warning_count();
    eprintln!("lint: {errors} error(s), {warnings} warning(s)");
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
