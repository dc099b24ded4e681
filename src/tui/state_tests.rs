//! State, keymap and update logic without a terminal.

use std::path::PathBuf;
use std::sync::Arc;

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::tui::detail::Tab;
use crate::tui::testdata::{self, many, mixed, state_with};

/// A key, then what the next frame would show.
fn key(s: &mut State, code: KeyCode) -> Effect {
    let effect = s.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    s.flush();
    effect
}

fn chars(s: &mut State, text: &str) {
    for c in text.chars() {
        key(s, KeyCode::Char(c));
    }
}

fn ids(s: &State) -> Vec<u64> {
    (0..s.list.visible_len())
        .filter_map(|i| s.list.visible_id(i))
        .collect()
}

fn add(s: &mut State, id: u64, host: &str) {
    let f = FlowBuilder::get(&format!("https://{host}/x"))
        .id(id)
        .status(200, b"")
        .build();
    s.update(Action::Flow(Arc::new(f)));
}

#[test]
fn follow_keeps_the_newest_selected_until_the_user_moves_up() {
    let mut s = state_with(testdata::live(), many(5, 1), 120, 30);
    assert!(s.follow);
    assert_eq!(s.selected, Some(5));
    add(&mut s, 6, "a.test");
    assert_eq!(s.selected, Some(6), "follow moves to the new flow");
    key(&mut s, KeyCode::Up);
    assert!(!s.follow);
    assert_eq!(s.selected, Some(5));
    add(&mut s, 7, "a.test");
    assert_eq!(
        s.selected,
        Some(5),
        "without follow the selection stays put"
    );
    key(&mut s, KeyCode::Char('G'));
    assert!(s.follow);
    assert_eq!(s.selected, Some(7));
    key(&mut s, KeyCode::Char('f'));
    assert!(!s.follow, "f toggles follow");
}

#[test]
fn moving_and_paging_clamp_to_the_rows() {
    let mut s = state_with(testdata::live(), many(100, 1), 120, 20);
    key(&mut s, KeyCode::Char('g'));
    assert_eq!(s.selected, Some(1));
    key(&mut s, KeyCode::Up);
    assert_eq!(s.selected, Some(1), "cannot go above the first row");
    let page = s.table_rows();
    assert!(page > 5, "{page}");
    key(&mut s, KeyCode::PageDown);
    assert_eq!(s.selected_row(), Some(page));
    assert!(
        s.offset > 0 && s.offset <= page,
        "the selection is scrolled into view"
    );
    for _ in 0..20 {
        key(&mut s, KeyCode::PageDown);
    }
    assert_eq!(s.selected, Some(100));
    assert_eq!(s.offset, 100 - page);
}

#[test]
fn filter_narrows_live_and_enter_keeps_it() {
    let mut s = state_with(testdata::live(), many(9, 3), 120, 30);
    key(&mut s, KeyCode::Char('/'));
    chars(&mut s, "host:host-1.test");
    assert_eq!(ids(&s), vec![1, 4, 7], "narrowed while typing");
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.input, Input::None);
    assert_eq!(s.filter_text, "host:host-1.test");
    add(&mut s, 10, "host-1.test");
    add(&mut s, 11, "host-2.test");
    assert_eq!(
        ids(&s),
        vec![1, 4, 7, 10],
        "new flows are filtered as they come"
    );
    assert_eq!(s.list.stats().flows, 11, "the counts cover every flow");
}

