//! The command line of the real gomitm binary: `env`, `ca path|show|bundle`, CA directory
//! selection and key permissions, the default proxy command and its first stderr line, help
//! and flag errors. Each test checks the output and the files gomitm wrote.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use support::gomitm::command;
use support::tools::run_with_timeout;

const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const CERT_FILE: &str = "gomitm-ca.pem";
const KEY_FILE: &str = "gomitm-ca-key.pem";

/// A gomitm command that cannot touch the user's real config: HOME is a temp dir and the
/// CA-dir variables are unset unless a test sets them.
fn gomitm_cmd(home: &Path) -> Command {
    let mut cmd = command(&[]);
    cmd.env_remove("GOMITM_CA_DIR")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", home)
        .env("NO_COLOR", "1");
    cmd
}

fn run(home: &Path, args: &[&str]) -> Output {
    run_with_timeout(gomitm_cmd(home).args(args), RUN_TIMEOUT)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The value of `export NAME='value'` in a bash script.
fn bash_export(script: &str, name: &str) -> Option<String> {
    let prefix = format!("export {name}='");
    script
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.strip_suffix('\''))
        .map(str::to_string)
}

/// SHA-256 of the certificate's DER, as colon-separated upper-case hex.
fn fingerprint(cert_pem: &Path) -> String {
    let der = CertificateDer::from_pem_file(cert_pem).expect("CA PEM");
    let digest = ring::digest::digest(&ring::digest::SHA256, der.as_ref());
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

#[test]
fn env_prints_exports_for_bash_fish_and_powershell() {
    let tmp = tempfile::tempdir().unwrap();
    let ca_dir = tmp.path().join("ca");
    let ca = ca_dir.to_str().unwrap();
    let proxy = "http://127.0.0.1:9999";
    let out = run(tmp.path(), &["env", "--proxy", proxy, "--ca-dir", ca]);
    assert_ok(&out, "gomitm env");
    let script = stdout(&out);
    assert!(
        script.contains("export HTTPS_PROXY='http://127.0.0.1:9999'\n"),
        "{script}"
    );
    assert!(
        script.contains("export HTTP_PROXY='http://127.0.0.1:9999'\n"),
        "{script}"
    );
    assert!(
        script.contains("export http_proxy='http://127.0.0.1:9999'\n"),
        "{script}"
    );
    let ca_text = read(&ca_dir.join(CERT_FILE));
    assert!(ca_text.starts_with("-----BEGIN CERTIFICATE-----"));
    for var in ["SSL_CERT_FILE", "GIT_SSL_CAINFO"] {
        let file = bash_export(&script, var).unwrap_or_else(|| panic!("no {var}: {script}"));
        let bundle = read(Path::new(&file));
        assert!(
            bundle.contains(ca_text.trim()),
            "{var}={file} lacks the CA cert"
        );
    }

    // The script is valid sh: evaluating it sets the variables.
    let shell =
        format!("{script}\nprintf '%s\\n' \"$HTTPS_PROXY\" \"$HTTP_PROXY\" \"$SSL_CERT_FILE\"");
    let evaluated = run_with_timeout(Command::new("sh").arg("-c").arg(&shell), RUN_TIMEOUT);
    assert_ok(&evaluated, "sh evaluating gomitm env");
    let lines: Vec<String> = stdout(&evaluated).lines().map(str::to_string).collect();
    assert_eq!(lines[0], proxy);
    assert_eq!(lines[1], proxy);
    assert!(Path::new(&lines[2]).is_file(), "{lines:?}");

    let out = run(
        tmp.path(),
        &["env", "--shell", "fish", "--proxy", proxy, "--ca-dir", ca],
    );
    assert_ok(&out, "gomitm env --shell fish");
    let fish = stdout(&out);
    assert!(
        fish.contains("set -gx HTTPS_PROXY 'http://127.0.0.1:9999'\n"),
        "{fish}"
    );
    assert!(fish.contains("set -gx SSL_CERT_FILE '"), "{fish}");
    assert!(fish.contains("set -gx GIT_SSL_CAINFO '"), "{fish}");

    let out = run(
        tmp.path(),
        &[
            "env",
            "--shell",
            "powershell",
            "--proxy",
            proxy,
            "--ca-dir",
            ca,
        ],
    );
    assert_ok(&out, "gomitm env --shell powershell");
    let ps = stdout(&out);
    assert!(
        ps.contains("$env:HTTPS_PROXY = 'http://127.0.0.1:9999'\n"),
        "{ps}"
    );
    assert!(
        ps.contains("$env:HTTP_PROXY = 'http://127.0.0.1:9999'\n"),
        "{ps}"
    );
    assert!(ps.contains("$env:SSL_CERT_FILE = '"), "{ps}");
    assert!(ps.contains("$env:GIT_SSL_CAINFO = '"), "{ps}");

    // Later runs reuse the CA instead of minting a new one.
    assert_eq!(read(&ca_dir.join(CERT_FILE)), ca_text);
}

#[test]
fn ca_path_show_and_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let ca_dir = tmp.path().join("ca");
    let ca = ca_dir.to_str().unwrap();

    let out = run(tmp.path(), &["ca", "path", "--ca-dir", ca]);
    assert_ok(&out, "gomitm ca path");
    let cert = PathBuf::from(stdout(&out).trim());
    assert_eq!(cert, ca_dir.join(CERT_FILE));
    let cert_text = read(&cert);
    assert!(
        cert_text.starts_with("-----BEGIN CERTIFICATE-----"),
        "{cert_text}"
    );
    let key = cert.with_file_name(KEY_FILE);
    let mode = std::fs::metadata(&key)
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "key mode {:o}", mode & 0o777);

    let out = run(tmp.path(), &["ca", "show", "--ca-dir", ca]);
    assert_ok(&out, "gomitm ca show");
    let show = stdout(&out);
    let fp = fingerprint(&cert);
    assert!(
        show.to_ascii_uppercase().contains(&fp),
        "SHA-256 {fp} not shown:\n{show}"
    );
    assert!(show.contains("SHA-256"), "{show}");
    let expires = show
        .lines()
        .find_map(|l| l.strip_prefix("expires:"))
        .unwrap_or_else(|| panic!("no expires: line\n{show}"));
    assert!(expires.trim().starts_with("20"), "{expires}");
    assert!(
        show.contains("SSL_CERT_FILE"),
        "Linux guidance missing:\n{show}"
    );
    assert!(show.contains("GIT_SSL_CAINFO"), "{show}");
    assert!(show.contains(&cert.display().to_string()), "{show}");

    let bundle = tmp.path().join("out/bundle.pem");
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    let out = run(
        tmp.path(),
        &[
            "ca",
            "bundle",
            "--out",
            bundle.to_str().unwrap(),
            "--ca-dir",
            ca,
        ],
    );
    assert_ok(&out, "gomitm ca bundle");
    let text = read(&bundle);
    assert!(
        text.trim_end().ends_with(cert_text.trim_end()),
        "the bundle must end with the gomitm CA"
    );
    // The same CA throughout: nothing was regenerated.
    assert_eq!(read(&cert), cert_text);
}

