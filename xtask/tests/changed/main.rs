//! `cargo xtask changed` on throwaway git repositories: which images each kind of
//! change selects, and the output formats.

mod fixture;
mod git;

use std::process::Output;

use fixture::{catalog, config};
use serde_json::Value;

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit status {:?}, stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).expect("stdout is JSON")
}

/// Returns the `image/variant` pairs of a JSON change set.
fn variants(changes: &Value) -> Vec<String> {
    let mut pairs = Vec::new();
    for image in changes["images"].as_array().expect("an images array") {
        for variant in image["variants"].as_array().expect("a variants array") {
            pairs.push(format!(
                "{}/{}",
                image["name"].as_str().expect("a name"),
                variant["name"].as_str().expect("a name")
            ));
        }
    }
    pairs
}

fn removed(changes: &Value) -> Vec<&str> {
    changes["removed"]
        .as_array()
        .expect("a removed array")
        .iter()
        .map(|image| image["name"].as_str().expect("a name"))
        .collect()
}

/// Returns the reasons of one variant as `cause path` strings.
fn reasons(changes: &Value, image: &str, variant: &str) -> Vec<String> {
    let image = changes["images"]
        .as_array()
        .expect("an images array")
        .iter()
        .find(|candidate| candidate["name"] == image)
        .expect("the image is selected");
    let variant = image["variants"]
        .as_array()
        .expect("a variants array")
        .iter()
        .find(|candidate| candidate["name"] == variant)
        .expect("the variant is selected");
    variant["reasons"]
        .as_array()
        .expect("a reasons array")
        .iter()
        .map(|reason| {
            format!(
                "{} {}",
                reason["cause"].as_str().expect("a cause"),
                reason["path"].as_str().expect("a path")
            )
        })
        .collect()
}

#[test]
fn config_change_selects_image() {
    let fixture = catalog();
    fixture.write(
        "images/busybox/configs/latest.apko.yaml",
        &config("- busybox>1.37"),
    );
    fixture.commit("Update busybox");

    assert_eq!(stdout(&fixture.changed(&[])), "busybox\n");
    let changes = json(&fixture.changed(&["--json"]));
    assert_eq!(variants(&changes), ["busybox/latest"]);
    assert_eq!(
        reasons(&changes, "busybox", "latest"),
        [
            "image-folder images/busybox/configs/latest.apko.yaml",
            "config images/busybox/configs/latest.apko.yaml",
        ]
    );
}

#[test]
fn included_config_selects_includer() {
    let fixture = catalog();
    fixture.write("images/nginx/configs/latest.apko.yaml", &config("- nginx"));
    fixture.commit("Unpin nginx");

    let changes = json(&fixture.changed(&["--json"]));
    assert_eq!(variants(&changes), ["nginx/dev", "nginx/latest"]);
    assert!(
        reasons(&changes, "nginx", "dev")
            .contains(&"config images/nginx/configs/latest.apko.yaml".to_string())
    );
}

#[test]
fn renamed_image_folder() {
    let fixture = catalog();
    fixture.rename("images/busybox", "images/toybox");
    fixture.commit("Rename busybox to toybox");

    let changes = json(&fixture.changed(&["--json"]));
    assert_eq!(variants(&changes), ["toybox/latest"]);
    assert_eq!(removed(&changes), ["busybox"]);
    assert_eq!(stdout(&fixture.changed(&[])), "toybox\n");
}

#[test]
fn deleted_image_is_removed() {
    let fixture = catalog();
    fixture.remove("images/app");
    fixture.commit("Remove app");

    let changes = json(&fixture.changed(&["--json"]));
    assert_eq!(variants(&changes), Vec::<String>::new());
    assert_eq!(removed(&changes), ["app"]);
    assert_eq!(changes["removed"][0]["dir"], "images/app");
    assert_eq!(stdout(&fixture.changed(&[])), "");
}

#[test]
fn deleted_file_selects_image() {
    let fixture = catalog();
    fixture.remove("images/nginx/tests/run.sh");
    fixture.commit("Drop the nginx test");

    let changes = json(&fixture.changed(&["--json"]));
    assert_eq!(variants(&changes), ["nginx/dev", "nginx/latest"]);
    assert_eq!(removed(&changes), Vec::<&str>::new());
}

