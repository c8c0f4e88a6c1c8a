//! The GitHub Actions workflows: valid against the published workflow schema, every
//! `run:` step calls `cargo xtask` (apart from listed setup lines), and the release
//! job names match what `cargo xtask readme --github` parses.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use xtask::readme::github::{RELEASE_WORKFLOW, parse_job_name};

/// `run:` lines allowed besides `cargo xtask ...`, each with the reason it exists.
const SETUP_LINES: &[(&str, &str)] = &[
    (
        "sudo apt-get update",
        "the package lists of a hosted runner can be stale, so installs would fail",
    ),
    (
        "sudo apt-get install --yes --no-install-recommends bubblewrap qemu-user-static",
        "image tests run the image in a bubblewrap sandbox, arm64 images under qemu",
    ),
    (
        "sudo sysctl --write kernel.apparmor_restrict_unprivileged_userns=0",
        "Ubuntu 24.04 blocks the unprivileged user namespaces that bubblewrap needs",
    ),
];

fn workflow_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows")
}

fn workflow_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workflow_dir())
        .expect("list .github/workflows")
        .map(|entry| entry.expect("folder entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read workflow");
    serde_saphyr::from_str(&text)
        .unwrap_or_else(|error| panic!("{}: invalid YAML: {error}", path.display()))
}

fn jobs(workflow: &Value) -> &serde_json::Map<String, Value> {
    workflow["jobs"].as_object().expect("`jobs` mapping")
}

#[test]
fn workflows_exist() {
    let names: Vec<String> = workflow_files()
        .iter()
        .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["presubmit.yaml", RELEASE_WORKFLOW]);
}

#[test]
fn workflows_match_schema() {
    let version = Command::new("check-jsonschema").arg("--version").output();
    if version.is_err() {
        if std::env::var("XTASK_SKIP_MISSING_TOOLS").is_ok_and(|value| value == "1") {
            eprintln!("skipped: check-jsonschema is not installed (XTASK_SKIP_MISSING_TOOLS=1)");
            return;
        }
        panic!(
            "check-jsonschema is not installed: install it with `pip install check-jsonschema` \
             (`.ci/setup` does), or set XTASK_SKIP_MISSING_TOOLS=1 to skip this test"
        );
    }
    let output = Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args(workflow_files())
        .output()
        .expect("run check-jsonschema");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
}

#[test]
fn run_lines_call_xtask() {
    let mut checked = 0;
    for (path, job_id, line) in run_lines() {
        let allowed =
            line.starts_with("cargo xtask ") || SETUP_LINES.iter().any(|(setup, _)| *setup == line);
        assert!(
            allowed,
            "{}: job `{job_id}`: `{line}` is neither `cargo xtask ...` nor a listed setup line",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} run lines found");
}

#[test]
fn release_job_name_parses() {
    let workflow = load(&workflow_dir().join(RELEASE_WORKFLOW));
    let release = &jobs(&workflow)["release"];
    let name = release["name"].as_str().expect("release job name");
    let rendered = name
        .replace("${{ matrix.image }}", "nginx")
        .replace("${{ matrix.variant }}", "latest");
    assert_eq!(
        parse_job_name(&rendered),
        Some(("nginx", "latest")),
        "{name}"
    );

    let permissions = &release["permissions"];
    assert_eq!(permissions["id-token"], "write");
    assert_eq!(permissions["packages"], "write");
    assert_eq!(permissions["contents"], "read");
}

#[test]
fn release_triggers_and_concurrency() {
    let workflow = load(&workflow_dir().join(RELEASE_WORKFLOW));
    // YAML 1.1 readers turn the key `on` into `true`; accept both spellings.
    let triggers = workflow
        .get("on")
        .or_else(|| workflow.get("true"))
        .expect("`on`");
    assert_eq!(triggers["push"]["branches"][0], "main");
    assert!(triggers["schedule"][0]["cron"].is_string(), "{triggers}");
    let image_input = &triggers["workflow_dispatch"]["inputs"]["image"];
    assert_eq!(image_input["required"], false);
    assert_eq!(workflow["concurrency"]["group"], "release");
    assert_eq!(workflow["concurrency"]["cancel-in-progress"], false);
}

#[test]
fn actions_pinned_by_tag() {
    for path in workflow_files() {
        let workflow = load(&path);
        for (job_id, job) in jobs(&workflow) {
            let steps = job["steps"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            for uses in steps.iter().filter_map(|step| step["uses"].as_str()) {
                let tag = uses.split_once('@').map(|(_, tag)| tag);
                let pinned = tag.is_some_and(|tag| tag.starts_with('v'));
                assert!(
                    pinned,
                    "{}: job `{job_id}`: `{uses}` is not pinned to a tag",
                    path.display()
                );
            }
        }
    }
}

/// Splits a `cargo xtask ...` line into arguments as the shell would for the simple
/// forms the workflows use: words, double-quoted words, and `$VAR` expansions, which
/// become the placeholder `1`, valid both as a name and as a number.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for character in line.chars() {
        match character {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            other => {
                current.push(other);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
        .into_iter()
        .map(|word| {
            if word.starts_with('$') {
                "1".to_owned()
            } else {
                word
            }
        })
        .collect()
}

/// Collects every non-empty `run:` line of every workflow as `(file, job id, line)`.
fn run_lines() -> Vec<(PathBuf, String, String)> {
    let mut lines = Vec::new();
    for path in workflow_files() {
        let workflow = load(&path);
        for (job_id, job) in jobs(&workflow) {
            let steps = job["steps"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            for script in steps.iter().filter_map(|step| step["run"].as_str()) {
                for line in script
                    .lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                {
                    lines.push((path.clone(), job_id.clone(), line.to_owned()));
                }
            }
        }
    }
    lines
}

#[test]
fn xtask_lines_parse_with_cli() {
    use clap::Parser as _;

    let mut parsed = 0;
    for (path, job_id, line) in run_lines() {
        let Some(arguments) = line.strip_prefix("cargo xtask ") else {
            continue;
        };
        let mut argv = vec!["cargo xtask".to_owned()];
        argv.extend(shell_words(arguments));
        if let Err(error) = xtask::cli::Cli::try_parse_from(&argv) {
            panic!(
                "{}: job `{job_id}`: `{line}` does not parse: {error}",
                path.display()
            );
        }
        parsed += 1;
    }
    assert!(parsed >= 6, "only {parsed} cargo xtask lines found");
}