#[test]
fn group_readable_key_is_refused_without_leaking_it() {
    let tmp = tempfile::tempdir().unwrap();
    let ca_dir = tmp.path().join("ca");
    let ca = ca_dir.to_str().unwrap();
    assert_ok(
        &run(tmp.path(), &["ca", "path", "--ca-dir", ca]),
        "create CA",
    );
    let key = ca_dir.join(KEY_FILE);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let key_text = read(&key);

    let out = run(
        tmp.path(),
        &["proxy", "--listen", "127.0.0.1:0", "--ca-dir", ca],
    );
    assert!(!out.status.success(), "gomitm used a group-readable key");
    let err = stderr(&out);
    assert!(err.contains("chmod 600"), "{err}");
    assert!(err.contains(KEY_FILE), "name the file: {err}");
    assert!(!err.contains("listening on"), "{err}");
    let all = format!("{}{err}", stdout(&out));
    for line in key_text.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!all.contains(line), "key material in the output");
    }
    // The key was left alone.
    assert_eq!(read(&key), key_text);
}

#[test]
fn gomitm_ca_dir_env_var_is_honoured_and_the_flag_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let env_dir = tmp.path().join("from-env");
    let out = run_with_timeout(
        gomitm_cmd(tmp.path())
            .env("GOMITM_CA_DIR", &env_dir)
            .args(["ca", "path"]),
        RUN_TIMEOUT,
    );
    assert_ok(&out, "ca path with GOMITM_CA_DIR");
    assert_eq!(PathBuf::from(stdout(&out).trim()), env_dir.join(CERT_FILE));
    assert!(env_dir.join(CERT_FILE).is_file());
    assert!(
        !tmp.path().join(".config/gomitm").exists(),
        "used HOME instead"
    );

    let flag_dir = tmp.path().join("from-flag");
    let out = run_with_timeout(
        gomitm_cmd(tmp.path()).env("GOMITM_CA_DIR", &env_dir).args([
            "ca",
            "path",
            "--ca-dir",
            flag_dir.to_str().unwrap(),
        ]),
        RUN_TIMEOUT,
    );
    assert_ok(&out, "ca path with both");
    assert_eq!(PathBuf::from(stdout(&out).trim()), flag_dir.join(CERT_FILE));
    assert!(flag_dir.join(CERT_FILE).is_file());
}

/// Kills the proxy this test started when the test ends, pass or fail.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn no_subcommand_runs_the_proxy_and_serves_its_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let ca_dir = tmp.path().join("ca");
    let child = gomitm_cmd(tmp.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--ca-dir",
            ca_dir.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gomitm");
    let mut child = Running(child);
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let mut reader = BufReader::new(stderr);
        let _ = reader.read_line(&mut first);
        let _ = tx.send(first);
        // Keep draining so gomitm never blocks on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a first stderr line within 30 s");
    let first = first.strip_suffix('\n').unwrap_or(&first);
    let port: u16 = first
        .strip_prefix("gomitm: listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("first line {first:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("first line {first:?} must end with the port"));
    assert_ne!(port, 0);

    // Origin-form GET to the proxy itself: the CA certificate.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(RUN_TIMEOUT)).unwrap();
    write!(
        s,
        "GET /ca.pem HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let on_disk = read(&ca_dir.join(CERT_FILE));
    assert_eq!(body, on_disk, "GET /ca.pem must return the CA file");
    assert!(child.0.try_wait().unwrap().is_none(), "gomitm exited");
}

#[test]
fn help_lists_subcommands_and_the_default_listen_address() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["--help"]);
    assert_ok(&out, "gomitm --help");
    let help = stdout(&out);
    for sub in ["proxy", "env", "ca"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "subcommand {sub} not listed:\n{help}"
        );
    }
    let listen = help
        .lines()
        .position(|l| l.contains("--listen"))
        .unwrap_or_else(|| panic!("--listen not in help:\n{help}"));
    // clap prints the default after the description, possibly on a following line.
    let around: String = help.lines().skip(listen).take(4).collect();
    assert!(around.contains("[default: 127.0.0.1:8080]"), "{around}");

    let out = run(tmp.path(), &["proxy", "--help"]);
    assert_ok(&out, "gomitm proxy --help");
    assert!(stdout(&out).contains("[default: 127.0.0.1:8080]"));
}