/// `main` and `feature` both change an image after they fork. From `feature`, only its
/// own change counts, both before and after `main` is merged into it.
#[test]
fn merge_base_excludes_main_changes() {
    let fixture = catalog();
    let fork = fixture.head().expect("a head commit");

    fixture.write("images/busybox/tests/run.sh", "#!/bin/sh\n");
    let main = fixture.commit("Test busybox");
    fixture.set_ref("refs/remotes/origin/main", main);

    fixture.checkout_new_branch("feature", fork);
    fixture.write("images/app/tests/run.sh", "#!/bin/sh\n");
    let feature = fixture.commit("Test app");

    assert_eq!(stdout(&fixture.changed(&[])), "app\n");
    assert_eq!(stdout(&fixture.changed(&["--base", "main"])), "app\n");

    // The merge commit's tree has both changes, as merging `main` would produce.
    fixture.write("images/busybox/tests/run.sh", "#!/bin/sh\n");
    fixture.commit_with_parents("Merge main into feature", &[feature, main]);
    assert_eq!(stdout(&fixture.changed(&[])), "app\n");
    assert_eq!(
        stdout(&fixture.changed(&["--base", "origin/main"])),
        "app\n"
    );

    // Against the first parent, the merge brings in `main`'s change.
    assert_eq!(stdout(&fixture.changed(&["--base", "HEAD~1"])), "busybox\n");
}

/// A push to `main` checks out the pushed commit, which `origin/main` also names, so
/// the merge base is the head itself and the previous commit is the base instead.
#[test]
fn head_on_main_uses_previous_commit() {
    let fixture = catalog();
    fixture.write("images/nginx/tests/run.sh", "#!/bin/sh\nexit 0\n");
    let head = fixture.commit("Test nginx");
    fixture.set_ref("refs/remotes/origin/main", head);

    assert_eq!(stdout(&fixture.changed(&[])), "nginx\n");
}

#[test]
fn recipe_change_selects_through_recipes() {
    let fixture = catalog();
    fixture.write("packages/libfoo/fix-build.patch", "--- a\n+++ b\n@@\n");
    fixture.commit("Update the libfoo patch");

    let changes = json(&fixture.changed(&["--json"]));
    assert_eq!(variants(&changes), ["app/latest"]);
    let reason = &changes["images"][0]["variants"][0]["reasons"][0];
    assert_eq!(reason["cause"], "package");
    assert_eq!(reason["package"], "app");
    assert_eq!(reason["recipe"], "packages/libfoo.yaml");
    assert_eq!(reason["path"], "packages/libfoo/fix-build.patch");
}

#[test]
fn catalog_change_selects_all() {
    let fixture = catalog();
    fixture.write(
        "catalog.yaml",
        "registry: ghcr.io\nnamespace: example/other\narchs: [amd64, arm64]\n",
    );
    fixture.commit("Move the registry");

    assert_eq!(stdout(&fixture.changed(&[])), "app\nbusybox\nnginx\n");
    let changes = json(&fixture.changed(&["--json"]));
    assert_eq!(reasons(&changes, "app", "latest"), ["global catalog.yaml"]);
}

#[test]
fn docs_change_selects_none() {
    let fixture = catalog();
    fixture.write("README.md", "# Catalog\n\nMore words.\n");
    fixture.write("docs/guide.md", "# Guide\n\nMore words.\n");
    fixture.commit("Expand the docs");

    assert_eq!(stdout(&fixture.changed(&[])), "");
    let changes = json(&fixture.changed(&["--json"]));
    assert_eq!(
        changes["files"],
        serde_json::json!(["README.md", "docs/guide.md"])
    );
}

#[test]
fn release_records_select_none() {
    let fixture = catalog();
    fixture.write("releases.json", "{}\n");
    fixture.commit("Record a release");

    assert_eq!(stdout(&fixture.changed(&[])), "");
}

#[test]
fn all_selects_every_variant() {
    let fixture = catalog();
    fixture.write("README.md", "# Catalog\n\nMore words.\n");
    fixture.commit("Expand the docs");

    assert_eq!(
        stdout(&fixture.changed(&["--all"])),
        "app\nbusybox\nnginx\n"
    );
    let matrix = json(&fixture.changed(&["--all", "--matrix"]));
    assert_eq!(
        matrix["include"]
            .as_array()
            .expect("an include array")
            .len(),
        4
    );
}

#[test]
fn image_selects_named_images() {
    let fixture = catalog();

    let matrix = stdout(&fixture.changed(&["--image", "nginx", "--matrix"]));
    assert_eq!(
        matrix,
        concat!(
            r#"{"include":[{"image":"nginx","variant":"dev"},"#,
            r#"{"image":"nginx","variant":"latest"}]}"#,
            "\n"
        )
    );
    let names = stdout(&fixture.changed(&["--image", "nginx", "--image", "app"]));
    assert_eq!(names, "app\nnginx\n");
}

