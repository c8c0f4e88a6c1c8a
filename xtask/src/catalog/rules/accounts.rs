//! Consistency of `accounts`: unique names and ids, groups that exist, and a `run-as`
//! that names a declared user.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::catalog::apko::{Accounts, IdOrName};
use crate::catalog::diagnostic::{Diagnostic, Diagnostics};

/// Users every apko image has without declaring them (`root`, uid 0).
const BUILTIN_USERS: [(&str, u32); 1] = [("root", 0)];

/// Checks the `accounts` block of one file. Names and ids it refers to may be declared in
/// `merged`, the accounts of the whole include chain.
pub fn check_accounts(
    accounts: &Accounts,
    merged: &Accounts,
    path: &Path,
    diagnostics: &mut Diagnostics,
) {
    let mut group_ids: BTreeMap<u32, &str> = BTreeMap::new();
    let mut group_names: BTreeMap<&str, u32> = BTreeMap::new();
    for group in &accounts.groups {
        let name = group.groupname.value.as_str();
        if group_names.insert(name, group.gid.value).is_some() {
            diagnostics.push(Diagnostic::error(
                path,
                group.groupname.referenced.into(),
                format!("group `{name}` is declared twice"),
            ));
        }
        if let Some(other) = group_ids.insert(group.gid.value, name) {
            diagnostics.push(Diagnostic::error(
                path,
                group.gid.referenced.into(),
                format!(
                    "gid {} is used by groups `{other}` and `{name}`",
                    group.gid.value
                ),
            ));
        }
    }
    let merged_gids: BTreeSet<u32> = merged.groups.iter().map(|group| group.gid.value).collect();
    let mut user_ids: BTreeMap<u32, &str> = BTreeMap::new();
    let mut user_names: BTreeMap<&str, u32> = BTreeMap::new();
    for user in &accounts.users {
        let name = user.username.value.as_str();
        if user_names.insert(name, user.uid.value).is_some() {
            diagnostics.push(Diagnostic::error(
                path,
                user.username.referenced.into(),
                format!("user `{name}` is declared twice"),
            ));
        }
        if let Some(other) = user_ids.insert(user.uid.value, name) {
            diagnostics.push(Diagnostic::error(
                path,
                user.uid.referenced.into(),
                format!(
                    "uid {} is used by users `{other}` and `{name}`",
                    user.uid.value
                ),
            ));
        }
        if let Some(gid) = &user.gid
            && gid.value != 0
            && !merged_gids.contains(&gid.value)
        {
            diagnostics.push(
                Diagnostic::error(
                    path,
                    gid.referenced.into(),
                    format!(
                        "user `{name}` has gid {}, which no group declares",
                        gid.value
                    ),
                )
                .with_hint(format!(
                    "add a group with `gid: {}` under `accounts.groups`",
                    gid.value
                )),
            );
        }
    }
    let merged_users: BTreeMap<&str, u32> = merged
        .users
        .iter()
        .map(|user| (user.username.value.as_str(), user.uid.value))
        .collect();
    let merged_uids: BTreeMap<u32, &str> = merged
        .users
        .iter()
        .map(|user| (user.uid.value, user.username.value.as_str()))
        .collect();
    for group in &accounts.groups {
        for member in &group.members {
            if !merged_users.contains_key(member.value.as_str()) && member.value != "root" {
                diagnostics.push(Diagnostic::error(
                    path,
                    member.referenced.into(),
                    format!(
                        "group `{}` lists member `{}`, which no user declares",
                        group.groupname.value, member.value
                    ),
                ));
            }
        }
    }
    if let Some(run_as) = &accounts.run_as {
        let known = match &run_as.value {
            IdOrName::Id(uid) => is_known_uid(*uid, &merged_uids),
            IdOrName::Name(name) => match name.parse::<u32>() {
                Ok(uid) => is_known_uid(uid, &merged_uids),
                Err(_) => {
                    merged_users.contains_key(name.as_str())
                        || BUILTIN_USERS.iter().any(|(n, _)| n == name)
                }
            },
        };
        if !known {
            diagnostics.push(
                Diagnostic::error(
                    path,
                    run_as.referenced.into(),
                    format!("`run-as` names `{}`, which no user declares", run_as.value),
                )
                .with_hint(
                    "declare the user under `accounts.users`, or run as one that is declared",
                ),
            );
        }
    }
}

fn is_known_uid(uid: u32, user_ids: &BTreeMap<u32, &str>) -> bool {
    user_ids.contains_key(&uid) || BUILTIN_USERS.iter().any(|(_, id)| *id == uid)
}
