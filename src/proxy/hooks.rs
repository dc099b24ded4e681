//! In-line hooks: what the rules do to one exchange. Decides, from the matching rules, how
//! the request is changed, held, answered locally or failed, and how the response is changed,
//! held, throttled or cut. Header edits are applied here; waiting, answering and dialling stay
//! with the exchange. Knows nothing of sockets or the store.

use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::dial::Target;
use super::error::ProxyError;
use crate::flow::Flow;
use crate::rules::{Action, Body, Phase, RemoteTarget, Rule, RuleSet};

/// What the request-phase rules decided.
#[derive(Debug, Default)]
pub struct RequestPlan {
    pub fired: Vec<String>,
    pub ignore: bool,
    pub delay: Duration,
    pub remote: Option<RemoteTarget>,
    pub answer: Option<Answer>,
}

/// A terminal decision: gomitm answers instead of the upstream.
#[derive(Debug)]
pub enum Answer {
    Local {
        status: u16,
        headers: Vec<(String, String)>,
        body: LocalBody,
    },
    Fail(ProxyError),
    Hang,
}

#[derive(Debug)]
pub enum LocalBody {
    Text(String),
    /// Read when answering; `file` is `None` when a `map_local` directory has no file for
    /// the URL, and `root` is that directory, which the file must not leave.
    File {
        root: Option<PathBuf>,
        file: Option<PathBuf>,
    },
}

/// What the response-phase rules decided (header edits are already applied).
#[derive(Debug, Default)]
pub struct ResponsePlan {
    pub fired: Vec<String>,
    pub delay: Duration,
    pub throttle: Option<u64>,
    pub reset: Option<(String, u64)>,
}

pub fn plan_request(
    rules: &RuleSet,
    flow: &Flow,
    target: &Target,
    headers: &mut HeaderMap,
) -> RequestPlan {
    let mut plan = RequestPlan::default();
    for rule in rules.for_request(flow) {
        plan.fired.push(rule.name.clone());
        for action in rule.actions_in(Phase::Request) {
            apply_request_action(rule, action, flow, target, headers, &mut plan);
        }
    }
    plan
}

fn apply_request_action(
    rule: &Rule,
    action: &Action,
    flow: &Flow,
    target: &Target,
    headers: &mut HeaderMap,
    plan: &mut RequestPlan,
) {
    if edit_headers(action, headers) {
        return;
    }
    match action {
        Action::MapRemote { to } => plan.remote = Some(to.clone()),
        Action::Delay { request_ms, .. } => plan.delay += Duration::from_millis(*request_ms),
        Action::Ignore => plan.ignore = true,
        Action::MapLocal { path } => {
            let is_dir = path.is_dir();
            let file = crate::rules::local_file(path, is_dir, &flow.request.url);
            plan.answer = Some(Answer::Local {
                status: 200,
                headers: vec![],
                body: LocalBody::File {
                    root: is_dir.then(|| path.clone()),
                    file,
                },
            });
        }
        Action::Respond {
            status,
            headers,
            body,
        } => {
            let body = match body {
                Body::Text(t) => LocalBody::Text(t.clone()),
                Body::File(p) => LocalBody::File {
                    root: None,
                    file: Some(p.clone()),
                },
            };
            plan.answer = Some(Answer::Local {
                status: *status,
                headers: headers.clone(),
                body,
            });
        }
        Action::Block { status, reason } => plan.answer = Some(block(*status, reason)),
        Action::Hang => plan.answer = Some(Answer::Hang),
        Action::DnsFail => {
            plan.answer = Some(Answer::Fail(ProxyError::Dns {
                host: target.host.clone(),
                reason: format!("no such host (simulated by rule {:?})", rule.name),
            }))
        }
        Action::Refuse => {
            plan.answer = Some(Answer::Fail(ProxyError::Connect {
                addr: target.authority(),
                reason: format!("connection refused (simulated by rule {:?})", rule.name),
            }))
        }
        // Header edits are done above; the rest act on the response or at CONNECT time.
        Action::SetHeader { .. }
        | Action::AddHeader { .. }
        | Action::RemoveHeader { .. }
        | Action::ReplaceHeader { .. }
        | Action::Throttle { .. }
        | Action::Reset { .. }
        | Action::NoIntercept => {}
    }
}

