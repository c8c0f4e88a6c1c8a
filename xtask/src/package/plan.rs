//! Interpretation of a recipe for one architecture: variables and `var-transforms`,
//! `if:` conditions, named pipelines expanded with their inputs, and every
//! substitution made, so that running the plan needs no recipe knowledge. Every step
//! keeps the recipe line it came from for error messages.

mod fetch;
mod variables;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use super::condition::{self, InvalidCondition};
use super::pipelines::{FETCH, Pipeline, Pipelines};
use super::sources::SourceSpec;
use super::substitute::{SubstituteError, Variables};
use super::target::TargetArch;
use crate::catalog::Recipe;
use crate::catalog::recipe::{Dependencies, Step};

pub use variables::ScriptPaths;

/// Deepest nesting of `uses:` inside pipelines; deeper means a pipeline calls itself.
const MAX_PIPELINE_DEPTH: usize = 16;

/// Origin of a step: the recipe file, its line and a label for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepLocation {
    /// Recipe file relative to the catalog root.
    pub recipe: PathBuf,
    /// One-based line of the step in the recipe; for steps of a named pipeline, the
    /// line of the recipe step that uses it.
    pub line: u64,
    /// The step's `name`, its `uses` chain or the start of its script.
    pub label: String,
}

impl fmt::Display for StepLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: step `{}`",
            self.recipe.display(),
            self.line,
            self.label
        )
    }
}

/// Work of a planned step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Runs a shell script in the sandbox.
    Script {
        /// The script, substitutions made.
        script: String,
        /// Folder it runs in, as a path inside the sandbox (a host path without one).
        working_directory: String,
        /// Variables set for the script on top of the builder's own.
        environment: BTreeMap<String, String>,
    },
    /// Obtains a verified source file and unpacks it into the workspace.
    Fetch(fetch::FetchStep),
}

pub use fetch::FetchStep;

/// One step, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    /// Origin in the recipe.
    pub location: StepLocation,
    /// The work.
    pub action: Action,
}

/// One package the recipe produces: the main package or a subpackage.
#[derive(Debug, Clone)]
pub struct OutputPlan {
    /// Package name.
    pub name: String,
    /// Description, falling back to the main package's.
    pub description: String,
    /// Runtime dependencies, provides and replaces.
    pub dependencies: Dependencies,
    /// Steps run for this package, in order.
    pub steps: Vec<PlannedStep>,
}

/// A recipe interpreted for one architecture.
#[derive(Debug, Clone)]
pub struct BuildPlan {
    /// The main package first, then the subpackages whose `if:` holds.
    pub outputs: Vec<OutputPlan>,
    /// Names of every named pipeline the steps use, for the content hash.
    pub pipelines_used: BTreeSet<String>,
    /// Every source the steps fetch, for the content hash.
    pub sources: Vec<SourceSpec>,
    /// Steps of the recipe's `test` block, run after the build with the built
    /// packages unpacked.
    pub tests: Vec<PlannedStep>,
}

/// An error in a recipe step.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct PlanError {
    /// The step.
    pub location: StepLocation,
    /// The problem, boxed to keep results small.
    pub kind: Box<PlanErrorKind>,
}

