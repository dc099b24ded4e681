//! The I/O of `r` and `E`: sending a flow's request again through gomitm's own listener
//! (`crate::replay`), and for `E` the round trip through `$EDITOR` (the TUI suspended, the
//! request written to a private temporary file, read back and checked). The answer comes back
//! to the event loop as `Action::Replayed`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::state::Action;
use super::terminal::{self, Term};
use crate::flow::Flow;
use crate::replay::{Endpoint, ReplayRequest};
use crate::units::{format_bytes, format_ms};

/// Send `req` as a replay of flow `of`; the status line arrives as `Action::Replayed`.
pub fn send(
    endpoint: &Endpoint,
    req: ReplayRequest,
    of: u64,
    edited: bool,
    tx: &UnboundedSender<Action>,
) {
    let endpoint = endpoint.clone();
    let tx = tx.clone();
    tokio::spawn(async move {
        let what = if edited { "edited replay" } else { "replay" };
        let line = match crate::replay::send(&endpoint, &req, Some(of)).await {
            Ok(o) => Ok(format!(
                "{what} of #{of}: {} {}, {} in {} (the new flow says replay of #{of})",
                o.status,
                http::StatusCode::from_u16(o.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or(""),
                format_bytes(o.size),
                format_ms(o.elapsed_ms)
            )),
            Err(e) => Err(format!("{what} of #{of} failed: {e}")),
        };
        let _ = tx.send(Action::Replayed(line));
    });
}

/// `r` without an endpoint, or a flow that cannot be sent: the reason as a status line.
pub fn request_of(flow: &Flow) -> Result<ReplayRequest, String> {
    ReplayRequest::from_flow(flow).map_err(|e| e.to_string())
}

/// `E`: the request of `flow` in `$VISUAL`/`$EDITOR` (else `vi`), the TUI suspended
/// meanwhile; the edited request, or why there is none.
pub async fn edit(term: &mut Term, flow: &Arc<Flow>) -> Result<ReplayRequest, String> {
    let req = request_of(flow)?;
    let text = req
        .to_text()
        .ok_or("the request body is not text, so it cannot be edited: r sends it as it was")?;
    let path = write_private(&text, flow.id)
        .map_err(|e| format!("cannot write the request to edit: {e}"))?;
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".to_string());
    terminal::suspend();
    // The input thread's poll in progress ends within its 100 ms step.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let ran = run_editor(&editor, path.clone()).await;
    let resumed = terminal::resume(term);
    let edited = std::fs::read_to_string(&path);
    let _ = std::fs::remove_file(&path);
    resumed.map_err(|e| format!("cannot take the terminal back: {e}"))?;
    ran?;
    let edited = edited.map_err(|e| format!("cannot read the edited request: {e}"))?;
    ReplayRequest::parse(&edited).map_err(|e| e.to_string())
}

/// Run `editor` (a command line: `code --wait` works) on `path`, blocking off the runtime.
async fn run_editor(editor: &str, path: PathBuf) -> Result<(), String> {
    let mut words = editor.split_whitespace().map(str::to_string);
    let program = words.next().ok_or("$EDITOR is empty")?;
    let args: Vec<String> = words.collect();
    let shown = editor.to_string();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&program)
            .args(&args)
            .arg(&path)
            .stderr(terminal::child_stderr())
            .status()
    })
    .await
    .map_err(|e| format!("the editor did not run: {e}"))?
    .map_err(|e| format!("cannot start the editor {shown:?} ($EDITOR): {e}"))?;
    if !status.success() {
        return Err(format!(
            "the editor {shown:?} exited with {status}: nothing sent"
        ));
    }
    Ok(())
}

/// A new file only the user can read (it may hold credentials), in the temporary directory.
fn write_private(text: &str, id: u64) -> std::io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let path = std::env::temp_dir().join(format!(
        "gomitm-request-{}-{id}-{nanos}.txt",
        std::process::id()
    ));
    let mut opts = std::fs::OpenOptions::new();
    // create_new: never through a link someone placed at that name.
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(&path)?;
    file.write_all(text.as_bytes())?;
    Ok(path)
}
