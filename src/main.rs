use clap::Parser;

fn main() {
    let cli = gomitm::cli::Cli::parse();
    match gomitm::app::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("gomitm: error: {e:#}");
            std::process::exit(1);
        }
    }
}