#[test]
fn a_filter_error_shows_a_caret_keeps_the_last_good_view_and_esc_restores() {
    let mut s = state_with(testdata::live(), many(9, 3), 120, 30);
    key(&mut s, KeyCode::Char('/'));
    chars(&mut s, "host:host-2.test");
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Char('/'));
    chars(&mut s, " &");
    let err = s.filter_error().expect("a parse error");
    assert!(err.position > 0, "{err:?}");
    assert_eq!(
        ids(&s),
        vec![2, 5, 8],
        "the last valid filter still applies"
    );
    key(&mut s, KeyCode::Enter);
    assert!(
        matches!(s.input, Input::Filter { .. }),
        "Enter does not accept an error"
    );
    assert!(s.status.as_ref().is_some_and(|st| st.error));
    for _ in 0..2 {
        key(&mut s, KeyCode::Backspace);
    }
    assert!(s.filter_error().is_none());
    chars(&mut s, "x");
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.input, Input::None);
    assert_eq!(
        s.filter_text, "host:host-2.test",
        "Esc restores the filter before /"
    );
    assert_eq!(ids(&s), vec![2, 5, 8]);
}

#[test]
fn an_empty_filter_shows_everything() {
    let mut s = state_with(testdata::live(), many(4, 2), 120, 30);
    key(&mut s, KeyCode::Char('/'));
    chars(&mut s, "host:host-0.test");
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.list.visible_len(), 2);
    key(&mut s, KeyCode::Char('/'));
    s.update(Action::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.list.visible_len(), 4);
    assert!(s.list.filter().is_none());
}

#[test]
fn h_filters_to_the_selected_host_and_again_clears() {
    let mut s = state_with(testdata::live(), mixed(), 160, 30);
    key(&mut s, KeyCode::Char('g'));
    assert_eq!(
        s.selected_flow().map(|f| f.host().to_string()).as_deref(),
        Some("goproxy.test")
    );
    key(&mut s, KeyCode::Char('h'));
    assert_eq!(s.filter_text, "host:goproxy.test");
    assert_eq!(ids(&s), vec![1, 2, 3, 4, 11]);
    key(&mut s, KeyCode::Char('h'));
    assert!(s.list.filter().is_none());
    assert_eq!(s.list.visible_len(), 12);
}

#[test]
fn pause_freezes_the_view_and_counts_what_waits() {
    let mut s = state_with(testdata::live(), many(3, 1), 120, 30);
    key(&mut s, KeyCode::Char('p'));
    add(&mut s, 4, "a.test");
    add(&mut s, 5, "a.test");
    add(&mut s, 5, "a.test");
    assert_eq!(s.list.len(), 3, "frozen");
    assert_eq!(s.paused.as_ref().map(|p| p.new_flows), Some(2));
    assert!(matches!(key(&mut s, KeyCode::Char('p')), Effect::None));
    assert_eq!(s.list.len(), 5);
    assert_eq!(s.selected, Some(5), "follow catches up on resume");
}

#[test]
fn a_lag_while_paused_re_reads_the_store_on_resume() {
    let mut s = state_with(testdata::live(), many(3, 1), 120, 30);
    key(&mut s, KeyCode::Char('p'));
    s.update(Action::Resync(vec![]));
    assert_eq!(s.list.len(), 3);
    assert!(matches!(key(&mut s, KeyCode::Char('p')), Effect::Resync));
}

#[test]
fn clear_empties_the_view_and_the_selection() {
    let mut s = state_with(testdata::live(), many(5, 1), 120, 30);
    key(&mut s, KeyCode::Enter);
    assert!(s.detail.is_some());
    key(&mut s, KeyCode::Esc);
    key(&mut s, KeyCode::Char('c'));
    assert_eq!(s.list.len(), 0);
    assert_eq!(s.selected, None);
    assert_eq!(s.offset, 0);
    add(&mut s, 6, "a.test");
    assert_eq!(s.selected, Some(6));
}

#[test]
fn eviction_moves_the_selection_to_the_nearest_flow_and_closes_its_detail() {
    let mut s = state_with(testdata::live(), many(10, 1), 120, 30);
    key(&mut s, KeyCode::Char('g'));
    key(&mut s, KeyCode::Down);
    assert_eq!(s.selected, Some(2));
    key(&mut s, KeyCode::Enter);
    s.update(Action::EvictBelow(5));
    assert_eq!(s.list.len(), 6);
    assert_eq!(s.selected, Some(5));
    assert!(s.detail.is_none(), "the flow shown is gone");
    assert!(s.status.is_some());
    s.update(Action::EvictBelow(100));
    assert_eq!(s.selected, None);
}

