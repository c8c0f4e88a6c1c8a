use super::*;
use crate::dependency::Provide;

/// Builds a package from `name-version` and optional fields, as `D:`/`p:`/`i:` text.
fn package(name: &str, version: &str, depends: &str, provides: &str) -> PackageInfo {
    let version = Version::parse(version).expect("valid version");
    let mut info = PackageInfo::new(name, version, "x86_64");
    info.depends = Dependency::parse_list(depends).expect("valid depends");
    info.provides = Provide::parse_list(provides).expect("valid provides");
    info
}

fn repository(name: &str, packages: Vec<PackageInfo>) -> Repository {
    Repository {
        name: name.to_owned(),
        tag: None,
        packages,
    }
}

fn world(text: &str) -> Vec<Dependency> {
    Dependency::parse_list(text).expect("valid world")
}

fn resolved(repositories: &[Repository], world_text: &str) -> Vec<String> {
    let universe = Universe::new(repositories, "x86_64");
    let resolution = resolve(&universe, &world(world_text)).unwrap_or_else(|e| panic!("{e}"));
    resolution
        .packages
        .iter()
        .map(|p| p.info.name_version())
        .collect()
}

fn failure(repositories: &[Repository], world_text: &str) -> String {
    let universe = Universe::new(repositories, "x86_64");
    resolve(&universe, &world(world_text))
        .expect_err("unsatisfiable")
        .to_string()
}

#[test]
fn highest_version_wins_and_order_is_dependencies_first() {
    let repos = [repository(
        "main",
        vec![
            package("app", "1.0", "lib", ""),
            package("lib", "1.0", "base", ""),
            package("lib", "2.0", "base", ""),
            package("base", "1", "", ""),
        ],
    )];
    assert_eq!(resolved(&repos, "app"), ["base-1", "lib-2.0", "app-1.0"]);
}

#[test]
fn pin_in_world_applies_to_dependants() {
    let repos = [repository(
        "main",
        vec![
            package("app", "1.0", "lib", ""),
            package("lib", "1.0", "", ""),
            package("lib", "2.0", "", ""),
        ],
    )];
    assert_eq!(resolved(&repos, "app lib=1.0"), ["lib-1.0", "app-1.0"]);
    assert_eq!(resolved(&repos, "app lib<2"), ["lib-1.0", "app-1.0"]);
}

#[test]
fn virtual_names_use_provider_priority() {
    let mut low = package("dash-binsh", "1", "", "/bin/sh");
    low.provider_priority = Some(60);
    let mut high = package("busybox-binsh", "1", "", "/bin/sh cmd:sh=1");
    high.provider_priority = Some(100);
    let unranked = package("zsh-binsh", "9", "", "/bin/sh");
    let repos = [repository(
        "main",
        vec![low, high, unranked, package("nginx", "1", "/bin/sh", "")],
    )];
    assert_eq!(resolved(&repos, "nginx"), ["busybox-binsh-1", "nginx-1"]);
    // A provider named in the world is used even without a priority.
    assert_eq!(
        resolved(&repos, "zsh-binsh nginx"),
        ["zsh-binsh-9", "nginx-1"]
    );
}

#[test]
fn unversioned_provide_without_priority_is_not_picked() {
    let repos = [repository(
        "main",
        vec![
            package("shell", "1", "", "/bin/sh"),
            package("app", "1", "/bin/sh", ""),
        ],
    )];
    let message = failure(&repos, "app");
    assert!(
        message.contains("no package satisfies `/bin/sh`"),
        "{message}"
    );
    assert!(message.contains("required by world -> app-1"), "{message}");
    assert!(message.contains("rejected shell-1 from main"), "{message}");
    assert!(
        message.contains("without a version or provider_priority"),
        "{message}"
    );
}

#[test]
fn versioned_provides_satisfy_so_names() {
    let repos = [repository(
        "main",
        vec![
            package("libcrypto3", "3.0.8-r0", "", "so:libcrypto.so.3=3"),
            package("libcrypto1.1", "1.1.1t-r0", "", "so:libcrypto.so.1.1=1.1"),
            package("curl", "7.88", "so:libcrypto.so.3", ""),
        ],
    )];
    assert_eq!(
        resolved(&repos, "curl"),
        ["libcrypto3-3.0.8-r0", "curl-7.88"]
    );
}

#[test]
fn package_and_provider_never_both() {
    // `openssl3` is a real package and also provided (versioned) by `openssl`.
    let repos = [repository(
        "main",
        vec![
            package("openssl", "3.1", "", "openssl3=3.1"),
            package("openssl3", "3.0", "", ""),
            package("app", "1", "openssl3", ""),
        ],
    )];
    let packages = resolved(&repos, "openssl app");
    assert_eq!(packages, ["openssl-3.1", "app-1"]);
}

