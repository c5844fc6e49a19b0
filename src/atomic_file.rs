//! Files written whole or not at all: the content goes to a temporary file
//! beside the target, which is then renamed over it. A reader, or a crash,
//! sees the old file or the new one, never half of one.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `path` through `write`, atomically.
pub fn write(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut out = BufWriter::new(File::create(&temporary)?);
    write(&mut out)?;
    out.into_inner().map_err(|e| e.into_error())?;
    std::fs::rename(&temporary, path)
}
