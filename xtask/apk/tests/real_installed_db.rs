//! The installed database against databases taken from real images.

mod common;

use apk::{parse_installed_db, write_installed_db};

#[test]
fn apk_tools_databases_round_trip_byte_for_byte() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let path = fixtures.join("installed-db/redis-operator-compat");
    let text = fs_err::read_to_string(path).expect("read");
    let packages = parse_installed_db(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(packages.len(), 16);
    assert_eq!(write_installed_db(&packages), text);
}

#[test]
fn folder_mode_after_file_line_is_read() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    // This database has `M:` after the first `R:` of its folder, and no final blank
    // line. The reader accepts that, and the writer puts `M:` right after `F:`.
    let text =
        fs_err::read_to_string(fixtures.join("installed-db/bad-top-level-perms")).expect("read");
    let packages = parse_installed_db(&text).expect("parse");
    let root = &packages[0].dirs[0];
    assert_eq!(root.path, "");
    assert_eq!(root.acl.as_ref().map(|acl| acl.mode), Some(0o711));
    let written = write_installed_db(&packages);
    assert!(
        written.contains("F:\nM:0:0:711\nR:operator\na:0:0:777\n"),
        "{written}"
    );
}

#[test]
fn apko_database_parses() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let text = fs_err::read_to_string(fixtures.join("installed-db/wolfi-base")).expect("read");
    let packages = parse_installed_db(&text).expect("parse");
    assert_eq!(packages.len(), 15);
    let baselayout = &packages[0];
    assert_eq!(baselayout.info.name, "wolfi-baselayout");
    let etc = &baselayout.dirs[0];
    assert_eq!(etc.path, "etc");
    let mtab = etc.files.iter().find(|f| f.name == "mtab").expect("mtab");
    assert_eq!(mtab.acl.as_ref().map(|a| a.mode), Some(0o777));
    // Reparsing the apk-tools rendering gives the same content.
    let reparsed = parse_installed_db(&write_installed_db(&packages)).expect("reparse");
    assert_eq!(reparsed, packages);
}