#[test]
fn bad_flags_exit_2_and_name_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, flag) in [
        (&["--listen", "nope"][..], "--listen"),
        (&["proxy", "--listen", "nope"][..], "--listen"),
        (&["--resolve", "bad"][..], "--resolve"),
        (&["proxy", "--resolve", "bad"][..], "--resolve"),
        (
            &["proxy", "--upstream-proxy", "socks5://h:1"][..],
            "--upstream-proxy",
        ),
        (
            &["proxy", "--max-body-capture", "lots"][..],
            "--max-body-capture",
        ),
    ] {
        let out = run(tmp.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(!err.contains("listening on"), "{args:?} started anyway");
    }
    // Nothing was created: parsing fails before any file is touched.
    assert!(!tmp.path().join(".config").exists());
}

/// A teammate's HAR (here a minimal one in Chrome's shape) is classified from its URLs, and
/// `--filter` narrows what the summary covers; a bad filter is an error with a caret.
#[test]
fn report_summarises_a_foreign_har_and_honours_filter() {
    let home = tempfile::tempdir().unwrap();
    let entry = |url: &str, status: u16| {
        format!(
            r#"{{"startedDateTime":"2026-01-01T00:00:00.000Z","time":5,
            "request":{{"method":"GET","url":"{url}","httpVersion":"HTTP/2","headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0}},
            "response":{{"status":{status},"statusText":"","httpVersion":"HTTP/2","headers":[],"cookies":[],"content":{{"size":3,"mimeType":"text/plain","text":"abc"}},"redirectURL":"","headersSize":-1,"bodySize":3}},
            "cache":{{}},"timings":{{"send":0,"wait":4,"receive":1}}}}"#
        )
    };
    let har = format!(
        r#"{{"log":{{"version":"1.2","creator":{{"name":"WebInspector","version":"537.36"}},"entries":[{},{}]}}}}"#,
        entry(
            "https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip",
            200
        ),
        entry(
            "https://proxy.golang.org/corp.example/secret/@v/v1.0.0.info",
            404
        )
    );
    let file = home.path().join("teammate.har");
    std::fs::write(&file, har).unwrap();
    let path = file.display().to_string();
    let out = run(home.path(), &["report", &path, "--private", "corp.example"]);
    assert_ok(&out, "report");
    let text = stdout(&out);
    assert!(text.contains("golang.org/x/text@v0.14.0"), "{text}");
    assert!(
        text.contains("corp.example/secret"),
        "the leak is reported:\n{text}"
    );
    let out = run(home.path(), &["report", &path, "--filter", "status:404"]);
    assert_ok(&out, "report --filter");
    let text = stdout(&out);
    assert!(text.starts_with("gomitm: 1 request,"), "{text}");
    assert!(!text.contains("golang.org/x/text"), "{text}");
    let out = run(home.path(), &["report", &path, "--filter", "stauts:404"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("did you mean 'status'"),
        "{}",
        stderr(&out)
    );
}

/// A HAR in Chrome's shape with one entry per (url, status).
fn chrome_har(entries: &[(&str, u16)]) -> String {
    let entry = |(url, status): &(&str, u16)| {
        format!(
            r#"{{"startedDateTime":"2026-01-01T00:00:00.000Z","time":5,
            "request":{{"method":"GET","url":"{url}","httpVersion":"HTTP/2","headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0}},
            "response":{{"status":{status},"statusText":"","httpVersion":"HTTP/2","headers":[],"cookies":[],"content":{{"size":3,"mimeType":"text/plain","text":"abc"}},"redirectURL":"","headersSize":-1,"bodySize":3}},
            "cache":{{}},"timings":{{"send":0,"wait":4,"receive":1}}}}"#
        )
    };
    let entries: Vec<String> = entries.iter().map(entry).collect();
    format!(
        r#"{{"log":{{"version":"1.2","creator":{{"name":"WebInspector","version":"537.36"}},"entries":[{}]}}}}"#,
        entries.join(",")
    )
}

/// `report --fail-on` exits 3 exactly when the capture has what it names (a comma list or the
/// flag repeated; `any` is either), with a line on stderr saying why; otherwise 0, and the
/// report itself is printed either way.
#[test]
fn report_fail_on_exits_3_for_what_it_names_only() {
    let home = tempfile::tempdir().unwrap();
    const GOOD: (&str, u16) = (
        "https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip",
        200,
    );
    const LEAK: (&str, u16) = (
        "https://proxy.golang.org/corp.example/secret/@v/v1.0.0.zip",
        200,
    );
    const FAIL: (&str, u16) = (
        "https://proxy.golang.org/golang.org/x/net/@v/v9.9.9.info",
        500,
    );
    let hars = [
        ("clean", vec![GOOD]),
        ("leak", vec![GOOD, LEAK]),
        ("failure", vec![GOOD, FAIL]),
        ("both", vec![GOOD, LEAK, FAIL]),
    ];
    let flags: [(&str, &[&str]); 7] = [
        ("none", &[]),
        ("leak", &["--fail-on", "leak"]),
        ("failure", &["--fail-on", "failure"]),
        ("leak,failure", &["--fail-on", "leak,failure"]),
        ("repeated", &["--fail-on", "leak", "--fail-on", "failure"]),
        ("any", &["--fail-on", "any"]),
        ("json", &["--fail-on", "leak", "--json"]),
    ];
    for (har, entries) in &hars {
        let file = home.path().join(format!("{har}.har"));
        std::fs::write(&file, chrome_har(entries)).unwrap();
        let path = file.display().to_string();
        for (flag, extra) in flags {
            let mut args = vec!["report", path.as_str(), "--private", "corp.example"];
            args.extend_from_slice(extra);
            let out = run(home.path(), &args);
            let has_leak = har.contains("leak") || *har == "both";
            let has_failure = har.contains("failure") || *har == "both";
            let should_fail = match flag {
                "none" => false,
                "leak" | "json" => has_leak,
                "failure" => has_failure,
                _ => has_leak || has_failure,
            };
            let what = format!("{har} HAR, --fail-on {flag}: {}", stderr(&out));
            assert_eq!(
                out.status.code(),
                Some(if should_fail { 3 } else { 0 }),
                "{what}"
            );
            assert_eq!(stderr(&out).contains("--fail-on"), should_fail, "{what}");
            if should_fail && flag != "json" {
                let err = stderr(&out);
                assert_eq!(
                    err.contains("private-path leak"),
                    has_leak && flag != "failure",
                    "{what}"
                );
                assert_eq!(
                    err.contains("has 1 failure") || err.contains("and 1 failure"),
                    has_failure && flag != "leak",
                    "{what}"
                );
            }
            assert!(!stdout(&out).is_empty(), "{what}: the report is printed");
        }
    }
}

/// `--fail-on leak` without `--private` could never fail (no path is private): it is refused
/// with the reason, exit 1; `--fail-on any` still gates on failures, with a warning.
#[test]
fn report_fail_on_leak_without_private_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("x.har");
    std::fs::write(
        &file,
        chrome_har(&[(
            "https://proxy.golang.org/golang.org/x/net/@v/v9.9.9.info",
            500,
        )]),
    )
    .unwrap();
    let path = file.display().to_string();
    let out = run(home.path(), &["report", &path, "--fail-on", "leak"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--fail-on leak needs --private GLOBS")
            && stderr(&out).contains("as in GOPRIVATE)"),
        "{}",
        stderr(&out)
    );
    let out = run(home.path(), &["report", &path, "--fail-on", "any"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: --fail-on any without --private")
            && stderr(&out).contains("only: no module path is private"),
        "{}",
        stderr(&out)
    );
}

/// `report --json` prints one JSON document with the same numbers as the text report, its
/// URLs redacted as the text's are.
#[test]
fn report_json_has_the_numbers_of_the_text_report() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("both.har");
    std::fs::write(
        &file,
        chrome_har(&[
            (
                "https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip",
                200,
            ),
            (
                "https://proxy.golang.org/corp.example/secret/@v/v1.0.0.zip",
                200,
            ),
            (
                "https://u:hunter2@proxy.golang.org/golang.org/x/net/@v/v9.9.9.info?token=hunter2",
                500,
            ),
        ]),
    )
    .unwrap();
    let path = file.display().to_string();
    let out = run(
        home.path(),
        &["report", &path, "--private", "corp.example", "--json"],
    );
    assert_ok(&out, "report --json");
    let text = stdout(&out);
    assert!(!text.contains("hunter2"), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("one JSON document");
    assert_eq!(doc["format"], "gomitm-report/1");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["found"], serde_json::json!(["leak", "failure"]));
    assert_eq!(doc["totals"]["requests"], 3);
    assert_eq!(doc["totals"]["failed"], 1);
    assert_eq!(doc["leaks"][0]["module"], "corp.example/secret");
    assert_eq!(doc["leaks"][0]["flow_id"], 2);
    let failure = &doc["failures"][0];
    assert_eq!(failure["flow_id"], 3);
    assert!(
        failure["url"].as_str().unwrap().contains("REDACTED"),
        "{failure}"
    );
    for field in ["code", "severity", "cause", "fix"] {
        assert!(
            failure["diagnosis"][field]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{field}: {failure}"
        );
    }
    let modules: Vec<&str> = doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["module"].as_str().unwrap())
        .collect();
    assert!(modules.contains(&"golang.org/x/text"), "{modules:?}");
    // The text report says the same numbers.
    let out = run(home.path(), &["report", &path, "--private", "corp.example"]);
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "gomitm: 3 requests, {} modules, 1 failed,",
            doc["totals"]["modules"]
        )),
        "{text}"
    );
    assert!(text.contains("PRIVATE-PATH LEAKS (1)"), "{text}");
    let code = failure["diagnosis"]["code"].as_str().unwrap();
    assert!(text.contains(&format!("#3 error {code}:")), "{text}");
}

