//! Build order: a recipe that needs another recipe's package at build time
//! (`environment.contents.packages`) waits for it, and independent builds, both
//! architectures included, run in parallel on a fixed number of workers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Condvar, Mutex};

use super::build::{BuildError, BuildErrorKind, Built};
use super::target::TargetArch;
use crate::catalog::Recipe;

/// One recipe built for one architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Index of the recipe in the list given to [`jobs_for`].
    pub recipe: usize,
    /// The architecture.
    pub arch: TargetArch,
    /// Jobs that must finish first (same architecture), by index.
    pub needs: Vec<usize>,
}

/// Error for recipes that need each other at build time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("recipes need each other at build time: {}", .0.join(", "))]
pub struct DependencyCycle(pub Vec<String>);

/// Selects the recipes to build: those in `selected` (every recipe when empty) and, recursively,
/// the local recipes they need at build time.
pub fn select<'a>(recipes: &'a [Recipe], selected: &[String]) -> Result<Vec<&'a Recipe>, String> {
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    // (name, whether the user asked for it): only names the user gave must exist;
    // build-time needs without a local recipe come from the host.
    let mut pending: Vec<(String, bool)> = if selected.is_empty() {
        recipes
            .iter()
            .map(|recipe| (recipe.name.clone(), true))
            .collect()
    } else {
        selected.iter().map(|name| (name.clone(), true)).collect()
    };
    while let Some((name, explicit)) = pending.pop() {
        let Some(recipe) = provider(recipes, &name) else {
            if explicit {
                return Err(name);
            }
            continue;
        };
        if wanted.insert(recipe.name.clone()) {
            pending.extend(build_needs(recipe).into_iter().map(|need| (need, false)));
        }
    }
    Ok(recipes
        .iter()
        .filter(|recipe| wanted.contains(&recipe.name))
        .collect())
}

/// Builds the job list: one job per recipe and architecture, with its dependencies.
pub fn jobs_for(recipes: &[&Recipe], archs: &[TargetArch]) -> Result<Vec<Job>, DependencyCycle> {
    let index: BTreeMap<&str, usize> = recipes
        .iter()
        .enumerate()
        .flat_map(|(i, recipe)| {
            let mut names = vec![(recipe.name.as_str(), i)];
            for provided in recipe_provides(recipe) {
                names.push((provided, i));
            }
            names
        })
        .collect();
    let mut needs: Vec<Vec<usize>> = Vec::new();
    for recipe in recipes {
        let mut list: Vec<usize> = build_needs(recipe)
            .iter()
            .filter_map(|name| index.get(name.as_str()).copied())
            .collect();
        list.sort();
        list.dedup();
        needs.push(list);
    }
    check_cycles(recipes, &needs)?;
    let mut jobs = Vec::new();
    for (arch_number, arch) in archs.iter().enumerate() {
        for (i, recipe_needs) in needs.iter().enumerate() {
            let offset = arch_number * recipes.len();
            jobs.push(Job {
                recipe: i,
                arch: *arch,
                needs: recipe_needs.iter().map(|need| need + offset).collect(),
            });
        }
    }
    Ok(jobs)
}

