//! Value types and parsers of rule actions: sizes, rates, status codes, durations, the
//! `map_remote` target (and its URL rewriting) and the `map_local` file lookup.
//!
//! Pure string and path arithmetic; never touches the file system or the network. Parsers return
//! a lowercase message without position; the caller adds line and column.

use std::path::{Component, Path, PathBuf};

/// `1000`, `"1KiB"`, `"1.5MB"` → bytes. Units: B, K/KB (1000), KiB (1024), M/MB, MiB, G/GB, GiB.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 1000, \"512KiB\", \"1MiB\")"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} in {s:?}")),
    };
    Ok((value * mult as f64) as u64)
}

/// `"1MiB/s"`, `"500KB/s"`, `"1MiB"` → bytes per second; must be more than zero.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let size = t.strip_suffix("/s").unwrap_or(t);
    let rate = parse_size(size).map_err(|_| {
        format!("{s:?} is not a rate (e.g. 1048576 for bytes per second, \"1MiB/s\", \"500KB/s\")")
    })?;
    if rate == 0 {
        return Err("a throttle of 0 bytes/s would never finish; use hang instead".into());
    }
    Ok(rate)
}

/// `"500"`, `"500ms"`, `"2s"` → milliseconds.
pub fn parse_millis(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let bad = || format!("{s:?} is not a duration (e.g. 500, \"500ms\", \"2s\")");
    if let Some(ms) = t.strip_suffix("ms") {
        return ms.trim().parse().map_err(|_| bad());
    }
    if let Some(secs) = t.strip_suffix('s') {
        let secs: f64 = secs.trim().parse().map_err(|_| bad())?;
        if !secs.is_finite() || secs < 0.0 {
            return Err(bad());
        }
        return Ok((secs * 1000.0) as u64);
    }
    t.parse().map_err(|_| bad())
}

/// An HTTP status a rule answers with: 100–599.
pub fn check_status(status: i64) -> Result<u16, String> {
    match u16::try_from(status) {
        Ok(s) if (100..=599).contains(&s) => Ok(s),
        _ => Err(format!("status {status} is not an HTTP status (100-599)")),
    }
}

/// Where `map_remote` sends a request: scheme, host, port and a path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTarget {
    /// `http` or `https`.
    pub scheme: String,
    /// Lowercase host, IPv6 without brackets.
    pub host: String,
    /// Explicit or the scheme's default (80, 443).
    pub port: u16,
    /// Prepended to the request path; `""` or `/x/y` (never a trailing `/`).
    pub path: String,
    /// Removed from the start of the request path first (quick form `FROM=TO`: FROM's path).
    pub strip_prefix: String,
}

impl RemoteTarget {
    /// Parses an absolute `http(s)://host[:port][/path]` URL (no credentials, query, fragment).
    pub fn parse(url: &str) -> Result<RemoteTarget, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            format!("{url:?} is not an absolute URL (e.g. https://mirror.example/goproxy)")
        })?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => {
                return Err(format!(
                    "{url:?}: only http:// and https:// targets are supported"
                ))
            }
        };
        if rest.contains(['?', '#']) {
            return Err(format!("{url:?}: a target cannot have a query or fragment"));
        }
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        if authority.contains('@') {
            return Err(format!("{url:?}: credentials in the URL are not supported; set an Authorization header instead"));
        }
        let (host, port) = split_authority(authority).map_err(|m| format!("{url:?}: {m}"))?;
        Ok(RemoteTarget {
            scheme,
            host: host.to_ascii_lowercase(),
            port: port.unwrap_or(default_port),
            path: path.trim_end_matches('/').to_string(),
            strip_prefix: String::new(),
        })
    }

    /// `host[:port]`, the port only when it is not the scheme's default; IPv6 in brackets.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The URL a request for `url` is sent to: origin replaced, `strip_prefix` removed from the
    /// path, `path` prepended; the query is kept, a fragment dropped.
    pub fn map_url(&self, url: &str) -> String {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let tail = rest.find(['/', '?', '#']).map_or("", |i| &rest[i..]);
        let tail = tail.split('#').next().unwrap_or("");
        let (path, query) = tail.find('?').map_or((tail, ""), |i| tail.split_at(i));
        let path = strip_path_prefix(path, &self.strip_prefix);
        let mut new_path = self.path.clone();
        if !path.is_empty() && !path.starts_with('/') {
            new_path.push('/');
        }
        new_path.push_str(path);
        if new_path.is_empty() {
            new_path.push('/');
        }
        format!("{}://{}{new_path}{query}", self.scheme, self.authority())
    }
}

