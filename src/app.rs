//! Composition root: parses nothing and builds nothing itself; it dispatches each subcommand
//! to its home (`commands::*`, `run`), inside a runtime when it needs one. With `main`, the
//! only place that reports errors with `anyhow` context.

use anyhow::Context;

use crate::cli::{Cli, Command};
use crate::commands;

/// Run the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command.unwrap_or(Command::Proxy(Box::new(cli.proxy))) {
        Command::Proxy(args) => {
            init_tracing();
            runtime()?.block_on(commands::proxy::run_proxy(*args))?;
            Ok(0)
        }
        Command::Env(args) => commands::ca::print_env(&args).map(|_| 0),
        Command::Ca(args) => commands::ca::run_ca(args.action).map(|_| 0),
        Command::Run(args) => {
            init_tracing();
            runtime()?.block_on(crate::run::run(*args))
        }
        Command::Report(args) => crate::run::report(&args),
        Command::Open(args) => runtime()?.block_on(commands::proxy::open_har(&args)),
        Command::Rules(args) => commands::rules::check_rules(args),
        Command::Filters => {
            print!("{}", crate::filter::help_text());
            Ok(0)
        }
        Command::Version => commands::meta::print_version(&mut std::io::stdout()).map(|_| 0),
        Command::Completions { shell } => {
            commands::meta::print_completions(shell, &mut std::io::stdout()).map(|_| 0)
        }
        Command::Man { dir } => {
            commands::meta::man(dir.as_deref(), &mut std::io::stdout()).map(|_| 0)
        }
        Command::Serve(args) => {
            init_tracing();
            runtime()?.block_on(commands::serve::run_serve(*args))?;
            Ok(0)
        }
        Command::Diff(args) => commands::diff::run_diff(&args),
        Command::Doctor(args) => {
            init_tracing();
            runtime()?.block_on(commands::doctor::run_doctor(*args))
        }
        Command::Replay(args) => runtime()?.block_on(commands::replay::run_replay(*args)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GOMITM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| crate::terminal_text::SafeLines(std::io::stderr()))
        // gomitm's sanitiser would show the formatter's own colours as `<ESC>`.
        .with_ansi(false)
        .with_target(false)
        .try_init();
}
