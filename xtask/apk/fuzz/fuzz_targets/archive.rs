//! `.apk` reading: gzip streams, signature, control and data tars, and every entry.
//!
//! Random bytes rarely match the `datahash` of `.PKGINFO`, which guards the data stream,
//! so when the first byte is odd the rest of the input is used as an uncompressed data
//! tar and wrapped into a package with a matching `datahash`. That reaches the entry
//! checks (paths, links, PAX records) as often as the outer layers.

#![no_main]

use std::io::{Read as _, Write as _};

use apk::{EntryOptions, Keyring, Package};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest as _, Sha256};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("compress in memory");
    encoder.finish().expect("compress in memory")
}

/// Wraps an uncompressed data tar into an unsigned package with a matching `datahash`.
fn package_around(data_tar: &[u8]) -> Vec<u8> {
    let data = gzip(data_tar);
    let pkginfo = format!(
        "pkgname = fuzz\npkgver = 1\ndatahash = {}\n",
        hex::encode(Sha256::digest(&data))
    );
    let mut header = tar::Header::new_gnu();
    header.set_size(pkginfo.len() as u64);
    header.set_mode(0o644);
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append_data(&mut header, ".PKGINFO", pkginfo.as_bytes())
        .expect("append to memory");
    let control = builder.into_inner().expect("finish tar in memory");
    [gzip(&control), data].concat()
}

fuzz_target!(|input: &[u8]| {
    let bytes = match input.split_first() {
        Some((first, rest)) if first % 2 == 1 => package_around(rest),
        _ => input.to_vec(),
    };
    let Ok(package) = Package::from_bytes("fuzz.apk", bytes) else {
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
