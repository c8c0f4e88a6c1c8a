//! The changed paths that the git layer reports, without the dependency graph.

use std::collections::BTreeSet;
use std::path::PathBuf;

use xtask::changes::{Revisions, git};

use crate::fixture::Fixture;

fn paths(fixture: &Fixture, revisions: &Revisions) -> Vec<String> {
    let comparison = git::compare(fixture.root(), revisions).expect("compare revisions");
    comparison
        .paths
        .iter()
        .map(|path| path.display().to_string())
        .collect()
}

#[test]
fn rename_counts_both_paths() {
    let fixture = Fixture::new();
    fixture.write("a/file.txt", "content\n");
    fixture.commit("Add a file");
    fixture.rename("a", "b");
    fixture.commit("Move the file");

    assert_eq!(
        paths(&fixture, &Revisions::default()),
        ["a/file.txt", "b/file.txt"]
    );
}

#[test]
fn root_commit_lists_every_file() {
    let fixture = Fixture::new();
    fixture.write("one.txt", "1\n");
    fixture.write("dir/two.txt", "2\n");
    fixture.commit("Add files");

    let comparison = git::compare(fixture.root(), &Revisions::default()).expect("compare");
    assert_eq!(comparison.base, None);
    assert_eq!(
        comparison.paths,
        BTreeSet::from([PathBuf::from("dir/two.txt"), PathBuf::from("one.txt")])
    );
}

#[test]
fn working_tree_counts_staged_unstaged_untracked() {
    let fixture = Fixture::new();
    fixture.write("staged.txt", "1\n");
    fixture.write("unstaged.txt", "1\n");
    fixture.write("deleted.txt", "1\n");
    fixture.commit("Add files");
    fixture.write("README", "words\n");
    fixture.commit("Add a readme");

    fixture.write("staged.txt", "2\n");
    let mut index = fixture.repo.index().expect("open the index");
    index
        .add_path(std::path::Path::new("staged.txt"))
        .expect("stage");
    index.write().expect("write the index");
    fixture.write("unstaged.txt", "2\n");
    fixture.remove("deleted.txt");
    fixture.write("new/untracked.txt", "1\n");

    let revisions = Revisions {
        working_tree: true,
        ..Revisions::default()
    };
    assert_eq!(
        paths(&fixture, &revisions),
        [
            "README",
            "deleted.txt",
            "new/untracked.txt",
            "staged.txt",
            "unstaged.txt"
        ]
    );
    assert_eq!(paths(&fixture, &Revisions::default()), ["README"]);
}

#[test]
fn catalog_in_subfolder_strips_prefix() {
    let fixture = Fixture::new();
    fixture.write("catalog/images/a/image.yaml", "versions: []\n");
    fixture.write("other/file.txt", "1\n");
    fixture.commit("Add files");

    let comparison =
        git::compare(&fixture.path("catalog"), &Revisions::default()).expect("compare");
    let found: Vec<PathBuf> = comparison.paths.into_iter().collect();
    assert_eq!(found, [PathBuf::from("images/a/image.yaml")]);
}

#[test]
fn head_revision_is_respected() {
    let fixture = Fixture::new();
    fixture.write("one.txt", "1\n");
    let first = fixture.commit("Add one");
    fixture.write("two.txt", "2\n");
    let second = fixture.commit("Add two");
    fixture.write("three.txt", "3\n");
    fixture.commit("Add three");

    let revisions = Revisions {
        base: Some(first.to_string()),
        head: Some(second.to_string()),
        working_tree: false,
    };
    assert_eq!(paths(&fixture, &revisions), ["two.txt"]);
}

#[test]
fn unborn_head_is_an_error() {
    let fixture = Fixture::new();
    let error = git::compare(fixture.root(), &Revisions::default()).expect_err("no commit yet");
    assert!(matches!(error, git::GitError::UnbornHead), "{error}");
}