fn check_cycles(recipes: &[&Recipe], needs: &[Vec<usize>]) -> Result<(), DependencyCycle> {
    let mut done = vec![false; recipes.len()];
    loop {
        let mut progressed = false;
        for i in 0..recipes.len() {
            let ready = needs
                .get(i)
                .is_some_and(|list| list.iter().all(|n| done.get(*n) == Some(&true)));
            if !done.get(i).copied().unwrap_or(true) && ready {
                if let Some(flag) = done.get_mut(i) {
                    *flag = true;
                }
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    let stuck: Vec<String> = recipes
        .iter()
        .zip(&done)
        .filter(|(_, done)| !**done)
        .map(|(recipe, _)| recipe.name.clone())
        .collect();
    if stuck.is_empty() {
        Ok(())
    } else {
        Err(DependencyCycle(stuck))
    }
}

#[derive(Debug)]
enum State {
    Pending,
    Running,
    Done(String),
    Failed,
}

/// Runs every job with `workers` threads, each job after those it needs. `run` gets
/// the job and the content hashes of the jobs it needs. A job whose dependency failed
/// fails without running. Results are in job order.
pub fn run_jobs<F>(
    jobs: &[Job],
    names: &[String],
    workers: usize,
    run: F,
) -> Vec<Result<Built, BuildError>>
where
    F: Fn(&Job, &[String]) -> Result<Built, BuildError> + Sync,
{
    let states = Mutex::new(jobs.iter().map(|_| State::Pending).collect::<Vec<_>>());
    let results: Mutex<Vec<Option<Result<Built, BuildError>>>> =
        Mutex::new(jobs.iter().map(|_| None).collect());
    let changed = Condvar::new();
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| worker(jobs, names, &states, &results, &changed, &run));
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .into_iter()
        .zip(jobs)
        .map(|(result, job)| {
            result.unwrap_or_else(|| {
                Err(BuildError {
                    recipe: names.get(job.recipe).cloned().unwrap_or_default(),
                    arch: job.arch,
                    kind: Box::new(BuildErrorKind::DependencyFailed(
                        "a worker thread".to_string(),
                    )),
                    workspace: None,
                })
            })
        })
        .collect()
}

fn worker<F>(
    jobs: &[Job],
    names: &[String],
    states: &Mutex<Vec<State>>,
    results: &Mutex<Vec<Option<Result<Built, BuildError>>>>,
    changed: &Condvar,
    run: &F,
) where
    F: Fn(&Job, &[String]) -> Result<Built, BuildError> + Sync,
{
    loop {
        let Some((index, hashes)) = next_job(jobs, names, states, results, changed) else {
            return;
        };
        let Some(job) = jobs.get(index) else {
            return;
        };
        let result = run(job, &hashes);
        let mut guard = states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(state) = guard.get_mut(index) {
            *state = match &result {
                Ok(built) => State::Done(built.hash.clone()),
                Err(_) => State::Failed,
            };
        }
        if let Some(slot) = results
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get_mut(index)
        {
            *slot = Some(result);
        }
        changed.notify_all();
    }
}

// Waits for a job whose dependencies are done and marks it running. Jobs whose
// dependencies failed are failed here. Returns None when nothing is left.
fn next_job(
    jobs: &[Job],
    names: &[String],
    states: &Mutex<Vec<State>>,
    results: &Mutex<Vec<Option<Result<Built, BuildError>>>>,
    changed: &Condvar,
) -> Option<(usize, Vec<String>)> {
    let mut guard = states
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    loop {
        let mut any_pending = false;
        for (index, job) in jobs.iter().enumerate() {
            if !matches!(guard.get(index), Some(State::Pending)) {
                continue;
            }
            let failed = job
                .needs
                .iter()
                .find(|need| matches!(guard.get(**need), Some(State::Failed)));
            if let Some(failed) = failed {
                let failed_name = jobs
                    .get(*failed)
                    .and_then(|job| names.get(job.recipe))
                    .cloned()
                    .unwrap_or_default();
                if let Some(state) = guard.get_mut(index) {
                    *state = State::Failed;
                }
                if let Some(slot) = results
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .get_mut(index)
                {
                    *slot = Some(Err(BuildError {
                        recipe: names.get(job.recipe).cloned().unwrap_or_default(),
                        arch: job.arch,
                        kind: Box::new(BuildErrorKind::DependencyFailed(failed_name)),
                        workspace: None,
                    }));
                }
                changed.notify_all();
                continue;
            }
            let hashes: Option<Vec<String>> = job
                .needs
                .iter()
                .map(|need| match guard.get(*need) {
                    Some(State::Done(hash)) => Some(hash.clone()),
                    _ => None,
                })
                .collect();
            if let Some(hashes) = hashes {
                if let Some(state) = guard.get_mut(index) {
                    *state = State::Running;
                }
                return Some((index, hashes));
            }
            any_pending = true;
        }
        if !any_pending {
            return None;
        }
        guard = changed
            .wait(guard)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
}

fn provider<'a>(recipes: &'a [Recipe], name: &str) -> Option<&'a Recipe> {
    recipes
        .iter()
        .find(|recipe| recipe.name == name || recipe.provided_names().iter().any(|p| p == name))
}

fn recipe_provides(recipe: &Recipe) -> Vec<&str> {
    let mut names: Vec<&str> = recipe
        .file
        .subpackages
        .iter()
        .map(|subpackage| subpackage.name.value.as_str())
        .collect();
    names.extend(
        recipe
            .file
            .package
            .dependencies
            .provides
            .iter()
            .map(|provide| {
                provide
                    .value
                    .split(['=', '<', '>', '~'])
                    .next()
                    .unwrap_or_default()
            }),
    );
    names
}

// Package names the recipe installs into its build environment.
fn build_needs(recipe: &Recipe) -> Vec<String> {
    recipe
        .file
        .environment
        .contents
        .packages
        .iter()
        .map(|name| {
            name.value
                .split(['=', '<', '>', '~'])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests;