/// `path` without `prefix` when it starts with it at a segment boundary, else unchanged.
fn strip_path_prefix<'a>(path: &'a str, prefix: &str) -> &'a str {
    let prefix = prefix.trim_end_matches('/');
    match path.strip_prefix(prefix) {
        Some(rest) if prefix.is_empty() || rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    }
}

fn split_authority(authority: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed '[' in the host")?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("missing host".into());
    }
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("{p:?} is not a port number"))?,
        ),
        None => None,
    };
    Ok((host, port))
}

/// The file `map_local` answers with for `url`: `base` itself when it is a file, else the URL
/// path (no query) under the directory `base`. `None` when the path tries to climb out (`..`).
/// `base_is_dir` comes from the caller, who looks at the file system.
pub fn local_file(base: &Path, base_is_dir: bool, url: &str) -> Option<PathBuf> {
    if !base_is_dir {
        return Some(base.to_path_buf());
    }
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut out = base.to_path_buf();
    for part in Path::new(path.trim_start_matches('/')).components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_rates_and_durations() {
        for (s, want) in [
            ("1000", 1000),
            ("1KiB", 1024),
            ("1.5MB", 1_500_000),
            ("2 MiB", 2 << 20),
        ] {
            assert_eq!(parse_size(s), Ok(want), "{s}");
        }
        assert!(parse_size("1XB").is_err());
        assert!(parse_size("fast").is_err());
        assert_eq!(parse_rate("1MiB/s"), Ok(1 << 20));
        assert_eq!(parse_rate("500KB/s"), Ok(500_000));
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("1MiB/min").is_err());
        assert_eq!(parse_millis("500"), Ok(500));
        assert_eq!(parse_millis("250ms"), Ok(250));
        assert_eq!(parse_millis("1.5s"), Ok(1500));
        assert!(parse_millis("soon").is_err());
    }

    #[test]
    fn status_range() {
        assert_eq!(check_status(410), Ok(410));
        assert!(check_status(99).is_err());
        assert!(check_status(600).is_err());
        assert!(check_status(70_000).is_err());
    }

    #[test]
    fn remote_target_parses_and_rejects() {
        let t = RemoteTarget::parse("HTTPS://GoProxy.Corp.Example/goproxy/")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.scheme.as_str(), t.host.as_str(), t.port, t.path.as_str()),
            ("https", "goproxy.corp.example", 443, "/goproxy")
        );
        let t = RemoteTarget::parse("http://[::1]:8081").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.host.as_str(), t.port, t.authority()),
            ("::1", 8081, "[::1]:8081".to_string())
        );
        for bad in [
            "goproxy.example",
            "ftp://x/",
            "https://",
            "https://h:0/",
            "https://u:p@h/",
            "https://h/?q=1",
            "https://h:x/",
        ] {
            assert!(RemoteTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn map_url_replaces_origin_and_prefixes() {
        let mut t = RemoteTarget::parse("https://mirror.test:8443/goproxy")
            .unwrap_or_else(|e| panic!("{e}"));
        for (from, want) in [
            (
                "https://proxy.golang.org/x/@v/list",
                "https://mirror.test:8443/goproxy/x/@v/list",
            ),
            (
                "https://proxy.golang.org",
                "https://mirror.test:8443/goproxy",
            ),
            (
                "http://a.test/p?q=1#f",
                "https://mirror.test:8443/goproxy/p?q=1",
            ),
        ] {
            assert_eq!(t.map_url(from), want, "{from}");
        }
        t.strip_prefix = "/sub".into();
        assert_eq!(
            t.map_url("https://a.test/sub/x"),
            "https://mirror.test:8443/goproxy/x"
        );
        assert_eq!(
            t.map_url("https://a.test/subway"),
            "https://mirror.test:8443/goproxy/subway"
        );
        let root = RemoteTarget::parse("http://b.test").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(root.map_url("https://a.test"), "http://b.test/");
        assert_eq!(root.map_url("https://a.test/x"), "http://b.test/x");
    }

    #[test]
    fn local_file_stays_under_the_directory() {
        let base = Path::new("/srv/mods");
        assert_eq!(
            local_file(base, true, "https://goproxy.test/m/@v/v1.0.0.mod?x=1"),
            Some(PathBuf::from("/srv/mods/m/@v/v1.0.0.mod"))
        );
        assert_eq!(
            local_file(base, true, "https://goproxy.test/a/../../etc/passwd"),
            None
        );
        assert_eq!(
            local_file(Path::new("/f.mod"), false, "https://x/y"),
            Some(PathBuf::from("/f.mod"))
        );
    }
}
