use std::path::Path;
use std::sync::Mutex;

use super::*;
use crate::catalog::recipe::RecipeFile;
use crate::catalog::yaml;
use crate::package::build::Outcome;

fn recipe(name: &str, needs: &[&str]) -> Recipe {
    let mut text = format!("package:\n  name: {name}\n  version: 1\n");
    if !needs.is_empty() {
        text.push_str("environment:\n  contents:\n    packages:\n");
        for need in needs {
            text.push_str(&format!("      - {need}\n"));
        }
    }
    let file: RecipeFile = match yaml::parse(&text, Path::new("r.yaml")) {
        Ok(file) => file,
        Err(diagnostic) => panic!("{diagnostic}"),
    };
    Recipe {
        name: name.to_string(),
        path: format!("packages/{name}.yaml").into(),
        full_version: "1-r0".to_string(),
        file,
    }
}

fn built(hash: &str) -> Result<Built, BuildError> {
    Ok(Built {
        outcome: Outcome::UpToDate,
        hash: hash.to_string(),
    })
}

#[test]
fn select_adds_local_build_needs_only() {
    let recipes = vec![
        recipe("app", &["lib", "build-base"]),
        recipe("lib", &[]),
        recipe("other", &[]),
    ];
    let chosen = select(&recipes, &["app".to_string()]).expect("known names");
    let names: Vec<&str> = chosen.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["app", "lib"]);
    assert_eq!(
        select(&recipes, &["nope".to_string()]).expect_err("unknown"),
        "nope"
    );
}

#[test]
fn jobs_wait_for_their_needs() {
    let recipes = [recipe("app", &["lib"]), recipe("lib", &[])];
    let refs: Vec<&Recipe> = recipes.iter().collect();
    let jobs = jobs_for(&refs, &TargetArch::ALL).expect("no cycle");
    assert_eq!(jobs.len(), 4);
    let names = vec!["app".to_string(), "lib".to_string()];
    let order = Mutex::new(Vec::new());
    let results = run_jobs(&jobs, &names, 2, |job, hashes| {
        let name = names[job.recipe].clone();
        if name == "app" {
            assert_eq!(hashes, [format!("lib-{}", job.arch)]);
        }
        order
            .lock()
            .expect("lock")
            .push(format!("{name}-{}", job.arch));
        built(&format!("{name}-{}", job.arch))
    });
    assert!(results.iter().all(Result::is_ok));
    let order = order.into_inner().expect("lock");
    for arch in TargetArch::ALL {
        let lib = order.iter().position(|n| *n == format!("lib-{arch}"));
        let app = order.iter().position(|n| *n == format!("app-{arch}"));
        assert!(lib < app, "{order:?}");
    }
}

#[test]
fn failed_need_fails_dependents_without_running() {
    let recipes = [recipe("app", &["lib"]), recipe("lib", &[])];
    let refs: Vec<&Recipe> = recipes.iter().collect();
    let jobs = jobs_for(&refs, &[TargetArch::X86_64]).expect("no cycle");
    let names = vec!["app".to_string(), "lib".to_string()];
    let results = run_jobs(&jobs, &names, 2, |job, _| {
        assert_ne!(names[job.recipe], "app", "app ran although lib failed");
        Err(BuildError {
            recipe: names[job.recipe].clone(),
            arch: job.arch,
            kind: Box::new(BuildErrorKind::DependencyFailed("test".to_string())),
            workspace: None,
        })
    });
    let app = results[0].as_ref().expect_err("app fails");
    assert!(app.to_string().contains("`lib` failed"), "{app}");
}

#[test]
fn cycle_is_reported() {
    let recipes = [recipe("a", &["b"]), recipe("b", &["a"])];
    let refs: Vec<&Recipe> = recipes.iter().collect();
    let error = jobs_for(&refs, &[TargetArch::X86_64]).expect_err("cycle");
    assert_eq!(error.0, ["a", "b"]);
}
