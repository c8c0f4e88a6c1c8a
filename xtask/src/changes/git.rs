//! The paths that differ between two revisions of a git repository, optionally plus
//! the uncommitted changes of its working tree.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use git2::{Commit, DiffOptions, ErrorCode, Oid, Repository, Tree};

/// The remote-tracking branch whose merge base with `HEAD` is the default base.
pub const DEFAULT_BASE_REF: &str = "refs/remotes/origin/main";

/// Hint shown when a revision is missing, which in CI usually means a shallow clone.
const FETCH_HINT: &str = "hint: fetch the revision first; in GitHub Actions, check out \
                          with `actions/checkout` and `fetch-depth: 0`";

/// The revisions to compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revisions {
    /// Base revision. The comparison starts at its merge base with the head, as in
    /// `git diff BASE...HEAD`. Without it: the merge base of the head with
    /// `origin/main` when that ref exists and does not contain the head, else the
    /// head's first parent, else (for a root commit) the empty tree.
    pub base: Option<String>,
    /// Head revision; `HEAD` when absent.
    pub head: Option<String>,
    /// Whether to add staged, unstaged and untracked (not ignored) changes, compared
    /// with the commit `HEAD` points to.
    pub working_tree: bool,
}

/// Errors of reading revisions and diffs.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// No repository contains the catalog root.
    #[error("no git repository found at or above `{path}`")]
    NotARepository {
        /// The catalog root.
        path: PathBuf,
        /// The libgit2 error.
        source: git2::Error,
    },
    /// A revision does not name a commit of the repository.
    #[error("revision `{revision}` not found ({detail})\n{FETCH_HINT}")]
    UnknownRevision {
        /// The revision as given.
        revision: String,
        /// The libgit2 message.
        detail: String,
    },
    /// `HEAD` names a branch that has no commit yet.
    #[error("`HEAD` does not point to a commit yet; commit something first")]
    UnbornHead,
    /// `--working-tree` on a bare repository.
    #[error("the repository at `{path}` is bare, so it has no working tree to compare")]
    BareRepository {
        /// The repository's git folder.
        path: PathBuf,
    },
    /// Any other libgit2 failure, with the step that failed.
    #[error("failed to {action}")]
    Git {
        /// The step, such as "compare the trees of `a` and `b`".
        action: String,
        /// The libgit2 error.
        source: git2::Error,
    },
}

/// The result of comparing two revisions.
pub struct Comparison {
    /// The commit the comparison starts from; `None` is the empty tree.
    pub base: Option<Oid>,
    /// The head commit.
    pub head: Oid,
    /// Whether uncommitted changes are included.
    pub working_tree: bool,
    /// Changed paths relative to the catalog root. A rename contributes its old and its
    /// new path, and a deletion its old path.
    pub paths: BTreeSet<PathBuf>,
    repo: Repository,
    /// The catalog root relative to the repository's working tree, empty when equal.
    prefix: PathBuf,
    /// The catalog root as given.
    root: PathBuf,
}

