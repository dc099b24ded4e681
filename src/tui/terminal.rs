//! The terminal: raw mode, the alternate screen and mouse capture on the way in; all of it
//! undone on the way out, on panic (a hook) and on error. While the TUI owns the screen,
//! whatever gomitm writes to stderr (tracing, warnings) is caught in a pipe and shown inside
//! the TUI instead of being painted over it. Also the thread that reads keys and mouse events.
//!
//! Owns no state of the TUI; `mod.rs` drives it.

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;
use tokio::sync::mpsc::UnboundedSender;

use super::state::Action;

/// Whether the terminal is in TUI mode right now (the panic hook checks it).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// While another program ($EDITOR) has the terminal, the input thread reads no keys.
static INPUT_PAUSED: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

pub struct Term {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
    _stderr: Option<capture::StderrCapture>,
}

impl Term {
    /// Take over the terminal. `messages` receives what gomitm writes to stderr meanwhile.
    pub fn enter(messages: UnboundedSender<Action>) -> io::Result<Term> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        if let Err(e) = execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(e);
        }
        let terminal = match Terminal::new(CrosstermBackend::new(io::stdout())) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        Ok(Term {
            terminal,
            _stderr: capture::StderrCapture::start(messages),
        })
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        capture::restore_stderr();
        restore();
    }
}

/// Hand the terminal to another program (`E`: $EDITOR): keys stop being read and the
/// terminal is as the user's shell had it. The input thread polls in 100 ms steps: wait that
/// long before starting the program, so that no poll in progress takes its first key.
pub fn suspend() {
    INPUT_PAUSED.store(true, Ordering::SeqCst);
    restore();
}

/// Take the terminal back after [`suspend`]: modes, screen, a full redraw, keys again.
pub fn resume(term: &mut Term) -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    term.terminal.clear()?;
    INPUT_PAUSED.store(false, Ordering::SeqCst);
    Ok(())
}

/// Where a program run over the TUI writes its errors: the real stderr, not the pipe that
/// catches gomitm's own while the TUI is up.
pub fn child_stderr() -> std::process::Stdio {
    capture::real_stderr().map_or_else(std::process::Stdio::inherit, std::process::Stdio::from)
}

/// Rows of the terminal on stdout (24 when it cannot be asked), for output printed after the
/// TUI is gone.
pub fn terminal_rows() -> usize {
    ratatui::crossterm::terminal::size().map_or(24, |(_, rows)| usize::from(rows))
}

/// Give the terminal back: mouse off, main screen, cooked mode, cursor shown. Idempotent.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(
            io::stdout(),
            DisableMouseCapture,
            LeaveAlternateScreen,
            ratatui::crossterm::cursor::Show
        );
        let _ = disable_raw_mode();
    }
}

fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Stderr first, so the panic message reaches the user's terminal.
            capture::restore_stderr();
            restore();
            previous(info);
        }));
    });
}

/// Reads terminal events on a thread (crossterm's reads block) until the handle drops.
pub struct InputThread {
    stop: Arc<AtomicBool>,
}

impl InputThread {
    pub fn spawn(tx: UnboundedSender<Action>) -> InputThread {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                if INPUT_PAUSED.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                match event::poll(Duration::from_millis(100)) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(_) => break,
                }
                let action = match event::read() {
                    Ok(Event::Key(k)) => Action::Key(k),
                    Ok(Event::Mouse(m)) => Action::Mouse(m),
                    Ok(Event::Resize(w, h)) => Action::Resize(w, h),
                    Ok(_) => continue,
                    Err(_) => break,
                };
                if tx.send(action).is_err() {
                    break;
                }
            }
        });
        InputThread { stop }
    }
}

impl Drop for InputThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Seconds east of UTC for local time now (0 when unknown).
pub fn local_utc_offset() -> i64 {
    #[cfg(unix)]
    {
        // SAFETY: time(NULL) and localtime_r with a zeroed, caller-owned tm are thread-safe.
        let offset = unsafe {
            let now = libc::time(std::ptr::null_mut());
            let mut tm: libc::tm = std::mem::zeroed();
            if libc::localtime_r(&now, &mut tm).is_null() {
                0
            } else {
                tm.tm_gmtoff
            }
        };
        offset as i64
    }
    #[cfg(not(unix))]
    {
        0
    }
}

#[cfg(unix)]
mod capture {
    use std::fs::File;
    use std::io::{BufRead, BufReader};
    use std::os::fd::FromRawFd;
    use std::sync::atomic::{AtomicI32, Ordering};

    use tokio::sync::mpsc::UnboundedSender;

    use super::Action;

    /// The real stderr while it is redirected, or -1.
    static SAVED: AtomicI32 = AtomicI32::new(-1);

    pub struct StderrCapture;

    impl StderrCapture {
        /// Point fd 2 at a pipe whose lines become `Action::Message`s.
        pub fn start(tx: UnboundedSender<Action>) -> Option<StderrCapture> {
            let mut fds = [0i32; 2];
            // SAFETY: plain pipe/dup/dup2/close on descriptors this function owns; fd 2 is
            // put back by `restore_stderr` (on drop and in the panic hook).
            unsafe {
                if libc::pipe(fds.as_mut_ptr()) != 0 {
                    return None;
                }
                let saved = libc::dup(2);
                if saved < 0 || libc::dup2(fds[1], 2) < 0 {
                    libc::close(fds[0]);
                    libc::close(fds[1]);
                    if saved >= 0 {
                        libc::close(saved);
                    }
                    return None;
                }
                libc::close(fds[1]);
                SAVED.store(saved, Ordering::SeqCst);
            }
            // SAFETY: fds[0] is the pipe's read end, owned only by this File from here on.
            let reader = unsafe { File::from_raw_fd(fds[0]) };
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines().map_while(Result::ok) {
                    if tx.send(Action::Message(line)).is_err() {
                        break;
                    }
                }
            });
            Some(StderrCapture)
        }
    }

    /// A duplicate of the real stderr while it is redirected.
    pub fn real_stderr() -> Option<File> {
        let saved = SAVED.load(Ordering::SeqCst);
        if saved < 0 {
            return None;
        }
        // SAFETY: dup of a descriptor this module keeps open; the copy is owned by the File.
        let fd = unsafe { libc::dup(saved) };
        // SAFETY: `fd` is a fresh descriptor nothing else owns.
        (fd >= 0).then(|| unsafe { File::from_raw_fd(fd) })
    }

    /// Put the real stderr back; the pipe's reader then sees end of file.
    pub fn restore_stderr() {
        let saved = SAVED.swap(-1, Ordering::SeqCst);
        if saved >= 0 {
            // SAFETY: `saved` is the duplicate of the original fd 2 made in `start`.
            unsafe {
                libc::dup2(saved, 2);
                libc::close(saved);
            }
        }
    }
}

#[cfg(not(unix))]
mod capture {
    use tokio::sync::mpsc::UnboundedSender;

    use super::Action;

    pub struct StderrCapture;

    impl StderrCapture {
        pub fn start(_tx: UnboundedSender<Action>) -> Option<StderrCapture> {
            None
        }
    }

    pub fn restore_stderr() {}

    pub fn real_stderr() -> Option<std::fs::File> {
        None
    }
}
