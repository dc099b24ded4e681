//! Command-line quick forms (`--set-header`, `--remove-header`, `--block`, `--map-remote`,
//! `--delay`) turned into ordinary rules named after the flag and its value.
//!
//! Pure string parsing; errors are `RulesError::Arg` with a column in the flag's value. The
//! CLI only collects the strings into a [`QuickForms`].

use crate::filter::Filter;

use super::error::{filter_message, RulesError};
use super::model::{block_reason, match_all, Action, Phase, Rule, RuleSet};
use super::values::{parse_millis, RemoteTarget};

/// Quick forms as given on the command line, one entry per occurrence of the flag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuickForms {
    /// `Name: value` — set on every request.
    pub set_header: Vec<String>,
    /// `Name` — removed from every request.
    pub remove_header: Vec<String>,
    /// `FILTER` — matching requests are answered 403 with a reason naming the rule.
    pub block: Vec<String>,
    /// `FROM=TO`, both absolute http(s) URL prefixes: requests under FROM go to TO.
    pub map_remote: Vec<String>,
    /// `FILTER=MS` or `MS` (every flow): hold matching requests before sending them.
    pub delay: Vec<String>,
    /// `HOSTGLOB` — CONNECTs to a matching host are tunnelled without interception.
    pub no_intercept: Vec<String>,
}

impl QuickForms {
    pub fn is_empty(&self) -> bool {
        QuickForm::ORDER.iter().all(|f| f.values(self).is_empty())
    }
}

/// The kinds of quick form, in the order their rules are built: no-intercept first (decided
/// at CONNECT, before a block could match the CONNECT itself), then set-header,
/// remove-header, map-remote, delay, block (each group in command-line order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuickForm {
    NoIntercept,
    SetHeader,
    RemoveHeader,
    MapRemote,
    Delay,
    Block,
}

impl QuickForm {
    pub const ORDER: [QuickForm; 6] = [
        QuickForm::NoIntercept,
        QuickForm::SetHeader,
        QuickForm::RemoveHeader,
        QuickForm::MapRemote,
        QuickForm::Delay,
        QuickForm::Block,
    ];

    /// The command-line flag, which also names the rule (`--block kind:sumdb`).
    pub fn flag(self) -> &'static str {
        match self {
            QuickForm::NoIntercept => "--no-intercept",
            QuickForm::SetHeader => "--set-header",
            QuickForm::RemoveHeader => "--remove-header",
            QuickForm::MapRemote => "--map-remote",
            QuickForm::Delay => "--delay",
            QuickForm::Block => "--block",
        }
    }

    fn values(self, q: &QuickForms) -> &[String] {
        match self {
            QuickForm::NoIntercept => &q.no_intercept,
            QuickForm::SetHeader => &q.set_header,
            QuickForm::RemoveHeader => &q.remove_header,
            QuickForm::MapRemote => &q.map_remote,
            QuickForm::Delay => &q.delay,
            QuickForm::Block => &q.block,
        }
    }

    fn rule(self, value: &str) -> Result<Rule, RulesError> {
        match self {
            QuickForm::NoIntercept => no_intercept(value),
            QuickForm::SetHeader => set_header(value),
            QuickForm::RemoveHeader => remove_header(value),
            QuickForm::MapRemote => map_remote(value),
            QuickForm::Delay => delay(value),
            QuickForm::Block => block(value),
        }
    }
}

/// One rule per quick form, in [`QuickForm::ORDER`].
pub(super) fn build(q: &QuickForms) -> Result<RuleSet, RulesError> {
    let mut rules = Vec::new();
    for form in QuickForm::ORDER {
        for value in form.values(q) {
            rules.push(form.rule(value)?);
        }
    }
    Ok(RuleSet { rules })
}

fn arg_err(flag: &str, value: &str, column: usize, message: impl Into<String>) -> RulesError {
    RulesError::Arg {
        flag: flag.into(),
        value: value.into(),
        column,
        message: message.into(),
    }
}

fn rule(flag: &str, value: &str, matcher: Filter, action: Action) -> Rule {
    Rule {
        name: format!("{flag} {value}"),
        matcher,
        actions: vec![action],
        line: 0,
    }
}

/// Parses a request-time filter from `value[offset..]`; errors point into `value`.
fn request_filter(
    flag: &str,
    value: &str,
    text: &str,
    offset: usize,
) -> Result<Filter, RulesError> {
    let filter = if text.trim().is_empty() {
        match_all().map_err(|m| arg_err(flag, value, offset + 1, m))?
    } else {
        Filter::parse(text).map_err(|e| {
            arg_err(
                flag,
                value,
                offset + e.position + 1,
                format!("invalid filter: {}", filter_message(&e)),
            )
        })?
    };
    if filter.needs_response() {
        let message = format!("the filter looks at the response, but {flag} acts before there is one (use reqheader: for request headers)");
        return Err(arg_err(flag, value, offset + 1, message));
    }
    Ok(filter)
}

fn header_name(flag: &str, value: &str, name: &str) -> Result<String, RulesError> {
    let name = name.trim();
    match http::HeaderName::from_bytes(name.as_bytes()) {
        Ok(_) => Ok(name.to_string()),
        Err(_) => Err(arg_err(
            flag,
            value,
            1,
            format!("{name:?} is not a valid header name"),
        )),
    }
}

