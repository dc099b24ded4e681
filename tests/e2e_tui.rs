//! The terminal UI end to end: the real gomitm binary in a real terminal (a detached `tmux`
//! session of a fixed size on a private socket), real `go mod download` through it against the
//! TLS fixture, and what the screen shows read back with `tmux capture-pane`. Keys are typed
//! with `send-keys`. Every wait polls the screen with a deadline; nothing sleeps blindly.
//!
//! With CI=true a missing tmux (or go) fails the test instead of skipping it.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::fixture::Fixture;
use support::gomitm::{binary, go_through_url, path_arg, proxy_args, resolve_args};
use support::tools::{clean_go_env, go_binaries, go_version, require_tool};

const WAIT: Duration = Duration::from_secs(30);

/// A detached tmux server of our own (its socket in a temp dir) running one command; killed
/// on drop.
struct Tmux {
    socket: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Start `argv` in a 200×50 terminal, working directory `cwd`. `None` (after a note) when
    /// tmux is missing outside CI.
    fn start(argv: &[String], cwd: &Path) -> Option<Tmux> {
        Self::start_with(argv, cwd, |_| {})
    }

    /// [`Tmux::start`], with `env` changing the environment the session starts with.
    fn start_with(argv: &[String], cwd: &Path, env: impl FnOnce(&mut Command)) -> Option<Tmux> {
        let tmux = require_tool("tmux")?;
        let dir = tempfile::tempdir().expect("temp dir for the tmux socket");
        let socket = dir.path().join("tmux.sock");
        // The shell line keeps the pane open after gomitm exits, to read its exit code and
        // whether the terminal is back in canonical (cooked) mode: `icanon`, not `-icanon`.
        let program: Vec<String> = argv.iter().map(|a| sh_quote(a)).collect();
        let line = format!(
            "{}; echo GOMITM_EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; \
             sleep 600",
            program.join(" ")
        );
        let mut cmd = Command::new(tmux);
        cmd.arg("-S")
            .arg(&socket)
            .args(["-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "200", "-y", "50", "-s", "t", "-c"])
            .arg(cwd)
            .arg(line)
            .env("TERM", "xterm-256color")
            .env_remove("GOMITM_LOG");
        env(&mut cmd);
        let status = cmd.status().expect("run tmux");
        assert!(status.success(), "tmux new-session failed: {status}");
        Some(Tmux { socket, _dir: dir })
    }

    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket);
        cmd
    }

    fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keys by tmux name (`Enter`, `Escape`, `C-u`) or single characters.
    fn keys(&self, keys: &[&str]) {
        let status = self
            .tmux()
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// Text typed literally, one key at a time as a user would.
    fn type_text(&self, text: &str) {
        for c in text.chars() {
            let status = self
                .tmux()
                .args(["send-keys", "-t", "t", "-l", &c.to_string()])
                .status()
                .expect("tmux send-keys -l");
            assert!(status.success());
        }
    }

    /// Poll the screen until `pred` holds; panics with the last screen after `WAIT`.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("the screen never showed {what} within {WAIT:?}; last screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Tmux {
    /// Wait for the shell line after gomitm: its exit code, and the terminal restored.
    fn wait_for_exit(&self) -> String {
        let screen = self.wait_for("gomitm to exit and stty to report", |s| {
            s.contains("GOMITM_EXIT=") && s.lines().any(|l| l.trim().ends_with("icanon"))
        });
        assert!(
            screen.lines().any(|l| l.trim() == "icanon"),
            "the terminal was left in raw mode: {screen}"
        );
        screen
    }

    /// The PID of the program the pane's shell runs (gomitm), from /proc.
    fn program_pid(&self) -> i32 {
        let out = self
            .tmux()
            .args(["display-message", "-p", "-t", "t", "#{pane_pid}"])
            .output()
            .expect("tmux display-message");
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .expect("the pane shell's children");
        children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the pane shell runs gomitm")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Only our own server, by its own socket; it takes its panes with it.
        let _ = self.tmux().arg("kill-server").status();
    }
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The `http://127.0.0.1:PORT` the header shows.
fn proxy_url(screen: &str) -> Option<String> {
    let at = screen.find("listening on http://")? + "listening on ".len();
    let url: String = screen[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    Some(url)
}

/// The table's rows: lines from the one after the column header up to the first blank line.
fn table_rows(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .skip_while(|l| !l.contains("method") || !l.contains("status"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

/// `N` in the header's `· showing N`.
fn showing(screen: &str) -> Option<usize> {
    let at = screen.find("showing ")? + "showing ".len();
    screen[at..].split_whitespace().next()?.parse().ok()
}

fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(tmp.path().join("work")).expect("work dir");
    let requires: String = Fixture::modules()
        .iter()
        .map(|(path, version)| format!("\t{path} {version}\n"))
        .collect();
    let go_mod = format!("module e2e\n\ngo 1.19\n\nrequire (\n{requires})\n");
    std::fs::write(tmp.path().join("work/go.mod"), go_mod).expect("go.mod");
    tmp
}

fn read_har(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no HAR at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the HAR is JSON")
}

fn entries(har: &Value) -> &Vec<Value> {
    har["log"]["entries"].as_array().expect("log.entries")
}

#[test]
fn go_mod_download_shows_live_then_a_filter_narrows_and_e_exports_a_har() {
    let gos = go_binaries();
    if gos.is_empty() {
        return;
    }
    let fx = Fixture::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut extra = resolve_args(&["goproxy.test"], fx.addr);
    extra.extend(path_arg("--extra-root", &fx.ca_pem));
    let mut argv = vec![binary().to_string()];
    argv.extend(proxy_args(dir.path(), &extra));
    let Some(tui) = Tmux::start(&argv, dir.path()) else {
        return;
    };
    let screen = tui.wait_for("the TUI's header", |s| {
        s.contains("● capturing") && proxy_url(s).is_some()
    });
    let proxy = proxy_url(&screen).unwrap();
    assert!(
        screen.contains("● capturing") && screen.contains("waiting for traffic"),
        "{screen}"
    );
    let ca = dir.path().join("ca").join("gomitm-ca.pem");

    for (run, go) in gos.iter().enumerate() {
        let version = go_version(go);
        let tmp = workspace();
        let env = [("GOPROXY", "https://goproxy.test")];
        let out = go_through_url(go, &proxy, &ca, tmp.path(), &env, &["mod", "download"]);
        assert!(
            out.status.success(),
            "{version}: go mod download failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            tui.screen()
        );
        // Every module's zip is on screen (newest at the bottom, so this run's).
        tui.keys(&["/", "C-u"]);
        tui.type_text("kind:zip");
        tui.keys(&["Enter"]);
        // Typing passes through filters that are valid but not this one (`kind:zi` is an
        // error, `k` a search): wait for the filter as typed, applied. The last zips reach the
        // screen with the observers' next batch (up to 50 ms later), which can be after go has
        // exited: wait for all of this run's zips, each finished.
        let zips = Fixture::modules().len() * (run + 1);
        let screen = tui.wait_for("every module's zip, only zips, each answered 200", |s| {
            s.contains("filter: kind:zip")
                && showing(s) == Some(zips)
                && table_rows(s)
                    .iter()
                    .all(|r| r.contains(" zip ") && r.contains(" 200 "))
                && Fixture::modules()
                    .iter()
                    .all(|(m, v)| s.contains(&format!("{m}@{v}")))
        });
        assert!(screen.contains(" 0 in flight"), "{version}: {screen}");
    }

    // A filter typed key by key narrows the table live, before Enter.
    let module = "example.test/mod07";
    tui.keys(&["/", "C-u"]);
    tui.type_text(&format!("module:{module}"));
    let screen = tui.wait_for("the table narrowed to one module", |s| {
        let rows = table_rows(s);
        !rows.is_empty() && rows.iter().all(|r| r.contains(module)) && s.contains("/module:")
    });
    tui.keys(&["Enter"]);
    let shown = showing(&screen).expect("the header counts the filtered rows");
    assert!(
        (2 * gos.len()..=4 * gos.len()).contains(&shown),
        "mod, zip (and info) per go run: {screen}"
    );
    assert_eq!(table_rows(&screen).len(), shown, "{screen}");

    // A filter error shows a caret and keeps the table.
    tui.keys(&["/"]);
    tui.type_text(" &");
    let screen = tui.wait_for("a caret under the error", |s| s.contains("^ "));
    assert_eq!(showing(&screen), Some(shown), "{screen}");
    tui.keys(&["BSpace", "BSpace", "Enter"]);

    // e asks for a file name with a default; Enter writes the filtered view, redacted.
    tui.keys(&["e"]);
    let screen = tui.wait_for("the export prompt", |s| {
        s.contains("export HAR to: gomitm-")
    });
    assert!(screen.contains("secrets redacted"), "{screen}");
    tui.keys(&["Enter"]);
    let screen = tui.wait_for("the export done", |s| {
        s.contains("wrote ") && s.contains(".har")
    });
    let name = screen
        .split_whitespace()
        .find(|w| w.starts_with("gomitm-") && w.ends_with(".har"))
        .expect("the written file's name");
    let har = read_har(&dir.path().join(name));
    let escaped = module.to_string();
    assert_eq!(entries(&har).len(), shown, "the filtered view, no more");
    for e in entries(&har) {
        let url = e["request"]["url"].as_str().unwrap_or("");
        assert!(url.contains(&escaped), "{url}");
        assert_eq!(e["_go"]["module"], module, "{e}");
    }

    // q quits without asking: --har-out writes everything at exit.
    tui.keys(&["q"]);
    let screen = tui.wait_for_exit();
    assert!(screen.contains("GOMITM_EXIT=0"), "{screen}");
    assert!(
        screen.contains("gomitm: wrote"),
        "the terminal is back and shows what was written: {screen}"
    );
    let all = read_har(&dir.path().join("out.har"));
    assert!(
        entries(&all).len() >= Fixture::modules().len() * 2 * gos.len(),
        "--har-out holds every flow"
    );
}

/// A HAR as Chrome DevTools writes one (no gomitm extensions), two entries.
const CHROME_HAR: &str = r#"{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},
"pages":[],"entries":[
{"startedDateTime":"2024-05-01T10:00:00.000Z","time":35.5,
 "request":{"method":"GET","url":"https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip","httpVersion":"http/2.0",
  "headers":[{"name":"user-agent","value":"Go-http-client/2.0"}],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},
 "response":{"status":200,"statusText":"","httpVersion":"http/2.0","headers":[{"name":"content-type","value":"application/zip"}],
  "cookies":[],"content":{"size":4,"mimeType":"application/zip","text":"UEsDBA==","encoding":"base64"},"redirectURL":"","headersSize":-1,"bodySize":4},
 "cache":{},"timings":{"blocked":1,"dns":2,"ssl":3,"connect":5,"send":0.5,"wait":20,"receive":7},"serverIPAddress":"142.250.1.1"},
{"startedDateTime":"2024-05-01T10:00:01.000Z","time":12,
 "request":{"method":"GET","url":"https://sum.golang.org/lookup/golang.org/x/text@v0.14.0","httpVersion":"http/2.0",
  "headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},
 "response":{"status":404,"statusText":"Not Found","httpVersion":"http/2.0","headers":[],"cookies":[],
  "content":{"size":9,"mimeType":"text/plain","text":"not found"},"redirectURL":"","headersSize":-1,"bodySize":9},
 "cache":{},"timings":{"send":1,"wait":10,"receive":1}}
]}}"#;

#[test]
fn open_shows_a_foreign_har_read_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("teammate.har");
    std::fs::write(&file, CHROME_HAR).expect("write HAR");
    let argv = vec![
        binary().to_string(),
        "open".to_string(),
        file.display().to_string(),
    ];
    let Some(tui) = Tmux::start(&argv, dir.path()) else {
        return;
    };
    let screen = tui.wait_for("both entries", |s| table_rows(s).len() == 2);
    assert!(
        screen.contains("teammate.har") && screen.contains("read-only"),
        "{screen}"
    );
    let rows = table_rows(&screen);
    assert!(
        rows[0].contains("golang.org/x/text@v0.14.0") && rows[0].contains("zip"),
        "{screen}"
    );
    assert!(
        rows[1].contains("sumdb") && rows[1].contains("404"),
        "{screen}"
    );

    // Details of the second entry: classified from its URL, diagnosed.
    tui.keys(&["j", "Enter", "5"]);
    tui.wait_for("the Go tab", |s| {
        s.contains("sumdb_lookup") && s.contains("Diagnosis")
    });
    // Esc on its own: a terminal reads Esc quickly followed by a key as Alt+key.
    tui.keys(&["Escape"]);
    tui.wait_for("the table again", |s| table_rows(s).len() == 2);
    tui.keys(&["c"]);
    let screen = tui.wait_for("the read-only note", |s| {
        s.contains("read-only: nothing to clear")
    });
    assert_eq!(table_rows(&screen).len(), 2, "{screen}");

    // o sorts: by duration the 12 ms sumdb lookup comes before the 35.5 ms zip.
    tui.keys(&["o"]);
    let screen = tui.wait_for("sorted by duration", |s| s.contains("sorted by duration"));
    let rows = table_rows(&screen);
    assert!(
        rows.len() == 2 && rows[0].contains("sumdb") && rows[1].contains(" zip "),
        "{screen}"
    );
    // A file holds nothing in flight, and the header does not say "0 in flight".
    assert!(!screen.contains("in flight"), "{screen}");

    // y copies the selected flow's URL with OSC 52: tmux (set-clipboard on) keeps it as a
    // paste buffer.
    let status = tui
        .tmux()
        .args(["set-option", "-g", "set-clipboard", "on"])
        .status()
        .expect("tmux set-option");
    assert!(status.success());
    tui.keys(&["g", "y"]);
    tui.wait_for("the copy note", |s| s.contains("copied the URL"));
    let deadline = Instant::now() + WAIT;
    let copied = loop {
        let out = tui
            .tmux()
            .arg("show-buffer")
            .output()
            .expect("tmux show-buffer");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && !text.is_empty() {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "no OSC 52 buffer: {}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        copied,
        "https://sum.golang.org/lookup/golang.org/x/text@v0.14.0"
    );

    // Read-only: q quits at once, nothing to lose.
    tui.keys(&["q"]);
    let screen = tui.wait_for_exit();
    assert!(screen.contains("GOMITM_EXIT=0"), "{screen}");
}

#[test]
fn sigterm_restores_the_terminal_and_writes_the_har() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut argv = vec![binary().to_string()];
    argv.extend(proxy_args(dir.path(), &[]));
    let Some(tui) = Tmux::start(&argv, dir.path()) else {
        return;
    };
    tui.wait_for("the TUI's header", |s| s.contains("● capturing"));
    let pid = tui.program_pid();
    // SAFETY: kill(2) on the gomitm this test started (the only child of its pane's shell).
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let screen = tui.wait_for_exit();
    assert!(screen.contains("GOMITM_EXIT=0"), "{screen}");
    assert!(!screen.contains("● capturing"), "the TUI is gone: {screen}");
    let har = read_har(&dir.path().join("out.har"));
    assert!(entries(&har).is_empty());
}

#[test]
fn run_tui_shows_the_child_traffic_its_output_and_the_summary_and_keeps_its_exit_code() {
    let Some(go) = go_binaries().into_iter().next() else {
        return;
    };
    let fx = Fixture::start();
    let tmp = workspace();
    let mut argv = vec![binary().to_string(), "run".to_string(), "--tui".to_string()];
    argv.extend(path_arg("--ca-dir", &tmp.path().join("ca")));
    argv.extend(resolve_args(&["goproxy.test"], fx.addr));
    argv.extend(path_arg("--extra-root", &fx.ca_pem));
    argv.extend(path_arg("--har-out", &tmp.path().join("out.har")));
    argv.push("--".to_string());
    argv.push(go.display().to_string());
    argv.extend(["mod", "download", "-x"].map(String::from));
    let Some(tui) = Tmux::start_with(&argv, &tmp.path().join("work"), |cmd| {
        clean_go_env(cmd, tmp.path());
        cmd.env("GOPROXY", "https://goproxy.test");
    }) else {
        return;
    };
    let screen = tui.wait_for("the summary once go exited", |s| {
        s.contains("run summary") && s.contains("exited 0")
    });
    assert!(screen.contains("Modules ("), "{screen}");
    tui.keys(&["Escape"]);
    let screen = tui.wait_for("the table and go's output", |s| {
        !s.contains("run summary") && s.contains("output (L hides)")
    });
    assert!(
        table_rows(&screen).iter().any(|r| r.contains(" zip ")),
        "{screen}"
    );
    assert!(
        screen.contains("# get https://goproxy.test/"),
        "go -x output is in the pane: {screen}"
    );
    // L hides the output pane (it was o before o became sort).
    tui.keys(&["L"]);
    tui.wait_for("the output pane hidden", |s| {
        !s.contains("output (L hides)")
    });
    tui.keys(&["q"]);
    let screen = tui.wait_for_exit();
    assert!(screen.contains("GOMITM_EXIT=0"), "go's exit code: {screen}");
    assert!(
        screen.contains("requests,") && screen.contains("Modules ("),
        "the summary is printed again on the restored terminal: {screen}"
    );
    let har = read_har(&tmp.path().join("out.har"));
    assert!(entries(&har).len() >= Fixture::modules().len() * 2);
}

impl Tmux {
    /// The screen and the scrollback above it.
    fn history(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "t", "-S", "-1000"])
            .output()
            .expect("tmux capture-pane -S");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[test]
fn after_run_tui_the_commands_output_is_in_the_scrollback_with_the_rest_in_a_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // A line that is not UTF-8 (it must not stop the reading), 80 lines, more than the 50-row
    // screen holds, then an error line last, as go's would be.
    let script = "printf 'bad \\377 byte\\n' >&2; for i in $(seq 1 80); do echo out-$i >&2; done; \
                  echo 'go: example.test/x@v1.0.0: reading boom: 404 Not Found' >&2; exit 3";
    let mut argv = vec![binary().to_string(), "run".to_string(), "--tui".to_string()];
    argv.extend(path_arg("--ca-dir", &tmp.path().join("ca")));
    argv.extend(["--", "sh", "-c", script].map(String::from));
    let Some(tui) = Tmux::start(&argv, tmp.path()) else {
        return;
    };
    tui.wait_for("the summary once the command exited", |s| {
        s.contains("run summary") && s.contains("exited 3")
    });
    tui.keys(&["q"]);
    let screen = tui.wait_for_exit();
    assert!(screen.contains("GOMITM_EXIT=3"), "{screen}");
    let all = tui.history();
    let error_at = all
        .find("reading boom: 404 Not Found")
        .unwrap_or_else(|| panic!("go's error line is in the scrollback: {all}"));
    let note_at = all
        .find("gomitm: output of sh, the last ")
        .unwrap_or_else(|| panic!("a note says only the last lines are shown: {all}"));
    assert!(note_at < error_at, "{all}");
    assert!(
        !all.contains("out-1\n"),
        "the first lines are in the file only: {all}"
    );
    // The note names the file that holds all of it.
    let at = all.find("all of it in ").expect("the file") + "all of it in ".len();
    let path: String = all[at..]
        .chars()
        .filter(|c| *c != '\n')
        .take_while(|c| *c != ')')
        .collect();
    let saved = std::fs::read_to_string(path.trim()).expect("the saved output");
    let _ = std::fs::remove_file(path.trim());
    assert!(
        saved.starts_with("bad \u{fffd} byte\nout-1\nout-2\n"),
        "{saved}"
    );
    assert!(saved.contains("reading boom: 404 Not Found"), "{saved}");
    // The summary comes after the output, as the last thing before the prompt.
    let summary_at = all.find("gomitm: FAILED").expect("the summary");
    assert!(summary_at > error_at, "{all}");
}

#[test]
fn r_resends_the_selected_request_and_e_sends_an_edited_copy_from_the_editor() {
    let fx = Fixture::start();
    let dir = tempfile::tempdir().expect("temp dir");
    // The "editor": changes the path and a header value of the request it is given.
    let editor = dir.path().join("edit.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i -e 's#/status/404#/status/202#' -e 's#^x-probe: one#x-probe: two#' \"$1\"\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut extra = resolve_args(&["goproxy.test"], fx.addr);
    extra.extend(path_arg("--extra-root", &fx.ca_pem));
    let mut argv = vec![binary().to_string()];
    argv.extend(proxy_args(dir.path(), &extra));
    let Some(tui) = Tmux::start_with(&argv, dir.path(), |cmd| {
        cmd.env("EDITOR", &editor).env_remove("VISUAL");
    }) else {
        return;
    };
    let screen = tui.wait_for("the TUI's header", |s| {
        s.contains("● capturing") && proxy_url(s).is_some()
    });
    let addr = proxy_url(&screen).unwrap();
    let addr: std::net::SocketAddr = addr.trim_start_matches("http://").parse().unwrap();
    let ca = dir.path().join("ca").join("gomitm-ca.pem");
    let mut conn = support::client::tunnel(addr, "goproxy.test", &ca);
    let reply = conn.request(
        "GET /status/404 HTTP/1.1\r\nHost: goproxy.test\r\nX-Probe: one\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(reply.status, 404);
    tui.wait_for("the request in the table", |s| {
        table_rows(s).iter().filter(|r| r.contains(" 404 ")).count() == 1
    });

    // ? says that e stays export and E edits.
    tui.keys(&["?"]);
    tui.wait_for("the help naming r and E", |s| {
        s.contains("replay: send the selected request again")
            && s.contains("edit in $EDITOR, then send (e is export)")
    });
    tui.keys(&["Escape"]);

    // r: the same request again, a new flow.
    tui.keys(&["r"]);
    let screen = tui.wait_for("the replay's answer", |s| s.contains("replay of #1: 404"));
    assert!(!screen.contains("failed"), "{screen}");
    tui.wait_for("the replay in the table", |s| {
        table_rows(s).iter().filter(|r| r.contains(" 404 ")).count() == 2
    });
    let seen: Vec<_> = fx
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/status/404")
        .collect();
    assert_eq!(seen.len(), 2, "the server got it twice");
    assert_eq!(seen[1].header("x-probe"), Some("one"));
    assert_eq!(
        seen[1].header("x-gomitm-replay-of"),
        None,
        "the marker stays in gomitm"
    );

    // E: the editor changes the request; the edited copy is sent.
    tui.keys(&["E"]);
    let screen = tui.wait_for("the edited replay's answer", |s| {
        s.contains("edited replay of #2: 202")
    });
    assert!(screen.contains("● capturing"), "the TUI is back: {screen}");
    let edited = fx
        .requests()
        .into_iter()
        .find(|r| r.path() == "/status/202")
        .expect("the edited request reached the server");
    assert_eq!(edited.header("x-probe"), Some("two"));
    tui.wait_for("the edited replay in the table", |s| {
        table_rows(s).iter().any(|r| r.contains(" 202 "))
    });

    // Its details say what it replays.
    tui.keys(&["G", "Enter"]);
    let mut found = false;
    for _ in 0..6 {
        if tui.screen().contains("replay of") {
            found = true;
            break;
        }
        tui.keys(&["Tab"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(found, "a detail tab shows `replay of`: {}", tui.screen());
    tui.keys(&["q", "q"]);
    let screen = tui.wait_for_exit();
    assert!(screen.contains("GOMITM_EXIT=0"), "{screen}");
    let har = read_har(&dir.path().join("out.har"));
    let replays: Vec<u64> = entries(&har)
        .iter()
        .filter_map(|e| e["_replayOf"].as_u64())
        .collect();
    assert_eq!(replays, [1, 2], "{har:#}");
}
