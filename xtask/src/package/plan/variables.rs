//! The variables a recipe's steps can substitute: package fields, target folders, the
//! architecture's triplets, `vars` and the results of `var-transforms`.

use super::{PlanError, PlanErrorKind, StepLocation};
use crate::catalog::Recipe;
use crate::package::substitute::Variables;
use crate::package::target::TargetArch;

/// Folders as the build scripts see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptPaths {
    /// The workspace, where sources are unpacked and steps run.
    pub workspace: String,
    /// Parent of every package's destination folder (`<outdir>/<package>`).
    pub outdir: String,
    /// The recipe's own folder (`packages/<name>/`), for patches and data files.
    pub recipe_dir: String,
}

impl ScriptPaths {
    /// Returns the paths inside the sandbox, the same as melange uses.
    pub fn sandboxed() -> Self {
        ScriptPaths {
            workspace: "/home/build".to_string(),
            outdir: "/home/build/melange-out".to_string(),
            recipe_dir: "/home/recipe".to_string(),
        }
    }
}

/// Variables shared by every output of the recipe.
pub fn base(
    recipe: &Recipe,
    arch: TargetArch,
    paths: &ScriptPaths,
) -> Result<Variables, PlanError> {
    let package = &recipe.file.package;
    let version = package.version.value.text();
    let host = TargetArch::host().unwrap_or(TargetArch::X86_64);
    let mut variables = Variables::new();
    variables.set("package.name", recipe.name.clone());
    variables.set("package.version", version.clone());
    variables.set("package.epoch", package.epoch.to_string());
    variables.set("package.full-version", recipe.full_version.clone());
    variables.set(
        "package.description",
        package.description.clone().unwrap_or_default(),
    );
    variables.set("targets.outdir", paths.outdir.clone());
    variables.set(
        "targets.destdir",
        format!("{}/{}", paths.outdir, recipe.name),
    );
    variables.set("host.triplet.gnu", arch.gnu_triplet());
    variables.set("host.triplet.rust", arch.rust_triplet());
    variables.set("cross.triplet.gnu.glibc", arch.gnu_triplet());
    variables.set("build.arch", arch.apk_name());
    variables.set("build.goarch", arch.go_arch());
    variables.set("build.triplet.gnu", host.gnu_triplet());
    variables.set("recipe.dir", paths.recipe_dir.clone());

    let location = |line: u64, label: &str| StepLocation {
        recipe: recipe.path.clone(),
        line,
        label: label.to_string(),
    };
    let mut resolved = Vec::new();
    for (name, value) in &recipe.file.vars {
        let value = variables.substitute(value).map_err(|error| PlanError {
            location: location(0, &format!("vars.{name}")),
            kind: Box::new(error.into()),
        })?;
        resolved.push((format!("vars.{name}"), value));
    }
    for (name, value) in resolved {
        variables.set(name, value);
    }
    for transform in &recipe.file.var_transforms {
        let error = |kind: PlanErrorKind| PlanError {
            location: location(0, &format!("var-transforms: {}", transform.to)),
            kind: Box::new(kind),
        };
        let input = variables
            .substitute(&transform.from)
            .map_err(|e| error(e.into()))?;
        let pattern = regex_lite::Regex::new(&transform.pattern).map_err(|e| {
            error(PlanErrorKind::VarTransform {
                to: transform.to.clone(),
                message: e.to_string(),
            })
        })?;
        let output = pattern
            .replace_all(&input, transform.replace.as_str())
            .into_owned();
        tracing::debug!(from = %input, to = %output, variable = %transform.to, "var-transform");
        variables.set(format!("vars.{}", transform.to), output);
    }
    Ok(variables)
}

/// Variables of one output: `context.name`, `targets.contextdir` and, for a
/// subpackage, `targets.subpkgdir`.
pub fn for_output(
    base: &Variables,
    name: &str,
    paths: &ScriptPaths,
    subpackage: Option<&str>,
) -> Variables {
    let mut variables = base.clone();
    let contextdir = format!("{}/{name}", paths.outdir);
    variables.set("context.name", name);
    variables.set("targets.contextdir", contextdir.clone());
    if subpackage.is_some() {
        variables.set("targets.subpkgdir", contextdir);
    }
    variables
}
