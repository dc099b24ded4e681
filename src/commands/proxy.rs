//! `gomitm proxy` (the default command) and `gomitm open FILE.har`: the session with the log
//! or the TUI in front of it, and the TUI over a file.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::Context;

use crate::cli::{OpenArgs, ProxyArgs};
use crate::go::private::PrivatePatterns;
use crate::session::{shutdown_signal, Config, GoFacts, Mode, Session};

pub(crate) async fn run_proxy(args: ProxyArgs) -> anyhow::Result<()> {
    let go = GoFacts {
        private: args.private.clone().unwrap_or_else(PrivatePatterns::none),
        version: None,
    };
    let shutdown = shutdown_signal();
    let cfg = Config::new(&args, Mode::Proxy, go, !args.no_tui)?;
    // Made before the session takes the configuration; the address is known once it listens.
    let tui = cfg.tui.then(|| {
        let bundle = cfg.ca.dir().join(crate::ca::BUNDLE_FILE);
        let pending = crate::tui::Source::Live {
            addr: String::new(),
        };
        cfg.tui_config(pending, Some(bundle))
    });
    let mut session = Session::start(cfg).await?;
    if let Some(mut tui_cfg) = tui {
        tui_cfg.source = crate::tui::Source::Live {
            addr: session.addr.to_string(),
        };
        let mut feeds = crate::tui::Feeds::new(Some(session.store.clone()), Vec::new(), shutdown);
        session.observe(feeds.observer());
        feeds.set_replay(session.replay_endpoint(crate::replay::TUI_TIMEOUT));
        // A task of its own, so that even a panic in the TUI leaves the capture intact: the
        // HAR is written whatever happened to the terminal.
        let shown = tokio::spawn(crate::tui::run(tui_cfg, feeds)).await;
        session.finish().await.har_written()?;
        shown
            .context("the terminal UI stopped")?
            .context("terminal UI")?;
        return Ok(());
    }
    shutdown.await;
    eprintln!("gomitm: shutting down");
    session.finish().await.har_written()?;
    Ok(())
}

/// `gomitm open FILE.har`: the TUI over a HAR file, read-only.
pub(crate) async fn open_har(args: &OpenArgs) -> anyhow::Result<i32> {
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "gomitm open needs a terminal; for a text summary use: gomitm report {}",
            args.har.display()
        );
    }
    let mut flows = crate::run::read_har(&args.har)?;
    crate::run::classify_imported(&mut flows);
    let private = args.private.clone().unwrap_or_else(PrivatePatterns::none);
    let cfg = crate::tui::Config {
        source: crate::tui::Source::File {
            path: args.har.display().to_string(),
        },
        har_out: None,
        redact: true,
        redact_headers: Vec::new(),
        private,
        bundle: None,
        utc_offset_s: crate::tui::local_utc_offset(),
        filter: None,
        go_version: None,
    };
    let flows = flows.into_iter().map(Arc::new).collect();
    let feeds = crate::tui::Feeds::new(None, flows, shutdown_signal());
    crate::tui::run(cfg, feeds).await?;
    Ok(0)
}