#[test]
fn conflicts_are_honoured() {
    let repos = [repository(
        "main",
        vec![
            package("a", "1", "!b", ""),
            package("b", "1", "", ""),
            package("c", "1", "b", ""),
        ],
    )];
    let message = failure(&repos, "a c");
    assert!(message.contains("no package satisfies `b`"), "{message}");
    assert!(
        message.contains("a-1 conflicts with it (`!b`)"),
        "{message}"
    );
    let message = failure(&repos, "c a");
    assert!(message.contains("`!b`"), "{message}");
    let message = failure(&repos, "c !b");
    assert!(message.contains("the world forbids it"), "{message}");
}

#[test]
fn backtracks_to_older_version() {
    // lib-2 needs something missing, so lib-1 is used.
    let repos = [repository(
        "main",
        vec![
            package("app", "1", "lib", ""),
            package("lib", "2", "missing", ""),
            package("lib", "1", "", ""),
        ],
    )];
    assert_eq!(resolved(&repos, "app"), ["lib-1", "app-1"]);
}

#[test]
fn failure_lists_every_candidate() {
    let repos = [repository(
        "main",
        vec![
            package("app", "1", "lib>=3", ""),
            package("lib", "2", "", ""),
            package("lib", "1", "", ""),
        ],
    )];
    let message = failure(&repos, "app");
    assert!(
        message.contains("no package satisfies `lib>=3`"),
        "{message}"
    );
    assert!(
        message.contains("rejected lib-2 from main: version 2 does not match `lib>=3`"),
        "{message}"
    );
    assert!(message.contains("rejected lib-1 from main"), "{message}");
    let message = failure(&repos, "nothing");
    assert!(
        message.contains("no package in the repositories"),
        "{message}"
    );
}

#[test]
fn tagged_repository_needs_tag() {
    let mut edge = repository("edge", vec![package("tool", "2", "", "")]);
    edge.tag = Some("edge".to_owned());
    let repos = [repository("main", vec![package("tool", "1", "", "")]), edge];
    assert_eq!(resolved(&repos, "tool"), ["tool-1"]);
    assert_eq!(resolved(&repos, "tool@edge"), ["tool-2"]);
    let only_edge = [repos[1].clone()];
    let message = failure(&only_edge, "tool");
    assert!(message.contains("needs `tool@edge`"), "{message}");
}

#[test]
fn install_if_adds_packages() {
    let mut docs = package("app-doc", "1", "", "");
    docs.install_if = Dependency::parse_list("app docs").expect("valid");
    let repos = [repository(
        "main",
        vec![
            package("app", "1", "", ""),
            package("docs", "1", "", ""),
            docs,
        ],
    )];
    assert_eq!(resolved(&repos, "app"), ["app-1"]);
    assert_eq!(
        resolved(&repos, "app docs"),
        ["app-1", "docs-1", "app-doc-1"]
    );
}

#[test]
fn other_architectures_are_rejected() {
    let mut arm = package("tool", "1", "", "");
    arm.arch = "aarch64".to_owned();
    let mut any = package("data", "1", "", "");
    any.arch = "noarch".to_owned();
    let repos = [repository("main", vec![arm, any])];
    assert_eq!(resolved(&repos, "data"), ["data-1"]);
    let message = failure(&repos, "tool");
    assert!(
        message.contains("built for aarch64, not x86_64"),
        "{message}"
    );
}

#[test]
fn cycles_resolve_deterministically() {
    let repos = [repository(
        "main",
        vec![package("a", "1", "b", ""), package("b", "1", "a", "")],
    )];
    assert_eq!(resolved(&repos, "a"), ["b-1", "a-1"]);
    assert_eq!(resolved(&repos, "b"), ["a-1", "b-1"]);
}

#[test]
fn arch_versions_must_agree() {
    let x86 = [repository("main", vec![package("a", "1", "", "")])];
    let mut arm_package = package("a", "2", "", "");
    arm_package.arch = "aarch64".to_owned();
    let arm = [repository("main", vec![arm_package])];
    let x86_resolution = resolve(&Universe::new(&x86, "x86_64"), &world("a")).expect("x86");
    let arm_resolution = resolve(&Universe::new(&arm, "aarch64"), &world("a")).expect("arm");
    let mismatches =
        check_arch_versions(&[("x86_64", &x86_resolution), ("aarch64", &arm_resolution)]);
    assert_eq!(mismatches.len(), 1);
    assert_eq!(
        mismatches[0].to_string(),
        "`a` resolves to different versions: 1 on x86_64; 2 on aarch64;"
    );
    assert!(check_arch_versions(&[("x86_64", &x86_resolution), ("x", &x86_resolution)]).is_empty());
}
