//! Reading a whole input file with a ceiling on its size. The ceiling holds
//! whatever the file claims to be: `/dev/zero` and a FIFO report a size of
//! 0, so the read itself is bounded, at the limit plus one byte, which is
//! enough to tell "at the limit" from "over it".

use std::io::Read;
use std::path::Path;

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
        }
    }
}

/// The bytes of `path`, if there are at most `limit` of them.
pub fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    let read_error = |source| BoundedReadError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(BoundedReadError::TooLarge {
            path: path.display().to_string(),
            limit,
        });
    }
    Ok(bytes)
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

    #[test]
    fn a_missing_file_names_its_path() {
        let error = read_at_most(Path::new("no/such/file"), 10).unwrap_err();
        assert_eq!(error.to_string(), "could not read no/such/file");
        assert_eq!(error.into_io().kind(), std::io::ErrorKind::NotFound);
    }
}
