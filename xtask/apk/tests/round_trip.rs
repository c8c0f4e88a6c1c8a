//! End to end without external data: generate a key, build packages and a signed index,
//! fetch them from a local repository, resolve, extract, and write the installed database.

use apk::{
    Cache, Dependency, EntryOptions, Fetcher, Index, InstalledPackage, Keyring, NetworkMode,
    Package, PackageBuilder, PackageFile, PackageInfo, PrivateKey, PublicKey, RepositorySpec,
    SignatureAlgorithm, Universe, Version, generate_key_pair, parse_installed_db, resolve,
    write_index, write_installed_db,
};

fn info(name: &str, depends: &str, provides: &str) -> PackageInfo {
    let version = Version::parse("2.1.0-r3").expect("valid version");
    let mut info = PackageInfo::new(name, version, "aarch64");
    info.depends = Dependency::parse_list(depends).expect("valid depends");
    info.provides = apk::Provide::parse_list(provides).expect("valid provides");
    info.license = "MIT".to_owned();
    info
}

#[test]
fn build_fetch_resolve_extract_install() {
    let pair = generate_key_pair(2048).expect("generate key");
    let key = PrivateKey::from_pem("repo.rsa.pub", &pair.private_pem).expect("private key");
    let mut keyring = Keyring::new();
    keyring.add(PublicKey::from_pem("repo.rsa.pub", &pair.public_pem).expect("public key"));

    let repo = tempfile::tempdir().expect("temp dir");
    let arch_dir = repo.path().join("aarch64");
    fs_err::create_dir_all(&arch_dir).expect("mkdir");
    let specs = [
        (
            info("shell", "", "/bin/sh cmd:sh=2.1.0-r3"),
            "bin/sh",
            "#!shell",
        ),
        (
            info("libgreet", "", "so:libgreet.so.1=1"),
            "usr/lib/libgreet.so.1",
            "ELF",
        ),
        (
            info("greet", "/bin/sh so:libgreet.so.1", ""),
            "usr/bin/greet",
            "#!/bin/sh",
        ),
    ];
    let mut index = Index {
        description: "test repository".to_owned(),
        packages: Vec::new(),
    };
    for (mut info, path, content) in specs {
        if info.name == "shell" {
            info.provider_priority = Some(100);
        }
        let mut builder = PackageBuilder::new(info);
        builder.mtime = 1_700_000_000;
        builder.files = vec![PackageFile::file(path, 0o755, content)];
        let built = builder.build(Some(&key)).expect("build package");
        fs_err::write(arch_dir.join(built.info.file_name()), &built.bytes).expect("write");
        index.packages.push(built.info);
    }
    index.sort();
    let bytes = write_index(&index, Some((&key, SignatureAlgorithm::RsaSha256)), 0).expect("index");
    fs_err::write(arch_dir.join("APKINDEX.tar.gz"), bytes).expect("write index");

    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(
        Cache::open(cache.path()).expect("cache"),
        keyring,
        NetworkMode::Offline,
    );
    let repositories = [RepositorySpec::parse(&repo.path().display().to_string())];
    let indexes = fetcher
        .fetch_repositories(&repositories, "aarch64")
        .expect("fetch index");
    let universe = Universe::new(&indexes, "aarch64");
    let resolution = resolve(&universe, &[Dependency::any("greet")]).expect("resolve");
    let order: Vec<&str> = resolution
        .packages
        .iter()
        .map(|p| p.info.name.as_str())
        .collect();
    assert_eq!(order, ["shell", "libgreet", "greet"]);

    let fetched = fetcher
        .fetch_resolution(&repositories, "aarch64", &resolution)
        .expect("fetch packages");
    let root = tempfile::tempdir().expect("temp dir");
    let mut installed = Vec::new();
    for file in &fetched {
        let package = Package::open(&file.path).expect("open");
        package
            .extract_to(root.path(), EntryOptions::default())
            .expect("extract");
        let mut entry = InstalledPackage::new(file.info.clone());
        package
            .for_each_entry(EntryOptions::default(), |data| {
                entry.add_entry(data);
                Ok(())
            })
            .expect("walk");
        installed.push(entry);
    }
    let content = fs_err::read_to_string(root.path().join("usr/bin/greet")).expect("extracted");
    assert_eq!(content, "#!/bin/sh");
    let database = write_installed_db(&installed);
    assert!(database.starts_with("C:Q1"), "{database}");
    assert!(
        database.contains("\nP:greet\nV:2.1.0-r3\nA:aarch64\n"),
        "{database}"
    );
    assert_eq!(parse_installed_db(&database).expect("reparse"), installed);
}
