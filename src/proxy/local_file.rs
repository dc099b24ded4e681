//! The files a rule answers with (`map_local`, `respond`'s `body_file`), read so that a hostile
//! or odd file cannot hurt anything else: regular files only (a FIFO, device or socket could
//! hold a thread forever or never end), inside the `map_local` directory once symlinks are
//! followed, at most [`MAX_LOCAL_FILE`] bytes, read on the blocking pool under a deadline.
//!
//! Owns no flow and no response; `exchange` turns the outcome into the answer.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;

/// Larger files are refused: the answer is held in memory whole.
pub const MAX_LOCAL_FILE: u64 = 256 << 20;
/// A regular file on a healthy disk is read long before this; a hung network mount is not.
const READ_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum LocalFileError {
    #[error("{path} is outside the map_local directory {root} (through a symlink)")]
    Escapes { path: PathBuf, root: PathBuf },
    #[error("{path} is not a regular file")]
    NotRegular { path: PathBuf },
    #[error("{path} is {size} bytes, more than the {MAX_LOCAL_FILE} a rule answers with")]
    TooLarge { path: PathBuf, size: u64 },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading {path} took longer than {} s", READ_DEADLINE.as_secs())]
    Slow { path: PathBuf },
}

impl LocalFileError {
    /// The status the client gets: 404 for a file that is not there, 403 for one gomitm will
    /// not serve, 502 when reading it failed otherwise.
    pub fn status(&self) -> u16 {
        match self {
            LocalFileError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                404
            }
            LocalFileError::Escapes { .. }
            | LocalFileError::NotRegular { .. }
            | LocalFileError::TooLarge { .. } => 403,
            LocalFileError::Io { .. } | LocalFileError::Slow { .. } => 502,
        }
    }
}

/// Read `path`, which must stay inside `root` when one is given (a `map_local` directory).
pub async fn read(root: Option<PathBuf>, path: PathBuf) -> Result<Bytes, LocalFileError> {
    let shown = path.clone();
    let task = tokio::task::spawn_blocking(move || read_blocking(root.as_deref(), &path));
    match tokio::time::timeout(READ_DEADLINE, task).await {
        Ok(Ok(result)) => result.map(Bytes::from),
        Ok(Err(join)) => Err(LocalFileError::Io {
            path: shown,
            source: std::io::Error::other(join.to_string()),
        }),
        Err(_) => Err(LocalFileError::Slow { path: shown }),
    }
}

fn read_blocking(root: Option<&Path>, path: &Path) -> Result<Vec<u8>, LocalFileError> {
    let io = |source| LocalFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let real = fs::canonicalize(path).map_err(io)?;
    if let Some(root) = root {
        let root = fs::canonicalize(root).map_err(io)?;
        if !real.starts_with(&root) {
            return Err(LocalFileError::Escapes {
                path: path.to_path_buf(),
                root,
            });
        }
    }
    let mut opts = fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Non-blocking, so that opening a FIFO returns at once instead of waiting for a
        // writer; no symlink may be swapped in after the check above.
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = opts.open(&real).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(LocalFileError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > MAX_LOCAL_FILE {
        return Err(LocalFileError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
        });
    }
    let mut data = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // A file that grows while it is read is cut at the cap, never read without end.
    file.take(MAX_LOCAL_FILE + 1)
        .read_to_end(&mut data)
        .map_err(io)?;
    if data.len() as u64 > MAX_LOCAL_FILE {
        return Err(LocalFileError::TooLarge {
            path: path.to_path_buf(),
            size: data.len() as u64,
        });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn dir_with(name: &str, text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(name), text).unwrap();
        dir
    }

    #[tokio::test]
    async fn a_regular_file_inside_the_directory_is_served_also_through_an_inner_link() {
        let dir = dir_with("a.mod", "module a\n");
        std::os::unix::fs::symlink(dir.path().join("a.mod"), dir.path().join("b.mod")).unwrap();
        let root = Some(dir.path().to_path_buf());
        let got = read(root.clone(), dir.path().join("b.mod")).await.unwrap();
        assert_eq!(&got[..], b"module a\n");
    }

    #[tokio::test]
    async fn a_symlink_out_of_the_directory_is_refused() {
        let outside = dir_with("secret", "do not serve");
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("x")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("sub")).unwrap();
        for name in ["x", "sub/secret"] {
            let e = read(Some(dir.path().to_path_buf()), dir.path().join(name))
                .await
                .unwrap_err();
            assert!(matches!(e, LocalFileError::Escapes { .. }), "{name}: {e}");
            assert_eq!(e.status(), 403);
        }
    }

    #[tokio::test]
    async fn fifos_devices_sockets_and_directories_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let socket = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let started = Instant::now();
        for (path, root) in [
            (fifo, Some(dir.path().to_path_buf())),
            (socket, Some(dir.path().to_path_buf())),
            (PathBuf::from("/dev/zero"), None),
            (dir.path().to_path_buf(), None),
        ] {
            let e = read(root, path.clone()).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    LocalFileError::NotRegular { .. } | LocalFileError::Io { .. }
                ),
                "{}: {e}",
                path.display()
            );
            assert_ne!(e.status(), 200);
        }
        assert!(started.elapsed() < Duration::from_secs(2), "a read blocked");
    }

    #[tokio::test]
    async fn a_file_over_the_cap_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.zip");
        // Sparse: no disk is written.
        fs::File::create(&big)
            .unwrap()
            .set_len(MAX_LOCAL_FILE + 1)
            .unwrap();
        let e = read(None, big).await.unwrap_err();
        assert!(matches!(e, LocalFileError::TooLarge { .. }), "{e}");
        let missing = read(None, dir.path().join("nope")).await.unwrap_err();
        assert_eq!(missing.status(), 404);
    }
}
