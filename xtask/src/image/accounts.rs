//! Accounts: users and groups from the config appended to the packages' own
//! `/etc/passwd` and `/etc/group`, locked `/etc/shadow` entries for the new users, and
//! home folders, following apko's account rules (shell `/bin/sh`, home `/home/<name>`
//! and gid equal to the uid unless given, GECOS `Account created by apko`).

use crate::catalog::apko::{Accounts, IdOrName};

use super::error::BuildError;
use super::tree::{Node, NodeKind, Spool, Tree, normalize, parent_of};

/// GECOS field apko writes for the users it creates; kept so images match apko's.
const GECOS: &str = "Account created by apko";

/// One `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// User name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home folder.
    pub home: String,
}

/// Appends the config's accounts to the tree and creates home folders. Returns every
/// `/etc/passwd` entry, packages' first, for resolving `run-as`.
pub fn write_accounts(
    tree: &mut Tree,
    spool: &Spool,
    accounts: Option<&Accounts>,
) -> Result<Vec<PasswdEntry>, BuildError> {
    let empty = Accounts::default();
    let accounts = accounts.unwrap_or(&empty);
    if !accounts.groups.is_empty() {
        let lines: Vec<String> = accounts
            .groups
            .iter()
            .map(|group| {
                let members: Vec<&str> = group.members.iter().map(|m| m.value.as_str()).collect();
                format!(
                    "{}:x:{}:{}",
                    group.groupname.value,
                    group.gid.value,
                    members.join(",")
                )
            })
            .collect();
        append_lines(tree, spool, "etc/group", &lines)?;
    }
    let new_lines: Vec<String> = accounts.users.iter().map(user_line).collect();
    let passwd = append_lines(tree, spool, "etc/passwd", &new_lines)?;
    if !accounts.users.is_empty() {
        let shadow: Vec<String> = accounts
            .users
            .iter()
            .map(|user| format!("{}:!:::::::", user.username.value))
            .collect();
        append_lines(tree, spool, "etc/shadow", &shadow)?;
    }
    let entries = parse_passwd(&passwd)?;
    for entry in &entries {
        create_home(tree, entry)?;
    }
    Ok(entries)
}

fn user_line(user: &crate::catalog::apko::User) -> String {
    let uid = user.uid.value;
    let gid = user.gid.as_ref().map_or(uid, |gid| gid.value);
    let name = &user.username.value;
    let home = user
        .homedir
        .clone()
        .unwrap_or_else(|| format!("/home/{name}"));
    let shell = user.shell.as_deref().unwrap_or("/bin/sh");
    format!("{name}:x:{uid}:{gid}:{GECOS}:{home}:{shell}")
}

/// Appends `lines` to the file at `path` (creating it when no package did) and returns
/// the new content. The file keeps the mode and owner the package gave it.
fn append_lines(
    tree: &mut Tree,
    spool: &Spool,
    path: &str,
    lines: &[String],
) -> Result<String, BuildError> {
    let (mut text, mode) = match tree.get(path) {
        Some(Node {
            kind: NodeKind::File(content),
            mode,
            ..
        }) => {
            let bytes = spool
                .read_all(content)
                .map_err(BuildError::io(format!("/{path}")))?;
            (String::from_utf8_lossy(&bytes).into_owned(), *mode)
        }
        Some(_) => {
            return Err(BuildError::ImageFile {
                path: path.to_owned(),
                message: "is not a regular file".to_owned(),
            });
        }
        None => (
            String::new(),
            if path == "etc/shadow" { 0o640 } else { 0o644 },
        ),
    };
    if lines.is_empty() && tree.get(path).is_some() {
        return Ok(text);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    let mut node = tree
        .get(path)
        .cloned()
        .unwrap_or_else(|| Node::file(mode, Vec::new()));
    node.kind = NodeKind::File(super::tree::Content::Inline(text.clone().into_bytes()));
    tree.insert(path, node);
    Ok(text)
}

/// Parses `/etc/passwd` text; blank lines and `#` comments are skipped.
pub fn parse_passwd(text: &str) -> Result<Vec<PasswdEntry>, BuildError> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let invalid = |what: &str| BuildError::ImageFile {
            path: "etc/passwd".to_owned(),
            message: format!("line {}: {what}: `{line}`", index + 1),
        };
        let fields: Vec<&str> = line.split(':').collect();
        let [name, _, uid, gid, _, home, _] = fields.as_slice() else {
            return Err(invalid("expected 7 fields separated by `:`"));
        };
        entries.push(PasswdEntry {
            name: (*name).to_owned(),
            uid: uid.parse().map_err(|_| invalid("invalid uid"))?,
            gid: gid.parse().map_err(|_| invalid("invalid gid"))?,
            home: (*home).to_owned(),
        });
    }
    Ok(entries)
}

