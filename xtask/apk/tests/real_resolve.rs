//! Resolving real closures against the Alpine 3.17 `main` index for aarch64.

mod common;

use apk::{Dependency, Keyring, Repository, Universe, Verification, read_index_file, resolve};

fn alpine_repository() -> Option<Repository> {
    let fixtures = common::apk_fixtures()?;
    let mut keyring = Keyring::new();
    keyring
        .load_dir(&fixtures.join("alpine/keys"))
        .expect("load keys");
    let path = fixtures.join("alpine/v3.17/main/aarch64/APKINDEX.tar.gz");
    let file = read_index_file(&path, Verification::Keyring(&keyring)).expect("index");
    Some(Repository {
        name: "alpine/v3.17/main".to_owned(),
        tag: None,
        packages: file.index.packages,
    })
}

#[test]
fn alpine_closures_resolve() {
    let Some(repository) = alpine_repository() else {
        return;
    };
    let repositories = [repository];
    let universe = Universe::new(&repositories, "aarch64");
    for name in ["nginx", "busybox", "python3", "git", "curl"] {
        let world = [Dependency::any(name)];
        let resolution = resolve(&universe, &world).unwrap_or_else(|e| panic!("{name}: {e}"));
        let names: Vec<&str> = resolution
            .packages
            .iter()
            .map(|p| p.info.name.as_str())
            .collect();
        assert!(names.contains(&name), "{name} in its closure");
        // Every dependency is met by a package of the set.
        for package in &resolution.packages {
            for dependency in package.info.depends.iter().filter(|d| !d.conflict) {
                let met = resolution.packages.iter().any(|other| {
                    (other.info.name == dependency.name
                        && dependency.matches(Some(&other.info.version), None))
                        || other.info.provides.iter().any(|p| {
                            p.name == dependency.name
                                && dependency.matches(p.version.as_ref(), None)
                        })
                });
                assert!(
                    met,
                    "{name}: `{dependency}` of {} is met",
                    package.info.name
                );
            }
        }
        // The requested package comes after the providers of its own dependencies.
        let position = |n: &str| names.iter().position(|other| *other == n);
        let requested = resolution
            .packages
            .iter()
            .find(|p| p.info.name == name)
            .expect("requested package");
        for dependency in requested.info.depends.iter().filter(|d| !d.conflict) {
            let provider = resolution
                .packages
                .iter()
                .find(|p| {
                    p.info.name == dependency.name
                        || p.info.provides.iter().any(|v| v.name == dependency.name)
                })
                .expect("provider");
            assert!(
                position(&provider.info.name) < position(name),
                "{name}: {} before it",
                provider.info.name
            );
        }
        eprintln!("{name}: {} packages", names.len());
    }
}

#[test]
fn nginx_gets_bin_sh_from_busybox_binsh() {
    let Some(repository) = alpine_repository() else {
        return;
    };
    let repositories = [repository];
    let universe = Universe::new(&repositories, "aarch64");
    let resolution = resolve(&universe, &[Dependency::any("nginx")]).expect("resolve");
    let versions = resolution.versions();
    assert!(versions.contains_key("busybox-binsh"), "{versions:?}");
    assert!(!versions.contains_key("dash-binsh"), "{versions:?}");
    let position = |name: &str| resolution.packages.iter().position(|p| p.info.name == name);
    assert!(position("busybox") < position("busybox-binsh"));
}

#[test]
fn impossible_pin_explains_itself() {
    let Some(repository) = alpine_repository() else {
        return;
    };
    let repositories = [repository];
    let universe = Universe::new(&repositories, "aarch64");
    let world = Dependency::parse_list("curl musl<1.0").expect("valid world");
    let message = resolve(&universe, &world)
        .expect_err("musl<1.0 does not exist")
        .to_string();
    assert!(message.contains("the world pins `musl<1.0`"), "{message}");
}
