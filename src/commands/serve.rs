//! `gomitm serve FILE.har`: the proxy (`gomitm proxy`, log or TUI) with every upstream
//! replaced by the recording. The answering is `proxy::served`'s; this only sets the flag.

use crate::cli::ServeArgs;

pub(crate) async fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let ServeArgs { har, mut proxy } = args;
    if proxy.serve.is_some() {
        anyhow::bail!("gomitm serve takes the HAR file once, as its argument; leave out --serve");
    }
    proxy.serve = Some(har);
    super::proxy::run_proxy(proxy).await
}