/// Problems in a recipe step.
#[derive(Debug, thiserror::Error)]
pub enum PlanErrorKind {
    /// A substitution failed.
    #[error(transparent)]
    Substitute(#[from] SubstituteError),
    /// An `if:` condition is invalid.
    #[error(transparent)]
    Condition(#[from] InvalidCondition),
    /// `uses:` names no known pipeline.
    #[error("unknown pipeline `{name}`; known pipelines: {}", .known.join(", "))]
    UnknownPipeline {
        /// The name used.
        name: String,
        /// Every known name.
        known: Vec<String>,
    },
    /// `with:` sets an input the pipeline does not declare.
    #[error("pipeline `{pipeline}` has no input `{input}`; its inputs: {}", .known.join(", "))]
    UnknownInput {
        /// The pipeline.
        pipeline: String,
        /// The input set.
        input: String,
        /// The inputs it declares.
        known: Vec<String>,
    },
    /// A required input is not set.
    #[error("pipeline `{pipeline}` needs input `{input}` in `with:`")]
    MissingInput {
        /// The pipeline.
        pipeline: String,
        /// The input.
        input: String,
    },
    /// A `with:` value is invalid.
    #[error("invalid `with: {key}`: {message}")]
    InvalidWith {
        /// The input.
        key: String,
        /// Description of the problem.
        message: String,
    },
    /// The step has both `uses:` and `runs:`.
    #[error("a step has either `uses:` or `runs:`, not both")]
    UsesAndRuns,
    /// The step has none of `uses:`, `runs:` and `pipeline:`.
    #[error("a step needs `uses:`, `runs:` or `pipeline:`")]
    EmptyStep,
    /// Pipelines use each other too deeply.
    #[error("pipelines nest more than {MAX_PIPELINE_DEPTH} levels; does a pipeline use itself?")]
    TooDeep,
    /// A package in `environment.contents.packages` is not a valid apk dependency.
    #[error("invalid build environment package `{name}`: {message}")]
    InvalidPackage {
        /// The entry as written.
        name: String,
        /// Description of the problem.
        message: String,
    },
    /// A `var-transforms` entry is invalid.
    #[error("invalid `var-transforms` entry for `{to}`: {message}")]
    VarTransform {
        /// The variable it defines.
        to: String,
        /// Description of the problem.
        message: String,
    },
}

/// Interprets `recipe` for `arch`, with paths as the sandboxed scripts see them.
pub fn plan(
    recipe: &Recipe,
    arch: TargetArch,
    pipelines: &Pipelines,
    paths: &ScriptPaths,
) -> Result<BuildPlan, PlanError> {
    let base = variables::base(recipe, arch, paths)?;
    let file = &recipe.file;
    check_environment_packages(recipe)?;
    let mut planner = Planner {
        recipe_path: &recipe.path,
        pipelines,
        pipelines_used: BTreeSet::new(),
        sources: Vec::new(),
        recipe_environment: file.environment.environment.clone(),
    };
    let main_description = file.package.description.clone().unwrap_or_default();
    let mut outputs = Vec::new();

    let variables = variables::for_output(&base, &recipe.name, paths, None);
    let steps = planner.steps(&file.pipeline, &variables, &paths.workspace)?;
    outputs.push(OutputPlan {
        name: recipe.name.clone(),
        description: main_description.clone(),
        dependencies: planner.dependencies(&file.package.dependencies, &variables)?,
        steps,
    });

    for subpackage in &file.subpackages {
        let name = base.substitute(&subpackage.name.value).map_err(|error| {
            planner.error_at(
                subpackage.name.referenced.line(),
                &subpackage.name.value,
                error.into(),
            )
        })?;
        let variables = variables::for_output(&base, &name, paths, Some(&name));
        if let Some(condition) = &subpackage.condition {
            let line = subpackage.name.referenced.line();
            if !planner.holds(condition, &variables, line, &name)? {
                tracing::debug!(subpackage = %name, %arch, "subpackage skipped: `if:` is false");
                continue;
            }
        }
        let steps = planner.steps(&subpackage.pipeline, &variables, &paths.workspace)?;
        outputs.push(OutputPlan {
            name,
            description: subpackage
                .description
                .clone()
                .unwrap_or_else(|| main_description.clone()),
            dependencies: planner.dependencies(&subpackage.dependencies, &variables)?,
            steps,
        });
    }
    let mut tests = Vec::new();
    if let Some(test) = &file.test {
        let variables = variables::for_output(&base, &recipe.name, paths, None);
        planner.recipe_environment = test.environment.environment.clone();
        tests = planner.steps(&test.pipeline, &variables, &paths.workspace)?;
    }
    Ok(BuildPlan {
        outputs,
        pipelines_used: planner.pipelines_used,
        sources: planner.sources,
        tests,
    })
}

struct Planner<'a> {
    recipe_path: &'a Path,
    pipelines: &'a Pipelines,
    pipelines_used: BTreeSet<String>,
    sources: Vec<SourceSpec>,
    recipe_environment: BTreeMap<String, String>,
}

/// The recipe step that a nested step belongs to, and how deep it is.
#[derive(Clone)]
struct Context {
    location: Option<StepLocation>,
    working_directory: String,
    environment: BTreeMap<String, String>,
    depth: usize,
}

impl Planner<'_> {
    fn steps(
        &mut self,
        steps: &[Spanned<Step>],
        variables: &Variables,
        workspace: &str,
    ) -> Result<Vec<PlannedStep>, PlanError> {
        let context = Context {
            location: None,
            working_directory: workspace.to_string(),
            environment: self.recipe_environment.clone(),
            depth: 0,
        };
        let mut planned = Vec::new();
        for step in steps {
            self.step(step, variables, &context, &mut planned)?;
        }
        Ok(planned)
    }

