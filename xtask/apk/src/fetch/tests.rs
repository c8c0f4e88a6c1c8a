use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use crate::dependency::Dependency;
use crate::index::{Index, write_index};
use crate::package::PackageBuilder;
use crate::package::PackageFile;
use crate::resolver::{Universe, resolve};
use crate::signature::SignatureAlgorithm;
use crate::test_support;
use crate::version::Version;

type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// A minimal HTTP/1.1 server on loopback that serves `files` by path and counts requests.
struct Server {
    base: String,
    files: Files,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let files: Files = Arc::default();
        let requests = Arc::new(AtomicUsize::new(0));
        let (served, counter) = (files.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_owned();
                let body = served.lock().expect("lock").get(&path).cloned();
                let response = match body {
                    Some(body) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        [head.into_bytes(), body].concat()
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&response);
            }
        });
        Self {
            base,
            files,
            requests,
        }
    }

    fn put(&self, path: &str, bytes: Vec<u8>) {
        self.files
            .lock()
            .expect("lock")
            .insert(path.to_owned(), bytes);
    }
}

/// Builds a repository with `app` depending on `lib`, as files by relative path.
fn repository_files(signed: bool) -> Vec<(String, Vec<u8>)> {
    let key = test_support::private_key();
    let mut index = Index::default();
    let mut files = Vec::new();
    for (name, depends) in [("lib", ""), ("app", "lib")] {
        let version = Version::parse("1.0-r0").expect("valid version");
        let mut info = PackageInfo::new(name, version, "x86_64");
        info.depends = Dependency::parse_list(depends).expect("valid");
        let mut builder = PackageBuilder::new(info);
        builder.files = vec![PackageFile::file(format!("usr/share/{name}"), 0o644, name)];
        let built = builder.build(Some(&key)).expect("build");
        files.push((format!("x86_64/{}", built.info.file_name()), built.bytes));
        index.packages.push(built.info);
    }
    let signer = signed.then_some((&key, SignatureAlgorithm::RsaSha256));
    let bytes = write_index(&index, signer, 0).expect("write index");
    files.push(("x86_64/APKINDEX.tar.gz".to_owned(), bytes));
    files
}

fn serve_repository(server: &Server, signed: bool) {
    for (path, bytes) in repository_files(signed) {
        server.put(&format!("/repo/{path}"), bytes);
    }
}

fn fetcher(cache: &Path, mode: NetworkMode) -> Fetcher {
    Fetcher::new(
        Cache::open(cache).expect("cache"),
        test_support::keyring(),
        mode,
    )
}

fn spec(url: String) -> RepositorySpec {
    RepositorySpec {
        url,
        tag: None,
        trusted_unsigned: false,
    }
}

fn fetch_world(
    fetcher: &Fetcher,
    specs: &[RepositorySpec],
) -> Result<Vec<FetchedPackage>, FetchError> {
    let repositories = fetcher.fetch_repositories(specs, "x86_64")?;
    let universe = Universe::new(&repositories, "x86_64");
    let resolution = resolve(&universe, &[Dependency::any("app")]).expect("resolve");
    fetcher.fetch_resolution(specs, "x86_64", &resolution)
}

#[test]
fn http_fetch_fills_cache_and_offline_reuses_it() {
    let server = Server::start();
    serve_repository(&server, true);
    let cache = tempfile::tempdir().expect("temp dir");
    let specs = [spec(format!("{}/repo", server.base))];

    let online = fetcher(cache.path(), NetworkMode::Online);
    let fetched = fetch_world(&online, &specs).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = fetched.iter().map(|f| f.info.name.as_str()).collect();
    assert_eq!(names, ["lib", "app"]);
    assert!(fetched.iter().all(|f| f.path.starts_with(cache.path())));
    let after_online = server.requests.load(Ordering::SeqCst);
    assert_eq!(after_online, 3);

    let offline = fetcher(cache.path(), NetworkMode::Offline);
    let again = fetch_world(&offline, &specs).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.len(), 2);
    assert_eq!(server.requests.load(Ordering::SeqCst), after_online);
}

#[test]
fn offline_lists_everything_missing() {
    let cache = tempfile::tempdir().expect("temp dir");
    let offline = fetcher(cache.path(), NetworkMode::Offline);
    let specs = [
        spec("https://example.invalid/a".to_owned()),
        spec("https://example.invalid/b".to_owned()),
    ];
    let error = offline
        .fetch_repositories(&specs, "x86_64")
        .expect_err("nothing cached");
    let message = error.to_string();
    assert!(
        message.contains("https://example.invalid/a/x86_64/APKINDEX.tar.gz"),
        "{message}"
    );
    assert!(
        message.contains("https://example.invalid/b/x86_64/APKINDEX.tar.gz"),
        "{message}"
    );
    assert!(message.contains("without --offline"), "{message}");
}

#[test]
fn offline_lists_missing_packages() {
    let server = Server::start();
    serve_repository(&server, true);
    let cache = tempfile::tempdir().expect("temp dir");
    let specs = [spec(format!("{}/repo", server.base))];
    let online = fetcher(cache.path(), NetworkMode::Online);
    online.fetch_repositories(&specs, "x86_64").expect("index");
    let offline = fetcher(cache.path(), NetworkMode::Offline);
    let message = fetch_world(&offline, &specs)
        .expect_err("no packages")
        .to_string();
    assert!(message.contains("/repo/x86_64/lib-1.0-r0.apk"), "{message}");
    assert!(message.contains("/repo/x86_64/app-1.0-r0.apk"), "{message}");
}

