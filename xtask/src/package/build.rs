//! Building one recipe for one architecture: plan, check the stamp, run the steps in a
//! fresh workspace, package each output and put the files into the repository. A failed
//! build keeps its workspace and changes nothing in the repository.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::lock::{LockError, WorkspaceLock};
use super::output::{self, OutputError};
use super::pipelines::Pipelines;
use super::plan::{self, Action, FetchStep, PlanError, PlannedStep, StepLocation};
use super::repository::{self, RepositoryError};
use super::runner::{Isolation, RunError, Runner, Workspace};
use super::signing::SigningKey;
use super::sources::{SourceError, Sources};
use super::stamp::{self, HashInputs, Stamp};
use super::target::TargetArch;
use super::test_steps;
use crate::catalog::Recipe;

/// Settings shared by every build of one run.
#[derive(Debug, Clone)]
pub struct BuildSettings {
    /// The catalog root.
    pub root: PathBuf,
    /// The repository folder (`out/packages`), holding one folder per architecture.
    pub repository: PathBuf,
    /// Parent of the build workspaces.
    pub work_dir: PathBuf,
    /// Isolation of build steps.
    pub isolation: Isolation,
    /// `SOURCE_DATE_EPOCH` of every package.
    pub source_date_epoch: u64,
    /// Whether stamps are ignored, so that everything is rebuilt.
    pub force: bool,
}

/// Result of one recipe for one architecture.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The stamp matched; nothing was done.
    UpToDate,
    /// The recipe was built into these package files (relative to the repository).
    Built {
        /// Package files written.
        files: Vec<PathBuf>,
        /// Wall time of the build, in seconds.
        seconds: f64,
    },
    /// The recipe's `target-architecture` excludes this architecture.
    NotForArch,
}

/// The result of one build: the outcome and the content hash that dependent recipes
/// include in theirs.
#[derive(Debug, Clone)]
pub struct Built {
    /// What happened.
    pub outcome: Outcome,
    /// The content hash (empty when the recipe is not built for the architecture).
    pub hash: String,
}

/// A failed build of one recipe.
#[derive(Debug, thiserror::Error)]
#[error("recipe `{recipe}` ({arch}): {kind}{}", kept_note(.workspace))]
pub struct BuildError {
    /// The recipe name.
    pub recipe: String,
    /// The architecture.
    pub arch: TargetArch,
    /// What failed.
    #[source]
    pub kind: Box<BuildErrorKind>,
    /// The workspace kept for inspection, when the failure happened inside it.
    pub workspace: Option<PathBuf>,
}

fn kept_note(workspace: &Option<PathBuf>) -> String {
    match workspace {
        Some(path) => format!("\nworkspace kept for inspection: {}", path.display()),
        None => String::new(),
    }
}

/// Failures of a build.
#[derive(Debug, thiserror::Error)]
pub enum BuildErrorKind {
    /// The recipe is invalid.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A step failed.
    #[error("{location}: {source}")]
    Step {
        /// The step.
        location: StepLocation,
        /// The failure.
        source: StepFailure,
    },
    /// A package could not be made from an output folder.
    #[error("package `{name}`: {source}")]
    Output {
        /// The package.
        name: String,
        /// The cause.
        source: OutputError,
    },
    /// The repository could not be written.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
    /// The workspace or a stamp could not be prepared.
    #[error("failed to prepare `{}`: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Another run is building in the same workspace.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A build-time dependency failed, so this recipe was not built.
    #[error("not built because `{0}` failed")]
    DependencyFailed(String),
}