    fn step(
        &mut self,
        spanned: &Spanned<Step>,
        variables: &Variables,
        context: &Context,
        planned: &mut Vec<PlannedStep>,
    ) -> Result<(), PlanError> {
        let step = &spanned.value;
        let location = self.location_of(spanned, context);
        let error = |kind: PlanErrorKind| PlanError {
            location: location.clone(),
            kind: Box::new(kind),
        };
        if context.depth > MAX_PIPELINE_DEPTH {
            return Err(error(PlanErrorKind::TooDeep));
        }
        if let Some(condition) = &step.condition {
            let substituted = variables
                .substitute(condition)
                .map_err(|e| error(e.into()))?;
            if !condition::evaluate(&substituted).map_err(|e| error(e.into()))? {
                tracing::debug!(step = %location, "step skipped: `if:` is false");
                return Ok(());
            }
        }
        let mut inner = context.clone();
        inner.location = Some(location.clone());
        if let Some(directory) = &step.working_directory {
            let directory = variables
                .substitute(directory)
                .map_err(|e| error(e.into()))?;
            inner.working_directory = join_directory(&context.working_directory, &directory);
        }
        for (name, value) in &step.environment {
            let value = variables.substitute(value).map_err(|e| error(e.into()))?;
            inner.environment.insert(name.clone(), value);
        }

        match (&step.uses, &step.runs) {
            (Some(_), Some(_)) => Err(error(PlanErrorKind::UsesAndRuns)),
            (Some(uses), None) => self.uses(&uses.value, step, variables, &inner, planned),
            (None, Some(runs)) => {
                let script = variables.substitute(runs).map_err(|e| error(e.into()))?;
                planned.push(PlannedStep {
                    location,
                    action: Action::Script {
                        script,
                        working_directory: inner.working_directory,
                        environment: inner.environment,
                    },
                });
                Ok(())
            }
            (None, None) if !step.pipeline.is_empty() => {
                inner.depth += 1;
                for nested in &step.pipeline {
                    self.step(nested, variables, &inner, planned)?;
                }
                Ok(())
            }
            (None, None) => Err(error(PlanErrorKind::EmptyStep)),
        }
    }

    fn uses(
        &mut self,
        name: &str,
        step: &Step,
        variables: &Variables,
        context: &Context,
        planned: &mut Vec<PlannedStep>,
    ) -> Result<(), PlanError> {
        let location = context
            .location
            .clone()
            .unwrap_or_else(|| self.bare_location());
        let error = |kind: PlanErrorKind| PlanError {
            location: location.clone(),
            kind: Box::new(kind),
        };
        if name == FETCH {
            let fetch =
                fetch::FetchStep::from_with(&step.with, variables, &context.working_directory)
                    .map_err(error)?;
            self.sources.push(fetch.source.clone());
            planned.push(PlannedStep {
                location,
                action: Action::Fetch(fetch),
            });
            return Ok(());
        }
        let Some(pipeline) = self.pipelines.get(name) else {
            return Err(error(PlanErrorKind::UnknownPipeline {
                name: name.to_string(),
                known: self.pipelines.names(),
            }));
        };
        self.pipelines_used.insert(name.to_string());
        let inputs = inputs(pipeline, &step.with, variables).map_err(error)?;
        let mut inner = context.clone();
        inner.depth += 1;
        for nested in &pipeline.file.pipeline {
            self.step(nested, &inputs, &inner, planned)?;
        }
        Ok(())
    }

    fn holds(
        &self,
        condition: &str,
        variables: &Variables,
        line: u64,
        label: &str,
    ) -> Result<bool, PlanError> {
        let substituted = variables
            .substitute(condition)
            .map_err(|e| self.error_at(line, label, e.into()))?;
        condition::evaluate(&substituted).map_err(|e| self.error_at(line, label, e.into()))
    }

    fn location_of(&self, spanned: &Spanned<Step>, context: &Context) -> StepLocation {
        let step = &spanned.value;
        match &context.location {
            // Steps inside a named pipeline report the recipe step that uses it, and
            // add their own name where they have one.
            Some(outer) => StepLocation {
                label: match &step.name {
                    Some(name) => format!("{} > {name}", outer.label),
                    None => outer.label.clone(),
                },
                ..outer.clone()
            },
            None => StepLocation {
                recipe: self.recipe_path.to_path_buf(),
                line: spanned.referenced.line(),
                label: step_label(step),
            },
        }
    }