#[test]
fn tampered_download_is_not_cached() {
    let server = Server::start();
    serve_repository(&server, true);
    let path = "/repo/x86_64/lib-1.0-r0.apk";
    let mut bytes = server
        .files
        .lock()
        .expect("lock")
        .get(path)
        .cloned()
        .expect("package");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    server.put(path, bytes);
    let cache = tempfile::tempdir().expect("temp dir");
    let specs = [spec(format!("{}/repo", server.base))];
    let error = fetch_world(&fetcher(cache.path(), NetworkMode::Online), &specs)
        .expect_err("tampered package");
    assert!(error.to_string().contains("check failed"), "{error}");
    let cached: Vec<_> = fs_err::read_dir(cache.path().join("packages"))
        .expect("list cache")
        .collect();
    assert!(cached.is_empty(), "nothing left in the cache: {cached:?}");
}

#[test]
fn unsigned_index_needs_trust() {
    let server = Server::start();
    serve_repository(&server, false);
    let cache = tempfile::tempdir().expect("temp dir");
    let online = fetcher(cache.path(), NetworkMode::Online);
    let mut specs = [spec(format!("{}/repo", server.base))];
    let error = online
        .fetch_repositories(&specs, "x86_64")
        .expect_err("unsigned");
    assert!(error.to_string().contains("no signature"), "{error}");
    specs[0].trusted_unsigned = true;
    let repositories = online
        .fetch_repositories(&specs, "x86_64")
        .expect("trusted");
    assert_eq!(repositories[0].packages.len(), 2);
}

#[test]
fn missing_file_is_http_error() {
    let server = Server::start();
    let cache = tempfile::tempdir().expect("temp dir");
    let online = fetcher(cache.path(), NetworkMode::Online);
    let specs = [spec(format!("{}/nothing", server.base))];
    let error = online
        .fetch_repositories(&specs, "x86_64")
        .expect_err("404");
    let message = error.to_string();
    assert!(
        message.contains("/nothing/x86_64/APKINDEX.tar.gz"),
        "{message}"
    );
    assert!(message.contains("404"), "{message}");
}

#[test]
fn local_folder_and_file_url() {
    let repo = tempfile::tempdir().expect("temp dir");
    for (path, bytes) in repository_files(true) {
        let target = repo.path().join(path);
        fs_err::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        fs_err::write(target, bytes).expect("write");
    }
    let cache = tempfile::tempdir().expect("temp dir");
    let offline = fetcher(cache.path(), NetworkMode::Offline);
    let folder = repo.path().display().to_string();
    for url in [folder.clone(), format!("file://{folder}")] {
        let fetched = fetch_world(&offline, &[spec(url.clone())]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fetched.len(), 2, "{url}");
        assert!(fetched.iter().all(|f| f.path.starts_with(repo.path())));
    }
}

#[test]
fn concurrent_fetches_share_cache() {
    let server = Server::start();
    serve_repository(&server, true);
    let cache = tempfile::tempdir().expect("temp dir");
    let specs = [spec(format!("{}/repo", server.base))];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let online = fetcher(cache.path(), NetworkMode::Online);
                    fetch_world(&online, &specs).map(|fetched| fetched.len())
                })
            })
            .collect();
        for handle in handles {
            let count = handle
                .join()
                .expect("thread")
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(count, 2);
        }
    });
    let offline = fetcher(cache.path(), NetworkMode::Offline);
    assert_eq!(fetch_world(&offline, &specs).expect("cached").len(), 2);
}

#[test]
fn urls_for_lock_files() {
    let spec = RepositorySpec::parse("https://dl.example.org/main/");
    let version = Version::parse("1.0-r0").expect("valid version");
    let info = PackageInfo::new("curl", version, "x86_64");
    assert_eq!(
        spec.index_url("x86_64"),
        "https://dl.example.org/main/x86_64/APKINDEX.tar.gz"
    );
    assert_eq!(
        spec.package_url("x86_64", &info),
        "https://dl.example.org/main/x86_64/curl-1.0-r0.apk"
    );
}

#[test]
fn repository_line_parses_tag() {
    let spec = RepositorySpec::parse("@edge https://dl.example.org/edge/main");
    assert_eq!(spec.tag.as_deref(), Some("edge"));
    assert_eq!(spec.url, "https://dl.example.org/edge/main");
    assert_eq!(RepositorySpec::parse("/srv/repo").tag, None);
    assert!(matches!(
        RepositorySpec::parse("ftp://x").location(),
        Err(FetchError::InvalidUrl { .. })
    ));
}

#[test]
fn key_url_must_be_https() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fetcher = fetcher(dir.path(), NetworkMode::Online);
    for url in [
        "http://example.invalid/keys/a.rsa.pub",
        "https://example.invalid",
        "https://example.invalid/keys/",
        "file:///etc/apk/keys/a.rsa.pub",
    ] {
        let error = fetcher.fetch_key(url).expect_err(url);
        assert!(
            matches!(error, FetchError::InvalidKeyUrl { .. }),
            "{url}: {error}"
        );
    }
}

#[test]
fn key_offline_comes_from_cache() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = "https://example.invalid/keys/test.rsa.pub";
    let fetcher = fetcher(dir.path(), NetworkMode::Offline);
    let error = fetcher.fetch_key(url).expect_err("not cached yet");
    assert!(matches!(error, FetchError::Offline { .. }), "{error}");

    let cache = Cache::open(dir.path()).expect("cache");
    let stored = cache
        .store_key(url, "test.rsa.pub", b"PEM bytes")
        .expect("store key");
    let path = fetcher.fetch_key(url).expect("cached key");
    assert_eq!(path, stored);
    assert_eq!(
        path.file_name().and_then(|name| name.to_str()),
        Some("test.rsa.pub")
    );
}
