//! `.apk` reading: gzip streams, signature, control and data tars, and every entry.

#![no_main]

use std::io::Read as _;

use apk::{EntryOptions, Keyring, Package};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(package) = Package::from_bytes("fuzz.apk", data.to_vec()) else {
        return;
    };
    let _ = package.verify_signature(&Keyring::new());
    let options = EntryOptions {
        allow_devices: true,
    };
    let _ = package.for_each_entry(options, |entry| {
        assert!(!entry.path.is_empty(), "entry paths are never empty");
        assert!(!entry.path.starts_with('/'), "entry paths are relative");
        assert!(
            !entry.path.split('/').any(|part| part == ".."),
            "entry paths have no `..`"
        );
        let mut content = Vec::new();
        entry.read_to_end(&mut content)?;
        Ok(())
    });
});
