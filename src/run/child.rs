//! Running the watched command while sitting between it and the terminal: its stdout and
//! stderr pass through byte for byte, as they come, and gomitm keeps the last part of each as
//! evidence (go's own error lines). When gomitm's own stream is a terminal, the child gets a
//! pseudo-terminal for it, so go and git still see a terminal; otherwise a pipe.
//!
//! I/O only; what the text means is `go::evidence`'s.

use std::io::{Read, Write};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};

/// The tail of each stream that gomitm keeps (go's errors come last).
const KEEP: usize = 256 * 1024;

/// What the child printed, the last [`KEEP`] bytes of each stream.
#[derive(Debug, Default, Clone)]
pub struct Captured {
    pub stdout: String,
    pub stderr: String,
}

/// A bounded tail of a byte stream.
#[derive(Debug, Default)]
pub struct Tail {
    buf: Vec<u8>,
}

impl Tail {
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
        if self.buf.len() > KEEP {
            let cut = self.buf.len() - KEEP;
            // Start at a line boundary so the first kept line is whole.
            let start = self.buf[cut..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(cut, |i| cut + i + 1);
            self.buf.drain(..start);
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }
}

pub type SharedTail = Arc<Mutex<Tail>>;

fn push(tail: &SharedTail, chunk: &[u8]) {
    tail.lock().unwrap_or_else(|p| p.into_inner()).push(chunk);
}

pub fn text_of(tail: &SharedTail) -> String {
    tail.lock().unwrap_or_else(|p| p.into_inner()).text()
}

/// Which of gomitm's own streams a child stream is copied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

impl Stream {
    fn is_terminal(self) -> bool {
        use std::io::IsTerminal;
        match self {
            Stream::Out => std::io::stdout().is_terminal(),
            Stream::Err => std::io::stderr().is_terminal(),
        }
    }

    fn write(self, chunk: &[u8]) {
        // A closed terminal or pipe must not stop the child's output from being read.
        let _ = match self {
            Stream::Out => {
                let mut o = std::io::stdout().lock();
                o.write_all(chunk).and_then(|_| o.flush())
            }
            Stream::Err => {
                let mut e = std::io::stderr().lock();
                e.write_all(chunk).and_then(|_| e.flush())
            }
        };
    }
}

/// Spawns `cmd` with stdout and stderr teed; waits for it; returns its status and output.
pub async fn run_teed(mut cmd: tokio::process::Command) -> std::io::Result<(ExitStatus, Captured)> {
    let out_tail = SharedTail::default();
    let err_tail = SharedTail::default();
    let mut readers = Vec::new();
    let mut piped = [false, false];
    for (i, stream) in [Stream::Out, Stream::Err].into_iter().enumerate() {
        match pty::open(stream) {
            Some((master, slave)) => {
                match stream {
                    Stream::Out => cmd.stdout(slave),
                    Stream::Err => cmd.stderr(slave),
                };
                let tail = if stream == Stream::Out {
                    out_tail.clone()
                } else {
                    err_tail.clone()
                };
                readers.push(std::thread::spawn(move || copy(master, stream, &tail)));
            }
            None => {
                piped[i] = true;
                match stream {
                    Stream::Out => cmd.stdout(std::process::Stdio::piped()),
                    Stream::Err => cmd.stderr(std::process::Stdio::piped()),
                };
            }
        }
    }
    let mut child = cmd.spawn()?;
    // The parent's copies of the pty slaves were moved into `cmd`, which spawn consumed only
    // by reference: drop it so the master sees EOF (EIO) when the child exits.
    drop(cmd);
    let mut tasks = Vec::new();
    if piped[0] {
        if let Some(out) = child.stdout.take() {
            tasks.push(tokio::spawn(pump(out, Stream::Out, out_tail.clone())));
        }
    }
    if piped[1] {
        if let Some(err) = child.stderr.take() {
            tasks.push(tokio::spawn(pump(err, Stream::Err, err_tail.clone())));
        }
    }
    // Ctrl-C reaches the child through the terminal; gomitm stays up to print the summary.
    let ignore_interrupts = tokio::spawn(async { while tokio::signal::ctrl_c().await.is_ok() {} });
    let status = child.wait().await;
    ignore_interrupts.abort();
    for t in tasks {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
    }
    let readers = tokio::task::spawn_blocking(move || {
        for r in readers {
            let _ = r.join();
        }
    });
    // A grandchild that keeps the terminal open must not hold the summary back for long.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), readers).await;
    Ok((
        status?,
        Captured {
            stdout: text_of(&out_tail),
            stderr: text_of(&err_tail),
        },
    ))
}

async fn pump(mut from: impl tokio::io::AsyncRead + Unpin, to: Stream, tail: SharedTail) {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                to.write(&buf[..n]);
                push(&tail, &buf[..n]);
            }
        }
    }
}

