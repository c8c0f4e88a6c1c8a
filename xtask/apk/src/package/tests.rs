use std::io::{Read as _, Write as _};

use sha2::{Digest as _, Sha256};

use super::*;
use crate::package_info::PackageInfo;
use crate::test_support;
use crate::version::Version;

fn sample_builder() -> PackageBuilder {
    let version = Version::parse("1.2.3-r4").expect("valid version");
    let mut info = PackageInfo::new("hello", version, "x86_64");
    info.description = "greets".to_owned();
    info.license = "MIT".to_owned();
    info.origin = Some("hello".to_owned());
    info.depends = crate::Dependency::parse_list("so:libc.so.6 /bin/sh").expect("valid");
    info.provides = crate::Provide::parse_list("cmd:hello=1.2.3-r4").expect("valid");
    let mut builder = PackageBuilder::new(info);
    builder.mtime = 1_700_000_000;
    builder.scripts.push(ControlFile {
        name: ".post-install".to_owned(),
        mode: 0o755,
        content: b"#!/bin/sh\necho hi\n".to_vec(),
    });
    builder.files = vec![
        PackageFile::file("usr/bin/hello", 0o755, b"#!/bin/sh\necho hello\n".to_vec()),
        PackageFile::symlink("usr/bin/hi", "hello"),
        PackageFile::file("etc/hello.conf", 0o644, b"greeting=hello\n".to_vec()),
        PackageFile {
            uid: 1000,
            gid: 1000,
            ..PackageFile::file("var/lib/hello/state", 0o600, vec![0u8; 70_000])
        },
    ];
    builder
}

/// Path, kind, mode, uid, link target and content of one entry.
type Collected = (String, EntryKind, u32, u64, Option<String>, Vec<u8>);

fn collect(package: &Package) -> Vec<Collected> {
    let mut entries = Vec::new();
    package
        .for_each_entry(EntryOptions::default(), |entry| {
            let mut content = Vec::new();
            entry.read_to_end(&mut content)?;
            entries.push((
                entry.path.clone(),
                entry.kind,
                entry.mode,
                entry.uid,
                entry.link_target.clone(),
                content,
            ));
            Ok(())
        })
        .expect("walk entries");
    entries
}

#[test]
fn signed_package_round_trips() {
    let key = test_support::private_key();
    let built = sample_builder().build(Some(&key)).expect("build");
    let package = Package::from_bytes("hello-1.2.3-r4.apk", built.bytes.clone()).expect("read");
    let keyring = test_support::keyring();
    assert_eq!(
        package.verify_signature(&keyring).expect("verify"),
        "test.rsa.pub"
    );
    let checksum = built.info.checksum.expect("checksum set");
    package
        .verify_index_checksum(&checksum)
        .expect("C: matches");
    assert_eq!(package.index_entry(), built.info);
    assert_eq!(package.pkginfo().info.installed_size, 21 + 15 + 70_000);
    assert_eq!(package.control_files().len(), 1);
    let entries = collect(&package);
    let paths: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        paths,
        [
            "etc",
            "etc/hello.conf",
            "usr",
            "usr/bin",
            "usr/bin/hello",
            "usr/bin/hi",
            "var",
            "var/lib",
            "var/lib/hello",
            "var/lib/hello/state"
        ]
    );
    let hi = entries
        .iter()
        .find(|e| e.0 == "usr/bin/hi")
        .expect("symlink");
    assert_eq!(hi.1, EntryKind::Symlink);
    assert_eq!(hi.4.as_deref(), Some("hello"));
    let state = entries
        .iter()
        .find(|e| e.0 == "var/lib/hello/state")
        .expect("file");
    assert_eq!((state.2, state.3, state.5.len()), (0o600, 1000, 70_000));
}

#[test]
fn builder_is_deterministic() {
    let key = test_support::private_key();
    let first = sample_builder().build(Some(&key)).expect("build");
    let second = sample_builder().build(Some(&key)).expect("build");
    assert_eq!(first.bytes, second.bytes);
}

