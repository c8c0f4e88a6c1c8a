//! `cargo xtask test`: runs each built image's checks and test scripts, and the hidden
//! `launch-image` command that test scripts reach through `$RUN`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::output::print_line;
use super::{Context, load_catalog};
use crate::catalog::Arch;
use crate::imagetest::{RunOptions, Runtime, TestResult, TestTarget, run_target};

/// Default time limit of one test script, in seconds.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 300;

/// Output folder of catalog builds, relative to the catalog root.
const IMAGES_DIR: &str = "out/images";

/// The engine that runs images under test.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RuntimeArg {
    /// bwrap sandbox; arm64 runs under qemu-aarch64-static.
    Bwrap,
    /// The local Docker engine; its own architecture only.
    Docker,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Catalog images to test; every image with a built layout when none is given.
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,

    /// Test only this variant of each image.
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,

    /// Test only these architectures (`amd64` or `x86_64`, repeatable); all built ones
    /// when none is given.
    #[arg(long = "arch", value_name = "ARCH")]
    pub archs: Vec<String>,

    /// Engine that runs the image.
    #[arg(long, value_enum, default_value = "bwrap")]
    pub runtime: RuntimeArg,

    /// Time limit of one test script, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT_SECONDS)]
    pub timeout: u64,
}

/// Arguments of the hidden `launch-image` command.
#[derive(Debug, clap::Args)]
pub struct LaunchArgs {
    /// The launch spec that `cargo xtask test` wrote.
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,

    /// Arguments for the image, after `--`.
    #[arg(last = true, value_name = "ARG")]
    pub args: Vec<OsString>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let targets = select_targets(context, &args)?;
    let mut archs = Vec::new();
    for name in &args.archs {
        let arch: Arch = name.parse().with_context(|| {
            format!(
                "--arch: architecture `{name}` is unknown; known: {}",
                Arch::accepted_names()
            )
        })?;
        if !archs.contains(&arch) {
            archs.push(arch);
        }
    }
    if args.timeout == 0 {
        bail!("`--timeout 0` is invalid; give at least 1 second");
    }
    let options = RunOptions {
        runtime: match args.runtime {
            RuntimeArg::Bwrap => Runtime::Bwrap,
            RuntimeArg::Docker => Runtime::Docker,
        },
        archs,
        timeout: Duration::from_secs(args.timeout),
        xtask: std::env::current_exe().context("cannot find the path of this program")?,
    };
    let mut passed = 0;
    let mut failed = 0;
    let mut print_error = None;
    let mut report = |result: TestResult| {
        if result.passed {
            passed += 1;
        } else {
            failed += 1;
        }
        if let Err(error) = print_result(&result) {
            print_error.get_or_insert(error);
        }
    };
    for target in &targets {
        run_target(target, &options, &mut report)?;
    }
    if let Some(error) = print_error {
        return Err(error).context("cannot write the results to stdout");
    }
    print_line(&format!("{passed} passed, {failed} failed"))?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn launch(args: &LaunchArgs) -> ExitCode {
    crate::imagetest::launch::launch(&args.spec, &args.args)
}

fn print_result(result: &TestResult) -> std::io::Result<()> {
    let verdict = if result.passed { "PASS" } else { "FAIL" };
    print_line(&format!(
        "{verdict} {} {}: {}",
        result.target, result.test, result.detail
    ))?;
    if !result.passed && !result.output.is_empty() {
        for line in result.output.lines() {
            print_line(&format!("    {line}"))?;
        }
    }
    Ok(())
}

/// Returns the image variants to test. Named images must have a built layout; without
/// names, variants that have none are skipped.
fn select_targets(context: &Context, args: &Args) -> anyhow::Result<Vec<TestTarget>> {
    let catalog = load_catalog(context)?;
    let named = !args.images.is_empty();
    let names: Vec<&str> = if named {
        args.images.iter().map(String::as_str).collect()
    } else {
        catalog
            .images
            .iter()
            .map(|image| image.name.as_str())
            .collect()
    };
    let mut targets = Vec::new();
    for name in names {
        let Some(image) = catalog.image(name) else {
            bail!("image `{name}` is not in the catalog; `cargo xtask list` shows the images");
        };
        let variants: Vec<_> = image
            .variants
            .iter()
            .filter(|variant| {
                args.variant
                    .as_ref()
                    .is_none_or(|wanted| *wanted == variant.name)
            })
            .collect();
        if variants.is_empty() {
            if named {
                bail!(
                    "image `{name}` has no variant `{}`; `cargo xtask list` shows its variants",
                    args.variant.as_deref().unwrap_or_default()
                );
            }
            continue;
        }
        for variant in variants {
            let layout = context.root.join(IMAGES_DIR).join(name).join(&variant.name);
            if !layout.join("index.json").is_file() {
                if named {
                    bail!(
                        "`{}` has no built image; run `cargo xtask build {name}` first",
                        layout.display()
                    );
                }
                tracing::debug!(image = name, variant = %variant.name, "skipped: not built");
                continue;
            }
            targets.push(TestTarget {
                image: name.to_owned(),
                variant: variant.name.clone(),
                layout,
                tests_dir: context.root.join(&image.dir).join("tests"),
            });
        }
    }
    if targets.is_empty() {
        bail!(
            "no image has a built layout under `{}`; run `cargo xtask build IMAGE` first",
            context.root.join(IMAGES_DIR).display()
        );
    }
    Ok(targets)
}