#[test]
fn quit_asks_while_flows_were_never_exported() {
    let mut s = state_with(testdata::live(), many(3, 1), 120, 30);
    assert!(matches!(key(&mut s, KeyCode::Char('q')), Effect::None));
    assert!(matches!(s.input, Input::ConfirmQuit { .. }));
    key(&mut s, KeyCode::Char('n'));
    assert_eq!(s.input, Input::None);
    key(&mut s, KeyCode::Char('q'));
    assert!(matches!(key(&mut s, KeyCode::Char('y')), Effect::Quit));

    let mut s = state_with(testdata::live(), many(3, 1), 120, 30);
    s.update(Action::Exported(Ok(Exported {
        path: PathBuf::from("x.har"),
        count: 1,
        upto: None,
    })));
    assert!(
        matches!(key(&mut s, KeyCode::Char('q')), Effect::None),
        "a filtered export left flows out"
    );
    key(&mut s, KeyCode::Char('n'));
    s.update(Action::Exported(Ok(Exported {
        path: PathBuf::from("x.har"),
        count: 3,
        upto: Some(3),
    })));
    assert!(matches!(key(&mut s, KeyCode::Char('q')), Effect::Quit));
    add(&mut s, 4, "a.test");
    assert!(
        matches!(key(&mut s, KeyCode::Char('q')), Effect::None),
        "a new flow since"
    );
}

#[test]
fn quit_does_not_ask_when_nothing_would_be_lost() {
    let mut s = state_with(testdata::live(), vec![], 120, 30);
    assert!(
        matches!(key(&mut s, KeyCode::Char('q')), Effect::Quit),
        "no flows"
    );
    let mut cfg = testdata::live();
    cfg.har_out = Some(PathBuf::from("out.har"));
    let mut s = state_with(cfg, many(3, 1), 120, 30);
    assert!(
        matches!(key(&mut s, KeyCode::Char('q')), Effect::Quit),
        "--har-out"
    );
    let file = testdata::cfg(Source::File {
        path: "f.har".into(),
    });
    let mut s = state_with(file, many(3, 1), 120, 30);
    assert!(
        matches!(key(&mut s, KeyCode::Char('q')), Effect::Quit),
        "read-only"
    );
    let mut s = state_with(testdata::live(), many(3, 1), 120, 30);
    assert!(
        matches!(s.update(Action::Terminate), Effect::Quit),
        "SIGTERM"
    );
}

#[test]
fn quit_asks_while_the_child_of_run_is_still_running() {
    let mut cfg = testdata::cfg(Source::Run {
        addr: "127.0.0.1:1".into(),
        command: "go mod download".into(),
    });
    cfg.har_out = Some(PathBuf::from("out.har"));
    let mut s = state_with(cfg, vec![], 120, 30);
    key(&mut s, KeyCode::Char('q'));
    assert!(
        matches!(&s.input, Input::ConfirmQuit { question } if question.contains("still running"))
    );
    key(&mut s, KeyCode::Esc);
    s.update(Action::ChildExited {
        code: 1,
        summary: "gomitm: 0 requests".into(),
    });
    assert!(s.show_summary);
    assert!(matches!(key(&mut s, KeyCode::Char('q')), Effect::Quit));
}