#[test]
fn unsigned_package_has_no_signature() {
    let built = sample_builder().build(None).expect("build");
    let package = Package::from_bytes("hello.apk", built.bytes).expect("read");
    assert!(package.signatures().is_empty());
    let error = package
        .verify_signature(&test_support::keyring())
        .expect_err("unsigned");
    assert!(error.to_string().contains("no signature"), "{error}");
}

/// Returns the byte ranges of the gzip streams of a file.
fn stream_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    crate::gzip::decode_all(bytes, &[1 << 30; 3])
        .expect("valid streams")
        .into_iter()
        .map(|m| m.range)
        .collect()
}

#[test]
fn tampering_each_stream_is_rejected() {
    let key = test_support::private_key();
    let keyring = test_support::keyring();
    let built = sample_builder().build(Some(&key)).expect("build");
    let ranges = stream_ranges(&built.bytes);
    assert_eq!(ranges.len(), 3);
    for (stream, range) in ranges.iter().enumerate() {
        let mut tampered = built.bytes.clone();
        let offset = range.start + (range.end - range.start) / 2;
        tampered[offset] ^= 0x01;
        let result = Package::from_bytes("tampered.apk", tampered).and_then(|package| {
            package.verify_signature(&keyring)?;
            package.for_each_entry(EntryOptions::default(), |_| Ok(()))
        });
        let message = result.expect_err("tampering detected").to_string();
        assert!(message.starts_with("package `tampered.apk`"), "{message}");
        assert!(
            message.contains("check failed"),
            "stream {stream}: {message}"
        );
    }
}

#[test]
fn index_checksum_mismatch_is_rejected() {
    let built = sample_builder().build(None).expect("build");
    let package = Package::from_bytes("hello.apk", built.bytes).expect("read");
    let other = crate::Checksum::sha1_of(b"other");
    let error = package.verify_index_checksum(&other).expect_err("mismatch");
    assert!(
        error.to_string().contains("index checksum check failed"),
        "{error}"
    );
}

#[test]
fn pkginfo_round_trips() {
    let text = "# comment\npkgname = a\npkgver = 1.0-r0\npkgdesc = x = y\nurl = \nsize = 10\n\
                arch = noarch\ndepend = b>=1\ndepend = so:c.so.1\nprovides = cmd:a=1.0-r0\n\
                install_if = b c\nreplaces = d\nprovider_priority = 5\ntriggers = /usr/lib /etc\n\
                future = kept\ndatahash = ab\n";
    let parsed = PkgInfo::parse(text.as_bytes()).expect("valid .PKGINFO");
    assert_eq!(parsed.info.description, "x = y");
    assert_eq!(parsed.info.url, "");
    assert_eq!(parsed.info.installed_size, 10);
    assert_eq!(parsed.info.depends.len(), 2);
    assert_eq!(parsed.info.install_if.len(), 2);
    assert_eq!(parsed.triggers, ["/usr/lib", "/etc"]);
    assert_eq!(parsed.unknown, [("future".to_owned(), "kept".to_owned())]);
    let reparsed = PkgInfo::parse(parsed.to_text().as_bytes()).expect("reparse");
    assert_eq!(reparsed, parsed);
}

/// Asserts that writing and parsing `.PKGINFO` gives back the same content.
fn assert_pkginfo_round_trips(bytes: &[u8]) {
    let parsed = PkgInfo::parse(bytes).expect("valid .PKGINFO");
    let reparsed = PkgInfo::parse(parsed.to_text().as_bytes()).expect("reparse");
    assert_eq!(reparsed, parsed);
}

#[test]
fn pkginfo_carriage_returns_round_trip() {
    assert_pkginfo_round_trips(b"pkgname = a\npkgver = 1\nx = y\r\r\n");
    // Found by the `pkginfo` fuzz target. Its keys contain control characters, which are
    // now rejected, so the check is that it no longer parses into something that does
    // not round-trip.
    let found = include_bytes!("fuzz-regressions/pkginfo-carriage-returns");
    if let Ok(parsed) = PkgInfo::parse(found) {
        let reparsed = PkgInfo::parse(parsed.to_text().as_bytes()).expect("reparse");
        assert_eq!(reparsed, parsed);
    }
}

