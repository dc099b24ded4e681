//! Rendering snapshots: `TestBackend` buffers as text (colours are not part of the snapshot).
//! Update them with `INSTA_UPDATE=always cargo test --lib tui::` and review the diff.

use std::sync::Arc;

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

use super::*;
use crate::tui::config::Source;
use crate::tui::state::{Action, State};
use crate::tui::testdata::{self, mixed, state_with};

fn render(s: &State) -> TestBackend {
    let mut term = Terminal::new(TestBackend::new(s.size.0, s.size.1)).expect("test terminal");
    term.draw(|f| draw(f, s)).expect("draw");
    term.backend().clone()
}

fn keys(s: &mut State, codes: &[KeyCode]) {
    for c in codes {
        s.update(Action::Key(KeyEvent::new(*c, KeyModifiers::NONE)));
    }
    s.flush();
}

fn text(s: &mut State, t: &str) {
    for c in t.chars() {
        keys(s, &[KeyCode::Char(c)]);
    }
}

/// The mixed flows with the detail view of flow `id` on tab number `tab` (1-based).
fn detail_of(id: u64, tab: char) -> State {
    let mut s = state_with(testdata::live(), mixed(), 110, 30);
    keys(&mut s, &[KeyCode::Char('g')]);
    for _ in 1..id {
        keys(&mut s, &[KeyCode::Down]);
    }
    keys(&mut s, &[KeyCode::Enter, KeyCode::Char(tab)]);
    s
}

#[test]
fn table_with_go_ok_and_failed_flows() {
    let s = state_with(testdata::live(), mixed(), 180, 20);
    insta::assert_snapshot!(render(&s));
}

