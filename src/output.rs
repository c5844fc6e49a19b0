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

/// A writer that writes everything to both of its writers, in order: one
/// serialization of a plan shown and saved at once, rather than two.
pub struct Tee<'a>(pub &'a mut dyn Write, pub &'a mut dyn Write);

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(buf)?;
        self.1.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()?;
        self.1.flush()
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

/// An error's text and its causes', leaving out a cause whose text the one
/// above already ends with (a wrapped error often repeats its source).
pub fn causes(error: &anyhow::Error) -> Vec<String> {
    let mut lines = Vec::new();
    let mut above = String::new();
    for cause in error.chain() {
        let line = cause.to_string();
        if lines.is_empty() || !above.ends_with(&line) {
            lines.push(line.clone());
        }
        above = line;
    }
    lines
}

/// Prints an error with its causes, one per line, as [`causes`] gives them.
pub fn report_error(error: &anyhow::Error) {
    let text = format!("Error: {}", causes(error).join("\n  caused by: "));
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
    fn a_tee_writes_every_byte_to_both_writers_in_order() {
        let (mut first, mut second) = (Vec::new(), Vec::new());
        let mut tee = Tee(&mut first, &mut second);
        tee.write_all(b"{\"plan\": ").unwrap();
        write!(tee, "{}", 1).unwrap();
        tee.write_all(b"}\n").unwrap();
        tee.flush().unwrap();
        assert_eq!(first, b"{\"plan\": 1}\n", "the first writer has it all");
        assert_eq!(second, first, "the second writer has the same bytes");
    }

    #[test]
    fn a_tee_stops_at_the_first_writer_that_fails() {
        let mut full = [0u8; 2];
        let mut first: &mut [u8] = &mut full;
        let mut second = Vec::new();
        let error = Tee(&mut first, &mut second).write_all(b"abc").unwrap_err();
        assert_eq!(
            error.kind(),
            io::ErrorKind::WriteZero,
            "a full writer's error is returned"
        );
        assert!(
            second.is_empty(),
            "nothing goes to the second after the first failed"
        );
    }

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