/// A file that is not a HAR, given to `report`, is named for what it is, in words about the
/// file (never serde's `expected ident at line 1 column 2`), and gomitm exits 1.
#[test]
fn report_says_in_words_why_a_file_is_not_a_har() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    std::fs::write(dir.join("notes.txt"), "notes: meeting\n").unwrap();
    std::fs::write(dir.join("empty.har"), "").unwrap();
    std::fs::write(dir.join("other.json"), r#"{"name": "x"}"#).unwrap();
    std::fs::create_dir(dir.join("captures")).unwrap();
    let cases = [
        (
            "notes.txt",
            "notes.txt is not a HAR file: it does not start with a JSON object",
        ),
        (
            "empty.har",
            "empty.har is not a HAR file: the file is empty",
        ),
        (
            "other.json",
            "other.json is not a HAR file: it is JSON but has no `log` object",
        ),
        ("captures", "captures is a directory, not a HAR file"),
        ("missing.har", "missing.har does not exist"),
    ];
    for (name, want) in cases {
        let out = run_with_timeout(
            gomitm_cmd(dir).current_dir(dir).args(["report", name]),
            RUN_TIMEOUT,
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
        assert!(!err.contains("expected"), "{name}: {err}");
        assert!(stdout(&out).is_empty(), "{name}: no summary is printed");
    }
}

/// In real bash and fish: `gomitm env` sets both spellings of the proxy variables (git and
/// libcurl read `http_proxy` in lower case only) and the CA variables, and `gomitm env --unset`
/// removes every one of them again, whatever was there before.
#[test]
fn env_sets_both_spellings_and_unset_removes_them_in_bash_and_fish() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    let ca = ca.to_str().unwrap();
    let proxy = "http://127.0.0.1:9999";
    let names = [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "SSL_CERT_FILE",
        "GIT_SSL_CAINFO",
    ];
    let mut shells = vec![("bash", PathBuf::from("bash"))];
    if let Some(fish) = support::tools::require_tool("fish") {
        shells.push(("fish", fish));
    }
    for (flavour, binary) in shells {
        let set = run(
            tmp.path(),
            &["env", "--shell", flavour, "--proxy", proxy, "--ca-dir", ca],
        );
        assert_ok(&set, "gomitm env");
        let unset = run(tmp.path(), &["env", "--shell", flavour, "--unset"]);
        assert_ok(&unset, "gomitm env --unset");
        // `env` prints what the shell exported, for a child process: what go and git see.
        let show =
            "env | grep -i -E '^(https?_proxy|ssl_cert_file|git_ssl_cainfo)=' | sort; echo END";
        let script = format!("{}\n{show}\n{}\n{show}\n", stdout(&set), stdout(&unset));
        let evaluated = run_with_timeout(
            Command::new(&binary)
                .arg("-c")
                .arg(&script)
                // Set beforehand, as a user's shell may have them: --unset removes them too.
                .env("http_proxy", "http://old.example:3128")
                .env("SSL_CERT_FILE", "/etc/old.pem"),
            RUN_TIMEOUT,
        );
        assert_ok(&evaluated, &format!("{flavour} evaluating:\n{script}"));
        let text = stdout(&evaluated);
        let (after_set, after_unset) = text.split_once("END\n").unwrap();
        for name in names {
            let line = after_set
                .lines()
                .find(|l| l.starts_with(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{flavour}: {name} not exported:\n{after_set}"));
            if name.ends_with("proxy") || name.ends_with("PROXY") {
                assert_eq!(line, format!("{name}={proxy}"), "{flavour}");
            } else {
                assert!(line.ends_with("gomitm-bundle.pem"), "{flavour}: {line}");
            }
        }
        assert_eq!(
            after_unset, "END\n",
            "{flavour}: --unset left:\n{after_unset}"
        );
    }
}

/// `gomitm env` output, evaluated by the shell it was written for, gives back exactly the
/// values it was given, whatever quotes, backslashes, dollars and spaces they hold.
#[test]
fn env_lines_survive_hostile_paths_in_sh_and_fish() {
    let tmp = tempfile::tempdir().unwrap();
    let ca_dir = tmp.path().join(r#"it's a \dir\' "q" $HOME `x`"#);
    let ca = ca_dir.to_str().unwrap();
    let proxy = r"http://u:p'a\ss@127.0.0.1:9999";
    let print = |shell: &str| match shell {
        "fish" => "printf '%s\\n' $HTTPS_PROXY $HTTP_PROXY $SSL_CERT_FILE $GIT_SSL_CAINFO",
        _ => {
            "printf '%s\\n' \"$HTTPS_PROXY\" \"$HTTP_PROXY\" \"$SSL_CERT_FILE\" \"$GIT_SSL_CAINFO\""
        }
    };
    let bundle = ca_dir.join("gomitm-bundle.pem");
    let want = vec![
        proxy.to_string(),
        proxy.to_string(),
        bundle.display().to_string(),
        bundle.display().to_string(),
    ];
    let mut shells = vec![("bash", PathBuf::from("sh"))];
    if let Some(fish) = support::tools::require_tool("fish") {
        shells.push(("fish", fish));
    }
    for (flavour, binary) in shells {
        let out = run(
            tmp.path(),
            &["env", "--shell", flavour, "--proxy", proxy, "--ca-dir", ca],
        );
        assert_ok(&out, &format!("gomitm env --shell {flavour}"));
        let script = format!("{}\n{}\n", stdout(&out), print(flavour));
        let evaluated = run_with_timeout(Command::new(&binary).arg("-c").arg(&script), RUN_TIMEOUT);
        assert_ok(&evaluated, &format!("{flavour} evaluating:\n{script}"));
        let got: Vec<String> = stdout(&evaluated).lines().map(str::to_string).collect();
        assert_eq!(
            got, want,
            "{flavour} read back other values from:\n{script}"
        );
    }
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Under umask 000 the CA directory is still 0700, the key 0600 and the certificate and
/// bundle 0644: the modes are set, not left to the umask.
#[test]
fn ca_files_get_their_modes_whatever_the_umask() {
    let tmp = tempfile::tempdir().unwrap();
    let ca_dir = tmp.path().join("fresh").join("ca");
    let bin = std::env::var("CARGO_BIN_EXE_gomitm").unwrap();
    let script = "umask 000; exec \"$0\" env --proxy http://127.0.0.1:1 --ca-dir \"$1\"";
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).arg(&bin).arg(&ca_dir);
    cmd.env_remove("GOMITM_CA_DIR").env("HOME", tmp.path());
    let out = run_with_timeout(&mut cmd, RUN_TIMEOUT);
    assert_ok(&out, "gomitm env under umask 000");
    assert_eq!(mode_of(&ca_dir), 0o700, "CA directory");
    assert_eq!(mode_of(&ca_dir.join(KEY_FILE)), 0o600, "CA key");
    assert_eq!(mode_of(&ca_dir.join(CERT_FILE)), 0o644, "CA certificate");
    assert_eq!(mode_of(&ca_dir.join("gomitm-bundle.pem")), 0o644, "bundle");
}

/// A CA directory that group or others can write (a shared /tmp path, a careless chmod) is
/// refused with the fix, before anything is read from it or written to it.
#[test]
fn a_ca_directory_others_can_write_is_refused_with_the_fix() {
    for mode in [0o777, 0o770, 0o1777, 0o722] {
        let tmp = tempfile::tempdir().unwrap();
        let ca_dir = tmp.path().join("ca");
        std::fs::create_dir(&ca_dir).unwrap();
        std::fs::set_permissions(&ca_dir, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = run(
            tmp.path(),
            &["ca", "path", "--ca-dir", ca_dir.to_str().unwrap()],
        );
        assert!(!out.status.success(), "mode {mode:o} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("writable by group or others"), "{err}");
        assert!(
            err.contains(&format!("chmod 700 {}", ca_dir.display())),
            "{err}"
        );
        assert!(
            !ca_dir.join(KEY_FILE).exists(),
            "a key was written into mode {mode:o}"
        );
    }
    // 0755 (what an older gomitm or a plain mkdir made) is readable, not writable: accepted.
    let tmp = tempfile::tempdir().unwrap();
    let ca_dir = tmp.path().join("ca");
    std::fs::create_dir(&ca_dir).unwrap();
    std::fs::set_permissions(&ca_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run(
        tmp.path(),
        &["ca", "path", "--ca-dir", ca_dir.to_str().unwrap()],
    );
    assert_ok(&out, "gomitm ca path in a 0755 directory");
}

/// Symlinks planted where gomitm writes its files are never followed: the bundle replaces
/// the link, and a link where a new CA would go stops the creation.
#[test]
fn planted_symlinks_in_the_ca_directory_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "keep me\n").unwrap();

    // The bundle, rewritten on every start, over a symlink to the victim.
    let ca_dir = tmp.path().join("ca");
    let out = run(
        tmp.path(),
        &["ca", "path", "--ca-dir", ca_dir.to_str().unwrap()],
    );
    assert_ok(&out, "gomitm ca path");
    let bundle = ca_dir.join("gomitm-bundle.pem");
    std::os::unix::fs::symlink(&victim, &bundle).unwrap();
    let out = run(
        tmp.path(),
        &[
            "env",
            "--proxy",
            "http://127.0.0.1:1",
            "--ca-dir",
            ca_dir.to_str().unwrap(),
        ],
    );
    assert_ok(&out, "gomitm env");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    let meta = std::fs::symlink_metadata(&bundle).unwrap();
    assert!(meta.file_type().is_file(), "the bundle is still a link");
    assert!(read(&bundle).contains("BEGIN CERTIFICATE"));

    // A dangling link where the certificate of a new CA would be written.
    let fresh = tmp.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o700)).unwrap();
    let target = tmp.path().join("planted.pem");
    std::os::unix::fs::symlink(&target, fresh.join(CERT_FILE)).unwrap();
    let out = run(
        tmp.path(),
        &["ca", "path", "--ca-dir", fresh.to_str().unwrap()],
    );
    assert!(!out.status.success(), "a CA was created through a symlink");
    assert!(!target.exists(), "gomitm wrote through the planted link");
}

/// Issue 14: what a terminal would obey (C0 controls but newline, DEL, C1, bidi and
/// zero-width format characters) in `text`, with where it is.
fn terminal_unsafe(text: &str) -> Vec<(usize, char)> {
    text.char_indices()
        .filter(|&(_, c)| {
            (c < ' ' && c != '\n')
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || matches!(c, '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}')
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
        .collect()
}

/// Issue 14: a HAR whose URLs, decoded module paths and status texts hold escape sequences,
/// a C1 CSI, DEL, bare CRs and bidi overrides: `gomitm report` prints them as visible
/// stand-ins, never raw; the same for an import error quoting the file's URL.
#[test]
fn report_never_writes_control_or_bidi_characters_from_a_har() {
    let home = tempfile::tempdir().unwrap();
    let entry = |url: &str, status: u16, status_text: &str, extra: &str| {
        format!(
            r#"{{"startedDateTime":"2026-01-01T00:00:00.000Z","time":5,
            "request":{{"method":"GET","url":"{url}","httpVersion":"HTTP/2","headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0}},
            "response":{{"status":{status},"statusText":"{status_text}","httpVersion":"HTTP/2","headers":[],"cookies":[],"content":{{"size":3,"mimeType":"text/plain","text":"abc"{extra}}},"redirectURL":"","headersSize":-1,"bodySize":3}},
            "cache":{{}},"timings":{{"send":0,"wait":4,"receive":1}}}}"#
        )
    };
    // JSON escapes: ESC, BEL, CR, DEL, C1 CSI, RLO, LRI; the module path %-encodes ESC and RLO.
    let evil = r"\u001b[2J\u001b]0;pwned\u0007\r\u007f\u009b31m\u202e\u2066";
    let har = |entries: &[String]| {
        format!(
            r#"{{"log":{{"version":"1.2","creator":{{"name":"WebInspector","version":"537.36"}},"entries":[{}]}}}}"#,
            entries.join(",")
        )
    };
    let entries = [
        entry(
            "https://proxy.golang.org/evil.test/m%1b%5b2J%e2%80%ae/@v/v1.0.0.zip",
            502,
            evil,
            "",
        ),
        entry(
            &format!("https://proxy.golang.org/corp.example/s{evil}/@v/v1.0.0.info"),
            404,
            evil,
            "",
        ),
        entry(
            &format!("https://evil.test/p{evil}x?q={evil}"),
            500,
            evil,
            "",
        ),
    ];
    let file = home.path().join("evil.har");
    std::fs::write(&file, har(&entries)).unwrap();
    let path = file.display().to_string();
    let out = run(home.path(), &["report", &path, "--private", "corp.example"]);
    assert_ok(&out, "report");
    let text = stdout(&out);
    assert_eq!(terminal_unsafe(&text), [], "{text:?}");
    assert!(
        terminal_unsafe(&stderr(&out)).is_empty(),
        "{}",
        stderr(&out)
    );
    assert!(text.contains("evil.test/m␛[2J<U+202E>"), "{text}");
    assert!(text.contains("corp.example/s␛[2J"), "{text}");
    assert!(text.contains("<U+009B>31m<U+202E><U+2066>"), "{text}");
    assert!(text.contains("␇␍␡"), "{text}");

    // An import error quotes the entry's URL.
    let broken = [entry(
        &format!("https://evil.test/b{evil}"),
        200,
        "OK",
        r#","encoding":"base64","text":"!!not base64!!""#,
    )];
    std::fs::write(&file, har(&broken)).unwrap();
    let out = run(home.path(), &["report", &path]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(terminal_unsafe(&err), [], "{err:?}");
    assert!(err.contains("evil.test/b␛[2J"), "{err}");
}

/// Issue 14: `gomitm rules check` quotes the offending line of the file; an escape sequence
/// or bidi override in it is shown, not obeyed, and the caret still points at the mistake.
#[test]
fn rules_check_error_never_writes_control_characters_from_the_file() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("rules.toml");
    let check = |text: &str| {
        std::fs::write(&file, text).unwrap();
        let out = run(
            home.path(),
            &["rules", "check", &file.display().to_string()],
        );
        assert!(!out.status.success());
        let err = stderr(&out);
        assert_eq!(terminal_unsafe(&err), [], "{err:?}");
        err
    };
    // TOML refuses a raw ESC in a string: the syntax error quotes the line.
    let err = check("[[rule]]\nname = \"m\u{1b}[2J\u{202e}\"\nhang = true\n");
    assert!(err.contains("  name = \"m␛[2J<U+202E>\"\n"), "{err}");
    assert!(err.contains(&format!("\n  {}^", " ".repeat(9))), "{err}");
    // A bidi override is valid TOML: the rule's own error quotes it.
    let err = check(
        "[[rule]]\nname = \"m\u{202e}\"\nmatch = \"host:a.test & hots:b\u{2066}\"\nhang = true\n",
    );
    assert!(err.contains("rule \"m<U+202E>\""), "{err}");
    assert!(
        err.contains("  match = \"host:a.test & hots:b<U+2066>\"\n"),
        "{err}"
    );
}

// ---------------------------------------------------------------- version, completions, man

/// `--version` and `gomitm version` name the commit as `rustc -V` does, read from git by
/// build.rs: `gomitm 0.1.0 (e55c1d934 2026-12-03)`.
#[test]
fn version_names_the_commit_hash_and_date() {
    let tmp = tempfile::tempdir().unwrap();
    let flag = run(tmp.path(), &["--version"]);
    assert_ok(&flag, "gomitm --version");
    let sub = run(tmp.path(), &["version"]);
    assert_ok(&sub, "gomitm version");
    assert_eq!(stdout(&flag), stdout(&sub));
    let line = stdout(&flag);
    let prefix = format!("gomitm {}", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&prefix), "{line}");
    let manifest = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(manifest)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match (
        git(&["rev-parse", "--short=9", "HEAD"]),
        git(&["log", "-1", "--format=%cs"]),
    ) {
        // Built from this checkout: the commit it was built from (the test binary and gomitm
        // are built together, so HEAD has not moved since).
        (Some(hash), Some(date)) => assert_eq!(line, format!("{prefix} ({hash} {date})\n")),
        // A copy without git: the bare version, nothing empty in brackets.
        _ => assert_eq!(line, format!("{prefix}\n")),
    }
}

#[test]
fn completions_load_in_bash_and_fish() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["completions", "bash"]);
    assert_ok(&out, "gomitm completions bash");
    let bash = stdout(&out);
    for sub in ["run", "report", "completions", "man", "version", "filters"] {
        assert!(bash.contains(sub), "{sub} not completed in bash");
    }
    let script = tmp.path().join("gomitm.bash");
    std::fs::write(&script, &bash).unwrap();
    // Sourced for real: defines the completion function without an error.
    let check = run_with_timeout(
        Command::new("bash").arg("-c").arg(format!(
            "source '{}' && complete -p gomitm",
            script.display()
        )),
        RUN_TIMEOUT,
    );
    assert_ok(&check, "bash sources the completion script");
    assert!(stdout(&check).contains("gomitm"), "{}", stdout(&check));

    let Some(fish) = support::tools::require_tool("fish") else {
        return;
    };
    let out = run(tmp.path(), &["completions", "fish"]);
    assert_ok(&out, "gomitm completions fish");
    let script = tmp.path().join("gomitm.fish");
    std::fs::write(&script, stdout(&out)).unwrap();
    let check = run_with_timeout(
        Command::new(&fish)
            .env("HOME", tmp.path())
            .arg("-c")
            .arg(format!(
                "source '{}'; complete -C 'gomitm rep'",
                script.display()
            )),
        RUN_TIMEOUT,
    );
    assert_ok(&check, "fish sources the completion script");
    assert!(stdout(&check).contains("report"), "{}", stdout(&check));
}

#[test]
fn man_page_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["man"]);
    assert_ok(&out, "gomitm man");
    let page = stdout(&out);
    assert!(page.contains("\n.TH gomitm 1"), "{}", &page[..200]);
    let dir = tmp.path().join("man1");
    let out = run(tmp.path(), &["man", "--dir", dir.to_str().unwrap()]);
    assert_ok(&out, "gomitm man --dir");
    let run_page = dir.join("gomitm-run.1");
    assert!(run_page.is_file(), "{}", stdout(&out));
    // Rendered by man itself where the machine has it.
    if support::tools::find_on_path("man").is_some() {
        let shown = run_with_timeout(
            Command::new("man")
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "80")
                .arg("-l")
                .arg(&run_page),
            RUN_TIMEOUT,
        );
        assert_ok(&shown, "man -l gomitm-run.1");
        assert!(stdout(&shown).contains("--log-flows"), "{}", stdout(&shown));
    }
}