/// A text/plain answer whose first line names the rule (the loader writes the reason so):
/// the go command prints it under `server response:`.
fn block(status: u16, reason: &str) -> Answer {
    Answer::Local {
        status,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: LocalBody::Text(format!("{reason}\n")),
    }
}

pub fn plan_response(rules: &RuleSet, flow: &Flow, headers: &mut HeaderMap) -> ResponsePlan {
    let mut plan = ResponsePlan::default();
    for rule in rules.for_response(flow) {
        plan.fired.push(rule.name.clone());
        for action in rule.actions_in(Phase::Response) {
            if edit_headers(action, headers) {
                continue;
            }
            match action {
                Action::Delay { response_ms, .. } => {
                    plan.delay += Duration::from_millis(*response_ms)
                }
                Action::Throttle { bytes_per_sec } => plan.throttle = Some(*bytes_per_sec),
                Action::Reset { after_bytes } => {
                    plan.reset = Some((rule.name.clone(), *after_bytes))
                }
                // Header edits are done above; the rest act on the request or at CONNECT.
                Action::SetHeader { .. }
                | Action::AddHeader { .. }
                | Action::RemoveHeader { .. }
                | Action::ReplaceHeader { .. }
                | Action::MapRemote { .. }
                | Action::MapLocal { .. }
                | Action::Respond { .. }
                | Action::Block { .. }
                | Action::Hang
                | Action::DnsFail
                | Action::Refuse
                | Action::NoIntercept
                | Action::Ignore => {}
            }
        }
    }
    plan
}

/// Apply a header action; false when `action` is not one.
fn edit_headers(action: &Action, headers: &mut HeaderMap) -> bool {
    match action {
        Action::SetHeader { name, value, .. } => {
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(n, v);
            }
        }
        Action::AddHeader { name, value, .. } => {
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(value),
            ) {
                headers.append(n, v);
            }
        }
        Action::RemoveHeader { name, .. } => {
            headers.remove(name.as_str());
        }
        Action::ReplaceHeader {
            name,
            pattern,
            with,
            ..
        } => {
            let Ok(n) = HeaderName::try_from(name.as_str()) else {
                return true;
            };
            let replaced: Vec<HeaderValue> = headers
                .get_all(&n)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(|v| HeaderValue::from_str(&pattern.replace_all(v, with.as_str())).ok())
                .collect();
            if !replaced.is_empty() {
                headers.remove(&n);
                for v in replaced {
                    headers.append(n.clone(), v);
                }
            }
        }
        Action::MapRemote { .. }
        | Action::MapLocal { .. }
        | Action::Respond { .. }
        | Action::Block { .. }
        | Action::Delay { .. }
        | Action::Throttle { .. }
        | Action::Reset { .. }
        | Action::Hang
        | Action::DnsFail
        | Action::Refuse
        | Action::NoIntercept
        | Action::Ignore => return false,
    }
    true
}

