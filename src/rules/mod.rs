//! Rules: the rules file (`--rules FILE`) and the command-line quick forms, parsed once into a
//! validated [`RuleSet`], and the pure decisions of which rules apply to a flow.
//!
//! Owns the model (`RuleSet`, `Rule`, `Action`), loading and validation (errors with line and
//! column), and matching (`for_request`, `for_response`, `no_intercept`). It does not touch
//! traffic: applying actions (rewriting headers, sleeping, answering, dialling a mirror) is the
//! proxy's job, and watching the file for changes is the app's. `docs/RULES.md` is the
//! reference for the file format.

mod build;
mod error;
mod quick;
mod raw;
mod values;

#[cfg(test)]
mod tests_eval;
#[cfg(test)]
mod tests_load;

use std::path::{Path, PathBuf};

use crate::filter::Filter;
use crate::flow::{Flow, FlowKind, FlowState};

pub use error::RulesError;
pub use quick::QuickForms;
pub use values::{local_file, parse_rate, parse_size, RemoteTarget};

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
    /// Answer from a file, or from the URL path under a directory (see [`local_file`]).
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
            _ => phase == Phase::Request,
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
    /// Reads, parses and validates a rules file; relative paths resolve against its directory.
    /// Cheap and side-effect free (safe to call on every change of the file).
    pub fn load(path: &Path) -> Result<RuleSet, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let base_dir = path.parent().unwrap_or(Path::new(""));
        build::parse_file(&text, base_dir, path)
    }

    /// Parses rules from text (errors name the file `<rules>`); relative paths resolve
    /// against `base_dir`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<RuleSet, RulesError> {
        build::parse_file(text, base_dir, Path::new("<rules>"))
    }

    /// Rules from the command-line quick forms (see [`QuickForms`]).
    pub fn from_quick_forms(q: &QuickForms) -> Result<RuleSet, RulesError> {
        quick::build(q)
    }

    /// Appends `other`'s rules after this set's (they are evaluated later).
    pub fn extend(&mut self, other: RuleSet) {
        self.rules.extend(other.rules);
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
    flow.request.method = "CONNECT".into();
    flow.request.url = format!("https://{host}:{port}/");
    flow
}

/// `gomitm rules check FILE`: load and validate, nothing else.
pub fn check(path: &Path) -> Result<RuleSet, RulesError> {
    RuleSet::load(path)
}
