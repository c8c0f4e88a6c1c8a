//! Version and dependency parsing, and the ordering laws of versions.

#![no_main]

use std::cmp::Ordering;

use apk::{Dependency, Version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(dependency) = Dependency::parse(text) {
        let reparsed = Dependency::parse(&dependency.to_string()).expect("written form parses");
        assert_eq!(reparsed.name, dependency.name);
    }
    // Split the input into three versions to check ordering laws between them.
    let mut parts = text.splitn(3, '|');
    let versions: Vec<Version> = parts
        .by_ref()
        .filter_map(|part| Version::parse(part).ok())
        .collect();
    for a in &versions {
        assert_eq!(a.cmp(a), Ordering::Equal, "{a} equals itself");
        assert!(a.has_prefix(a), "{a} is its own prefix");
        for b in &versions {
            assert_eq!(a.cmp(b), b.cmp(a).reverse(), "{a} and {b} are antisymmetric");
            for c in &versions {
                if a <= b && b <= c {
                    assert!(a <= c, "{a} <= {b} <= {c} is transitive");
                }
            }
        }
    }
});
