//! The apko image configuration format (`configs/*.apko.yaml`), mirrored field for field
//! so that unknown keys are rejected. Field names follow apko's YAML keys.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

/// One apko configuration file as written, before `include` is resolved.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageConfig {
    #[serde(default)]
    pub contents: Contents,
    pub entrypoint: Option<Entrypoint>,
    pub cmd: Option<String>,
    pub stop_signal: Option<String>,
    pub work_dir: Option<Spanned<String>>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    pub accounts: Option<Accounts>,
    #[serde(default)]
    pub paths: Vec<PathEntry>,
    #[serde(default)]
    pub archs: Vec<Spanned<String>>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub volumes: Vec<String>,
    pub vcs_url: Option<String>,
    /// Another config file this one extends, relative to the working directory.
    pub include: Option<Spanned<String>>,
    pub os_release: Option<OsRelease>,
}

/// `contents`: where packages come from and which ones to install.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contents {
    #[serde(default)]
    pub repositories: Vec<Spanned<String>>,
    /// Repositories used while building but not written into the image.
    #[serde(default)]
    pub build_repositories: Vec<Spanned<String>>,
    /// Repositories written into the image's `/etc/apk/repositories` only.
    #[serde(default)]
    pub runtime_repositories: Vec<Spanned<String>>,
    #[serde(default)]
    pub keyring: Vec<Spanned<String>>,
    /// Package constraints in apk syntax: `name`, `name=1.2-r0`, `name>1`, `name@tag`.
    #[serde(default)]
    pub packages: Vec<Spanned<String>>,
}

/// `entrypoint`: a command, or a service bundle run by a supervisor.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Entrypoint {
    /// `service-bundle` selects the s6 supervisor; absent means a plain command.
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    pub command: Option<String>,
    pub shell_fragment: Option<String>,
    /// Service name to command line, for `type: service-bundle`.
    #[serde(default)]
    pub services: BTreeMap<String, String>,
}

/// `accounts`: users and groups appended to the image's `/etc/passwd` and `/etc/group`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Accounts {
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    /// User name or numeric uid the image runs as.
    pub run_as: Option<Spanned<IdOrName>>,
}

/// A uid or user name: YAML writes `run-as: 65532` and `run-as: nonroot` alike.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum IdOrName {
    Id(u32),
    Name(String),
}

impl std::fmt::Display for IdOrName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdOrName::Id(id) => write!(f, "{id}"),
            IdOrName::Name(name) => f.write_str(name),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub username: Spanned<String>,
    pub uid: Spanned<u32>,
    /// Primary group id; apko defaults it to the uid when absent.
    pub gid: Option<Spanned<u32>>,
    pub shell: Option<String>,
    pub homedir: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub groupname: Spanned<String>,
    pub gid: Spanned<u32>,
    #[serde(default)]
    pub members: Vec<Spanned<String>>,
}

/// One `paths` entry: a file-system object apko creates or changes after installing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathEntry {
    pub path: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    #[serde(default)]
    pub uid: u32,
    #[serde(default)]
    pub gid: u32,
    /// Mode bits, written in octal in YAML (`0o755` or `0755`).
    pub permissions: Option<Spanned<u32>>,
    /// Link target for `hardlink` and `symlink` entries.
    pub source: Option<Spanned<String>>,
    #[serde(default)]
    pub recursive: bool,
}

/// Kinds of `paths` entries apko knows.
pub const PATH_KINDS: [&str; 5] = [
    "directory",
    "empty-file",
    "hardlink",
    "symlink",
    "permissions",
];

/// `os-release`: fields written to `/etc/os-release`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OsRelease {
    pub id: Option<String>,
    pub name: Option<String>,
    pub pretty_name: Option<String>,
    pub version_id: Option<String>,
    pub home_url: Option<String>,
    pub bug_report_url: Option<String>,
}

impl ImageConfig {
    /// Merges `self` over `base` the way apko applies `include`: lists are appended
    /// (base first), maps merged with `self` winning, and scalars taken from `self` when set.
    pub fn merged_over(self, base: ImageConfig) -> ImageConfig {
        ImageConfig {
            contents: Contents {
                repositories: concat(base.contents.repositories, self.contents.repositories),
                build_repositories: concat(
                    base.contents.build_repositories,
                    self.contents.build_repositories,
                ),
                runtime_repositories: concat(
                    base.contents.runtime_repositories,
                    self.contents.runtime_repositories,
                ),
                keyring: concat(base.contents.keyring, self.contents.keyring),
                packages: concat(base.contents.packages, self.contents.packages),
            },
            entrypoint: self.entrypoint.or(base.entrypoint),
            cmd: self.cmd.or(base.cmd),
            stop_signal: self.stop_signal.or(base.stop_signal),
            work_dir: self.work_dir.or(base.work_dir),
            environment: merge_maps(base.environment, self.environment),
            accounts: match (base.accounts, self.accounts) {
                (Some(base), Some(own)) => Some(Accounts {
                    users: concat(base.users, own.users),
                    groups: concat(base.groups, own.groups),
                    run_as: own.run_as.or(base.run_as),
                }),
                (base, own) => own.or(base),
            },
            paths: concat(base.paths, self.paths),
            archs: if self.archs.is_empty() {
                base.archs
            } else {
                self.archs
            },
            annotations: merge_maps(base.annotations, self.annotations),
            volumes: concat(base.volumes, self.volumes),
            vcs_url: self.vcs_url.or(base.vcs_url),
            include: None,
            os_release: self.os_release.or(base.os_release),
        }
    }

    /// Names of the packages the config installs, without version constraints or
    /// repository tags, skipping conflicts (`!name`).
    pub fn package_names(&self) -> Vec<String> {
        self.contents
            .packages
            .iter()
            .filter_map(|constraint| package_name(&constraint.value))
            .map(str::to_string)
            .collect()
    }
}

/// Returns the package name of an apk constraint such as `nginx>=1.24@local`, or `None`
/// for a conflict (`!name`), which installs nothing.
pub fn package_name(constraint: &str) -> Option<&str> {
    let constraint = constraint.trim();
    if constraint.starts_with('!') {
        return None;
    }
    let end = constraint
        .find(['=', '<', '>', '~', '@'])
        .unwrap_or(constraint.len());
    Some(&constraint[..end])
}

/// Returns the repository tag of a constraint (`name@local` gives `local`).
pub fn package_tag(constraint: &str) -> Option<&str> {
    constraint.split_once('@').map(|(_, tag)| tag.trim())
}

fn concat<T>(mut first: Vec<T>, second: Vec<T>) -> Vec<T> {
    first.extend(second);
    first
}

fn merge_maps(
    mut base: BTreeMap<String, String>,
    own: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    base.extend(own);
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_name_strips_constraints() {
        assert_eq!(package_name("nginx"), Some("nginx"));
        assert_eq!(package_name("nginx=1.24.0-r0"), Some("nginx"));
        assert_eq!(
            package_name("so:libc.musl-x86_64.so.1>=1"),
            Some("so:libc.musl-x86_64.so.1")
        );
        assert_eq!(package_name("busybox@local"), Some("busybox"));
        assert_eq!(package_name("foo~1.2"), Some("foo"));
        assert_eq!(package_name("!bar"), None);
    }

    #[test]
    fn package_tag_is_after_at() {
        assert_eq!(package_tag("busybox@local"), Some("local"));
        assert_eq!(package_tag("busybox>1@edge"), Some("edge"));
        assert_eq!(package_tag("busybox"), None);
    }
}
