//! Standard output for every command: one locked, buffered writer, so that
//! a plan of 100,000 lines is not written a line at a time, and nothing panics
//! when stdout goes away. A closed pipe (`regroup plan | head -1`) ends the
//! command quietly with exit 0, as ripgrep does; any other write error (a full
//! disk) is an ordinary one-line error. Errors go to stderr, redacted,
//! through [`report_error`].

use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};

/// The process's standard output, locked and buffered.
pub struct Stdout(BufWriter<StdoutLock<'static>>);

impl Stdout {
    pub fn lock() -> Stdout {
        Stdout(BufWriter::new(io::stdout().lock()))
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Whether colour may be written to `stream`: only to a terminal, and never
/// with `--no-color` or a non-empty `NO_COLOR` (the no-color.org convention:
/// any value but the empty one turns colour off).
pub fn color_allowed(no_color_flag: bool, stream: &impl IsTerminal) -> bool {
    !no_color_flag
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && stream.is_terminal()
}

/// Whether `error` comes from writing to a reader that has gone away, which
/// ends a command normally: the reader has all it wanted.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Prints an error with its causes, one per line, leaving out a cause whose
/// text the line above already ends with (a wrapped error often repeats its
/// source).
pub fn report_error(error: &anyhow::Error) {
    let mut text = format!("Error: {error}");
    let mut above = error.to_string();
    for cause in error.chain().skip(1) {
        let line = cause.to_string();
        if !above.ends_with(&line) {
            text.push_str(&format!("\n  caused by: {line}"));
        }
        above = line;
    }
    // Errors are redacted where they are made; this is the last line of
    // defence for any that an underlying library formats.
    let text = crate::cloud::client::redact(&text);
    // A closed stderr leaves nobody to tell.
    let _ = writeln!(io::stderr(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_found_anywhere_in_the_chain() {
        let error = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe))
            .context("could not print the plan");
        assert!(is_broken_pipe(&error));
        let full = anyhow::Error::new(io::Error::from(io::ErrorKind::StorageFull))
            .context("could not print the plan");
        assert!(!is_broken_pipe(&full));
    }
}