/// Where a `map_remote` sends the request, and the URL it gets there.
pub fn remap(to: &RemoteTarget, path_and_query: &str) -> (Target, String) {
    let target = Target {
        https: to.scheme == "https",
        host: to.host.clone(),
        port: to.port,
    };
    (target, to.map_url(path_and_query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;

    fn rules(text: &str) -> RuleSet {
        RuleSet::parse(text, std::path::Path::new(".")).unwrap()
    }

    fn target() -> Target {
        Target {
            https: true,
            host: "goproxy.test".into(),
            port: 443,
        }
    }

    fn in_flight(url: &str) -> Flow {
        let mut f = FlowBuilder::get(url).build();
        f.state = crate::flow::FlowState::InFlight;
        f.go = crate::go::classify("GET", url, &Default::default());
        f
    }

    #[test]
    fn request_headers_are_edited_in_rule_order_and_rules_recorded() {
        let set = rules(
            "[[rule]]\nname = \"a\"\nrequest.set_header = { \"X-Debug\" = \"1\" }\nrequest.remove_header = [\"Cookie\"]\n\
             [[rule]]\nname = \"b\"\nmatch = \"host:other.test\"\nrequest.set_header = { \"X-Other\" = \"1\" }\n",
        );
        let mut h = HeaderMap::new();
        h.insert("cookie", HeaderValue::from_static("a=b"));
        let plan = plan_request(
            &set,
            &in_flight("https://goproxy.test/x"),
            &target(),
            &mut h,
        );
        assert_eq!(plan.fired, vec!["a"]);
        assert_eq!(h["x-debug"], "1");
        assert!(h.get("cookie").is_none() && h.get("x-other").is_none());
    }

    #[test]
    fn block_answers_with_the_rule_name_and_stops_the_chain() {
        let set = rules(
            "[[rule]]\nname = \"no sumdb\"\nmatch = \"kind:sumdb\"\nblock = { status = 403, reason = \"debugging\" }\n\
             [[rule]]\nname = \"later\"\nrequest.set_header = { \"X-Later\" = \"1\" }\n",
        );
        let mut h = HeaderMap::new();
        let plan = plan_request(
            &set,
            &in_flight("https://sum.golang.org/lookup/a.b/c@v1.0.0"),
            &target(),
            &mut h,
        );
        assert_eq!(plan.fired, vec!["no sumdb"]);
        let Some(Answer::Local {
            status,
            body: LocalBody::Text(text),
            ..
        }) = plan.answer
        else {
            panic!("expected a local answer")
        };
        assert_eq!(status, 403);
        assert!(
            text.starts_with("gomitm: blocked by rule \"no sumdb\": debugging"),
            "{text}"
        );
        assert!(h.get("x-later").is_none());
    }

    #[test]
    fn faults_become_proxy_errors_with_their_class() {
        let set = rules("[[rule]]\nname = \"dns\"\ndns_fail = true\n");
        let plan = plan_request(
            &set,
            &in_flight("https://goproxy.test/x"),
            &target(),
            &mut HeaderMap::new(),
        );
        assert!(matches!(
            plan.answer,
            Some(Answer::Fail(ProxyError::Dns { .. }))
        ));
        let set = rules("[[rule]]\nname = \"r\"\nrefuse = true\n");
        let plan = plan_request(
            &set,
            &in_flight("https://goproxy.test/x"),
            &target(),
            &mut HeaderMap::new(),
        );
        assert!(matches!(
            plan.answer,
            Some(Answer::Fail(ProxyError::Connect { .. }))
        ));
    }

    #[test]
    fn response_plan_collects_delay_throttle_reset_and_edits_headers() {
        let set = rules(
            "[[rule]]\nname = \"slow\"\ndelay = { response_ms = 250 }\nthrottle = \"1MiB/s\"\nreset = 1000\n\
             response.replace_header = [{ name = \"Server\", pattern = \"nginx.*\", with = \"hidden\" }]\n",
        );
        let flow = FlowBuilder::get("https://goproxy.test/x")
            .status(200, b"")
            .build();
        let mut h = HeaderMap::new();
        h.insert("server", HeaderValue::from_static("nginx/1.2"));
        let plan = plan_response(&set, &flow, &mut h);
        assert_eq!(plan.delay, Duration::from_millis(250));
        assert_eq!(plan.throttle, Some(1 << 20));
        assert_eq!(plan.reset, Some(("slow".to_string(), 1000)));
        assert_eq!(h["server"], "hidden");
    }

    #[test]
    fn remap_replaces_origin_and_prefixes_the_path() {
        let to = RemoteTarget::parse("http://mirror.test:8080/goproxy").unwrap();
        let (t, url) = remap(&to, "/golang.org/x/text/@v/list");
        assert_eq!(
            (t.https, t.host.as_str(), t.port),
            (false, "mirror.test", 8080)
        );
        assert_eq!(
            url,
            "http://mirror.test:8080/goproxy/golang.org/x/text/@v/list"
        );
        let mut to = RemoteTarget::parse("https://b.test").unwrap();
        to.strip_prefix = "/a".into();
        assert_eq!(remap(&to, "/a/x?y=1").1, "https://b.test/x?y=1");
    }
}
