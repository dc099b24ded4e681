//! Perf sanity: 100,000 flows, a filter typed key by key, a burst of updates, and a frame.
//! Timings are printed (`cargo test --lib tui::perf -- --nocapture`), not asserted tightly:
//! the machine running the tests may be slow or busy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

use super::state::{Action, State};
use super::testdata::{self, many};

#[test]
fn a_hundred_thousand_flows_stay_responsive() {
    let flows: Vec<_> = many(100_000, 100).into_iter().map(Arc::new).collect();
    let mut s = State::new(testdata::live(), (200, 50));

    let t = Instant::now();
    for f in &flows {
        s.update(Action::Flow(f.clone()));
    }
    let insert = t.elapsed();

    let t = Instant::now();
    s.update(Action::Key(KeyEvent::new(
        KeyCode::Char('/'),
        KeyModifiers::NONE,
    )));
    // One frame per key, as a user types: every key filters all 100,000 flows.
    for c in "host:host-7.test".chars() {
        s.update(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
        s.flush();
    }
    s.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let filter = t.elapsed();
    assert_eq!(s.list.visible_len(), 1000);

    let t = Instant::now();
    for f in flows.iter().rev().take(1000) {
        s.update(Action::Flow(f.clone()));
    }
    let burst = t.elapsed();

    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    let t = Instant::now();
    term.draw(|f| super::view::draw(f, &s)).expect("draw");
    let frame = t.elapsed();
    assert!(term.backend().to_string().contains("host-7.test"));

    println!(
        "100k flows: insert {insert:?}, filter typed (17 keys) {filter:?}, \
         1000 updates {burst:?}, one frame {frame:?}"
    );
    // Generous bounds: they catch an accidental O(n²), not a slow machine.
    assert!(
        burst < Duration::from_secs(2),
        "1000 updates took {burst:?}"
    );
    assert!(frame < Duration::from_secs(2), "a frame took {frame:?}");
}
