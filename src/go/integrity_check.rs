//! Integrity across a run: the `h1:` hashes gomitm computed for the zips and go.mod files it
//! saw, against the checksum database records in the same capture and against go.sum. A
//! mismatch is a security event: the fix never suggests turning verification off.
//!
//! Pure: flows and go.sum text in, per-flow findings out. The hashes themselves are computed
//! by the proxy as bodies stream (`integrity`); this file only compares.

use std::collections::HashMap;

use super::codes::Code;
use super::diagnosis::{Diagnosis, Severity};
use crate::flow::{Flow, GoKind};

/// `go.sum`: (module, version or `version/go.mod`) → `h1:…`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoSum {
    lines: HashMap<(String, String), String>,
}

impl GoSum {
    pub fn parse(text: &str) -> GoSum {
        let mut lines = HashMap::new();
        for line in text.lines() {
            let mut f = line.split_whitespace();
            if let (Some(m), Some(v), Some(h)) = (f.next(), f.next(), f.next()) {
                if h.starts_with("h1:") {
                    lines.insert((m.to_string(), v.to_string()), h.to_string());
                }
            }
        }
        GoSum { lines }
    }

    pub fn get(&self, module: &str, version: &str) -> Option<&str> {
        self.lines
            .get(&(module.to_string(), version.to_string()))
            .map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// How a zip or go.mod's hash compared, for the module list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Equal to what the checksum database or go.sum says (`against` names which).
    Matches {
        against: String,
    },
    /// Hashed, but nothing in the capture or go.sum to compare with.
    Unchecked,
    /// Could not be hashed (the reason).
    NotVerified(String),
    Mismatch {
        against: String,
        expected: String,
    },
}

/// Checksum records from the lookups in the capture: (module, version or `version/go.mod`)
/// → (`h1:…`, the database host).
pub fn sumdb_records(flows: &[&Flow]) -> HashMap<(String, String), (String, String)> {
    let mut out = HashMap::new();
    for f in flows {
        let Some(go) = f.go.as_deref().filter(|g| g.kind == GoKind::SumdbLookup) else {
            continue;
        };
        let Some(resp) = f.response.as_ref().filter(|r| r.status == 200) else {
            continue;
        };
        let encoding = crate::flow::header_value(&resp.headers, "content-encoding").unwrap_or("");
        let Some((body, _)) = super::discovery::decoded_body(encoding, &resp.body.data) else {
            continue;
        };
        let text = String::from_utf8_lossy(&body);
        // `<id>\n<mod> <ver> h1:…\n<mod> <ver>/go.mod h1:…\n\n<signed note>`
        for line in text.lines().skip(1).take_while(|l| !l.is_empty()) {
            let mut w = line.split_whitespace();
            if let (Some(m), Some(v), Some(h)) = (w.next(), w.next(), w.next()) {
                out.insert(
                    (m.to_string(), v.to_string()),
                    (h.to_string(), f.host().to_string()),
                );
            }
        }
        let _ = go;
    }
    out
}

/// The key of a zip or .mod flow in go.sum and checksum records.
fn key(f: &Flow) -> Option<(String, String)> {
    let go = f.go.as_deref()?;
    let (m, v) = (go.module.clone()?, go.version.clone()?);
    match go.kind {
        GoKind::Zip => Some((m, v)),
        GoKind::Mod => Some((m, format!("{v}/go.mod"))),
        _ => None,
    }
}

/// Each hashed zip/.mod flow's check, and a diagnosis for every mismatch.
pub fn check(
    flows: &[&Flow],
    go_sum: Option<&GoSum>,
) -> (HashMap<u64, Check>, Vec<(u64, Diagnosis)>) {
    let records = sumdb_records(flows);
    let mut checks = HashMap::new();
    let mut findings = Vec::new();
    for f in flows {
        let Some((module, version)) = key(f) else {
            continue;
        };
        let Some(hash) = f.go.as_deref().and_then(|g| g.hash.as_ref()) else {
            continue;
        };
        let Some(h1) = hash.h1.as_deref() else {
            let why = hash
                .not_verified
                .clone()
                .unwrap_or_else(|| "not hashed".into());
            checks.insert(f.id, Check::NotVerified(why));
            continue;
        };
        let sumdb = records.get(&(module.clone(), version.clone()));
        let gosum = go_sum.and_then(|g| g.get(&module, &version));
        let mut check = Check::Unchecked;
        if let Some((want, host)) = sumdb {
            check = if want == h1 {
                Check::Matches {
                    against: format!("checksum database {host}"),
                }
            } else {
                findings.push((
                    f.id,
                    mismatch(
                        f,
                        &module,
                        &version,
                        h1,
                        want,
                        &format!("the checksum database at {host}"),
                        Code::ChecksumMismatchSumdb,
                    ),
                ));
                Check::Mismatch {
                    against: format!("checksum database {host}"),
                    expected: want.clone(),
                }
            };
        }
        if let Some(want) = gosum {
            if want != h1 {
                findings.push((
                    f.id,
                    mismatch(
                        f,
                        &module,
                        &version,
                        h1,
                        want,
                        "go.sum",
                        Code::ChecksumMismatchGoSum,
                    ),
                ));
                check = Check::Mismatch {
                    against: "go.sum".into(),
                    expected: want.to_string(),
                };
            } else if check == Check::Unchecked {
                check = Check::Matches {
                    against: "go.sum".into(),
                };
            }
        }
        checks.insert(f.id, check);
    }
    (checks, findings)
}

fn mismatch(
    f: &Flow,
    module: &str,
    version: &str,
    got: &str,
    want: &str,
    against: &str,
    code: Code,
) -> Diagnosis {
    let source =
        f.go.as_deref()
            .and_then(|g| g.base.clone())
            .unwrap_or_else(|| f.host().to_string());
    Diagnosis::new(
        code,
        Severity::Error,
        format!("SECURITY: {source} served {module} {version} with hash {got}, but {against} records {want}: these are not the bytes everyone else gets"),
        format!("do not use these bytes: find out who changed them ({source}, or something between you and it); report it to the module's owner and the proxy's operator; never set GOSUMDB=off, GONOSUMDB, GOPRIVATE or edit go.sum to silence it (go help module-auth)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;
    use crate::flow::BodyHash;

    fn hashed(url: &str, h1: &str) -> Flow {
        let mut f = FlowBuilder::get(url).status(200, b"x").build();
        f.go = crate::go::classify("GET", url, &Default::default());
        if let Some(g) = f.go.as_mut() {
            g.hash = Some(BodyHash {
                h1: Some(h1.into()),
                ..BodyHash::default()
            });
        }
        f
    }

    #[test]
    fn compares_with_the_capture_and_go_sum() {
        let zip = hashed("https://p.test/m.test/x/@v/v1.0.0.zip", "h1:AAA=").with_id(1);
        let good_mod = hashed("https://p.test/m.test/x/@v/v1.0.0.mod", "h1:MOD=").with_id(2);
        let record = b"7\nm.test/x v1.0.0 h1:BBB=\nm.test/x v1.0.0/go.mod h1:MOD=\n\ngo.sum database tree\n8\nx=\n\n\xe2\x80\x94 sum.test abc=\n";
        let mut lookup = FlowBuilder::get("https://sum.test/lookup/m.test/x@v1.0.0")
            .status(200, record)
            .build();
        lookup.go = crate::go::classify("GET", &lookup.request.url, &Default::default());
        let flows = [&zip, &good_mod, &lookup];
        let (checks, findings) = check(&flows, None);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].1.code, Code::ChecksumMismatchSumdb);
        assert!(findings[0].1.fix.contains("never set GOSUMDB=off"));
        assert!(matches!(checks.get(&2), Some(Check::Matches { .. })));
        let go_sum = GoSum::parse("m.test/x v1.0.0 h1:AAA=\nm.test/x v1.0.0/go.mod h1:OTHER=\n");
        let (_, findings) = check(&[&zip, &good_mod], Some(&go_sum));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].0, 2);
        assert_eq!(findings[0].1.code, Code::ChecksumMismatchGoSum);
    }

    trait WithId {
        fn with_id(self, id: u64) -> Self;
    }
    impl WithId for Flow {
        fn with_id(mut self, id: u64) -> Self {
            self.id = id;
            self
        }
    }
}