#[test]
fn pkginfo_key_with_equals_rejected() {
    let error = PkgInfo::parse(b"pkgname = a\npkgver = 1\nx =\t = y\n").expect_err("bad key");
    assert!(error.to_string().contains("line 3"), "{error}");
    // Found by the `pkginfo` fuzz target.
    let found = include_bytes!("fuzz-regressions/pkginfo-key-with-equals");
    assert!(PkgInfo::parse(found).is_err());
}

#[test]
fn pkginfo_indented_comment_is_skipped() {
    let parsed = PkgInfo::parse(b"pkgname = a\npkgver = 1\n  # note = x\n").expect("valid");
    assert!(parsed.unknown.is_empty(), "{:?}", parsed.unknown);
}

#[test]
fn pkginfo_errors() {
    let cases = [
        ("pkgver = 1\n", "no `pkgname`"),
        ("pkgname = a\n", "no `pkgver`"),
        ("pkgname = a\npkgver = 1\npkgname = b\n", "duplicate"),
        ("pkgname = a\npkgver = x\n", "line 2"),
        ("pkgname = a\npkgver = 1\nsize = -1\n", "invalid number"),
        ("pkgname = a\npkgver = 1\ngarbage\n", "line 3"),
        (" = x\npkgname = a\npkgver = 1\n", "line 1"),
    ];
    for (text, expected) in cases {
        let error = PkgInfo::parse(text.as_bytes()).expect_err("invalid");
        assert!(error.to_string().contains(expected), "{text:?}: {error}");
    }
}

// Hostile archives. `tar::Builder` refuses unsafe paths, so these write raw headers.

