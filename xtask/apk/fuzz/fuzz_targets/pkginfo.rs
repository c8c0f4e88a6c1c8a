//! `.PKGINFO` parsing. Parsed files must survive writing and parsing again unchanged.

#![no_main]

use apk::package::PkgInfo;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = PkgInfo::parse(data) {
        let reparsed = PkgInfo::parse(parsed.to_text().as_bytes()).expect("written file parses");
        assert_eq!(reparsed, parsed, "written file parses to the same content");
    }
});
