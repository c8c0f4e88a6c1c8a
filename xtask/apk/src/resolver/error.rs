//! Resolution failures that explain themselves.

use std::fmt;

/// A candidate package that was considered and rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// `name-version` of the candidate.
    pub package: String,
    /// The repository it comes from.
    pub repository: String,
    /// The reason for the rejection.
    pub reason: String,
}

/// A dependency that no candidate could satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsatisfiable {
    /// The dependency, as apk writes it.
    pub constraint: String,
    /// The chain of packages that led to it, starting with `world`.
    pub required_by: Vec<String>,
    /// Every candidate considered, with the reason it was rejected.
    pub rejections: Vec<Rejection>,
    /// The deepest failure under a rejected candidate, when one caused the rejection.
    pub cause: Option<Box<Unsatisfiable>>,
}

impl fmt::Display for Unsatisfiable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no package satisfies `{}`, required by {}",
            self.constraint,
            self.required_by.join(" -> ")
        )?;
        if self.rejections.is_empty() {
            write!(
                f,
                "\n  no package in the repositories has or provides this name"
            )?;
        }
        for rejection in &self.rejections {
            write!(
                f,
                "\n  rejected {} from {}: {}",
                rejection.package, rejection.repository, rejection.reason
            )?;
        }
        if let Some(cause) = &self.cause {
            write!(f, "\ncaused by: {cause}")?;
        }
        Ok(())
    }
}

/// Errors from [`super::resolve`].
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// A dependency cannot be satisfied.
    #[error(
        "{0}\nhint: check the versions and pins in the world, or add the repository that has the package"
    )]
    Unsatisfiable(Box<Unsatisfiable>),
    /// The search tried too many candidates, which only happens with pathological indexes.
    #[error("resolution stopped after trying {limit} candidates")]
    TooManySteps {
        /// The max number of candidate attempts.
        limit: usize,
    },
    /// The dependency chain is deeper than any real index has.
    #[error("resolution stopped at a dependency chain deeper than {limit} packages")]
    TooDeep {
        /// The max chain depth.
        limit: usize,
    },
}