#[test]
fn export_prompts_with_a_default_name_and_hands_over_the_filtered_view() {
    let mut s = state_with(testdata::live(), many(6, 2), 120, 30);
    key(&mut s, KeyCode::Char('/'));
    chars(&mut s, "host:host-1.test");
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Char('e'));
    let Input::Export { text } = &s.input else {
        panic!("no export prompt: {:?}", s.input)
    };
    assert_eq!(text, "gomitm-20231114-221322.har");
    key(&mut s, KeyCode::Backspace);
    chars(&mut s, "x");
    let Effect::Export { path, flows, upto } = key(&mut s, KeyCode::Enter) else {
        panic!("Enter must export")
    };
    assert_eq!(path, PathBuf::from("gomitm-20231114-221322.hax"));
    assert_eq!(
        flows.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![1, 3, 5]
    );
    assert_eq!(upto, None, "a filtered export does not cover every flow");
    assert_eq!(s.input, Input::None);
    key(&mut s, KeyCode::Char('/'));
    s.update(Action::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Char('e'));
    let Effect::Export { flows, upto, .. } = key(&mut s, KeyCode::Enter) else {
        panic!("Enter must export")
    };
    assert_eq!((flows.len(), upto), (6, Some(6)));
}

#[test]
fn export_of_an_empty_view_says_so() {
    let mut s = state_with(testdata::live(), vec![], 120, 30);
    key(&mut s, KeyCode::Char('e'));
    assert_eq!(s.input, Input::None);
    assert!(s
        .status
        .as_ref()
        .is_some_and(|st| st.text.contains("nothing to export")));
}

#[test]
fn detail_tabs_cycle_and_scroll_is_clamped() {
    let mut s = state_with(testdata::live(), mixed(), 160, 30);
    key(&mut s, KeyCode::Char('g'));
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.detail.as_ref().map(|d| d.tab), Some(Tab::Headers));
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.detail.as_ref().map(|d| d.tab), Some(Tab::Body));
    assert!(
        s.detail.as_ref().is_some_and(|d| d.body.is_some()),
        "body lines cached"
    );
    key(&mut s, KeyCode::BackTab);
    key(&mut s, KeyCode::BackTab);
    assert_eq!(s.detail.as_ref().map(|d| d.tab), Some(Tab::Rules));
    key(&mut s, KeyCode::Char('3'));
    assert_eq!(s.detail.as_ref().map(|d| d.tab), Some(Tab::Timing));
    for _ in 0..50 {
        key(&mut s, KeyCode::Down);
    }
    assert_eq!(
        s.detail.as_ref().map(|d| d.scroll),
        Some(0),
        "the waterfall fits"
    );
    key(&mut s, KeyCode::Char('J'));
    assert_eq!(
        s.detail.as_ref().map(|d| (d.id, d.tab)),
        Some((2, Tab::Timing))
    );
    key(&mut s, KeyCode::Esc);
    assert!(s.detail.is_none());
    assert_eq!(s.selected, Some(2));
}