/// Creates a user's home folder (mode 0700, owned by the user) with missing parents
/// (0755, root), unless it exists. `/dev/null` means no home.
fn create_home(tree: &mut Tree, entry: &PasswdEntry) -> Result<(), BuildError> {
    if entry.home == "/dev/null" || entry.home.is_empty() {
        return Ok(());
    }
    let path = normalize(&entry.home).map_err(|error| BuildError::ImageFile {
        path: "etc/passwd".to_owned(),
        message: format!("home folder `{}` of `{}`: {error}", entry.home, entry.name),
    })?;
    match tree.get(&path) {
        Some(node) if node.is_dir() => return Ok(()),
        Some(_) => {
            return Err(BuildError::ImageFile {
                path: path.clone(),
                message: format!("home folder of `{}` exists but is not a folder", entry.name),
            });
        }
        None => {}
    }
    if let Some(parent) = parent_of(&path)
        && !tree.create_dir_all(parent, 0o755)
    {
        return Err(BuildError::ImageFile {
            path: parent.to_owned(),
            message: format!(
                "parent of the home folder of `{}` is not a folder",
                entry.name
            ),
        });
    }
    let mut node = Node::directory(0o700);
    node.uid = u64::from(entry.uid);
    node.gid = u64::from(entry.gid);
    tree.insert(&path, node);
    Ok(())
}

/// Returns the OCI `User` for `run-as`: a name found in `/etc/passwd` becomes its uid,
/// as apko does; other values are kept as written.
pub fn run_as_user(run_as: &IdOrName, entries: &[PasswdEntry]) -> String {
    match run_as {
        IdOrName::Id(uid) => uid.to_string(),
        IdOrName::Name(name) => entries
            .iter()
            .find(|entry| entry.name == *name)
            .map_or_else(|| name.clone(), |entry| entry.uid.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_parse_reads_fields() {
        let entries =
            parse_passwd("root:x:0:0:root:/root:/bin/sh\n\n# comment\n").expect("valid passwd");
        assert_eq!(
            entries,
            vec![PasswdEntry {
                name: "root".to_owned(),
                uid: 0,
                gid: 0,
                home: "/root".to_owned()
            }]
        );
    }

    #[test]
    fn passwd_parse_rejects_short_line() {
        let error = parse_passwd("root:x:0:0\n").expect_err("short line");
        assert!(error.to_string().contains("line 1"), "{error}");
    }

    #[test]
    fn run_as_resolves_names() {
        let entries =
            parse_passwd("nonroot:x:65532:65532::/home/nonroot:/bin/sh\n").expect("valid passwd");
        let name = IdOrName::Name("nonroot".to_owned());
        assert_eq!(run_as_user(&name, &entries), "65532");
        let unknown = IdOrName::Name("nobody".to_owned());
        assert_eq!(run_as_user(&unknown, &entries), "nobody");
        assert_eq!(run_as_user(&IdOrName::Id(7), &entries), "7");
    }
}
