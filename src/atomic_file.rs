//! Files written whole or not at all: the content goes to a fresh temporary
//! file beside the target, which is flushed to disk and then renamed over
//! it, and the folder is flushed too. A reader, a crash or a power cut sees
//! the old file or the new one, never half of one. Targets are checked
//! before anything is written: a command checks its output paths with
//! [`check_target`] before its first call, so that a typo in `--report`
//! is not found after a thousand moves.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why a path cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{path}: the folder {folder} does not exist")]
    NoFolder { path: String, folder: String },
    #[error("{path}: {folder} is not a folder")]
    NotAFolder { path: String, folder: String },
    #[error("{path} is {kind}, not a regular file; give the path of a file to write")]
    NotRegular { path: String, kind: &'static str },
    #[error("{path}: cannot create files in {folder}")]
    NotWritable {
        path: String,
        folder: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is {what}, which this command reads; write to another path")]
    IsInput { path: String, what: String },
    #[error("could not check {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The folder a path's file lives in (`.` for a bare file name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// A temporary file in `folder`, created exclusively (`O_EXCL`) under a
/// random name: it can be no one's existing file or symlink. It is removed
/// when dropped unless it has been persisted.
fn fresh_temporary(path: &Path, folder: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(folder)
}

/// Refuses a target that is not a regular file when it exists (a device, a
/// folder, a FIFO: renaming over a device node would replace it), one whose
/// folder is missing, and one whose folder cannot take a new file.
pub fn check_target(path: &Path) -> Result<(), TargetError> {
    let shown = || path.display().to_string();
    let folder = folder_of(path);
    match std::fs::metadata(&folder) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => {
            return Err(TargetError::NotAFolder {
                path: shown(),
                folder: folder.display().to_string(),
            })
        }
        Err(_) => {
            return Err(TargetError::NoFolder {
                path: shown(),
                folder: folder.display().to_string(),
            })
        }
    }
    refuse_non_regular(path)?;
    // Permission bits do not tell the whole story (read-only mounts, ACLs):
    // creating the temporary file the write would create does.
    fresh_temporary(path, &folder)
        .map(drop)
        .map_err(|source| TargetError::NotWritable {
            path: shown(),
            folder: folder.display().to_string(),
            source,
        })
}

/// Refuses an existing target that is not a regular file.
fn refuse_non_regular(path: &Path) -> Result<(), TargetError> {
    match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => Err(TargetError::NotRegular {
            path: path.display().to_string(),
            kind: kind_of(&metadata),
        }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(TargetError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Refuses to write `path` when it is the same file as `input`, which the
/// command reads (`what` names it in the message): writing a plan over the
/// manifest it came from destroys the manifest.
pub fn check_not_input(path: &Path, input: &Path, what: &str) -> Result<(), TargetError> {
    if same_file(path, input) {
        return Err(TargetError::IsInput {
            path: path.display().to_string(),
            what: what.to_owned(),
        });
    }
    Ok(())
}

/// Where a target will be written, by identity rather than spelling: its
/// folder canonicalized (symlinks and `./` resolved), then its own name.
/// For binding an undo plan to its report, and for telling two targets that
/// do not exist yet apart.
pub fn canonical_target(path: &Path) -> std::io::Result<PathBuf> {
    let folder = std::fs::canonicalize(folder_of(path))?;
    Ok(match path.file_name() {
        Some(name) => folder.join(name),
        None => folder,
    })
}

/// Whether two output paths name one target: one existing file (the same
/// device and inode), or, where either does not exist yet, the same name
/// in the same canonical folder.
pub fn same_target(a: &Path, b: &Path) -> bool {
    if same_file(a, b) {
        return true;
    }
    match (canonical_target(a), canonical_target(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Whether two paths name one existing file: the same device and inode, so
/// that hard links, symlinks and `./` spellings all count.
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = metadata.file_type();
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if metadata.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

/// Writes `path` through `write`, atomically and durably. A target that is
/// not a regular file is refused; on any failure the temporary file is
/// removed and the target is left as it was.
pub fn write(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    refuse_non_regular(path)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let folder = folder_of(path);
    let temporary = fresh_temporary(path, &folder)?;
    let mut out = BufWriter::new(temporary);
    write(&mut out)?;
    let temporary = out.into_inner().map_err(|e| e.into_error())?;
    temporary.as_file().sync_all()?;
    // `persist` renames; a symlink at `path` is replaced, never followed.
    temporary.persist(path).map_err(|e| e.error)?;
    // The rename is durable once the folder's entry is on disk.
    sync_folder(&folder)
}

#[cfg(unix)]
fn sync_folder(folder: &Path) -> std::io::Result<()> {
    File::open(folder)?.sync_all()
}

/// Windows cannot open a folder as a file; its renames are journaled.
#[cfg(not(unix))]
fn sync_folder(_folder: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn writes_whole_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "old").unwrap();
        write(&path, |out| out.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_tmp_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let path = dir.path().join("plan.json");
        std::os::unix::fs::symlink(&victim, dir.path().join("plan.json.tmp")).unwrap();
        write(&path, |out| out.write_all(b"plan")).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "plan");
    }

    #[test]
    fn a_failed_write_leaves_the_target_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, "before").unwrap();
        let error = write(&path, |out| {
            out.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "disk full");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "before");
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    }

    #[cfg(unix)]
    #[test]
    fn non_regular_targets_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        for (path, kind) in [
            (Path::new("/dev/null"), "a device"),
            (dir.path(), "a folder"),
            (fifo.as_path(), "a FIFO"),
        ] {
            let error = write(path, |out| out.write_all(b"x")).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains(&format!("is {kind}, not a regular file")),
                "{}: {error}",
                path.display()
            );
        }
        assert!(fifo.exists(), "the FIFO is left alone");
    }

    #[test]
    fn a_missing_folder_is_found_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-folder").join("report.json");
        let error = check_target(&path).unwrap_err();
        assert!(matches!(error, TargetError::NoFolder { .. }), "{error}");
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let error = check_target(&file.join("report.json")).unwrap_err();
        assert!(matches!(error, TargetError::NotAFolder { .. }), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn the_same_file_is_recognised_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("m.yaml");
        std::fs::write(&manifest, "version: 1").unwrap();
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&manifest, &link).unwrap();
        let dotted = dir.path().join(".").join("m.yaml");
        for alias in [&manifest, &link, &dotted] {
            assert!(check_not_input(alias, &manifest, "the manifest").is_err());
        }
        assert!(check_not_input(&dir.path().join("plan.json"), &manifest, "the manifest").is_ok());
    }
}