/// Failures of one step.
#[derive(Debug, thiserror::Error)]
pub enum StepFailure {
    /// Its script failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Its source was not found or did not verify.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The built packages could not be unpacked for the test steps.
    #[error("failed to unpack the built packages for testing: {message}")]
    Unpack {
        /// The cause.
        message: String,
    },
    /// Its source could not be copied into the workspace.
    #[error("failed to copy the source into `{}`: {source}", path.display())]
    Copy {
        /// The target.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Builds `recipe` for `arch` unless its stamp is current.
pub fn build_recipe(
    settings: &BuildSettings,
    pipelines: &Pipelines,
    sources: &Sources,
    key: &SigningKey,
    recipe: &Recipe,
    arch: TargetArch,
    dependency_hashes: &[String],
) -> Result<Built, BuildError> {
    let fail = |kind: BuildErrorKind, workspace: Option<PathBuf>| BuildError {
        recipe: recipe.name.clone(),
        arch,
        kind: Box::new(kind),
        workspace,
    };
    if !targets(recipe, arch) {
        tracing::debug!(recipe = %recipe.name, %arch, "not built: excluded by target-architecture");
        return Ok(Built {
            outcome: Outcome::NotForArch,
            hash: String::new(),
        });
    }
    let runner = Runner {
        isolation: settings.isolation,
        arch,
        source_date_epoch: settings.source_date_epoch,
    };
    let recipe_dir = recipe_dir(&settings.root, recipe);
    let workspace_root = settings.work_dir.join(format!("{}-{arch}", recipe.name));
    let planned_workspace = Workspace {
        home: workspace_root.join("home"),
        log: workspace_root.join("build.log"),
        root: workspace_root.clone(),
        recipe_dir: recipe_dir.clone(),
    };
    let paths = runner.script_paths(&planned_workspace);
    let plan = plan::plan(recipe, arch, pipelines, &paths).map_err(|e| fail(e.into(), None))?;

    let recipe_file = settings.root.join(&recipe.path);
    let io_error = |path: &Path, source| {
        fail(
            BuildErrorKind::Io {
                path: path.to_path_buf(),
                source,
            },
            None,
        )
    };
    let recipe_text = fs_err::read(&recipe_file).map_err(|e| io_error(&recipe_file, e))?;
    let inputs = HashInputs {
        recipe_text: &recipe_text,
        recipe_dir: recipe_dir.as_deref(),
        arch,
        source_date_epoch: settings.source_date_epoch,
        sandboxed: settings.isolation == Isolation::Sandbox,
        key_name: key.name(),
        key_pem: &key.public_pem,
        dependency_hashes,
    };
    let hash =
        stamp::content_hash(&inputs, &plan, pipelines).map_err(|e| io_error(&recipe_file, e))?;
    let arch_dir = repository::arch_dir(&settings.repository, arch);
    let stamp_path = stamp::stamp_path(&arch_dir, &recipe.name);
    let previous = stamp::read(&stamp_path);
    if !settings.force
        && let Some(previous) = &previous
        && stamp::is_current(previous, &hash, &arch_dir)
    {
        tracing::debug!(recipe = %recipe.name, %arch, "up to date");
        return Ok(Built {
            outcome: Outcome::UpToDate,
            hash,
        });
    }

    let started = Instant::now();
    tracing::info!(recipe = %recipe.name, %arch, "building");
    let lock_path = settings
        .work_dir
        .join(format!("{}-{arch}.lock", recipe.name));
    let _lock = WorkspaceLock::acquire(lock_path).map_err(|e| fail(e.into(), None))?;
    // NOTE: local packages named in `environment.contents.packages` order the builds
    // and enter the content hash, but are not installed into the sandbox: steps see
    // only the host toolchain.
    let workspace = Workspace::create(workspace_root.clone(), recipe_dir)
        .map_err(|e| io_error(&workspace_root, e))?;
    let kept = Some(workspace.root.clone());
    let mut packages = Vec::new();
    for output in &plan.outputs {
        let destdir = workspace.destdir(&output.name);
        fs_err::create_dir_all(&destdir).map_err(|e| io_error(&destdir, e))?;
    }
    for output in &plan.outputs {
        for step in &output.steps {
            run_step(&runner, sources, &workspace, step).map_err(|source| {
                let kind = BuildErrorKind::Step {
                    location: step.location.clone(),
                    source,
                };
                fail(kind, kept.clone())
            })?;
        }
    }
    for output in &plan.outputs {
        let destdir = workspace.destdir(&output.name);
        let package = output::build_package(
            recipe,
            output,
            arch,
            &destdir,
            &key.private,
            settings.source_date_epoch,
        )
        .map_err(|source| {
            let kind = BuildErrorKind::Output {
                name: output.name.clone(),
                source,
            };
            fail(kind, kept.clone())
        })?;
        packages.push(package);
    }

    test_steps::run_tests(&runner, &workspace, &packages, &plan.tests)
        .map_err(|kind| fail(kind, kept.clone()))?;

    let mut files = Vec::new();
    for package in &packages {
        let name = package.info.file_name();
        repository::write_atomic(&arch_dir.join(&name), &package.bytes)
            .map_err(|e| fail(e.into(), kept.clone()))?;
        files.push(name);
    }
    remove_stale(&arch_dir, previous.as_ref(), &files);
    let stamp = Stamp {
        hash: hash.clone(),
        files: files.clone(),
    };
    let stamp_json = serde_json::to_vec_pretty(&stamp).unwrap_or_default();
    repository::write_atomic(&stamp_path, &stamp_json).map_err(|e| fail(e.into(), None))?;
    if let Err(error) = fs_err::remove_dir_all(&workspace.root) {
        tracing::warn!(%error, "failed to remove the workspace of a successful build");
    }
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(recipe = %recipe.name, %arch, seconds = format!("{seconds:.1}"), packages = files.len(), "built");
    Ok(Built {
        outcome: Outcome::Built {
            files: files
                .iter()
                .map(|file| Path::new(arch.apk_name()).join(file))
                .collect(),
            seconds,
        },
        hash,
    })
}

fn run_step(
    runner: &Runner,
    sources: &Sources,
    workspace: &Workspace,
    step: &PlannedStep,
) -> Result<(), StepFailure> {
    tracing::debug!(step = %step.location, "running");
    match &step.action {
        Action::Script {
            script,
            working_directory,
            environment,
        } => Ok(runner.run(workspace, script, working_directory, environment)?),
        Action::Fetch(fetch) => run_fetch(runner, sources, workspace, fetch),
    }
}

fn run_fetch(
    runner: &Runner,
    sources: &Sources,
    workspace: &Workspace,
    fetch: &FetchStep,
) -> Result<(), StepFailure> {
    let found = sources.find(&fetch.source)?;
    let file_name = found.candidate.file_name();
    let host_dir = runner.host_path(workspace, &fetch.directory);
    let target = host_dir.join(&file_name);
    let copy_error = |source| StepFailure::Copy {
        path: target.clone(),
        source,
    };
    fs_err::create_dir_all(&host_dir).map_err(copy_error)?;
    fs_err::copy(&found.path, &target).map_err(copy_error)?;
    if !fetch.extract {
        return Ok(());
    }
    let mut script = format!(
        "tar -x -f '{file_name}' --no-same-owner --strip-components={}",
        fetch.strip_components
    );
    if fetch.delete {
        script.push_str(&format!("\nrm -f '{file_name}'"));
    }
    let environment = std::collections::BTreeMap::new();
    Ok(runner.run(workspace, &script, &fetch.directory, &environment)?)
}

// Removes package files an earlier build of the recipe wrote that this one did not,
// such as the previous version's.
fn remove_stale(arch_dir: &Path, previous: Option<&Stamp>, current: &[String]) {
    let Some(previous) = previous else {
        return;
    };
    for file in &previous.files {
        if !current.contains(file) {
            let path = arch_dir.join(file);
            tracing::debug!(path = %path.display(), "removing a package the recipe no longer makes");
            let _ = fs_err::remove_file(path);
        }
    }
}

/// Returns whether `recipe` is built for `arch` (`target-architecture` empty, `all`,
/// or naming it).
pub fn targets(recipe: &Recipe, arch: TargetArch) -> bool {
    let targets = &recipe.file.package.target_architecture;
    targets.is_empty()
        || targets
            .iter()
            .any(|name| name.value == "all" || name.value.parse::<TargetArch>() == Ok(arch))
}

/// Returns the recipe's own folder, `packages/<name>/`, when it exists.
pub fn recipe_dir(root: &Path, recipe: &Recipe) -> Option<PathBuf> {
    let dir = root
        .join(&recipe.path)
        .parent()
        .map(|parent| parent.join(&recipe.name))?;
    dir.is_dir().then_some(dir)
}