impl std::fmt::Debug for Comparison {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Comparison")
            .field("base", &self.base)
            .field("head", &self.head)
            .field("working_tree", &self.working_tree)
            .field("paths", &self.paths.len())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Comparison {
    /// Returns whether folder `dir` (relative to the catalog root) exists at the head:
    /// on disk when uncommitted changes are included, else in the head commit's tree.
    pub fn dir_exists_at_head(&self, dir: &Path) -> Result<bool, GitError> {
        if self.working_tree {
            return Ok(self.root.join(dir).is_dir());
        }
        let head = find_commit(&self.repo, self.head)?;
        let tree = commit_tree(&head)?;
        match tree.get_path(&self.prefix.join(dir)) {
            Ok(entry) => Ok(entry.kind() == Some(git2::ObjectType::Tree)),
            Err(error) if error.code() == ErrorCode::NotFound => Ok(false),
            Err(source) => Err(GitError::Git {
                action: format!("look up `{}` in the head tree", dir.display()),
                source,
            }),
        }
    }
}

/// Lists the paths that differ between the revisions, for the catalog at `root` (the
/// repository's working tree or a folder in it).
pub fn compare(root: &Path, revisions: &Revisions) -> Result<Comparison, GitError> {
    let repo = Repository::discover(root).map_err(|source| GitError::NotARepository {
        path: root.to_path_buf(),
        source,
    })?;
    let prefix = catalog_prefix(&repo, root);

    let (base, head, repo_paths) = diff_revisions(&repo, revisions)?;
    let paths = relative_to_catalog(repo_paths, &prefix);
    tracing::debug!(count = paths.len(), "changed paths in the catalog");
    Ok(Comparison {
        base,
        head,
        working_tree: revisions.working_tree,
        paths,
        prefix,
        root: root.to_path_buf(),
        repo,
    })
}

/// Returns the base commit (`None` for the empty tree), the head commit and the
/// changed paths relative to the repository's working tree.
fn diff_revisions(
    repo: &Repository,
    revisions: &Revisions,
) -> Result<(Option<Oid>, Oid, BTreeSet<PathBuf>), GitError> {
    let head = resolve_head(repo, revisions.head.as_deref())?;
    let base = resolve_base(repo, &head, revisions.base.as_deref())?;
    tracing::debug!(
        base = %base.as_ref().map_or("empty tree".to_string(), |commit| commit.id().to_string()),
        head = %head.id(),
        "comparing revisions"
    );

    let mut paths = BTreeSet::new();
    let base_tree = base.as_ref().map(commit_tree).transpose()?;
    diff_trees(repo, base_tree.as_ref(), &commit_tree(&head)?, &mut paths)?;
    if revisions.working_tree {
        diff_working_tree(repo, &mut paths)?;
    }
    Ok((base.map(|commit| commit.id()), head.id(), paths))
}

fn resolve_head<'r>(repo: &'r Repository, revision: Option<&str>) -> Result<Commit<'r>, GitError> {
    if let Some(revision) = revision {
        return resolve_commit(repo, revision);
    }
    match repo.head() {
        Ok(reference) => reference.peel_to_commit().map_err(|source| GitError::Git {
            action: "read the commit `HEAD` points to".to_string(),
            source,
        }),
        Err(error) if error.code() == ErrorCode::UnbornBranch => Err(GitError::UnbornHead),
        Err(source) => Err(GitError::Git {
            action: "read `HEAD`".to_string(),
            source,
        }),
    }
}

fn resolve_base<'r>(
    repo: &'r Repository,
    head: &Commit<'r>,
    revision: Option<&str>,
) -> Result<Option<Commit<'r>>, GitError> {
    if let Some(revision) = revision {
        // GitHub sends an all-zero `before` commit for a new branch or a push that has no
        // previous commit there: every file then counts as changed.
        if !revision.is_empty() && revision.bytes().all(|byte| byte == b'0') {
            tracing::debug!("base `{revision}` is the null commit, so the base is the empty tree");
            return Ok(None);
        }
        let base = resolve_commit(repo, revision)?;
        return Ok(Some(merge_base_or(repo, head, base)?));
    }

    match repo.find_reference(DEFAULT_BASE_REF) {
        Ok(reference) => {
            let main = reference.peel_to_commit().map_err(|source| GitError::Git {
                action: format!("read the commit `{DEFAULT_BASE_REF}` points to"),
                source,
            })?;
            let base = merge_base_or(repo, head, main)?;
            // On `main` itself (a push to main checks out the pushed commit, which
            // `origin/main` also names), the merge base is the head and the diff would be
            // empty, so the previous commit is the base instead.
            if base.id() != head.id() {
                tracing::debug!("base: merge base of the head with `{DEFAULT_BASE_REF}`");
                return Ok(Some(base));
            }
            tracing::debug!(
                "`{DEFAULT_BASE_REF}` contains the head, so the base is the previous commit"
            );
        }
        Err(error) if error.code() == ErrorCode::NotFound => {
            tracing::debug!("`{DEFAULT_BASE_REF}` not found, so the base is the previous commit");
        }
        Err(source) => {
            return Err(GitError::Git {
                action: format!("look up `{DEFAULT_BASE_REF}`"),
                source,
            });
        }
    }
    previous_commit(repo, head)
}

/// Returns the head's first parent, or `None` (the empty tree) for a root commit.
fn previous_commit<'r>(
    repo: &'r Repository,
    head: &Commit<'r>,
) -> Result<Option<Commit<'r>>, GitError> {
    if head.parent_count() == 0 {
        if repo.is_shallow() {
            tracing::warn!(
                "the head commit has no parent in this shallow clone, so every file counts \
                 as changed; {FETCH_HINT}"
            );
        } else {
            tracing::debug!("the head is a root commit, so every file counts as changed");
        }
        return Ok(None);
    }
    match head.parent(0) {
        Ok(parent) => Ok(Some(parent)),
        Err(error) => Err(GitError::UnknownRevision {
            revision: format!("{}~1", head.id()),
            detail: error.message().to_string(),
        }),
    }
}

