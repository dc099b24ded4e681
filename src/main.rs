use gomitm::redact::redact_text;
use gomitm::terminal_text::terminal_safe;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match gomitm::cli::try_parse_args(&args) {
        Ok(cli) => cli,
        Err(e) => match gomitm::cli::unsafe_error_text(&e, &args) {
            Some(text) => {
                eprint!("{text}");
                std::process::exit(e.exit_code());
            }
            None => e.exit(),
        },
    };
    match gomitm::app::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // The chain may quote a HAR file, a rules file, a proxy URL or an upstream's
            // words: each line is redacted like every output and passes through the one
            // terminal rule (a rules error's caret drawing keeps its own line breaks).
            let text = format!("{e:#}");
            let lines: Vec<_> = text
                .split('\n')
                .map(|l| terminal_safe(&redact_text(l)).into_owned())
                .collect();
            eprintln!("gomitm: error: {}", lines.join("\n"));
            std::process::exit(1);
        }
    }
}
