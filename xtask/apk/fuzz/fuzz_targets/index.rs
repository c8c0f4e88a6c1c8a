//! Index reading: `APKINDEX.tar.gz` files (gzip, tar, signature stream) and raw
//! `APKINDEX` text. Parsed text must survive writing and parsing again unchanged.

#![no_main]

use apk::{Index, Verification, read_index};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(packages) = Index::parse_bytes(data) {
        let index = Index {
            description: String::new(),
            packages,
        };
        let reparsed = Index::parse_text(&index.to_text()).expect("written text parses");
        assert_eq!(reparsed, index.packages, "written text parses to the same packages");
    }
    let _ = read_index("fuzz", data, Verification::TrustedUnsigned);
    let keyring = apk::Keyring::new();
    let _ = read_index("fuzz", data, Verification::Keyring(&keyring));
});