/// Blocking copy from a pty master; EIO means every slave is closed (the child is gone).
fn copy(mut from: std::fs::File, to: Stream, tail: &SharedTail) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                to.write(&buf[..n]);
                push(tail, &buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
}

#[cfg(unix)]
mod pty {
    use std::os::fd::{FromRawFd, OwnedFd};

    use super::Stream;

    /// A pseudo-terminal for `stream` when gomitm's own is a terminal: (master, slave). The
    /// slave passes bytes unchanged (no `\n` → `\r\n`) and has the terminal's size.
    pub(super) fn open(stream: Stream) -> Option<(std::fs::File, OwnedFd)> {
        if !stream.is_terminal() {
            return None;
        }
        let fd = match stream {
            Stream::Out => libc::STDOUT_FILENO,
            Stream::Err => libc::STDERR_FILENO,
        };
        let (mut master, mut slave) = (0, 0);
        // SAFETY: a zeroed winsize is valid; ioctl fills it from our own terminal.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ on a descriptor this process owns, into a local winsize.
        let sized = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
        let size_ptr = if sized {
            &mut size as *mut libc::winsize
        } else {
            std::ptr::null_mut()
        };
        // SAFETY: openpty writes two new descriptors into the locals; null name and termios
        // are allowed.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                size_ptr as _,
            )
        };
        if rc != 0 {
            return None;
        }
        // SAFETY: both descriptors were just created by openpty and are owned here alone.
        let (master, slave) = unsafe {
            (
                std::fs::File::from_raw_fd(master),
                OwnedFd::from_raw_fd(slave),
            )
        };
        raw_output(&slave);
        Some((master, slave))
    }

    /// Output post-processing off: what the child writes is what gomitm copies.
    fn raw_output(slave: &OwnedFd) {
        use std::os::fd::AsRawFd;
        // SAFETY: tcgetattr/tcsetattr on a pty slave this process owns, with a local termios.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(slave.as_raw_fd(), &mut t) == 0 {
                t.c_oflag &= !libc::OPOST;
                libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t);
            }
        }
    }
}

#[cfg(not(unix))]
mod pty {
    use super::Stream;

    pub(super) fn open(_: Stream) -> Option<(std::fs::File, std::process::Stdio)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_whole_last_lines() {
        let mut t = Tail::default();
        for i in 0..100_000 {
            t.push(format!("line {i}\n").as_bytes());
        }
        let text = t.text();
        assert!(text.len() <= KEEP);
        assert!(text.starts_with("line "), "{}", &text[..20]);
        assert!(text.ends_with("line 99999\n"));
    }
}

