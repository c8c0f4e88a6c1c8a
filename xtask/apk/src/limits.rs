//! Caps that keep a hostile index or package from exhausting memory, disk or time.
//!
//! Each cap is far above what real repositories contain, so only crafted input hits it.
//! Reference points (Alpine 3.17, measured on its published files): the `main` index for
//! aarch64 is 0.7 MB compressed and 1.9 MB uncompressed with 5004 packages, and the
//! largest packages in `community` unpack to under 2 GiB.

/// Max size of a whole `APKINDEX.tar.gz` file, compressed.
pub const MAX_INDEX_FILE_BYTES: u64 = 256 << 20;

/// Max uncompressed size of the index gzip stream. Indexes grow with the package count
/// (about 400 bytes per package), so 512 MiB allows over a million packages.
pub const MAX_INDEX_TEXT_BYTES: u64 = 512 << 20;

/// Max uncompressed size of a signature stream. One 512-byte tar header plus a
/// signature of at most 2 KiB (a 16384-bit key) fits many times over.
pub const MAX_SIGNATURE_STREAM_BYTES: u64 = 64 << 10;

/// Max number of signatures read from one signature stream.
pub const MAX_SIGNATURES: usize = 16;

/// Max size of a whole `.apk` file, compressed. The file is held in memory to hash its
/// gzip streams, so this also bounds memory use per package being read.
pub const MAX_PACKAGE_FILE_BYTES: u64 = 2 << 30;

/// Max uncompressed size of the control stream (`.PKGINFO`, scripts and triggers).
pub const MAX_CONTROL_STREAM_BYTES: u64 = 16 << 20;

/// Max uncompressed size of the data stream of one package, which is streamed and never
/// held in memory. This bounds what an extraction can write to disk.
pub const MAX_DATA_STREAM_BYTES: u64 = 16 << 30;

/// Max number of tar entries in one package. Large real packages (kernel modules, icon
/// themes) hold tens of thousands of files.
pub const MAX_PACKAGE_ENTRIES: u64 = 1_000_000;

/// Max number of gzip streams accepted in one file. Packages have 2 or 3 and indexes
/// 1 or 2; anything above that is rejected before more decompression work is done.
pub const MAX_GZIP_STREAMS: usize = 3;

/// Max length in bytes of an entry path or link target.
pub const MAX_PATH_BYTES: usize = 4096;

/// Largest public key file fetched by URL, in bytes; a 4096-bit RSA key in PEM is
/// about 800 bytes.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
