use std::path::Path;

use super::*;
use crate::catalog::recipe::RecipeFile;
use crate::catalog::yaml;

const SHA: &str = "9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31";

fn recipe(text: &str) -> Recipe {
    let file: RecipeFile = match yaml::parse(text, Path::new("packages/demo.yaml")) {
        Ok(file) => file,
        Err(diagnostic) => panic!("recipe does not parse: {diagnostic}"),
    };
    let version = file.package.version.value.text();
    Recipe {
        name: file.package.name.value.clone(),
        path: "packages/demo.yaml".into(),
        full_version: format!("{version}-r{}", file.package.epoch),
        file,
    }
}

fn plan_for(text: &str, arch: TargetArch) -> Result<BuildPlan, PlanError> {
    let pipelines = Pipelines::load(None).expect("built-in pipelines");
    plan(&recipe(text), arch, &pipelines, &ScriptPaths::sandboxed())
}

fn scripts(output: &OutputPlan) -> Vec<String> {
    output
        .steps
        .iter()
        .filter_map(|step| match &step.action {
            Action::Script { script, .. } => Some(script.clone()),
            Action::Fetch(_) => None,
        })
        .collect()
}

const DEMO: &str = r#"package:
  name: demo
  version: 1.2.3
  epoch: 2
vars:
  flavour: small
var-transforms:
  - from: ${{package.version}}
    match: \.
    replace: _
    to: underscored
pipeline:
  - uses: fetch
    with:
      uri: https://example.invalid/demo-${{package.version}}.tar.gz
      expected-sha256: SHA
  - uses: autoconf/configure
    with:
      opts: --enable-${{vars.flavour}}
  - runs: echo ${{vars.underscored}} ${{package.full-version}} > ${{targets.destdir}}/v
  - if: ${{build.arch}} == 'aarch64'
    runs: echo only on arm
subpackages:
  - name: demo-dev
    pipeline:
      - uses: split/dev
"#;

#[test]
fn plan_substitutes_and_expands_pipelines() {
    let text = DEMO.replace("SHA", SHA);
    let plan = plan_for(&text, TargetArch::Aarch64).expect("plan");
    let main = &plan.outputs[0];
    let scripts = scripts(main);
    assert!(
        scripts[0].contains("--host='aarch64-linux-gnu'"),
        "{}",
        scripts[0]
    );
    assert!(scripts[0].contains("--enable-small"), "{}", scripts[0]);
    assert_eq!(
        scripts[1],
        "echo 1_2_3 1.2.3-r2 > /home/build/melange-out/demo/v"
    );
    assert_eq!(scripts[2], "echo only on arm");
    assert!(plan.pipelines_used.contains("autoconf/configure"));
    assert_eq!(plan.sources.len(), 1);
}

#[test]
fn plan_skips_false_condition() {
    let text = DEMO.replace("SHA", SHA);
    let plan = plan_for(&text, TargetArch::X86_64).expect("plan");
    let scripts = scripts(&plan.outputs[0]);
    assert_eq!(scripts.len(), 2);
}

#[test]
fn plan_subpackage_sees_subpkgdir() {
    let text = DEMO.replace("SHA", SHA);
    let plan = plan_for(&text, TargetArch::X86_64).expect("plan");
    let dev = &plan.outputs[1];
    assert_eq!(dev.name, "demo-dev");
    let script = &scripts(dev)[0];
    assert!(
        script.contains("to='/home/build/melange-out/demo-dev'"),
        "{script}"
    );
    assert!(
        script.contains("from='/home/build/melange-out/demo'"),
        "{script}"
    );
}

#[test]
fn plan_fetch_reads_source() {
    let text = DEMO.replace("SHA", SHA);
    let plan = plan_for(&text, TargetArch::X86_64).expect("plan");
    let Action::Fetch(fetch) = &plan.outputs[0].steps[0].action else {
        panic!("first step is not a fetch");
    };
    let candidate = &fetch.source.candidates[0];
    assert_eq!(candidate.file_name(), "demo-1.2.3.tar.gz");
    assert_eq!(candidate.digest.hex, SHA);
    assert_eq!(fetch.strip_components, 1);
    assert_eq!(fetch.directory, "/home/build");
}

#[test]
fn plan_unknown_pipeline_names_line() {
    let text = "package:\n  name: demo\n  version: 1\npipeline:\n  - runs: true\n  - uses: autoconf/mkae\n";
    let error = plan_for(text, TargetArch::X86_64).expect_err("should fail");
    let message = error.to_string();
    assert!(
        message.starts_with("packages/demo.yaml:6: step `autoconf/mkae`"),
        "{message}"
    );
    assert!(
        message.contains("unknown pipeline `autoconf/mkae`"),
        "{message}"
    );
    assert!(message.contains("autoconf/make"), "{message}");
}

#[test]
fn plan_missing_substitution_names_line() {
    let text = "package:\n  name: demo\n  version: 1\npipeline:\n  - name: install\n    runs: cp x ${{targets.destdri}}\n";
    let error = plan_for(text, TargetArch::X86_64).expect_err("should fail");
    let message = error.to_string();
    assert!(
        message.starts_with("packages/demo.yaml:5: step `install`"),
        "{message}"
    );
    assert!(
        message.contains("`${{targets.destdri}}` has no value"),
        "{message}"
    );
}

#[test]
fn plan_unknown_input_is_rejected() {
    let text = "package:\n  name: demo\n  version: 1\npipeline:\n  - uses: autoconf/make\n    with:\n      otps: -s\n";
    let error = plan_for(text, TargetArch::X86_64).expect_err("should fail");
    let message = error.to_string();
    assert!(message.contains("has no input `otps`"), "{message}");
    assert!(message.contains(":5:"), "{message}");
}

#[test]
fn plan_fetch_without_checksum_is_rejected() {
    let text = "package:\n  name: demo\n  version: 1\npipeline:\n  - uses: fetch\n    with:\n      uri: https://example.invalid/a.tar.gz\n";
    let error = plan_for(text, TargetArch::X86_64).expect_err("should fail");
    assert!(error.to_string().contains("expected-sha256"), "{error}");
}

#[test]
fn plan_step_with_uses_and_runs_is_rejected() {
    let text = "package:\n  name: demo\n  version: 1\npipeline:\n  - uses: strip\n    runs: true\n";
    let error = plan_for(text, TargetArch::X86_64).expect_err("should fail");
    assert!(matches!(*error.kind, PlanErrorKind::UsesAndRuns), "{error}");
}

#[test]
fn plan_test_steps_are_substituted() {
    let text = "package:\n  name: demo\n  version: 1.2\ntest:\n  pipeline:\n    - name: version\n      runs: demo --version | grep ${{package.version}}\n";
    let plan = plan_for(text, TargetArch::Aarch64).expect("plan");
    assert_eq!(plan.tests.len(), 1);
    let Action::Script { script, .. } = &plan.tests[0].action else {
        panic!("test step is not a script");
    };
    assert_eq!(script, "demo --version | grep 1.2");
    assert_eq!(plan.tests[0].location.line, 6);
}

#[test]
fn plan_invalid_environment_package_names_line() {
    let text = "package:\n  name: demo\n  version: 1\nenvironment:\n  contents:\n    packages:\n      - build-base\n      - 'gcc>='\n";
    let error = plan_for(text, TargetArch::X86_64).expect_err("invalid package");
    let message = error.to_string();
    assert!(
        message.starts_with("packages/demo.yaml:8: step `environment`"),
        "{message}"
    );
    assert!(message.contains("`gcc>=`"), "{message}");
}