#[test]
fn mouse_click_selects_a_row_and_the_wheel_moves() {
    let mut s = state_with(testdata::live(), many(10, 1), 120, 30);
    let click = |row| {
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // Header (2 rows), then the table's own header row: the first flow is on screen row 3.
    s.update(click(3));
    assert_eq!(s.selected, Some(1));
    assert!(!s.follow);
    s.update(click(5));
    assert_eq!(s.selected, Some(3));
    s.update(click(0));
    assert_eq!(s.selected, Some(3), "a click on the header selects nothing");
    s.update(Action::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 0,
        row: 0,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(s.selected, Some(6));
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut s = state_with(testdata::live(), many(3, 1), 120, 30);
    key(&mut s, KeyCode::Char('?'));
    assert!(s.help);
    assert!(
        matches!(key(&mut s, KeyCode::Char('q')), Effect::None),
        "q closes help only"
    );
    assert!(!s.help);
}

#[test]
fn requests_per_second_come_from_ticks() {
    let mut s = state_with(testdata::live(), vec![], 120, 30);
    s.update(Action::Tick {
        now_us: 0,
        mono_ms: 1000,
    });
    for id in 1..=20 {
        add(&mut s, id, "a.test");
    }
    s.update(Action::Tick {
        now_us: 0,
        mono_ms: 2000,
    });
    assert!((s.rate - 10.0).abs() < 0.01, "{}", s.rate);
}

#[test]
fn read_only_mode_starts_at_the_top_and_refuses_clear_and_pause() {
    let file = testdata::cfg(Source::File {
        path: "f.har".into(),
    });
    let mut s = State::new(file, (120, 30));
    s.update(Action::Resync(
        many(5, 1).into_iter().map(Arc::new).collect(),
    ));
    assert_eq!(s.selected, Some(1));
    key(&mut s, KeyCode::Char('c'));
    key(&mut s, KeyCode::Char('p'));
    assert_eq!(s.list.len(), 5);
    assert!(s.paused.is_none());
}

#[test]
fn child_output_is_bounded_and_cleaned() {
    let mut s = state_with(testdata::live(), vec![], 120, 30);
    for i in 0..OUTPUT_LINES + 5 {
        s.update(Action::ChildOutput(format!("line {i}\u{1b}[0m\tx\u{202e}")));
    }
    assert_eq!(s.output.len(), OUTPUT_LINES);
    // ESC shown as a visible picture (it was silently dropped before), the tab expanded to the
    // next stop, the bidi override named.
    assert_eq!(
        s.output.back().map(String::as_str),
        Some(&*format!("line {}␛[0m   x<U+202E>", OUTPUT_LINES + 4))
    );
}

#[test]
fn status_messages_and_the_summary_cannot_act_on_the_terminal() {
    let mut s = state_with(testdata::live(), vec![], 120, 30);
    s.update(Action::Message(
        "gomitm: warning: \u{1b}[2J\u{202e}x".into(),
    ));
    let status = s
        .status
        .as_ref()
        .map(|st| st.text.clone())
        .unwrap_or_default();
    crate::terminal_text::assert_safe(&status);
    assert!(status.contains("␛[2J<U+202E>x"), "{status:?}");
    s.update(Action::ChildExited {
        code: 1,
        summary: "gomitm: FAILED\n  \u{2066}go said: \u{9b}31m\r\n".into(),
    });
    let summary = s.summary.clone().unwrap_or_default().join("\n");
    crate::terminal_text::assert_safe(&summary);
    assert!(
        summary.contains("<U+2066>go said: <U+009B>31m"),
        "{summary:?}"
    );
}

#[test]
fn the_run_summary_scrolls_within_its_wrapped_lines_and_closes() {
    let cfg = testdata::cfg(Source::Run {
        addr: "127.0.0.1:1".into(),
        command: "go mod download".into(),
    });
    let mut s = state_with(cfg, vec![], 50, 20);
    let long = format!("{}\n", "word ".repeat(40));
    s.update(Action::ChildExited {
        code: 0,
        summary: long.repeat(10),
    });
    let wrapped = crate::tui::panes::summary_lines(s.summary.as_ref().unwrap(), s.screen()).len();
    assert!(wrapped > 10, "long lines wrap: {wrapped}");
    for _ in 0..50 {
        key(&mut s, KeyCode::PageDown);
    }
    assert_eq!(s.summary_scroll, wrapped - 1);
    key(&mut s, KeyCode::Char('g'));
    assert_eq!(s.summary_scroll, 0);
    key(&mut s, KeyCode::Esc);
    assert!(!s.show_summary);
    key(&mut s, KeyCode::Char('s'));
    assert!(s.show_summary, "s shows it again");
}

#[test]
fn the_filter_flag_is_the_starting_filter() {
    let mut cfg = testdata::live();
    cfg.filter = Some(crate::filter::Filter::parse("host:host-1.test").unwrap());
    let s = state_with(cfg, many(6, 2), 120, 30);
    assert_eq!(ids(&s), vec![1, 3, 5]);
    assert_eq!(s.filter_text, "host:host-1.test");
    key_esc_restores_it(s);
}

fn key_esc_restores_it(mut s: State) {
    key(&mut s, KeyCode::Char('/'));
    chars(&mut s, "x");
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.filter_text, "host:host-1.test");
    assert_eq!(s.list.visible_len(), 3);
}

#[test]
fn typed_filter_keys_are_applied_once_per_frame() {
    let mut s = state_with(testdata::live(), many(9, 3), 120, 30);
    s.update(Action::Key(KeyEvent::new(
        KeyCode::Char('/'),
        KeyModifiers::NONE,
    )));
    for c in "host:host-1.test".chars() {
        s.update(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    assert_eq!(s.list.visible_len(), 9, "not applied before the frame");
    assert_eq!(
        s.filter_text, "host:host-1.test",
        "the header already says it"
    );
    s.flush();
    assert_eq!(ids(&s), vec![1, 4, 7]);
    s.update(Action::Key(KeyEvent::new(
        KeyCode::Char('x'),
        KeyModifiers::NONE,
    )));
    s.update(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    s.flush();
    assert_eq!(s.list.visible_len(), 9, "Esc drops what was typed");
}

fn ctrl(s: &mut State, c: char) -> Effect {
    let effect = s.update(Action::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )));
    s.flush();
    effect
}

#[test]
fn q_and_esc_go_back_from_details_and_q_quits_from_the_list() {
    let cfg = testdata::cfg(crate::tui::Source::File {
        path: "x.har".into(),
    });
    let mut s = state_with(cfg, mixed(), 120, 30);
    key(&mut s, KeyCode::Enter);
    assert!(s.detail.is_some());
    assert!(matches!(key(&mut s, KeyCode::Char('q')), Effect::None));
    assert!(s.detail.is_none(), "q in details goes back");
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Esc);
    assert!(s.detail.is_none(), "Esc in details goes back");
    key(&mut s, KeyCode::Enter);
    assert!(
        matches!(ctrl(&mut s, 'c'), Effect::Quit),
        "Ctrl-C quits from details"
    );
    key(&mut s, KeyCode::Esc);
    assert!(
        matches!(key(&mut s, KeyCode::Char('q')), Effect::Quit),
        "q in the list quits (read-only: without asking)"
    );
}

#[test]
fn w_exports_like_e_and_z_clears_like_c() {
    let mut s = state_with(testdata::live(), many(3, 1), 120, 30);
    key(&mut s, KeyCode::Char('w'));
    assert!(matches!(s.input, Input::Export { .. }), "w saves");
    assert!(matches!(
        key(&mut s, KeyCode::Enter),
        Effect::Export { ref flows, .. } if flows.len() == 3
    ));
    key(&mut s, KeyCode::Char('z'));
    assert_eq!(s.list.len(), 0, "z clears");
    assert!(s
        .status
        .as_ref()
        .is_some_and(|st| st.text.contains("cleared 3")));
}

#[test]
fn o_cycles_the_order_through_duration_size_and_status_and_back_to_time() {
    let mut s = state_with(testdata::live(), mixed(), 120, 30);
    let by_time = ids(&s);
    assert_eq!(by_time, (1..=12).collect::<Vec<_>>());
    key(&mut s, KeyCode::Char('o'));
    assert_eq!(s.list.sort(), crate::tui::flows::Sort::Duration);
    let by_duration = ids(&s);
    // Fastest first, the flow in flight (11) last; 9 (6 ms) before 4 (250 ms).
    assert_eq!(by_duration.first(), Some(&8), "{by_duration:?}");
    assert_eq!(by_duration.last(), Some(&11), "{by_duration:?}");
    assert!(!s.follow, "sorting turns follow off");
    key(&mut s, KeyCode::Char('o'));
    let by_size = ids(&s);
    assert_eq!(
        by_size.last(),
        Some(&12),
        "the tunnel moved most: {by_size:?}"
    );
    key(&mut s, KeyCode::Char('o'));
    let by_status = ids(&s);
    assert_eq!(&by_status[by_status.len() - 2..], &[8, 9], "{by_status:?}");
    assert!(by_status.iter().position(|id| *id == 6) < by_status.iter().position(|id| *id == 10));
    // A new flow takes its place at the next frame.
    let late = FlowBuilder::get("https://z.test/x")
        .id(13)
        .status(100, b"")
        .build();
    s.update(Action::Flow(Arc::new(late)));
    s.flush();
    assert_eq!(ids(&s).first(), Some(&13), "{:?}", ids(&s));
    key(&mut s, KeyCode::Char('o'));
    assert_eq!(ids(&s), (1..=13).collect::<Vec<_>>(), "back to time");
    // Exports keep time order whatever the table shows.
    key(&mut s, KeyCode::Char('o'));
    key(&mut s, KeyCode::Char('w'));
    match key(&mut s, KeyCode::Enter) {
        Effect::Export { flows, .. } => {
            let order: Vec<u64> = flows.iter().map(|f| f.id).collect();
            assert_eq!(order, (1..=13).collect::<Vec<_>>());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn slash_in_details_searches_and_n_and_shift_n_move_between_matches() {
    let mut flow = FlowBuilder::get("https://h.test/x")
        .id(1)
        .status(200, b"")
        .build();
    let body: String = (0..200)
        .map(|i| {
            if i % 50 == 7 {
                format!("line {i} NEEDLE here\n")
            } else {
                format!("line {i}\n")
            }
        })
        .collect();
    if let Some(r) = flow.response.as_mut() {
        r.body.data = body.clone().into_bytes();
        r.body.total = body.len() as u64;
        r.headers.push("Content-Type", "text/plain");
    }
    let mut s = state_with(testdata::live(), vec![flow], 100, 24);
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Char('2'));
    key(&mut s, KeyCode::Char('/'));
    assert!(
        matches!(s.input, Input::Search { .. }),
        "/ in details searches"
    );
    chars(&mut s, "needle");
    key(&mut s, KeyCode::Enter);
    let d = s.detail.clone().expect("details");
    let first = d.hit.expect("a match");
    let lines = crate::tui::detail::content(&d, s.detail_flow().unwrap(), &s.cfg, 100);
    assert!(lines[first].to_string().contains("line 7 NEEDLE"));
    key(&mut s, KeyCode::Char('n'));
    let second = s.detail.as_ref().and_then(|d| d.hit).unwrap();
    assert!(lines[second].to_string().contains("line 57 NEEDLE"));
    let d = s.detail.as_ref().unwrap();
    assert!(
        d.scroll <= second && second < d.scroll + s.detail_rows(),
        "scrolled into view: scroll {} hit {second}",
        d.scroll
    );
    key(&mut s, KeyCode::Char('N'));
    assert_eq!(s.detail.as_ref().and_then(|d| d.hit), Some(first));
    key(&mut s, KeyCode::Char('N'));
    let last = s.detail.as_ref().and_then(|d| d.hit).unwrap();
    assert!(
        lines[last].to_string().contains("line 157 NEEDLE"),
        "wraps around"
    );
    assert!(s
        .status
        .as_ref()
        .is_some_and(|st| st.text.contains("match 4 of 4")));
    // Esc leaves details; in the list / is the filter again.
    key(&mut s, KeyCode::Esc);
    key(&mut s, KeyCode::Char('/'));
    assert!(matches!(s.input, Input::Filter { .. }));
}

fn clipboard(effect: Effect) -> String {
    use base64::Engine;
    let Effect::Copy(escape) = effect else {
        panic!("not a copy: {effect:?}");
    };
    let b64 = escape
        .strip_prefix("\x1b]52;c;")
        .and_then(|e| e.strip_suffix('\x07'))
        .expect("an OSC 52 escape");
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn y_copies_the_url_and_shift_y_the_curl_command_redacted_as_exports_are() {
    let flow = FlowBuilder::get("https://h.test/p?token=s3cret&x=1")
        .id(1)
        .req_header("Authorization", "Bearer s3cret")
        .status(200, b"")
        .build();
    let mut s = state_with(testdata::live(), vec![flow.clone()], 100, 24);
    let url = clipboard(key(&mut s, KeyCode::Char('y')));
    assert!(url.starts_with("https://h.test/p?token="), "{url}");
    assert!(!url.contains("s3cret"), "redacted like an export: {url}");
    key(&mut s, KeyCode::Enter);
    let curl = clipboard(key(&mut s, KeyCode::Char('Y')));
    assert!(curl.starts_with("curl -H 'Authorization: "), "{curl}");
    assert!(!curl.contains("s3cret"), "{curl}");

    let mut cfg = testdata::live();
    cfg.redact = false;
    let mut s = state_with(cfg, vec![flow], 100, 24);
    let url = clipboard(key(&mut s, KeyCode::Char('y')));
    assert_eq!(url, "https://h.test/p?token=s3cret&x=1", "--no-redact");
}

#[test]
fn shift_l_shows_the_output_pane_and_o_no_longer_does() {
    let mut s = state_with(testdata::live(), many(3, 1), 120, 30);
    assert!(!s.show_output);
    key(&mut s, KeyCode::Char('o'));
    assert!(!s.show_output, "o sorts");
    key(&mut s, KeyCode::Char('L'));
    assert!(s.show_output);
}

#[test]
fn a_resize_keeps_the_selection_on_screen_and_the_detail_scroll_in_range() {
    let mut s = state_with(testdata::live(), many(100, 1), 120, 60);
    key(&mut s, KeyCode::Char('g'));
    for _ in 0..50 {
        key(&mut s, KeyCode::Down);
    }
    s.update(Action::Resize(80, 24));
    let row = s.selected_row().expect("a selection");
    assert!(
        s.offset <= row && row < s.offset + s.table_rows(),
        "row {row} offset {} rows {}",
        s.offset,
        s.table_rows()
    );
    s.update(Action::Resize(200, 80));
    assert_eq!(s.selected_row(), Some(row), "the selection stays put");
}

#[test]
fn n_in_the_list_says_where_searching_is() {
    let mut s = state_with(testdata::live(), many(3, 1), 120, 30);
    key(&mut s, KeyCode::Char('n'));
    let status = s
        .status
        .as_ref()
        .map(|st| st.text.clone())
        .unwrap_or_default();
    assert!(status.contains("search matches in details"), "{status}");
}

#[test]
fn r_and_e_ask_the_loop_to_replay_the_selected_flow_and_a_file_says_it_cannot() {
    let mut s = state_with(testdata::live(), many(3, 1), 120, 30);
    let selected = s.selected.expect("follow selects the newest");
    match key(&mut s, KeyCode::Char('r')) {
        Effect::Replay { flow, edit } => {
            assert_eq!(flow.id, selected);
            assert!(!edit);
        }
        other => panic!("r: {other:?}"),
    }
    assert!(matches!(
        key(&mut s, KeyCode::Char('E')),
        Effect::Replay { edit: true, .. }
    ));
    assert!(
        matches!(key(&mut s, KeyCode::Char('e')), Effect::None),
        "e is export"
    );
    assert!(
        matches!(s.input, Input::Export { .. }),
        "e opened the export prompt"
    );
    s.update(Action::Replayed(Err("replay of #3 failed: boom".into())));
    let status = s.status.clone().expect("a status line");
    assert!(status.error && status.text.contains("boom"), "{status:?}");

    let file = testdata::cfg(Source::File {
        path: "f.har".into(),
    });
    let mut s = state_with(file, many(3, 1), 120, 30);
    s.selected = Some(1);
    assert!(matches!(key(&mut s, KeyCode::Char('r')), Effect::None));
    let status = s.status.clone().expect("a status line");
    assert!(status.text.contains("gomitm replay FILE.har"), "{status:?}");
}