/// Why the command cannot start, found before the proxy starts so that nothing else is
/// printed first; the exit status is the one a shell gives (127 not found, 126 not
/// executable), so scripts that check for those keep working under `gomitm run`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CannotStart {
    #[error("cannot run {0:?}: command not found{1}")]
    NotFound(String, &'static str),
    #[error("cannot run {0:?}: {1}")]
    NotExecutable(String, &'static str),
}

impl CannotStart {
    pub fn exit_code(&self) -> i32 {
        match self {
            CannotStart::NotFound(..) => 127,
            CannotStart::NotExecutable(..) => 126,
        }
    }

    /// The same judgement from a failed spawn (the program vanished, or an interpreter named
    /// by its `#!` line is missing, after the check passed).
    pub fn from_spawn_error(program: &str, e: &std::io::Error) -> Option<CannotStart> {
        match e.kind() {
            std::io::ErrorKind::NotFound => Some(CannotStart::NotFound(
                program.to_string(),
                " (or the interpreter its #! line names)",
            )),
            std::io::ErrorKind::PermissionDenied => Some(CannotStart::NotExecutable(
                program.to_string(),
                "permission denied",
            )),
            _ => None,
        }
    }
}

/// Look `program` up as a shell would: a name with a `/` is a path, any other name is searched
/// in `path` (the PATH the command inherits; an empty entry is the current directory).
/// Unix only: Windows finds programs by PATHEXT and has no execute bit, so there the spawn
/// error alone decides (`from_spawn_error`).
#[cfg(not(unix))]
pub fn check_runnable(_program: &str, _path: Option<&std::ffi::OsStr>) -> Result<(), CannotStart> {
    Ok(())
}

/// Look `program` up as a shell would: a name with a `/` is a path, any other name is searched
/// in `path` (the PATH the command inherits; an empty entry is the current directory).
#[cfg(unix)]
pub fn check_runnable(program: &str, path: Option<&std::ffi::OsStr>) -> Result<(), CannotStart> {
    use std::path::{Path, PathBuf};
    let judge = |p: &Path| -> Option<Result<(), &'static str>> {
        let meta = std::fs::metadata(p).ok()?;
        Some(if meta.is_dir() {
            Err("it is a directory")
        } else if !is_executable(&meta) {
            Err("permission denied: the file is not executable (chmod +x it?)")
        } else {
            Ok(())
        })
    };
    let not_found = |hint| CannotStart::NotFound(program.to_string(), hint);
    if program.is_empty() {
        return Err(not_found(""));
    }
    if program.contains('/') {
        return match judge(Path::new(program)) {
            None => Err(not_found(" (no such file)")),
            Some(Ok(())) => Ok(()),
            Some(Err(why)) => Err(CannotStart::NotExecutable(program.to_string(), why)),
        };
    }
    let mut refused = None;
    for dir in std::env::split_paths(path.unwrap_or_default()) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        match judge(&dir.join(program)) {
            Some(Ok(())) => return Ok(()),
            Some(Err(why)) => refused = refused.or(Some(why)),
            None => {}
        }
    }
    match refused {
        Some(why) => Err(CannotStart::NotExecutable(program.to_string(), why)),
        None => Err(not_found(" on PATH")),
    }
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(all(test, unix))]
mod cannot_start_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn not_found_is_127_and_not_executable_is_126_like_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("script.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
        let path = dir.path().as_os_str();
        let err = check_runnable("script.sh", Some(path)).unwrap_err();
        assert_eq!(err.exit_code(), 126, "{err}");
        assert!(err.to_string().contains("not executable"), "{err}");
        let err = check_runnable(script.to_str().unwrap(), None).unwrap_err();
        assert_eq!(err.exit_code(), 126, "{err}");
        let err = check_runnable(dir.path().to_str().unwrap(), None).unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(check_runnable("script.sh", Some(path)), Ok(()));
        let err = check_runnable("gomitm-no-such-command", Some(path)).unwrap_err();
        assert_eq!(err.exit_code(), 127);
        assert_eq!(
            err.to_string(),
            "cannot run \"gomitm-no-such-command\": command not found on PATH"
        );
        assert_eq!(check_runnable("./nope", None).unwrap_err().exit_code(), 127);
    }
}
