//! Reading a whole input file with a ceiling on its size and, for what is
//! not a regular file, on its time. The size ceiling holds whatever the
//! file claims to be: `/dev/zero` and a FIFO report a size of 0, so the
//! read itself is bounded, at the limit plus one byte, which is enough to
//! tell "at the limit" from "over it". A FIFO with no writer, or a device
//! that never answers, would block for ever: those are opened without
//! blocking and read only while data comes within [`NON_REGULAR_TIMEOUT`].

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long reading a FIFO or device may take in all: ample for a process
/// substitution (`-f <(gen-manifest)`) that writes at once, and a clear
/// error instead of a hang when nothing ever writes.
pub const NON_REGULAR_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum BoundedReadError {
    #[error("could not read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is larger than the limit of {limit} bytes")]
    TooLarge { path: String, limit: u64 },
    #[error("{path} is not a regular file and gave no end of data within {} s (a FIFO with no writer?)", .timeout.as_secs())]
    TimedOut { path: String, timeout: Duration },
}

impl BoundedReadError {
    /// The error as an I/O error, for callers whose own error already names
    /// the path.
    pub fn into_io(self) -> std::io::Error {
        match self {
            BoundedReadError::Read { source, .. } => source,
            BoundedReadError::TooLarge { limit, .. } => std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("larger than the limit of {limit} bytes"),
            ),
            BoundedReadError::TimedOut { timeout, .. } => std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "not a regular file, and no end of data within {} s",
                    timeout.as_secs()
                ),
            ),
        }
    }
}

/// The bytes of `path`, if there are at most `limit` of them (and, for a
/// FIFO or device, if they end within [`NON_REGULAR_TIMEOUT`]).
pub fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    read_within(path, limit, NON_REGULAR_TIMEOUT)
}

fn read_within(path: &Path, limit: u64, timeout: Duration) -> Result<Vec<u8>, BoundedReadError> {
    let read_error = |source| BoundedReadError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = open_without_blocking(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    let ceiling = limit.saturating_add(1);
    let regular = metadata.is_file();
    let mut bytes = Vec::new();
    if regular {
        // Room for the whole file at once, as large as it says it is but
        // never beyond the ceiling: grown by doubling instead, a 68 MB
        // manifest took a 128 MiB buffer and 64 MiB more while copying.
        bytes.reserve_exact(initial_room(metadata.len(), ceiling));
        file.take(ceiling)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
    } else {
        read_polling(&file, ceiling, Instant::now() + timeout, &mut bytes).map_err(|source| {
            match source.kind() {
                std::io::ErrorKind::TimedOut => BoundedReadError::TimedOut {
                    path: path.display().to_string(),
                    timeout,
                },
                _ => read_error(source),
            }
        })?;
    }
    if bytes.len() as u64 > limit {
        return Err(BoundedReadError::TooLarge {
            path: path.display().to_string(),
            limit,
        });
    }
    Ok(bytes)
}

/// The room to reserve for a regular file of `length` bytes read up to
/// `ceiling`: its length and one byte more, so that reading to its end
/// needs no second buffer (the byte is where a file that grew since is
/// seen to go on); a file that claims more than the ceiling gets the
/// ceiling, which is all that is read of it.
fn initial_room(length: u64, ceiling: u64) -> usize {
    usize::try_from(length.saturating_add(1).min(ceiling)).unwrap_or(usize::MAX)
}

/// Opens for reading without waiting for a FIFO's writer (`O_NONBLOCK`).
#[cfg(unix)]
fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Reads up to `ceiling` bytes, each chunk only once `poll` says it is
/// there, until the end of data or `deadline`.
#[cfg(unix)]
fn read_polling(
    mut file: &std::fs::File,
    ceiling: u64,
    deadline: Instant,
    bytes: &mut Vec<u8>,
) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut chunk = vec![0u8; 64 * 1024];
    while (bytes.len() as u64) < ceiling {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        let mut poll = libc::pollfd {
            fd: file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let wait = i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(1);
        // SAFETY: one valid pollfd, for a descriptor this function borrows.
        let ready = unsafe { libc::poll(&mut poll, 1, wait) };
        if ready < 0 {
            let error = std::io::Error::last_os_error();
            if error.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        if ready == 0 {
            continue;
        }
        let room = usize::try_from(ceiling - bytes.len() as u64)
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        match file.read(&mut chunk[..room]) {
            Ok(0) => return Ok(()),
            Ok(count) => bytes.extend_from_slice(&chunk[..count]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn read_polling(
    file: &std::fs::File,
    ceiling: u64,
    _deadline: Instant,
    bytes: &mut Vec<u8>,
) -> std::io::Result<()> {
    file.take(ceiling).read_to_end(bytes).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_limit_reads_and_one_more_byte_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_at_most(&path, 5).unwrap(), b"12345");
        let error = read_at_most(&path, 4).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{} is larger than the limit of 4 bytes", path.display())
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_file_that_claims_size_zero_stops_at_the_limit() {
        assert!(matches!(
            read_at_most(Path::new("/dev/zero"), 1000),
            Err(BoundedReadError::TooLarge { limit: 1000, .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_with_no_writer_times_out_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let name = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let error = read_within(&path, 1000, Duration::from_millis(200)).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} is not a regular file and gave no end of data within 0 s (a FIFO with no writer?)",
                path.display()
            ),
            "a FIFO nobody writes must end in a time-out"
        );
    }

    #[test]
    fn the_room_reserved_is_the_length_and_one_within_the_ceiling() {
        assert_eq!(initial_room(0, 11), 1, "an empty file: room for the end");
        assert_eq!(initial_room(68, 129), 69, "the file and one byte");
        assert_eq!(initial_room(128, 129), 129, "a file at the limit");
        assert_eq!(initial_room(500, 129), 129, "never beyond the ceiling");
        assert_eq!(
            initial_room(u64::MAX, 129),
            129,
            "nor for a file claiming u64::MAX"
        );
    }

    #[test]
    fn a_regular_file_is_read_into_one_buffer_of_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let content = vec![b'x'; 100_000];
        std::fs::write(&path, &content).unwrap();
        let bytes = read_at_most(&path, 1_000_000).unwrap();
        assert_eq!(bytes, content, "the whole file");
        assert_eq!(
            bytes.capacity(),
            100_001,
            "read into the room reserved from its length, not a buffer grown by doubling"
        );
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let error = read_at_most(Path::new("no/such/file"), 10).unwrap_err();
        assert_eq!(error.to_string(), "could not read no/such/file");
        assert_eq!(error.into_io().kind(), std::io::ErrorKind::NotFound);
    }
}