#[test]
fn narrow_table_drops_time_and_timing_columns() {
    let s = state_with(testdata::live(), mixed(), 100, 20);
    let out = render(&s).to_string();
    assert!(!out.contains("timing") && !out.contains("time "), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn empty_live_table_says_how_to_point_go_at_gomitm() {
    let s = state_with(testdata::live(), vec![], 100, 10);
    insta::assert_snapshot!(render(&s));
}

#[test]
fn detail_headers_tab() {
    insta::assert_snapshot!(render(&detail_of(2, '1')));
}

#[test]
fn detail_body_tab() {
    insta::assert_snapshot!(render(&detail_of(2, '2')));
}

#[test]
fn detail_timing_tab_waterfall() {
    insta::assert_snapshot!(render(&detail_of(4, '3')));
}

#[test]
fn detail_connection_tab() {
    insta::assert_snapshot!(render(&detail_of(4, '4')));
}

#[test]
fn detail_go_tab_with_diagnosis() {
    let s = detail_of(6, '5');
    let out = render(&s).to_string();
    assert!(out.contains("module_not_found"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn detail_go_tab_shows_the_integrity_hash() {
    let mut flows = mixed();
    let hash = |f: &mut crate::flow::Flow, h: crate::flow::BodyHash| {
        if let Some(go) = f.go.as_mut() {
            go.hash = Some(h);
        }
    };
    hash(
        &mut flows[2],
        crate::flow::BodyHash {
            h1: Some("h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=".into()),
            ..Default::default()
        },
    );
    hash(
        &mut flows[3],
        crate::flow::BodyHash {
            not_verified: Some("the body was cut short".into()),
            outside_prefix: Some("example.test/other@v1.0.0/go.mod".into()),
            files: Some(3),
            ..Default::default()
        },
    );
    let mut s = state_with(testdata::live(), flows, 110, 30);
    keys(&mut s, &[KeyCode::Char('g'), KeyCode::Down, KeyCode::Down]);
    keys(&mut s, &[KeyCode::Enter, KeyCode::Char('5')]);
    let out = render(&s).to_string();
    assert!(
        out.contains("h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0="),
        "{out}"
    );
    keys(&mut s, &[KeyCode::Esc]);
    keys(&mut s, &[KeyCode::Down, KeyCode::Enter, KeyCode::Char('5')]);
    let out = render(&s).to_string();
    assert!(
        out.contains("not verified: the body was cut short"),
        "{out}"
    );
    assert!(out.contains("example.test/other@v1.0.0/go.mod"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn detail_rules_and_error_tab() {
    let mut flows = mixed();
    flows[8].rules = vec!["block-tls".into(), "delay 200ms".into()];
    let mut s = state_with(testdata::live(), flows, 110, 24);
    keys(&mut s, &[KeyCode::Char('g')]);
    for _ in 1..9 {
        keys(&mut s, &[KeyCode::Down]);
    }
    keys(&mut s, &[KeyCode::Enter, KeyCode::Char('6')]);
    insta::assert_snapshot!(render(&s));
}

#[test]
fn waterfall_of_a_reused_connection_leaves_out_dns_connect_tls() {
    let t = crate::flow::Timings {
        send_ms: Some(1.0),
        wait_ms: Some(30.0),
        receive_ms: Some(9.0),
        total_ms: Some(40.0),
        ..Default::default()
    };
    let lines: Vec<String> = super::detail::waterfall(&t, 60, false)
        .iter()
        .map(|l| l.to_string())
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn filter_parse_error_is_shown_with_a_caret() {
    let mut s = state_with(testdata::live(), mixed(), 120, 16);
    keys(&mut s, &[KeyCode::Char('/')]);
    text(&mut s, "host:a.test & hots:x");
    insta::assert_snapshot!(render(&s));
}

#[test]
fn help_overlay() {
    let mut s = state_with(testdata::live(), mixed(), 120, 26);
    keys(&mut s, &[KeyCode::Char('?')]);
    insta::assert_snapshot!(render(&s));
}

#[test]
fn paused_header_export_prompt_and_quit_question() {
    let mut s = state_with(testdata::live(), mixed(), 120, 12);
    keys(&mut s, &[KeyCode::Char('p')]);
    let late = crate::flow::testing::FlowBuilder::get("https://late.test/")
        .id(13)
        .build();
    s.update(Action::Flow(Arc::new(late)));
    keys(&mut s, &[KeyCode::Char('e')]);
    let paused = render(&s).to_string();
    assert!(paused.contains("paused, 1 new"), "{paused}");
    insta::assert_snapshot!("paused_export_prompt", paused);
    keys(&mut s, &[KeyCode::Esc, KeyCode::Char('q')]);
    insta::assert_snapshot!("quit_question", render(&s));
}

#[test]
fn run_mode_with_output_pane_and_summary() {
    let cfg = testdata::cfg(Source::Run {
        addr: "127.0.0.1:41234".into(),
        command: "go mod download".into(),
    });
    let mut s = state_with(cfg, mixed(), 120, 30);
    s.update(Action::ChildOutput(
        "go: downloading example.test/hello v1.0.0".into(),
    ));
    s.update(Action::Message(
        "gomitm: warning: GOFLAGS has -insecure".into(),
    ));
    insta::assert_snapshot!("run_output_pane", render(&s));
    s.update(Action::ChildExited {
        code: 1,
        summary: "gomitm: 12 requests, 1 modules, 3 failed, 10.0KiB in 1.2s\n\
                  private module patterns: none\n\nModules (1):\n  example.test/hello@v1.0.0"
            .into(),
    });
    insta::assert_snapshot!("run_summary", render(&s));
}

#[test]
fn read_only_file_header() {
    let cfg = testdata::cfg(Source::File {
        path: "teammate.har".into(),
    });
    let mut s = State::new(cfg, (120, 8));
    s.update(Action::Resync(mixed().into_iter().map(Arc::new).collect()));
    insta::assert_snapshot!(render(&s));
}

#[test]
fn a_tiny_terminal_does_not_panic() {
    for (w, h) in [(1, 1), (10, 3), (30, 5), (0, 0)] {
        let mut s = state_with(testdata::live(), mixed(), w, h);
        render(&s);
        keys(
            &mut s,
            &[KeyCode::Enter, KeyCode::Char('3'), KeyCode::Char('?')],
        );
        render(&s);
    }
}

/// Every cell of a drawn screen, one row a line.
fn screen_text(b: &TestBackend) -> String {
    let buf = b.buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn network_text_with_bidi_overrides_and_escapes_is_drawn_visibly() {
    let rlo = "\u{202e}";
    let mut flow = crate::flow::testing::FlowBuilder::get(&format!(
        "https://evil.test/a{rlo}piz.exe\u{1b}[2J\u{2066}"
    ))
    .id(1)
    .status(502, b"")
    .resp_header(
        &format!("X-{rlo}Name"),
        &format!("v\u{200f}al\u{1b}]0;t\u{7}ue{rlo}"),
    )
    .build();
    if let Some(r) = flow.response.as_mut() {
        r.reason = format!("Bad{rlo}Gateway\u{9b}31m").into();
    }
    flow.rules = vec![format!("rule{rlo}x")];
    let error = flow.clone();
    let mut error = error;
    error.id = 2;
    error.error = Some(crate::flow::FlowError {
        class: crate::flow::ErrorClass::UpstreamReset,
        message: format!("reset{rlo} by \u{61c}peer\u{7f}"),
    });
    let mut s = state_with(testdata::live(), vec![flow, error], 200, 30);
    let mut screens = vec![screen_text(&render(&s))];
    keys(
        &mut s,
        &[KeyCode::Char('g'), KeyCode::Enter, KeyCode::Char('1')],
    );
    screens.push(screen_text(&render(&s)));
    keys(&mut s, &[KeyCode::Char('6')]);
    screens.push(screen_text(&render(&s)));
    keys(
        &mut s,
        &[
            KeyCode::Esc,
            KeyCode::Down,
            KeyCode::Enter,
            KeyCode::Char('6'),
        ],
    );
    screens.push(screen_text(&render(&s)));
    let all = screens.join("\n");
    crate::terminal_text::assert_safe(&all);
    for shown in [
        "a<U+202E>piz.exe",
        "X-<U+202E>Name",
        "v<U+200F>al",
        "Bad<U+202E>Gateway<U+009B>31m",
        "rule<U+202E>x",
        "reset<U+202E> by <U+061C>peer␡",
    ] {
        assert!(all.contains(shown), "{shown} not on screen:\n{all}");
    }
}

/// The mixed flows plus one with a wide-character (CJK, emoji) URL and one with a long error
/// class, as a user would see them at a terminal size.
fn everyday(w: u16, h: u16) -> State {
    let mut flows = mixed();
    let mut wide = crate::flow::testing::FlowBuilder::get(
        "https://例え.test/路径/模块/パッケージ🦀/v1.0.0/docs?q=日本語",
    )
    .id(13)
    .status(200, b"ok")
    .build();
    wide.started_at_us = testdata::T0 + 13 * 125_000;
    flows.push(wide);
    let mut slow = crate::flow::testing::FlowBuilder::get(
        "https://storage.googleapis.com/proxy-golang-org-prod/0123456789abcdef-golang.org:x:text-v0.14.0.zip",
    )
    .id(14)
    .error(
        crate::flow::ErrorClass::UpstreamTimeout,
        "no answer from storage.googleapis.com:443 within 30s (--upstream-timeout)",
    )
    .build();
    slow.started_at_us = testdata::T0 + 14 * 125_000;
    flows.push(slow);
    state_with(testdata::live(), flows, w, h)
}

/// Each screen row as a string of what the terminal shows (a wide character once).
fn rows(b: &TestBackend) -> Vec<String> {
    let buf = b.buffer();
    (0..buf.area.height)
        .map(|y| {
            let mut line = String::new();
            let mut x = 0;
            while x < buf.area.width {
                let sym = buf[(x, y)].symbol();
                line.push_str(sym);
                x += crate::tui::cells::width(sym).max(1) as u16;
            }
            line
        })
        .collect()
}

#[test]
fn table_at_80x24_gives_the_path_the_room_and_keeps_the_footer_whole() {
    let s = everyday(80, 24);
    let b = render(&s);
    let screen = rows(&b);
    let all = screen.join("\n");
    // Short forms: the status as a short code, the host cut at its start.
    assert!(all.contains(" tmo "), "{all}");
    assert!(all.contains("…"), "{all}");
    // The module path and version are whole.
    assert!(all.contains("example.test/hello@v1.0.0"), "{all}");
    // The footer ends with help and quit, not cut.
    let footer = screen.last().expect("a footer").trim_end().to_string();
    assert!(footer.ends_with("? help q quit"), "{footer}");
    // Every row fits 80 cells (a wide character counted twice).
    for r in &screen {
        assert!(crate::tui::cells::width(r) <= 80, "{r}");
    }
    insta::assert_snapshot!(all);
}

#[test]
fn table_at_120x40() {
    let s = everyday(120, 40);
    let out = rows(&render(&s)).join("\n");
    assert!(
        out.contains("upstream_timeout") || out.contains(" tmo "),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn a_wide_character_url_is_measured_in_cells() {
    let mut s = everyday(80, 24);
    // The wide-character flow, in details: its URL wraps in the header, by cells.
    keys(&mut s, &[KeyCode::Char('g')]);
    for _ in 1..13 {
        keys(&mut s, &[KeyCode::Down]);
    }
    keys(&mut s, &[KeyCode::Enter]);
    let screen = rows(&render(&s));
    for r in &screen {
        assert!(crate::tui::cells::width(r) <= 80, "{r}");
    }
    let all = screen.join("\n");
    assert!(all.contains("パッケージ🦀"), "{all}");
    insta::assert_snapshot!(all);
}

#[test]
fn detail_header_wraps_a_long_error_and_status_line_cuts_with_an_ellipsis() {
    let mut s = everyday(80, 24);
    keys(&mut s, &[KeyCode::Char('G')]);
    keys(&mut s, &[KeyCode::Enter]);
    s.update(Action::Message(format!(
        "gomitm: warning: {}",
        "a very long warning about something ".repeat(4)
    )));
    let screen = rows(&render(&s));
    let all = screen.join("\n");
    // The error message goes on to the next row instead of being cut.
    assert!(all.contains("(--upstream-timeout)"), "{all}");
    let status = &screen[screen.len() - 2];
    assert!(status.trim_end().ends_with('…'), "{status}");
    insta::assert_snapshot!(all);
}

#[test]
fn no_color_draws_without_colours_but_keeps_the_selection_reversed() {
    let mut s = everyday(100, 20);
    let coloured = render(&s);
    let has_colour = |b: &TestBackend| {
        b.buffer()
            .content()
            .iter()
            .any(|c| c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset)
    };
    assert!(has_colour(&coloured));
    s.no_color = true;
    let plain = render(&s);
    assert!(!has_colour(&plain), "NO_COLOR leaves no colour");
    let reversed = plain
        .buffer()
        .content()
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
        .count();
    assert!(reversed > 80, "the selected row stays reversed: {reversed}");
}

#[test]
fn a_foreign_har_does_not_speak_of_flows_in_flight_or_of_gomitm_as_the_client_side() {
    let cfg = testdata::cfg(Source::File {
        path: "chrome.har".into(),
    });
    let mut s = State::new(cfg, (100, 24));
    s.update(Action::Resync(mixed().into_iter().map(Arc::new).collect()));
    let table = render(&s).to_string();
    assert!(!table.contains("in flight"), "{table}");
    keys(&mut s, &[KeyCode::Enter, KeyCode::Char('4')]);
    let conn = render(&s).to_string();
    assert!(
        !conn.contains("gomitm ↔") && !conn.contains("↔ gomitm"),
        "{conn}"
    );
    assert!(
        conn.contains("Client side") && conn.contains("Server side"),
        "{conn}"
    );
    keys(&mut s, &[KeyCode::Char('3')]);
    let timing = render(&s).to_string();
    assert!(timing.contains("client's TLS handshake"), "{timing}");
    assert!(!timing.contains("↔ gomitm"), "{timing}");
}

#[test]
fn a_search_in_details_highlights_the_match() {
    let mut s = detail_of(2, '2');
    keys(&mut s, &[KeyCode::Char('/')]);
    text(&mut s, "time");
    keys(&mut s, &[KeyCode::Enter]);
    let b = render(&s);
    let hit = b
        .buffer()
        .content()
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
        .map(|c| c.symbol().to_string())
        .collect::<String>();
    assert!(hit.contains("Time"), "the match is drawn reversed: {hit}");
}

#[test]
fn at_80_columns_a_host_is_whole_when_the_paths_leave_room() {
    let flows = vec![
        crate::flow::testing::FlowBuilder::get("https://proxy.golang.org/x")
            .id(1)
            .status(200, b"")
            .build(),
        crate::flow::testing::FlowBuilder::get("https://proxy.golang.org/y")
            .id(2)
            .error(crate::flow::ErrorClass::Dns, "no such host")
            .build(),
    ];
    let s = state_with(testdata::live(), flows, 80, 10);
    let out = render(&s).to_string();
    assert!(out.contains(" proxy.golang.org "), "{out}");
    assert!(out.contains(" 2 flows · 1 error · "), "singular: {out}");
}
