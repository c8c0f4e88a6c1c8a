//! Gzip compression in independent blocks, compressed in parallel on the rayon pool.
//!
//! The input is cut into blocks of [`BLOCK_BYTES`] at fixed offsets, each block is
//! deflated on its own and ended with a sync flush, and the pieces are concatenated
//! behind one gzip header, as pigz does without its dictionary option. Block boundaries
//! depend only on the input, so the output is the same for any thread count. The cost is
//! a slightly larger output than one deflate stream, because no block refers back into
//! the previous one.

use std::io::{self, Write};

use flate2::Compression;
use flate2::write::DeflateEncoder;
use rayon::prelude::*;

/// Uncompressed bytes per block.
pub const BLOCK_BYTES: usize = 1 << 20;

/// Blocks compressed per batch for each rayon thread: enough to keep threads busy while
/// bounding memory to a few MiB per thread.
const BLOCKS_PER_THREAD: usize = 2;

/// Gzip header: magic, deflate, no flags, no mtime, no extra flags, OS unknown (255), so
/// no host detail enters the output.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A final, empty deflate block with fixed Huffman codes: ends the stream.
const FINAL_EMPTY_BLOCK: [u8; 2] = [0x03, 0x00];

/// A writer that gzips what it receives into `inner`. Call [`Self::finish`] to write the
/// end of the stream; dropping it without that leaves the stream truncated.
pub struct BlockGzipWriter<W: Write> {
    inner: W,
    level: Compression,
    pending: Vec<u8>,
    crc: crc32fast::Hasher,
    length: u64,
    header_written: bool,
}

impl<W: Write> BlockGzipWriter<W> {
    /// Creates a writer with the given compression level (0 to 9).
    pub fn new(inner: W, level: u32) -> Self {
        Self {
            inner,
            level: Compression::new(level.min(9)),
            pending: Vec::new(),
            crc: crc32fast::Hasher::new(),
            length: 0,
            header_written: false,
        }
    }

    /// Compresses what is pending, writes the gzip trailer and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.compress_pending(true)?;
        self.write_header()?;
        self.inner.write_all(&FINAL_EMPTY_BLOCK)?;
        let crc = self.crc.clone().finalize();
        self.inner.write_all(&crc.to_le_bytes())?;
        // ISIZE is the input length modulo 2^32 (RFC 1952), so the cast truncates on purpose.
        self.inner.write_all(&(self.length as u32).to_le_bytes())?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    fn write_header(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.inner.write_all(&GZIP_HEADER)?;
            self.header_written = true;
        }
        Ok(())
    }

    fn batch_bytes() -> usize {
        BLOCK_BYTES * BLOCKS_PER_THREAD * rayon::current_num_threads().max(1)
    }

    /// Compresses whole blocks (and with `last`, the partial tail) in parallel and
    /// writes them in order.
    fn compress_pending(&mut self, last: bool) -> io::Result<()> {
        let whole = self.pending.len() / BLOCK_BYTES * BLOCK_BYTES;
        let end = if last { self.pending.len() } else { whole };
        if end == 0 {
            return Ok(());
        }
        let level = self.level;
        let input = self.pending.get(..end).unwrap_or_default();
        let blocks: Vec<io::Result<Vec<u8>>> = input
            .par_chunks(BLOCK_BYTES)
            .map(|block| deflate_block(block, level))
            .collect();
        self.write_header()?;
        for block in blocks {
            self.inner.write_all(&block?)?;
        }
        self.pending.drain(..end);
        Ok(())
    }
}

impl<W: Write> Write for BlockGzipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.crc.update(buf);
        self.length += buf.len() as u64;
        if self.pending.len() >= Self::batch_bytes() {
            self.compress_pending(false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Blocks are cut at fixed offsets, so a flush must not end a block early.
        self.inner.flush()
    }
}

/// Deflates one block and ends it with a sync flush (an empty stored block), so the
/// next block starts on a byte boundary.
fn deflate_block(block: &[u8], level: Compression) -> io::Result<Vec<u8>> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(block.len() / 2), level);
    encoder.write_all(block)?;
    encoder.flush()?;
    Ok(std::mem::take(encoder.get_mut()))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i * 7 % 251) as u8 ^ (i / 4096) as u8)
            .collect()
    }

    fn gzip_with_threads(data: &[u8], threads: usize) -> Vec<u8> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        pool.install(|| {
            let mut writer = BlockGzipWriter::new(Vec::new(), 6);
            // Uneven write sizes, so batching does not line up with the input.
            for chunk in data.chunks(300_001) {
                writer.write_all(chunk).expect("write");
            }
            writer.finish().expect("finish")
        })
    }

    #[test]
    fn block_gzip_round_trips() {
        for len in [0, 1, 1000, BLOCK_BYTES, 3 * BLOCK_BYTES + 17] {
            let data = sample(len);
            let compressed = gzip_with_threads(&data, 2);
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(compressed.as_slice())
                .read_to_end(&mut decoded)
                .expect("valid gzip");
            assert_eq!(decoded, data, "length {len}");
        }
    }

    #[test]
    fn block_gzip_ignores_thread_count() {
        let data = sample(5 * BLOCK_BYTES + 12_345);
        let one = gzip_with_threads(&data, 1);
        let three = gzip_with_threads(&data, 3);
        assert_eq!(one, three);
    }
}
