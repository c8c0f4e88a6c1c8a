//! A recipe's `test` steps, run after the build and before anything is written to the
//! repository: the built packages are unpacked into `<workspace>/test-root`, whose
//! program folders come first in `PATH`. For aarch64 each program there gets a small
//! wrapper script that runs it under qemu, so the same test script works for both
//! architectures.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use super::build::{BuildErrorKind, StepFailure};
use super::output::BuiltPackage;
use super::plan::{Action, PlannedStep};
use super::runner::{Runner, Workspace};

/// Folders of the test root whose programs the tests call by name.
const PROGRAM_DIRS: [&str; 4] = ["usr/bin", "usr/sbin", "bin", "sbin"];

/// Unpacks `packages` and runs the test steps; a failing step fails the build.
pub fn run_tests(
    runner: &Runner,
    workspace: &Workspace,
    packages: &[BuiltPackage],
    steps: &[PlannedStep],
) -> Result<(), BuildErrorKind> {
    let Some(first) = steps.first() else {
        return Ok(());
    };
    let fail = |message: String| BuildErrorKind::Step {
        location: first.location.clone(),
        source: StepFailure::Unpack { message },
    };
    let root = workspace.home.join("test-root");
    for package in packages {
        let name = package.info.file_name();
        let opened = apk::Package::from_bytes(&name, package.bytes.clone())
            .map_err(|error| fail(error.to_string()))?;
        opened
            .extract_to(&root, Default::default())
            .map_err(|error| fail(error.to_string()))?;
    }
    let paths = runner.script_paths(workspace);
    let script_root = format!("{}/test-root", paths.workspace);
    let mut path_dirs: Vec<String> = Vec::new();
    if let Some(emulator) = runner.arch.emulator() {
        let wrappers = workspace.home.join("test-programs");
        write_wrappers(&root, &script_root, &wrappers, emulator)
            .map_err(|error| fail(error.to_string()))?;
        path_dirs.push(format!("{}/test-programs", paths.workspace));
    } else {
        path_dirs.extend(
            PROGRAM_DIRS
                .iter()
                .map(|dir| format!("{script_root}/{dir}")),
        );
    }
    path_dirs.push("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string());

    for step in steps {
        tracing::debug!(step = %step.location, "running test");
        let Action::Script {
            script,
            working_directory,
            environment,
        } = &step.action
        else {
            continue;
        };
        let mut environment: BTreeMap<String, String> = environment.clone();
        environment.insert("PATH".to_string(), path_dirs.join(":"));
        if runner.arch.emulator().is_some() {
            // Dynamically linked test programs load their libraries from the test root.
            environment.insert("QEMU_LD_PREFIX".to_string(), script_root.clone());
        }
        runner
            .run(workspace, script, working_directory, &environment)
            .map_err(|source| BuildErrorKind::Step {
                location: step.location.clone(),
                source: StepFailure::Run(source),
            })?;
    }
    Ok(())
}

// Writes `<wrappers>/<name>` for every program in the test root's program folders: a
// script that runs the program through `emulator`. Symlinked programs (busybox
// applets) keep their own path, so argv[0] still names the applet.
fn write_wrappers(
    root: &Path,
    script_root: &str,
    wrappers: &Path,
    emulator: &str,
) -> std::io::Result<()> {
    fs_err::create_dir_all(wrappers)?;
    for dir in PROGRAM_DIRS {
        let Ok(entries) = fs_err::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let wrapper = wrappers.join(&name);
            if wrapper.exists() {
                continue;
            }
            let script =
                format!("#!/bin/sh\nexec {emulator} '{script_root}/{dir}/{name}' \"$@\"\n");
            fs_err::write(&wrapper, script)?;
            fs_err::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}