/// Returns the merge base of `head` and `base`, or `base` itself when the two share
/// no history.
fn merge_base_or<'r>(
    repo: &'r Repository,
    head: &Commit<'r>,
    base: Commit<'r>,
) -> Result<Commit<'r>, GitError> {
    match repo.merge_base(head.id(), base.id()) {
        Ok(oid) => {
            tracing::debug!(base = %base.id(), merge_base = %oid, "comparing from the merge base");
            find_commit(repo, oid)
        }
        Err(error) if error.code() == ErrorCode::NotFound => {
            tracing::debug!(base = %base.id(), "no merge base with the head, so comparing from the base itself");
            Ok(base)
        }
        Err(source) => Err(GitError::Git {
            action: format!("find the merge base of `{}` and `{}`", head.id(), base.id()),
            source,
        }),
    }
}

fn resolve_commit<'r>(repo: &'r Repository, revision: &str) -> Result<Commit<'r>, GitError> {
    let unknown = |error: git2::Error| GitError::UnknownRevision {
        revision: revision.to_string(),
        detail: error.message().to_string(),
    };
    repo.revparse_single(revision)
        .map_err(unknown)?
        .peel_to_commit()
        .map_err(unknown)
}

fn find_commit(repo: &Repository, oid: Oid) -> Result<Commit<'_>, GitError> {
    repo.find_commit(oid).map_err(|source| GitError::Git {
        action: format!("read commit `{oid}`"),
        source,
    })
}

fn commit_tree<'r>(commit: &Commit<'r>) -> Result<Tree<'r>, GitError> {
    commit.tree().map_err(|source| GitError::Git {
        action: format!("read the tree of commit `{}`", commit.id()),
        source,
    })
}

/// Options shared by both diffs. Rename detection stays off: without it a rename is a
/// deletion plus an addition, which already yields both paths, and it costs time.
fn diff_options() -> DiffOptions {
    let mut options = DiffOptions::new();
    options.skip_binary_check(true).include_typechange(true);
    options
}

fn diff_trees(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    head: &Tree<'_>,
    paths: &mut BTreeSet<PathBuf>,
) -> Result<(), GitError> {
    let diff = repo
        .diff_tree_to_tree(base, Some(head), Some(&mut diff_options()))
        .map_err(|source| GitError::Git {
            action: "compare the base and head trees".to_string(),
            source,
        })?;
    collect_paths(&diff, paths);
    Ok(())
}

fn diff_working_tree(repo: &Repository, paths: &mut BTreeSet<PathBuf>) -> Result<(), GitError> {
    if repo.is_bare() {
        return Err(GitError::BareRepository {
            path: repo.path().to_path_buf(),
        });
    }
    let head = resolve_head(repo, None)?;
    let mut options = diff_options();
    options.include_untracked(true).recurse_untracked_dirs(true);
    let diff = repo
        .diff_tree_to_workdir_with_index(Some(&commit_tree(&head)?), Some(&mut options))
        .map_err(|source| GitError::Git {
            action: "compare `HEAD` with the index and the working tree".to_string(),
            source,
        })?;
    let before = paths.len();
    collect_paths(&diff, paths);
    tracing::debug!(
        added = paths.len() - before,
        "paths added by uncommitted changes"
    );
    Ok(())
}

fn collect_paths(diff: &git2::Diff<'_>, paths: &mut BTreeSet<PathBuf>) {
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(path) = file.path() {
                paths.insert(path.to_path_buf());
            }
        }
    }
}

/// Returns the catalog root relative to the repository's working tree. Both sides are
/// canonicalized because temporary folders are often reached through symbolic links.
fn catalog_prefix(repo: &Repository, root: &Path) -> PathBuf {
    let Some(workdir) = repo.workdir() else {
        return PathBuf::new();
    };
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    root.strip_prefix(&workdir)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Keeps the paths inside the catalog root, relative to it.
fn relative_to_catalog(paths: BTreeSet<PathBuf>, prefix: &Path) -> BTreeSet<PathBuf> {
    if prefix.as_os_str().is_empty() {
        return paths;
    }
    let total = paths.len();
    let inside: BTreeSet<PathBuf> = paths
        .into_iter()
        .filter_map(|path| path.strip_prefix(prefix).ok().map(Path::to_path_buf))
        .collect();
    tracing::debug!(
        outside = total - inside.len(),
        prefix = %prefix.display(),
        "ignoring changed paths outside the catalog root"
    );
    inside
}
