//! Log setup: `tracing` lines on stderr, so stdout carries only a command's result.

use std::io::{IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use super::progress::active_bars;

/// Installs the global subscriber. `RUST_LOG` wins over the `-v` count.
pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(LogWriter)
        // Colour codes only where a person reads them; CI logs and pipes get plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
}

/// Makes one buffer per log event, written to stderr as a whole when the event ends.
/// While progress bars are drawn, the write happens with the bars hidden, so a log
/// line lands above them instead of tearing them.
struct LogWriter;

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = EventBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        EventBuffer(Vec::new())
    }
}

struct EventBuffer(Vec<u8>);

impl Write for EventBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventBuffer {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.0);
        // A log line that cannot be written (stderr closed) has nowhere else to go.
        let write = || {
            let _ = std::io::stderr().write_all(&bytes);
        };
        match active_bars() {
            Some(bars) => bars.suspend(write),
            None => write(),
        }
    }
}
