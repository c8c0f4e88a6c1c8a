//! Writing a command's result to stdout. A closed pipe (`cargo xtask list | head`) ends
//! the output quietly instead of failing, as for other command-line tools.

use std::io::{ErrorKind, Write};

/// Writes `text` and a newline to stdout, ignoring a reader that has gone away.
pub fn print_line(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}") {
        Err(error) if error.kind() == ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}