fn set_header(value: &str) -> Result<Rule, RulesError> {
    let flag = QuickForm::SetHeader.flag();
    let Some((name, header_value)) = value.split_once(':') else {
        return Err(arg_err(flag, value, 1, "expected \"Name: value\""));
    };
    let name = header_name(flag, value, name)?;
    let header_value = header_value.trim();
    if http::HeaderValue::from_str(header_value).is_err() {
        let column = name.chars().count() + 2;
        return Err(arg_err(
            flag,
            value,
            column,
            format!("{header_value:?} is not a valid header value"),
        ));
    }
    let action = Action::SetHeader {
        phase: Phase::Request,
        name,
        value: header_value.to_string(),
    };
    Ok(rule(flag, value, match_all_arg(flag, value)?, action))
}

fn remove_header(value: &str) -> Result<Rule, RulesError> {
    let flag = QuickForm::RemoveHeader.flag();
    let name = header_name(flag, value, value)?;
    let action = Action::RemoveHeader {
        phase: Phase::Request,
        name,
    };
    Ok(rule(flag, value, match_all_arg(flag, value)?, action))
}

fn match_all_arg(flag: &str, value: &str) -> Result<Filter, RulesError> {
    match_all().map_err(|m| arg_err(flag, value, 1, m))
}

fn block(value: &str) -> Result<Rule, RulesError> {
    let flag = QuickForm::Block.flag();
    let matcher = request_filter(flag, value, value, 0)?;
    let name = format!("{flag} {value}");
    let action = Action::Block {
        status: 403,
        reason: block_reason(&name, None),
    };
    Ok(rule(flag, value, matcher, action))
}

/// `--no-intercept GLOB` is the rule `match = "host:GLOB"`, `no_intercept = true`: one
/// matcher for both spellings. A glob is a host name with `*` and `?`, nothing a filter would
/// read as syntax.
fn no_intercept(value: &str) -> Result<Rule, RulesError> {
    let flag = QuickForm::NoIntercept.flag();
    let glob = value.trim();
    let bad = glob.char_indices().find(|(_, c)| {
        !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '*' | '?' | ':' | '[' | ']'))
    });
    if let Some((at, c)) = bad {
        return Err(arg_err(
            flag,
            value,
            value[..at].chars().count() + 1,
            format!("{c:?} cannot be part of a host glob (letters, digits, . - _ * ?)"),
        ));
    }
    if glob.is_empty() {
        return Err(arg_err(
            flag,
            value,
            1,
            "expected a host glob such as *.corp.example",
        ));
    }
    let matcher = Filter::parse(&format!("host:{glob}"))
        .map_err(|e| arg_err(flag, value, 1, format!("invalid host glob: {}", e.message)))?;
    Ok(rule(flag, value, matcher, Action::NoIntercept))
}

fn delay(value: &str) -> Result<Rule, RulesError> {
    let flag = QuickForm::Delay.flag();
    let (filter, ms, ms_offset) = match value.rsplit_once('=') {
        Some((filter, ms)) => (filter, ms, filter.chars().count() + 1),
        None => ("", value, 0),
    };
    let request_ms = parse_millis(ms).map_err(|m| {
        arg_err(
            flag,
            value,
            ms_offset + 1,
            format!("{m}; expected FILTER=MS or MS"),
        )
    })?;
    let matcher = request_filter(flag, value, filter, 0)?;
    let action = Action::Delay {
        request_ms,
        response_ms: 0,
    };
    Ok(rule(flag, value, matcher, action))
}

fn map_remote(value: &str) -> Result<Rule, RulesError> {
    let flag = QuickForm::MapRemote.flag();
    let lower = value.to_ascii_lowercase();
    let split = ["=http://", "=https://"]
        .iter()
        .filter_map(|sep| lower.find(sep))
        .min();
    let Some(split) = split else {
        return Err(arg_err(flag, value, 1, "expected FROM=TO, two http(s) URL prefixes (e.g. https://proxy.golang.org=http://127.0.0.1:3000/goproxy)"));
    };
    let (from, to) = (&value[..split], &value[split + 1..]);
    let from =
        RemoteTarget::parse(from).map_err(|m| arg_err(flag, value, 1, format!("FROM: {m}")))?;
    let to_column = value[..split].chars().count() + 2;
    let mut target =
        RemoteTarget::parse(to).map_err(|m| arg_err(flag, value, to_column, format!("TO: {m}")))?;
    target.strip_prefix = from.path.clone();
    let matcher = Filter::parse(&prefix_filter(&from)).map_err(|e| {
        arg_err(
            flag,
            value,
            1,
            format!("FROM: cannot match this prefix: {}", filter_message(&e)),
        )
    })?;
    Ok(rule(flag, value, matcher, Action::MapRemote { to: target }))
}

/// `url:~"^(?i:https://host)(:443)?/path([/?#]|$)"`: URLs under `from`'s origin and path,
/// the host in any case, the default port written or not, the path at a segment boundary.
fn prefix_filter(from: &RemoteTarget) -> String {
    let host = if from.host.contains(':') {
        format!("[{}]", from.host)
    } else {
        from.host.clone()
    };
    let default = if from.scheme == "https" { 443 } else { 80 };
    let port = if from.port == default {
        format!("(:{default})?")
    } else {
        format!(":{}", from.port)
    };
    let regex = format!(
        "^(?i:{}://{}){port}{}([/?#]|$)",
        from.scheme,
        regex::escape(&host),
        regex::escape(&from.path)
    );
    let quoted = regex.replace('\\', "\\\\").replace('"', "\\\"");
    format!("url:~\"{quoted}\"")
}
