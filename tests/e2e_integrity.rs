//! End to end: the `h1:` hashes gomitm records for module zips and go.mod files are the very
//! hashes the go command computes (`go mod download -json`: `Sum`, `GoModSum`), with every go
//! of `go_binaries()`, through the real gomitm binary against the TLS fixture.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use serde_json::Value;
use support::fixture::Fixture;
use support::gomitm::{go_through, path_arg, resolve_args, Gomitm};
use support::tools::{go_binaries, go_version};

fn root_go_mod() -> String {
    let requires: String = Fixture::modules()
        .iter()
        .map(|(path, version)| format!("\t{path} {version}\n"))
        .collect();
    format!("module e2e\n\ngo 1.19\n\nrequire (\n{requires})\n")
}

/// The objects `go mod download -json` prints, one after another.
fn download_records(stdout: &[u8]) -> Vec<Value> {
    serde_json::Deserializer::from_slice(stdout)
        .into_iter::<Value>()
        .map(|v| v.expect("go's -json output"))
        .collect()
}

#[test]
fn recorded_hashes_equal_gos_sum_and_gomodsum() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let mut args = resolve_args(&["goproxy.test"], fx.addr);
        args.extend(path_arg("--extra-root", &fx.ca_pem));
        let mut proxy = Gomitm::start(&args);
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(tmp.path().join("work")).expect("work dir");
        std::fs::write(tmp.path().join("work/go.mod"), root_go_mod()).expect("go.mod");
        let out = go_through(
            &go,
            &proxy,
            &proxy.ca_pem(),
            tmp.path(),
            &[("GOPROXY", "https://goproxy.test")],
            &["mod", "download", "-json"],
        );
        assert!(
            out.status.success(),
            "{version}: go mod download failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let records = download_records(&out.stdout);
        assert_eq!(records.len(), Fixture::modules().len(), "{version}");
        for r in &records {
            let module = r["Path"].as_str().expect("Path");
            let (sum, mod_sum) = (&r["Sum"], &r["GoModSum"]);
            assert!(sum.as_str().is_some_and(|s| s.starts_with("h1:")), "{r}");
            for (kind, want) in [("zip", sum), ("mod", mod_sum)] {
                // The JSON lines are written in batches: wait for the flow, hash included.
                let flow = proxy.wait_for_flow(&format!("{version}: {module} {kind}"), |f| {
                    f["go"]["kind"] == kind
                        && f["go"]["module"] == module
                        && f["go"]["version"] == r["Version"]
                });
                let hash = &flow["go"]["hash"];
                assert_eq!(&hash["h1"], want, "{version}: {module} .{kind}: {hash}");
                assert!(hash["not_verified"].is_null(), "{hash}");
                assert!(hash["outside_prefix"].is_null(), "{hash}");
            }
        }
        // The HAR carries the same hashes in `_go`.
        let har = proxy.stop();
        let entries = har["log"]["entries"].as_array().expect("entries");
        for r in &records {
            let e = entries
                .iter()
                .find(|e| e["_go"]["kind"] == "zip" && e["_go"]["module"] == r["Path"])
                .unwrap_or_else(|| panic!("{version}: no HAR zip entry for {}", r["Path"]));
            assert_eq!(e["_go"]["hash"]["h1"], r["Sum"], "{version}");
            assert!(e["_go"]["hash"]["files"].as_u64() > Some(0));
        }
    }
}
