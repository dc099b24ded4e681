//! The validated rules and which of them apply to a flow: [`RuleSet`], [`Rule`], [`Action`]
//! (with its [`Phase`] and the `respond` [`Body`]), the block text and the match-everything
//! filter every loader shares, and the pure decisions `for_request`, `for_response` and
//! `no_intercept` (against a [`connect_stub`] at CONNECT time).
//!
//! Loading is `build` (the file) and `quick` (the command-line forms); both produce these
//! types and neither is needed to evaluate them.

use std::path::PathBuf;

use super::error::filter_message;
use super::values::RemoteTarget;
use crate::filter::Filter;
use crate::flow::{Flow, FlowKind, FlowState};

/// The rules in evaluation (file) order.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

/// One `[[rule]]`: a name, a filter, and actions in a fixed order (see `docs/RULES.md`).
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    /// The rule's `match`; a rule without `match` gets a filter that matches every flow.
    pub matcher: Filter,
    pub actions: Vec<Action>,
    /// Line of the rule's `[[rule]]` header (0 for command-line quick forms).
    pub line: usize,
}

/// What a rule does. Request-phase actions run before the request is sent upstream,
/// response-phase ones on the response head and body.
#[derive(Debug, Clone)]
pub enum Action {
    SetHeader {
        phase: Phase,
        name: String,
        value: String,
    },
    AddHeader {
        phase: Phase,
        name: String,
        value: String,
    },
    RemoveHeader {
        phase: Phase,
        name: String,
    },
    /// Replace every match of `pattern` in the header's value(s) with `with` (`$1` allowed).
    ReplaceHeader {
        phase: Phase,
        name: String,
        pattern: regex::Regex,
        with: String,
    },
    /// Send the request to another origin; the flow records the original URL and `mapped_to`.
    MapRemote {
        to: RemoteTarget,
    },
    /// Answer from a file, or from the URL path under a directory (see
    /// [`local_file`](super::local_file)).
    MapLocal {
        path: PathBuf,
    },
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Body,
    },
    /// Answer `status` with a text/plain `reason` that names the rule.
    Block {
        status: u16,
        reason: String,
    },
    Delay {
        request_ms: u64,
        response_ms: u64,
    },
    /// Limit the response body to this many bytes per second.
    Throttle {
        bytes_per_sec: u64,
    },
    /// Cut the response body after this many bytes.
    Reset {
        after_bytes: u64,
    },
    /// Never answer; released when the client goes away.
    Hang,
    /// Fail as if DNS resolution failed (a flow with error class `dns`).
    DnsFail,
    /// Fail as if the connection was refused (a flow with error class `connect`).
    Refuse,
    /// CONNECT to matching hosts is tunnelled blind (no TLS interception).
    NoIntercept,
    /// Proxy the flow but do not record it.
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Request,
    Response,
}

/// The body of a `respond` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Text(String),
    /// Read when answering, so that editing the file needs no reload.
    File(PathBuf),
}

impl Action {
    /// Respond, Block, MapLocal, Hang, DnsFail and Refuse answer the request themselves: no
    /// later rule applies.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Action::Respond { .. }
                | Action::Block { .. }
                | Action::MapLocal { .. }
                | Action::Hang
                | Action::DnsFail
                | Action::Refuse
        )
    }

    /// Whether the action does something in `phase`. `NoIntercept` acts in neither: it is
    /// decided at CONNECT time ([`RuleSet::no_intercept`]).
    pub fn acts_in(&self, phase: Phase) -> bool {
        match self {
            Action::SetHeader { phase: p, .. }
            | Action::AddHeader { phase: p, .. }
            | Action::RemoveHeader { phase: p, .. }
            | Action::ReplaceHeader { phase: p, .. } => *p == phase,
            Action::Delay {
                request_ms,
                response_ms,
            } => match phase {
                Phase::Request => *request_ms > 0,
                Phase::Response => *response_ms > 0,
            },
            Action::Throttle { .. } | Action::Reset { .. } => phase == Phase::Response,
            Action::NoIntercept => false,
            Action::MapRemote { .. }
            | Action::MapLocal { .. }
            | Action::Respond { .. }
            | Action::Block { .. }
            | Action::Hang
            | Action::DnsFail
            | Action::Refuse
            | Action::Ignore => phase == Phase::Request,
        }
    }

    /// The rules-file key that writes this action (`request.set_header`, `block`…).
    pub fn key(&self) -> &'static str {
        match self {
            Action::SetHeader { phase, .. } => {
                phase.pick("request.set_header", "response.set_header")
            }
            Action::AddHeader { phase, .. } => {
                phase.pick("request.add_header", "response.add_header")
            }
            Action::RemoveHeader { phase, .. } => {
                phase.pick("request.remove_header", "response.remove_header")
            }
            Action::ReplaceHeader { phase, .. } => {
                phase.pick("request.replace_header", "response.replace_header")
            }
            Action::MapRemote { .. } => "map_remote",
            Action::MapLocal { .. } => "map_local",
            Action::Respond { .. } => "respond",
            Action::Block { .. } => "block",
            Action::Delay { .. } => "delay",
            Action::Throttle { .. } => "throttle",
            Action::Reset { .. } => "reset",
            Action::Hang => "hang",
            Action::DnsFail => "dns_fail",
            Action::Refuse => "refuse",
            Action::NoIntercept => "no_intercept",
            Action::Ignore => "ignore",
        }
    }
}