// ---------------------------------------------------------------- listening, run mistakes

/// A port that is taken says how to pick another.
#[test]
fn a_busy_port_says_how_to_pick_another() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(tmp.path(), &["--no-tui", "--listen", &port]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("already in use"), "{err}");
    assert!(err.contains("--listen 127.0.0.1:0"), "{err}");
}

/// `gomitm run go version`: the command belongs after `--`, and the message says so.
#[test]
fn run_without_dashes_shows_the_line_to_type() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["run", "go", "version"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("gomitm run -- go version"),
        "{}",
        stderr(&out)
    );
}

/// A command that cannot start exits 127 (not found) or 126 (not executable), as a shell
/// does, with one clear line and nothing else: no listening line, no summary.
#[test]
fn run_of_a_command_that_cannot_start_exits_like_a_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["run", "--", "gomitm-no-such-command", "x"]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "gomitm: cannot run \"gomitm-no-such-command\": command not found on PATH\n"
    );
    let script = tmp.path().join("not-executable.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(tmp.path(), &["run", "--", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not executable"), "{err}");
    assert!(stdout(&out).is_empty());
}

/// The OTLP variables gomitm reads, removed so that a test sees only what it sets.
const OTEL_VARS: [&str; 8] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
];

/// An https:// collector whose TLS settings cannot be used stops gomitm at start-up, naming
/// the variable, before it listens: spans would otherwise be lost for the whole session. An
/// http:// collector does not read them. The collector itself may be named by the traces
/// variable alone.
#[test]
fn the_collector_settings_are_checked_at_start_naming_the_variable() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("missing-ca.pem");
    let missing = missing.to_str().unwrap();
    let gomitm = |args: &[&str], vars: &[(&str, &str)]| {
        let mut cmd = gomitm_cmd(home.path());
        for v in OTEL_VARS {
            cmd.env_remove(v);
        }
        cmd.args(args).envs(vars.iter().copied());
        run_with_timeout(&mut cmd, RUN_TIMEOUT)
    };
    let proxy = [
        "proxy",
        "--no-tui",
        "--listen",
        "127.0.0.1:0",
        "--otlp",
        "https://collector.invalid",
    ];
    for (vars, want) in [
        (
            vec![("OTEL_EXPORTER_OTLP_CERTIFICATE", missing)],
            format!("gomitm: error: OTEL_EXPORTER_OTLP_CERTIFICATE={missing}: "),
        ),
        (
            vec![("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", missing)],
            "gomitm: error: OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE is set without \
             OTEL_EXPORTER_OTLP_CLIENT_KEY"
                .to_string(),
        ),
        (
            vec![
                ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", missing),
                ("OTEL_EXPORTER_OTLP_CLIENT_KEY", missing),
            ],
            format!("gomitm: error: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE={missing}: "),
        ),
    ] {
        let out = gomitm(&proxy, &vars);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{vars:?}: {err}");
        assert!(err.starts_with(&want), "{vars:?}: {err}");
        assert!(!err.contains("listening"), "{vars:?}: {err}");
    }
    // The same variable with an http:// collector: not read, the run goes ahead.
    let out = gomitm(
        &["run", "--otlp", "http://127.0.0.1:1", "--", "true"],
        &[("OTEL_EXPORTER_OTLP_CERTIFICATE", missing)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("gomitm: OpenTelemetry: "),
        "{}",
        stderr(&out)
    );
}