#[test]
fn unknown_image_is_an_error() {
    let fixture = catalog();

    let output = fixture.changed(&["--image", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("image `nope` not found"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn working_tree_adds_untracked_file() {
    let fixture = catalog();
    fixture.write("README.md", "# Catalog\n\nMore words.\n");
    fixture.commit("Expand the docs");
    fixture.write("images/busybox/tests/new.sh", "#!/bin/sh\n");

    assert_eq!(stdout(&fixture.changed(&[])), "");
    assert_eq!(stdout(&fixture.changed(&["--working-tree"])), "busybox\n");
}

#[test]
fn root_commit_selects_all() {
    let fixture = catalog();

    assert_eq!(stdout(&fixture.changed(&[])), "app\nbusybox\nnginx\n");
    let changes = json(&fixture.changed(&["--json"]));
    assert_eq!(changes["base"], Value::Null);
}

/// GitHub's `before` for a push that creates a branch is forty zeros.
#[test]
fn null_base_selects_all() {
    let fixture = catalog();
    fixture.write("images/nginx/README.md", "# nginx\n");
    fixture.commit("Document nginx");

    let null = "0".repeat(40);
    assert_eq!(
        stdout(&fixture.changed(&["--base", &null])),
        "app\nbusybox\nnginx\n"
    );
}

#[test]
fn matrix_output_shape() {
    let fixture = catalog();
    fixture.write("images/nginx/README.md", "# nginx\n\nMore words.\n");
    fixture.write("images/busybox/README.md", "# busybox\n");
    fixture.commit("Document images");

    assert_eq!(
        stdout(&fixture.changed(&["--matrix"])),
        concat!(
            r#"{"include":[{"image":"busybox","variant":"latest"},"#,
            r#"{"image":"nginx","variant":"dev"},{"image":"nginx","variant":"latest"}]}"#,
            "\n"
        )
    );
}

#[test]
fn json_output_shape() {
    let fixture = catalog();
    fixture.write("images/app/tests/run.sh", "#!/bin/sh\n");
    let head = fixture.commit("Test app");

    let changes = json(&fixture.changed(&["--json"]));
    assert_eq!(changes["head"], head.to_string());
    assert!(changes["base"].is_string());
    assert_eq!(changes["working_tree"], false);
    assert_eq!(
        changes["files"],
        serde_json::json!(["images/app/tests/run.sh"])
    );
    assert_eq!(
        changes["images"],
        serde_json::json!([{
            "name": "app",
            "variants": [{
                "name": "latest",
                "reasons": [{"path": "images/app/tests/run.sh", "cause": "image-folder"}],
            }],
        }])
    );
    assert_eq!(changes["removed"], serde_json::json!([]));
}

#[test]
fn github_output_file_appended() {
    let fixture = catalog();
    fixture.remove("images/app");
    fixture.write("images/nginx/tests/run.sh", "#!/bin/sh\nexit 0\n");
    fixture.write("images/busybox/tests/run.sh", "#!/bin/sh\n");
    fixture.commit("Replace app by tests");
    let output_dir = tempfile::tempdir().expect("a temporary folder");
    let output_file = output_dir.path().join("github_output");
    std::fs::write(&output_file, "earlier=step\n").expect("write the output file");

    let printed = stdout(&fixture.changed_with_env(&[], Some(&output_file)));
    assert_eq!(printed, "busybox\nnginx\n");
    let written = std::fs::read_to_string(&output_file).expect("read the output file");
    assert_eq!(
        written,
        concat!(
            "earlier=step\n",
            r#"matrix={"include":[{"image":"busybox","variant":"latest"},"#,
            r#"{"image":"nginx","variant":"dev"},{"image":"nginx","variant":"latest"}]}"#,
            "\n",
            "images=busybox nginx\n",
            "removed=app\n",
        )
    );
}

#[test]
fn unknown_revision_names_it() {
    let fixture = catalog();

    let output = fixture.changed(&["--base", "no-such-branch"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`no-such-branch` not found"),
        "stderr:\n{stderr}"
    );
    assert!(stderr.contains("fetch-depth: 0"), "stderr:\n{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn outside_repository_fails() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        dir.path().join("catalog.yaml"),
        "registry: ghcr.io\nnamespace: example/images\narchs: [amd64, arm64]\n",
    )
    .expect("write catalog.yaml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(dir.path())
        .arg("changed")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the xtask binary");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no git repository found"),
        "stderr:\n{stderr}"
    );
}
