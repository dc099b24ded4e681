//! HAR 1.2 to and from flows: the HAR shape (one serde definition for export and import), the
//! timing rules, and tolerant import of HARs from other tools. What counts as a secret is
//! `crate::redact`'s: an export with redaction on writes `redact::redact_flow`'s copy.
//!
//! Pure: strings and values in, strings and values out. Choosing paths and writing files belong
//! to `session` and the TUI; the `Flow` definition belongs to `flow.rs` and is not changed from here.
//!
//! Layout: `shape` is the serde definition of a HAR (no logic), `export` turns flows into HARs
//! (timings, bodies), `import`
//! turns HARs from gomitm or other tools back into flows, reading them through `stream`, which
//! walks a HAR entry by entry without holding the file and caps the bodies it keeps.
//! `options` and `error` hold the public options and errors. This file only re-exports and
//! must not grow logic of its own; callers use `crate::har::X` only, never the submodules' paths. Tests sit next to what
//! they test (`tests_*.rs` are child modules of `export` and `import`); `testdata` holds the
//! fixtures they share.

mod error;
mod export;
mod import;
mod options;
mod shape;
mod stream;
#[cfg(test)]
mod testdata;

pub use error::{HarError, Unreadable};
pub use export::{to_har, to_json};
pub use import::{from_json, from_reader};
pub use options::HarOptions;
pub use shape::{
    BodyFlags, GomitmExt, GomitmTimings, Har, HarCache, HarContent, HarCreator, HarEntry,
    HarErrorField, HarLog, HarNameValue, HarPostData, HarRequest, HarResponse, HarTimings,
    HarTunnel,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `har` fuzz target (fuzz/regressions/har/float-roundtrip.har): without
    /// serde_json's `float_roundtrip`, a timing with 17 significant digits came back one ulp
    /// off, so a gomitm HAR did not read back into the same flows as docs/HAR.md promises.
    #[test]
    fn timings_read_back_bit_for_bit() {
        let text = r#"{"log": {"entries": [{"request": {"method": "GE", "url": "s"},
            "timings": {"b": 10, "ssl": 4065444444444444444444444444444444, "_ing": -1}}]}}"#;
        let flows = from_json(text).unwrap();
        let verbatim = HarOptions {
            redact: false,
            ..HarOptions::default()
        };
        let back = from_json(&to_json(&to_har(flows.iter(), &verbatim)).unwrap()).unwrap();
        assert_eq!(back, flows);
        let mut flow = crate::flow::Flow::default();
        flow.timings.connect_ms = Some(7.160963000000001);
        flow.timings.receive_ms = Some(7.444444444444445e59);
        flow.timings.total_ms = Some(0.1 + 0.2);
        let back = from_json(&to_json(&to_har([&flow], &verbatim)).unwrap()).unwrap();
        assert_eq!(back[0].timings, flow.timings);
    }

    #[test]
    fn default_options_redact() {
        let opts = HarOptions::default();
        assert!(opts.redact);
        assert!(opts.extra_redact_headers.is_empty());
        assert_eq!(opts.creator_version, env!("CARGO_PKG_VERSION"));
    }
}
