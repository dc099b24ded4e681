//! Files gomitm writes for the user (the HAR, the CA directory's files): replaced through a
//! new file beside the old one and a rename, so that a full disk or a crash mid-write never
//! destroys a good older file and a reader never sees half of one; a symlink at the path is
//! replaced, not followed. Also the start-up check that such a path can be written at all,
//! and the fallback place for a capture whose own path failed at exit.
//!
//! Knows nothing of what the bytes are; callers word their own errors.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The mode of the files that hold traffic (the HAR, `--jsonl`, the TUI's export, a capture
/// saved elsewhere at exit): the owner's alone, as the CA key is.
pub const TRAFFIC_MODE: u32 = 0o600;

/// Open `path` to append lines of traffic (`--jsonl`): created with [`TRAFFIC_MODE`] when it
/// does not exist; an existing file keeps its mode and contents.
pub fn open_append_private(path: &Path) -> io::Result<fs::File> {
    let mut opts = fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(TRAFFIC_MODE);
    }
    opts.open(path)
}

/// Create `path`, which must not exist, with exactly `mode` (Unix) from the first byte, and
/// write `data` to disk. `O_EXCL` never follows a symlink: one at `path`, even dangling, is an
/// error, not a write where it points.
pub fn write_new(path: &Path, data: &[u8], mode: Option<u32>) -> io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    let mut file = opts.open(path)?;
    if let Some(mode) = mode {
        // The umask only ever removes bits at creation; the mode asked for is the mode kept.
        set_mode(&file, mode)?;
    }
    file.write_all(data)?;
    file.sync_all()
}

/// Replace `path` with `data`: a new file in the same directory, then a rename over `path`.
pub fn replace(path: &Path, data: &[u8], mode: Option<u32>) -> io::Result<()> {
    let tmp = sibling(path, "tmp");
    let result = write_new(&tmp, data, mode).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Whether `path` can be written at exit: an existing one must be a writable file, and its
/// directory must take a new file (the replacement is written beside it). Nothing is changed.
pub fn check_writable(path: &Path) -> io::Result<()> {
    if let Ok(meta) = fs::metadata(path) {
        if !meta.is_file() {
            return Err(io::Error::other("it exists and is not a regular file"));
        }
        fs::OpenOptions::new().append(true).open(path)?;
    }
    let probe = sibling(path, "probe");
    write_new(&probe, b"", None)?;
    fs::remove_file(&probe)
}

/// Where a capture goes when its own path failed: `dir` (the CA directory, which gomitm
/// owns), else the system's temporary directory; a new name each time, never an overwrite.
pub fn fallback_path(dirs: &[&Path], stem: &str, ext: &str) -> Vec<PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = format!("{stem}-{stamp}-{}.{ext}", std::process::id());
    let temp = std::env::temp_dir();
    dirs.iter()
        .copied()
        .chain(std::iter::once(temp.as_path()))
        .map(|d| d.join(&name))
        .collect()
}

/// `.NAME.PID.RANDOM.KIND` beside `path`: hidden, unique, in the same file system.
fn sibling(path: &Path, kind: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let mut nonce = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce);
    let unique = u64::from_le_bytes(nonce);
    path.with_file_name(format!(
        ".{name}.{}.{unique:016x}.{kind}",
        std::process::id()
    ))
}

fn set_mode(file: &fs::File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (file, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_swaps_the_file_and_an_open_reader_keeps_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.har");
        fs::write(&path, "old").unwrap();
        let held = fs::File::open(&path).unwrap();
        replace(&path, b"new", None).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        let mut old = String::new();
        io::Read::read_to_string(&mut &held, &mut old).unwrap();
        assert_eq!(old, "old", "the old file was overwritten in place");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "a temporary file was left behind");
    }

    #[test]
    fn a_failed_replace_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.har");
        fs::write(&path, "old").unwrap();
        // A directory where the rename must land: the rename fails after the write.
        let blocked = dir.path().join("blocked");
        fs::create_dir(&blocked).unwrap();
        fs::write(blocked.join("x"), "x").unwrap();
        assert!(replace(&blocked, b"new", None).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn check_writable_refuses_what_cannot_be_written_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(&dir.path().join("new.har")).is_ok());
        assert!(!dir.path().join("new.har").exists());
        assert!(check_writable(&dir.path().join("missing").join("x.har")).is_err());
        assert!(
            check_writable(dir.path()).is_err(),
            "a directory is not a HAR file"
        );
        let existing = dir.path().join("old.har");
        fs::write(&existing, "keep").unwrap();
        assert!(check_writable(&existing).is_ok());
        assert_eq!(fs::read_to_string(&existing).unwrap(), "keep");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn fallback_paths_are_new_names_in_each_directory_then_temp() {
        let a = Path::new("/ca");
        let paths = fallback_path(&[a], "gomitm-unsaved", "har");
        assert_eq!(paths.len(), 2);
        assert!(paths[0].starts_with("/ca"));
        assert!(paths[1].starts_with(std::env::temp_dir()));
        let name = paths[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("gomitm-unsaved-") && name.ends_with(".har"),
            "{name}"
        );
    }
}
