use super::*;
use crate::package::test_support::require_tool;

fn runner(isolation: Isolation) -> Runner {
    Runner {
        isolation,
        arch: TargetArch::X86_64,
        source_date_epoch: 1_700_000_000,
    }
}

fn workspace() -> (tempfile::TempDir, Workspace) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let workspace = Workspace::create(folder.path().join("build"), None).expect("workspace");
    (folder, workspace)
}

fn run(isolation: Isolation, workspace: &Workspace, script: &str) -> Result<(), RunError> {
    let paths = runner(isolation).script_paths(workspace);
    runner(isolation).run(workspace, script, &paths.workspace, &BTreeMap::new())
}

#[test]
fn sandbox_writes_only_workspace() {
    if !require_tool(tools::BWRAP) {
        return;
    }
    let (_folder, workspace) = workspace();
    run(
        Isolation::Sandbox,
        &workspace,
        "echo built > melange-out/result",
    )
    .expect("workspace is writable");
    let result = fs_err::read_to_string(workspace.destdir("result")).expect("read result");
    assert_eq!(result, "built\n");

    let error = run(
        Isolation::Sandbox,
        &workspace,
        "touch /usr/xtask-sandbox-test",
    )
    .expect_err("the host toolchain is read-only");
    assert!(matches!(error, RunError::Failed { .. }), "{error}");
}

#[test]
fn sandbox_has_no_network() {
    if !require_tool(tools::BWRAP) {
        return;
    }
    let (_folder, workspace) = workspace();
    // A new network namespace has only the loopback interface: one line of
    // /proc/net/dev names an interface besides the two header lines.
    let script = "test \"$(grep -c ':' /proc/net/dev)\" = 1 && grep -q 'lo:' /proc/net/dev";
    run(Isolation::Sandbox, &workspace, script).expect("only loopback in the sandbox");
}

#[test]
fn sandbox_environment_is_fixed() {
    if !require_tool(tools::BWRAP) {
        return;
    }
    let (_folder, workspace) = workspace();
    let script = "test \"$HOME\" = /home/build && test \"$SOURCE_DATE_EPOCH\" = 1700000000 \
                  && test \"$CC\" = x86_64-linux-gnu-gcc && test -z \"${CARGO_TARGET_DIR:-}\"";
    run(Isolation::Sandbox, &workspace, script).expect("environment as documented");
}

#[test]
fn failing_step_reports_log_tail() {
    let (_folder, workspace) = workspace();
    let error =
        run(Isolation::None, &workspace, "echo about to fail; exit 3").expect_err("the step fails");
    let message = error.to_string();
    assert!(message.contains("exit status: 3"), "{message}");
    assert!(message.contains("about to fail"), "{message}");
    assert!(message.contains("build.log"), "{message}");
}

#[test]
fn working_directory_is_created() {
    let (_folder, workspace) = workspace();
    let runner = runner(Isolation::None);
    let paths = runner.script_paths(&workspace);
    let directory = format!("{}/sub/dir", paths.workspace);
    runner
        .run(&workspace, "pwd > here", &directory, &BTreeMap::new())
        .expect("step runs");
    let here = workspace.home.join("sub/dir/here");
    assert!(here.is_file(), "{} missing", here.display());
}