    fn bare_location(&self) -> StepLocation {
        StepLocation {
            recipe: self.recipe_path.to_path_buf(),
            line: 0,
            label: String::new(),
        }
    }

    // melange substitutes variables in dependency lists, so that a recipe can write
    // `provides: [name=${{package.full-version}}]` and keep one version number.
    fn dependencies(
        &self,
        dependencies: &Dependencies,
        variables: &Variables,
    ) -> Result<Dependencies, PlanError> {
        let substitute = |list: &[Spanned<String>]| {
            list.iter()
                .map(|entry| {
                    let value = variables.substitute(&entry.value).map_err(|error| {
                        self.error_at(entry.referenced.line(), &entry.value, error.into())
                    })?;
                    Ok(Spanned {
                        value,
                        ..entry.clone()
                    })
                })
                .collect::<Result<Vec<_>, PlanError>>()
        };
        Ok(Dependencies {
            runtime: substitute(&dependencies.runtime)?,
            provides: substitute(&dependencies.provides)?,
            replaces: substitute(&dependencies.replaces)?,
            ..dependencies.clone()
        })
    }

    fn error_at(&self, line: u64, label: &str, kind: PlanErrorKind) -> PlanError {
        PlanError {
            location: StepLocation {
                recipe: self.recipe_path.to_path_buf(),
                line,
                label: label.to_string(),
            },
            kind: Box::new(kind),
        }
    }
}

// The build environment's packages come from the host toolchain or from local
// recipes, but each must still be a valid apk dependency (`name`, `name>=1.2`).
fn check_environment_packages(recipe: &Recipe) -> Result<(), PlanError> {
    let lists = [&recipe.file.environment.contents.packages]
        .into_iter()
        .chain(
            recipe
                .file
                .test
                .iter()
                .map(|test| &test.environment.contents.packages),
        );
    for packages in lists {
        for package in packages {
            if let Err(error) = apk::Dependency::parse(&package.value) {
                return Err(PlanError {
                    location: StepLocation {
                        recipe: recipe.path.clone(),
                        line: package.referenced.line(),
                        label: "environment".to_string(),
                    },
                    kind: Box::new(PlanErrorKind::InvalidPackage {
                        name: package.value.clone(),
                        message: error.to_string(),
                    }),
                });
            }
        }
    }
    Ok(())
}

/// Returns the variables of a named pipeline's steps: the caller's, plus `inputs.*` from
/// `with:` or the input defaults.
fn inputs(
    pipeline: &Pipeline,
    with: &BTreeMap<String, serde_json::Value>,
    variables: &Variables,
) -> Result<Variables, PlanErrorKind> {
    let declared = &pipeline.file.inputs;
    for key in with.keys() {
        if !declared.contains_key(key) {
            return Err(PlanErrorKind::UnknownInput {
                pipeline: pipeline.name.clone(),
                input: key.clone(),
                known: declared.keys().cloned().collect(),
            });
        }
    }
    let mut inner = variables.clone();
    for (name, input) in declared {
        let value = match (with.get(name), &input.default) {
            (Some(value), _) | (None, Some(value)) => fetch::with_text(name, value, variables)?,
            (None, None) if input.required => {
                return Err(PlanErrorKind::MissingInput {
                    pipeline: pipeline.name.clone(),
                    input: name.clone(),
                });
            }
            (None, None) => String::new(),
        };
        inner.set(format!("inputs.{name}"), value);
    }
    Ok(inner)
}

fn step_label(step: &Step) -> String {
    if let Some(name) = &step.name {
        return name.clone();
    }
    if let Some(uses) = &step.uses {
        return uses.value.clone();
    }
    let first_line = step
        .runs
        .as_deref()
        .and_then(|runs| runs.lines().find(|line| !line.trim().is_empty()))
        .unwrap_or("pipeline");
    let mut label: String = first_line.trim().chars().take(50).collect();
    if label.len() < first_line.trim().len() {
        label.push('…');
    }
    label
}

fn join_directory(base: &str, directory: &str) -> String {
    if directory.starts_with('/') {
        directory.to_string()
    } else if directory == "." || directory.is_empty() {
        base.to_string()
    } else {
        format!("{}/{}", base.trim_end_matches('/'), directory)
    }
}

#[cfg(test)]
mod tests;
