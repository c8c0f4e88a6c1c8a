use super::*;
use crate::package::{EntryOptions, Package, PackageBuilder, PackageFile};
use crate::version::Version;

const SAMPLE: &str = "\
C:Q1R4MwduR1pAnDMb+3kQscmyNxJPY=
P:compat
V:0.21.0-r1
A:x86_64
S:8129
I:24072
T:Compat package
U:
L:Apache-2.0
o:compat
m:wolfi
t:1752842988
c:b0ab5e2e7fad981f5ca302a7b7f999f307e1ba85
D:so:libc.so.6
r:libcrypt1<2.38-r15
s:edge
F:
M:0:0:711
R:operator
a:0:0:777
Z:Q1MpwFRrS6f7TyQUedTVkbLp8sNh4=
F:var/lib
R:state
a:1000:1000:600:Q1xattrchecksum=
F:var/empty

";

#[test]
fn sample_round_trips_exactly() {
    let packages = parse_installed_db(SAMPLE).expect("valid sample");
    assert_eq!(packages.len(), 1);
    let package = &packages[0];
    assert_eq!(package.repository_tag.as_deref(), Some("edge"));
    assert_eq!(package.dirs.len(), 3);
    assert_eq!(package.dirs[0].path, "");
    assert_eq!(package.dirs[0].acl.as_ref().map(|a| a.mode), Some(0o711));
    assert_eq!(
        package.dirs[1].files[0].acl.as_ref().map(|a| a.uid),
        Some(1000)
    );
    assert_eq!(write_installed_db(&packages), SAMPLE);
}

#[test]
fn order_errors_name_the_line() {
    let cases = [
        ("P:a\nV:1\nR:file\n", "line 3"),
        (
            "P:a\nV:1\nF:x\nZ:Q1R4MwduR1pAnDMb+3kQscmyNxJPY=\n",
            "line 4",
        ),
        ("P:a\nV:1\nF:x\nM:0:0:9\n", "line 4"),
        ("P:a\nV:1\nF:x\nR:y\nZ:bad\n", "line 5"),
    ];
    for (text, expected) in cases {
        let error = parse_installed_db(text).expect_err("invalid");
        assert!(error.to_string().contains(expected), "{text:?}: {error}");
    }
}

#[test]
fn entries_build_apk_tools_layout() {
    let version = Version::parse("1.0-r0").expect("valid version");
    let mut builder = PackageBuilder::new(PackageInfo::new("demo", version, "x86_64"));
    builder.files = vec![
        PackageFile::file("usr/bin/demo", 0o755, b"binary".to_vec()),
        PackageFile::file("etc/demo.conf", 0o644, b"conf".to_vec()),
        PackageFile::symlink("usr/bin/d", "demo"),
        PackageFile {
            mode: 0o700,
            ..PackageFile::directory("var/lib/demo")
        },
        PackageFile::file("top", 0o644, b"root file".to_vec()),
    ];
    let built = builder.build(None).expect("build");
    let package = Package::from_bytes("demo.apk", built.bytes).expect("read");
    let mut installed = InstalledPackage::new(package.index_entry());
    package
        .for_each_entry(EntryOptions::default(), |entry| {
            installed.add_entry(entry);
            Ok(())
        })
        .expect("walk");
    let text = write_installed_db(std::slice::from_ref(&installed));
    let files: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with(['F', 'M', 'R', 'a']))
        .collect();
    let expected = [
        "F:etc",
        "R:demo.conf",
        "F:",
        "R:top",
        "F:usr",
        "F:usr/bin",
        "R:d",
        "a:0:0:777",
        "R:demo",
        "a:0:0:755",
        "F:var",
        "F:var/lib",
        "F:var/lib/demo",
        "M:0:0:700",
    ];
    assert_eq!(files, expected);
    let symlink_checksum = crate::Checksum::sha1_of(b"demo").to_string();
    assert!(
        text.contains(&format!("R:d\na:0:0:777\nZ:{symlink_checksum}\n")),
        "{text}"
    );
    let reparsed = parse_installed_db(&text).expect("reparse");
    assert_eq!(reparsed, [installed]);
}
