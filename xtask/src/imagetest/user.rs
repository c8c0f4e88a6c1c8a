//! The image's `User`, resolved to numeric ids against the image's own `/etc/passwd` and
//! `/etc/group`, as Docker resolves it when it starts a container.

use std::path::Path;

use anyhow::{Context as _, bail};

/// The ids and home folder a container process runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUser {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home folder from `/etc/passwd`, else `/`.
    pub home: String,
}

/// One `/etc/passwd` line.
struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

/// Resolves `user` (`name`, `uid`, `name:group` or `uid:gid`; empty means root).
/// A name must exist in the image; a numeric uid need not, and then its group is 0, as
/// in Docker. Supplementary groups are not looked up.
pub fn resolve_user(user: Option<&str>, rootfs: &Path) -> anyhow::Result<ImageUser> {
    let spec = user.unwrap_or("").trim();
    let (user_part, group_part) = match spec.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (spec, None),
    };
    let passwd = read_passwd(rootfs)?;
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let entry = match user_part.parse::<u32>() {
        Ok(uid) => passwd.iter().find(|entry| entry.uid == uid),
        Err(_) => Some(
            passwd
                .iter()
                .find(|entry| entry.name == user_part)
                .with_context(|| {
                    format!("image user `{user_part}` is not in the image's /etc/passwd")
                })?,
        ),
    };
    let uid = match (user_part.parse::<u32>(), entry) {
        (Ok(uid), _) => uid,
        (Err(_), Some(entry)) => entry.uid,
        (Err(_), None) => bail!("image user `{user_part}` is not in the image's /etc/passwd"),
    };
    let gid = match group_part {
        None | Some("") => entry.map_or(0, |entry| entry.gid),
        Some(group) => match group.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => group_id(rootfs, group)?,
        },
    };
    let home = entry.map_or_else(|| "/".to_owned(), |entry| entry.home.clone());
    Ok(ImageUser { uid, gid, home })
}

fn read_passwd(rootfs: &Path) -> anyhow::Result<Vec<PasswdEntry>> {
    let path = rootfs.join("etc/passwd");
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error.into()),
    };
    Ok(text
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            let [name, _, uid, gid, _, home, ..] = fields.as_slice() else {
                return None;
            };
            Some(PasswdEntry {
                name: (*name).to_owned(),
                uid: uid.parse().ok()?,
                gid: gid.parse().ok()?,
                home: (*home).to_owned(),
            })
        })
        .collect())
}

fn group_id(rootfs: &Path, group: &str) -> anyhow::Result<u32> {
    let path = rootfs.join("etc/group");
    let text = fs_err::read_to_string(&path)
        .with_context(|| format!("image group `{group}` cannot be looked up without /etc/group"))?;
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            match fields.as_slice() {
                [name, _, gid, ..] if *name == group => gid.parse().ok(),
                _ => None,
            }
        })
        .next()
        .with_context(|| format!("image group `{group}` is not in the image's /etc/group"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("etc")).expect("etc");
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/bin/sh\n",
        )
        .expect("passwd");
        std::fs::write(dir.path().join("etc/group"), "root:x:0:\nwww:x:33:\n").expect("group");
        dir
    }

    #[test]
    fn user_forms_resolve() {
        let dir = rootfs();
        let cases = [
            (None, 0, 0, "/root"),
            (Some("nonroot"), 65532, 65532, "/home/nonroot"),
            (Some("65532"), 65532, 65532, "/home/nonroot"),
            (Some("1000"), 1000, 0, "/"),
            (Some("nonroot:www"), 65532, 33, "/home/nonroot"),
            (Some("1000:5"), 1000, 5, "/"),
        ];
        for (spec, uid, gid, home) in cases {
            let user = resolve_user(spec, dir.path()).expect("resolve");
            assert_eq!(
                (user.uid, user.gid, user.home.as_str()),
                (uid, gid, home),
                "{spec:?}"
            );
        }
    }

    #[test]
    fn unknown_names_fail() {
        let dir = rootfs();
        let error = resolve_user(Some("nobody"), dir.path()).expect_err("unknown user");
        assert!(error.to_string().contains("`nobody`"), "{error}");
        let error = resolve_user(Some("0:staff"), dir.path()).expect_err("unknown group");
        assert!(error.to_string().contains("`staff`"), "{error}");
    }
}