struct RawEntry {
    path: &'static str,
    kind: tar::EntryType,
    link: &'static str,
    content: Vec<u8>,
    pax: Vec<(&'static str, Vec<u8>)>,
}

fn raw(path: &'static str, kind: tar::EntryType) -> RawEntry {
    RawEntry {
        path,
        kind,
        link: "",
        content: Vec::new(),
        pax: Vec::new(),
    }
}

fn raw_tar(entries: &[RawEntry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        if !entry.pax.is_empty() {
            builder
                .append_pax_extensions(entry.pax.iter().map(|(k, v)| (*k, v.as_slice())))
                .expect("pax");
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(entry.kind);
        header.set_size(entry.content.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        let bytes = header.as_mut_bytes();
        bytes[..entry.path.len()].copy_from_slice(entry.path.as_bytes());
        bytes[157..157 + entry.link.len()].copy_from_slice(entry.link.as_bytes());
        header.set_cksum();
        builder
            .append(&header, entry.content.as_slice())
            .expect("append");
    }
    builder.into_inner().expect("finish tar")
}

fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("compress");
    encoder.finish().expect("compress")
}

/// Builds an unsigned package around a raw data tar, with a matching datahash.
fn package_with_data(data_tar: &[u8]) -> Vec<u8> {
    let data = gzip_bytes(data_tar);
    let pkginfo = format!(
        "pkgname = evil\npkgver = 1\narch = x86_64\ndatahash = {}\n",
        hex::encode(Sha256::digest(&data))
    );
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = crate::tar_write::file_header(pkginfo.len() as u64, 0o644, 0);
    builder
        .append_data(&mut header, ".PKGINFO", pkginfo.as_bytes())
        .expect("append");
    let control = crate::tar_write::finish_tar(builder, true).expect("finish");
    [gzip_bytes(&control), data].concat()
}

fn walk_error(entries: &[RawEntry], options: EntryOptions) -> String {
    let bytes = package_with_data(&raw_tar(entries));
    let package = Package::from_bytes("evil.apk", bytes).expect("structure is valid");
    package
        .for_each_entry(options, |_| Ok(()))
        .expect_err("hostile entry rejected")
        .to_string()
}

#[test]
fn hostile_paths_rejected() {
    use tar::EntryType::{Regular, Symlink};
    let cases = [
        (raw("../etc/passwd", Regular), "`..`"),
        (raw("a/../../b", Regular), "`..`"),
        (raw("/etc/passwd", Regular), "absolute"),
        (
            RawEntry {
                link: "../../etc/shadow",
                ..raw("a/link", Symlink)
            },
            "outside the root",
        ),
        (
            RawEntry {
                link: "..",
                ..raw("link", Symlink)
            },
            "outside the root",
        ),
    ];
    for (entry, expected) in cases {
        let message = walk_error(std::slice::from_ref(&entry), EntryOptions::default());
        assert!(message.contains(expected), "{}: {message}", entry.path);
        assert!(message.contains("evil.apk"), "{message}");
    }
}

#[test]
fn devices_need_permission() {
    let entries = [raw("dev/null", tar::EntryType::Char)];
    let message = walk_error(&entries, EntryOptions::default());
    assert!(message.contains("device files"), "{message}");
    let bytes = package_with_data(&raw_tar(&entries));
    let package = Package::from_bytes("dev.apk", bytes).expect("read");
    let allowed = EntryOptions {
        allow_devices: true,
    };
    package
        .for_each_entry(allowed, |_| Ok(()))
        .expect("devices allowed");
}

#[test]
fn hard_link_must_target_earlier_file() {
    let entries = [RawEntry {
        link: "etc/passwd",
        ..raw("x", tar::EntryType::Link)
    }];
    let message = walk_error(&entries, EntryOptions::default());
    assert!(message.contains("not an earlier file"), "{message}");
    let valid = [
        RawEntry {
            content: b"data".to_vec(),
            ..raw("a", tar::EntryType::Regular)
        },
        RawEntry {
            link: "a",
            ..raw("b", tar::EntryType::Link)
        },
    ];
    let bytes = package_with_data(&raw_tar(&valid));
    let package = Package::from_bytes("links.apk", bytes).expect("read");
    package
        .for_each_entry(EntryOptions::default(), |_| Ok(()))
        .expect("valid hard link");
}

#[test]
fn entry_checksum_mismatch_rejected() {
    let entries = [RawEntry {
        content: b"real content".to_vec(),
        pax: vec![(
            "APK-TOOLS.checksum.SHA1",
            hex::encode(sha1::Sha1::digest(b"other content")).into_bytes(),
        )],
        ..raw("file", tar::EntryType::Regular)
    }];
    let message = walk_error(&entries, EntryOptions::default());
    assert!(
        message.contains("entry checksum check failed for `file`"),
        "{message}"
    );
}

#[test]
fn xattrs_are_reported() {
    let entries = [RawEntry {
        pax: vec![("SCHILY.xattr.security.capability", vec![1, 2, 3])],
        ..raw("bin/ping", tar::EntryType::Regular)
    }];
    let bytes = package_with_data(&raw_tar(&entries));
    let package = Package::from_bytes("xattr.apk", bytes).expect("read");
    let mut seen = Vec::new();
    package
        .for_each_entry(EntryOptions::default(), |entry| {
            seen.extend(entry.xattrs.clone());
            Ok(())
        })
        .expect("walk");
    assert_eq!(seen, [("security.capability".to_owned(), vec![1, 2, 3])]);
}

#[test]
fn visitor_error_names_entry() {
    let built = sample_builder().build(None).expect("build");
    let package = Package::from_bytes("hello.apk", built.bytes).expect("read");
    let error = package
        .for_each_entry(EntryOptions::default(), |entry| {
            if entry.path == "usr/bin/hello" {
                return Err(std::io::Error::other("disk full"));
            }
            Ok(())
        })
        .expect_err("visitor failed");
    let message = error.to_string();
    assert!(message.contains("`usr/bin/hello`"), "{message}");
    assert!(message.contains("disk full"), "{message}");
}

#[test]
fn missing_datahash_rejected() {
    let mut builder = tar::Builder::new(Vec::new());
    let pkginfo = "pkgname = a\npkgver = 1\n";
    let mut header = crate::tar_write::file_header(pkginfo.len() as u64, 0o644, 0);
    builder
        .append_data(&mut header, ".PKGINFO", pkginfo.as_bytes())
        .expect("append");
    let control = crate::tar_write::finish_tar(builder, true).expect("finish");
    let bytes = gzip_bytes(&control);
    let error = Package::from_bytes("old.apk", bytes).expect_err("no datahash");
    assert!(
        error.to_string().contains("datahash check failed"),
        "{error}"
    );
}

#[test]
fn extract_writes_files_and_links() {
    let built = sample_builder().build(None).expect("build");
    let package = Package::from_bytes("hello.apk", built.bytes).expect("read");
    let root = tempfile::tempdir().expect("temp dir");
    let paths = package
        .extract_to(root.path(), EntryOptions::default())
        .expect("extract");
    assert_eq!(paths.len(), 10);
    let content = fs_err::read_to_string(root.path().join("etc/hello.conf")).expect("file");
    assert_eq!(content, "greeting=hello\n");
    let link = fs_err::read_link(root.path().join("usr/bin/hi")).expect("symlink");
    assert_eq!(link, std::path::Path::new("hello"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let metadata = fs_err::metadata(root.path().join("usr/bin/hello")).expect("metadata");
        assert_eq!(metadata.permissions().mode() & 0o7777, 0o755);
    }
}

#[test]
fn extract_never_writes_through_symlink() {
    let outside = tempfile::tempdir().expect("temp dir");
    let target: &'static str = Box::leak(outside.path().display().to_string().into_boxed_str());
    let entries = [
        RawEntry {
            link: target,
            ..raw("escape", tar::EntryType::Symlink)
        },
        RawEntry {
            content: b"owned".to_vec(),
            ..raw("escape/file", tar::EntryType::Regular)
        },
    ];
    let bytes = package_with_data(&raw_tar(&entries));
    let package = Package::from_bytes("evil.apk", bytes).expect("read");
    let root = tempfile::tempdir().expect("temp dir");
    let error = package
        .extract_to(root.path(), EntryOptions::default())
        .expect_err("write through symlink");
    assert!(error.to_string().contains("is a symlink"), "{error}");
    assert!(!outside.path().join("file").exists());
}

#[test]
fn long_paths_and_links_round_trip() {
    let long_dir = "usr/share/".to_owned() + &"deep/".repeat(40);
    let long_file = format!("{long_dir}file.txt");
    let version = Version::parse("1").expect("valid version");
    let mut builder = PackageBuilder::new(PackageInfo::new("long", version, "x86_64"));
    builder.files = vec![
        PackageFile::file(long_file.clone(), 0o644, b"x".to_vec()),
        PackageFile::symlink("link", long_file.clone()),
    ];
    let built = builder.build(None).expect("build");
    let package = Package::from_bytes("long.apk", built.bytes).expect("read");
    let entries = collect(&package);
    assert!(
        entries.iter().any(|e| e.0 == long_file),
        "long file path kept"
    );
    let link = entries.iter().find(|e| e.0 == "link").expect("link");
    assert_eq!(link.4.as_deref(), Some(long_file.as_str()));
}

#[test]
fn pax_path_is_checked_like_header_path() {
    let entries = [RawEntry {
        pax: vec![("path", b"../../etc/passwd".to_vec())],
        ..raw("harmless", tar::EntryType::Regular)
    }];
    let message = walk_error(&entries, EntryOptions::default());
    assert!(message.contains("`..`"), "{message}");
}

#[test]
fn oversized_pax_header_rejected() {
    let entries = [RawEntry {
        pax: vec![("comment", vec![b'a'; 100_000])],
        ..raw("file", tar::EntryType::Regular)
    }];
    let message = walk_error(&entries, EntryOptions::default());
    assert!(message.contains("larger than 65536 bytes"), "{message}");
}
