use std::io::{Read as _, Write as _};
use std::net::TcpListener;

use super::*;

const CONTENT: &[u8] = b"source tarball bytes\n";

fn digest_of(bytes: &[u8]) -> Digest {
    use sha2::Digest as _;
    let hex = hex::encode(sha2::Sha256::digest(bytes));
    Digest::parse(Algorithm::Sha256, &hex).expect("valid digest")
}

fn candidate(uri: Option<String>, bytes: &[u8]) -> Candidate {
    Candidate {
        uri,
        digest: digest_of(bytes),
        debian: None,
    }
}

fn sources(cache: &Path, mirror: Option<&Path>, offline: bool) -> Sources {
    Sources::new(SourceOptions {
        cache_dir: cache.to_path_buf(),
        mirror: mirror.map(Path::to_path_buf),
        offline,
    })
}

#[test]
fn mirror_file_by_name_is_cached() {
    let cache = tempfile::tempdir().expect("cache folder");
    let mirror = tempfile::tempdir().expect("mirror folder");
    fs_err::write(mirror.path().join("pkg-1.0.tar.gz"), CONTENT).expect("write");
    let spec = SourceSpec {
        candidates: vec![candidate(
            Some("https://example.invalid/pkg-1.0.tar.gz".into()),
            CONTENT,
        )],
    };
    let found = sources(cache.path(), Some(mirror.path()), true)
        .find(&spec)
        .expect("found in mirror");
    assert_eq!(fs_err::read(&found.path).expect("read"), CONTENT);
    assert!(found.path.starts_with(cache.path()));

    // A second lookup needs no mirror: the cache has the file.
    let again = sources(cache.path(), None, true)
        .find(&spec)
        .expect("cached");
    assert_eq!(again.path, found.path);
}

#[test]
fn mirror_file_with_wrong_checksum_is_rejected() {
    let cache = tempfile::tempdir().expect("cache folder");
    let mirror = tempfile::tempdir().expect("mirror folder");
    fs_err::write(mirror.path().join("pkg-1.0.tar.gz"), b"tampered").expect("write");
    let spec = SourceSpec {
        candidates: vec![candidate(
            Some("https://example.invalid/pkg-1.0.tar.gz".into()),
            CONTENT,
        )],
    };
    let error = sources(cache.path(), Some(mirror.path()), true)
        .find(&spec)
        .expect_err("should fail");
    let message = error.to_string();
    assert!(message.contains("checksum mismatch"), "{message}");
    assert!(message.contains("skipped: offline"), "{message}");
    assert!(message.contains("pkg-1.0.tar.gz"), "{message}");
}

#[test]
fn alternative_with_own_checksum_is_used() {
    let cache = tempfile::tempdir().expect("cache folder");
    let mirror = tempfile::tempdir().expect("mirror folder");
    fs_err::write(mirror.path().join("pkg-1.0.dfsg.tar.gz"), b"repacked").expect("write");
    let spec = SourceSpec {
        candidates: vec![
            candidate(
                Some("https://example.invalid/pkg-1.0.tar.gz".into()),
                CONTENT,
            ),
            candidate(
                Some("https://example.invalid/pkg-1.0.dfsg.tar.gz".into()),
                b"repacked",
            ),
        ],
    };
    let found = sources(cache.path(), Some(mirror.path()), true)
        .find(&spec)
        .expect("alternative found");
    assert_eq!(found.candidate.file_name(), "pkg-1.0.dfsg.tar.gz");
}

// Serves `body` once on a loopback port and returns the URL.
fn serve_once(body: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 2048];
            let _ = stream.read(&mut request);
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    format!("http://{address}/pkg-1.0.tar.gz")
}

#[test]
fn upstream_download_is_verified_and_cached() {
    let cache = tempfile::tempdir().expect("cache folder");
    let url = serve_once(CONTENT);
    let spec = SourceSpec {
        candidates: vec![candidate(Some(url), CONTENT)],
    };
    let found = sources(cache.path(), None, false)
        .find(&spec)
        .expect("downloaded");
    assert_eq!(fs_err::read(&found.path).expect("read"), CONTENT);
}

#[test]
fn upstream_download_with_wrong_checksum_fails() {
    let cache = tempfile::tempdir().expect("cache folder");
    let url = serve_once(b"not what the recipe expects");
    let spec = SourceSpec {
        candidates: vec![candidate(Some(url), CONTENT)],
    };
    let error = sources(cache.path(), None, false)
        .find(&spec)
        .expect_err("should fail");
    assert!(error.to_string().contains("checksum mismatch"), "{error}");
    let stored = cache
        .path()
        .join("sources/sha256")
        .join(digest_of(CONTENT).hex);
    assert!(!stored.exists(), "a mismatching download was stored");
}

#[test]
fn debian_source_reference_parses() {
    let source = DebianSource::parse("zlib=1:1.2.13.dfsg-1").expect("valid");
    assert_eq!(source.package, "zlib");
    assert_eq!(source.version, "1:1.2.13.dfsg-1");
    assert!(DebianSource::parse("zlib").is_err());
    assert!(DebianSource::parse("zlib=1.0; rm -rf /").is_err());
}