impl Phase {
    fn pick(self, request: &'static str, response: &'static str) -> &'static str {
        match self {
            Phase::Request => request,
            Phase::Response => response,
        }
    }
}

impl Rule {
    /// True when one of the rule's actions stops the chain.
    pub fn is_terminal(&self) -> bool {
        self.actions.iter().any(Action::is_terminal)
    }

    /// True when at least one action does something in `phase`.
    pub fn acts_in(&self, phase: Phase) -> bool {
        self.actions.iter().any(|a| a.acts_in(phase))
    }

    /// The actions to apply in `phase`, in order.
    pub fn actions_in(&self, phase: Phase) -> impl Iterator<Item = &Action> + '_ {
        self.actions.iter().filter(move |a| a.acts_in(phase))
    }
}

impl RuleSet {
    /// Appends `other`'s rules after this set's (they are evaluated later).
    pub fn extend(&mut self, other: RuleSet) {
        self.rules.extend(other.rules);
    }

    /// Whether some rule sets, adds, removes or rewrites the request header `name` (whatever
    /// its `match`): the exchange then hands the rules a request without the client's Host,
    /// as a rule has always seen it.
    pub fn edits_request_header(&self, name: &str) -> bool {
        self.rules.iter().flat_map(|r| &r.actions).any(|a| match a {
            Action::SetHeader { phase, name: n, .. }
            | Action::AddHeader { phase, name: n, .. }
            | Action::RemoveHeader { phase, name: n }
            | Action::ReplaceHeader { phase, name: n, .. } => {
                *phase == Phase::Request && n.eq_ignore_ascii_case(name)
            }
            _ => false,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rules with request-phase actions whose matcher matches the in-flight `flow` (no
    /// response yet), in order, stopping after the first rule with a terminal action. Rules
    /// whose `match` needs the response are skipped: they cannot be decided yet.
    pub fn for_request<'a>(&'a self, flow: &Flow) -> Vec<&'a Rule> {
        let mut out = Vec::new();
        for rule in &self.rules {
            if rule.matcher.needs_response() || !rule.matcher.matches(flow) {
                continue;
            }
            if rule.acts_in(Phase::Request) {
                out.push(rule);
            }
            if rule.is_terminal() {
                break;
            }
        }
        out
    }

    /// Rules with response-phase actions whose matcher matches `flow` with its response head,
    /// in order; the chain stops at the same terminal rule as the request's did.
    pub fn for_response<'a>(&'a self, flow: &Flow) -> Vec<&'a Rule> {
        let mut out = Vec::new();
        for rule in &self.rules {
            if !rule.matcher.matches(flow) {
                continue;
            }
            if rule.acts_in(Phase::Response) {
                out.push(rule);
            }
            if rule.is_terminal() {
                break;
            }
        }
        out
    }

    /// For a CONNECT decision: the first rule with `no_intercept` that matches `flow_stub`
    /// (see [`connect_stub`]). A matching terminal rule before it wins (the host is
    /// intercepted so that the rule can answer), following the file order.
    pub fn no_intercept(&self, flow_stub: &Flow) -> Option<&Rule> {
        for rule in &self.rules {
            if rule.matcher.needs_response() || !rule.matcher.matches(flow_stub) {
                continue;
            }
            if rule
                .actions
                .iter()
                .any(|a| matches!(a, Action::NoIntercept))
            {
                return Some(rule);
            }
            if rule.is_terminal() {
                return None;
            }
        }
        None
    }
}

/// The flow a CONNECT decision is matched against: method `CONNECT`, URL
/// `https://host:port/`, kind tunnel, in flight.
pub fn connect_stub(host: &str, port: u16) -> Flow {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let mut flow = Flow {
        kind: FlowKind::Tunnel,
        state: FlowState::InFlight,
        ..Flow::default()
    };
    flow.request_mut().method = "CONNECT".into();
    flow.request_mut().url = format!("https://{host}:{port}/");
    flow
}

/// The text/plain body of a block: always names the rule, so `go`'s error says who blocked.
pub(super) fn block_reason(rule: &str, reason: Option<&str>) -> String {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => format!("gomitm: blocked by rule {rule:?}: {r}"),
        None => format!("gomitm: blocked by rule {rule:?}"),
    }
}

/// A filter that matches every flow (a rule without `match`).
pub(super) fn match_all() -> Result<Filter, String> {
    Filter::parse("url:~^").map_err(|e| filter_message(&e))
}
