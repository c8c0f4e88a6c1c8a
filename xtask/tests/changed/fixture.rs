//! Throwaway git repositories holding a small catalog, built with git2 and a fixed
//! author so that no global git configuration is read for commits.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use git2::{IndexAddOption, Oid, Repository, Signature, Time};
use tempfile::TempDir;

/// A repository in a temporary folder whose `HEAD` starts on branch `main`.
pub struct Fixture {
    dir: TempDir,
    pub repo: Repository,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let repo = Repository::init(dir.path()).expect("initialize a repository");
        repo.set_head("refs/heads/main")
            .expect("point HEAD at main");
        Fixture { dir, repo }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file; scripts (text starting with `#!`) are made executable, as the
    /// catalog requires of image tests.
    pub fn write(&self, path: &str, text: &str) {
        let path = self.root().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("create folders");
        std::fs::write(&path, text).expect("write a file");
        if text.starts_with("#!") {
            let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
            std::fs::set_permissions(&path, mode).expect("make the script executable");
        }
    }

    pub fn remove(&self, path: &str) {
        let path = self.root().join(path);
        if path.is_dir() {
            std::fs::remove_dir_all(path).expect("remove a folder");
        } else {
            std::fs::remove_file(path).expect("remove a file");
        }
    }

    pub fn rename(&self, from: &str, to: &str) {
        std::fs::rename(self.root().join(from), self.root().join(to)).expect("rename");
    }

    /// Stages every change, deletions included, and commits it on `HEAD`.
    pub fn commit(&self, message: &str) -> Oid {
        let parents = self.head().into_iter().collect::<Vec<_>>();
        self.commit_with_parents(message, &parents)
    }

    /// Commits the working tree with the given parents, as a merge does when there are
    /// two.
    pub fn commit_with_parents(&self, message: &str, parents: &[Oid]) -> Oid {
        let mut index = self.repo.index().expect("open the index");
        index
            .add_all(["*"], IndexAddOption::DEFAULT, None)
            .expect("stage files");
        index.update_all(["*"], None).expect("stage deletions");
        index.write().expect("write the index");
        let tree = self
            .repo
            .find_tree(index.write_tree().expect("write a tree"))
            .expect("read the tree");

        let signature = Signature::new("Test", "test@example.com", &Time::new(1_700_000_000, 0))
            .expect("a signature");
        let parents = parents
            .iter()
            .map(|oid| self.repo.find_commit(*oid).expect("a parent commit"))
            .collect::<Vec<_>>();
        let parent_refs = parents.iter().collect::<Vec<_>>();
        self.repo
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                message,
                &tree,
                &parent_refs,
            )
            .expect("commit")
    }

    pub fn head(&self) -> Option<Oid> {
        self.repo.head().ok().and_then(|head| head.target())
    }

    pub fn set_ref(&self, name: &str, oid: Oid) {
        self.repo
            .reference(name, oid, true, "test")
            .expect("set a reference");
    }

    /// Creates branch `name` at `oid` and checks it out, replacing the working tree.
    pub fn checkout_new_branch(&self, name: &str, oid: Oid) {
        let commit = self.repo.find_commit(oid).expect("the branch commit");
        self.repo
            .branch(name, &commit, true)
            .expect("create a branch");
        self.checkout(name);
    }

    pub fn checkout(&self, branch: &str) {
        self.repo
            .set_head(&format!("refs/heads/{branch}"))
            .expect("point HEAD at the branch");
        let mut options = git2::build::CheckoutBuilder::new();
        options.force().remove_untracked(true);
        self.repo
            .checkout_head(Some(&mut options))
            .expect("check out the branch");
    }

    /// Runs `cargo xtask -C <root> changed ARGS` with logging reduced to warnings and
    /// no `GITHUB_OUTPUT` inherited from the environment.
    pub fn changed(&self, args: &[&str]) -> Output {
        self.changed_with_env(args, None)
    }

    pub fn changed_with_env(&self, args: &[&str], github_output: Option<&Path>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .arg("-C")
            .arg(self.root())
            .arg("changed")
            .args(args)
            .env("RUST_LOG", "warn")
            .env_remove("GITHUB_OUTPUT");
        if let Some(path) = github_output {
            command.env("GITHUB_OUTPUT", path);
        }
        command.output().expect("run the xtask binary")
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }
}

/// Writes a catalog of three images and two local recipes, and commits it.
///
/// - `nginx` has variants `latest` and `dev`; `dev` includes the `latest` config.
/// - `app` installs local package `app`, whose recipe needs `libfoo-dev` at build time,
///   a subpackage of local recipe `libfoo`.
/// - `busybox` installs only upstream packages.
pub fn catalog() -> Fixture {
    let fixture = Fixture::new();
    fixture.write(
        "catalog.yaml",
        "registry: ghcr.io\nnamespace: example/images\narchs: [amd64, arm64]\n",
    );
    fixture.write("README.md", "# Catalog\n");
    fixture.write("docs/guide.md", "# Guide\n");

    fixture.write(
        "images/nginx/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n      extractTagsFrom:\n        package: nginx\n  - apko:\n      config: configs/dev.apko.yaml\n      extractTagsFrom:\n        package: nginx\n        prefix: dev-\n",
    );
    fixture.write(
        "images/nginx/configs/latest.apko.yaml",
        &config("- nginx=1.24.0-r0\n    - ca-certificates-bundle"),
    );
    fixture.write(
        "images/nginx/configs/dev.apko.yaml",
        "include: images/nginx/configs/latest.apko.yaml\ncontents:\n  packages:\n    - busybox\n",
    );
    fixture.write("images/nginx/tests/run.sh", "#!/bin/sh\n");
    fixture.write("images/nginx/README.md", "# nginx\n");

    fixture.write(
        "images/app/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n      extractTagsFrom:\n        package: app\n",
    );
    fixture.write(
        "images/app/configs/latest.apko.yaml",
        &config("- app@local\n    - ca-certificates-bundle"),
    );

    fixture.write(
        "images/busybox/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n      extractTagsFrom:\n        package: busybox\n",
    );
    fixture.write(
        "images/busybox/configs/latest.apko.yaml",
        &config("- busybox>1.36"),
    );

    fixture.write(
        "packages/app.yaml",
        "package:\n  name: app\n  version: 1.0.0\n  epoch: 0\n  dependencies:\n    runtime: [ca-certificates-bundle]\nenvironment:\n  contents:\n    packages: [build-base, libfoo-dev]\n",
    );
    fixture.write(
        "packages/libfoo.yaml",
        "package:\n  name: libfoo\n  version: 2.1.0\n  epoch: 3\nsubpackages:\n  - name: libfoo-dev\n    dependencies:\n      runtime: [libfoo]\n",
    );
    fixture.write("packages/libfoo/fix-build.patch", "--- a\n+++ b\n");
    fixture.commit("Add the catalog");
    fixture
}

/// Returns an apko config that installs `packages`, a YAML list indented by four
/// spaces, from the distribution and from the local repository tagged `@local`.
pub fn config(packages: &str) -> String {
    format!(
        "contents:\n  repositories:\n    - https://packages.wolfi.dev/os\n    - '@local out/packages'\n  keyring: [https://packages.wolfi.dev/os/wolfi-signing.rsa.pub]\n  packages:\n    {packages}\n"
    )
}
