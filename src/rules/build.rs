//! From the raw TOML shape to validated rules: filters, regexes, URLs, sizes, statuses and
//! referenced files are checked here, and every error points at the offending value.
//!
//! Reads no file contents; only asks whether `map_local` / `body_file` paths exist.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::error::{filter_message, Pos, RulesError};
use super::model::{block_reason, match_all, Action, Body, Phase, Rule, RuleSet};
use super::raw::{Amount, HeaderList, RawBlock, RawFile, RawHeaderOps, RawRespond, RawRule};
use super::values::{check_status, parse_rate, parse_size, RemoteTarget};
use crate::filter::Filter;

/// Keys that decide where a request goes; a rule may have at most one.
const DESTINATIONS: &str = "map_remote, map_local, respond, block, hang, dns_fail, refuse";

/// Parses and validates a whole rules file; `path` only names it in errors.
pub(super) fn parse_file(text: &str, base_dir: &Path, path: &Path) -> Result<RuleSet, RulesError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let pos = Pos::at(text, e.span().map_or(0, |s| s.start));
        RulesError::Syntax {
            path: path.to_path_buf(),
            line: pos.line,
            column: pos.column,
            message: e.message().trim_end().to_string(),
            snippet: pos.snippet,
        }
    })?;
    let file = FileCx {
        text,
        path,
        base_dir,
    };
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut rules = Vec::with_capacity(raw.rule.len());
    for spanned in raw.rule {
        let line = Pos::of(text, &spanned.span()).line;
        let raw = spanned.into_inner();
        let cx = RuleCx {
            file: &file,
            name: raw.name.get_ref().clone(),
        };
        check_name(&cx, &raw.name, line, &mut first_line)?;
        rules.push(build_rule(&cx, raw, line)?);
    }
    Ok(RuleSet { rules })
}

struct FileCx<'a> {
    text: &'a str,
    path: &'a Path,
    base_dir: &'a Path,
}

/// Where errors of one rule are reported.
struct RuleCx<'a> {
    file: &'a FileCx<'a>,
    name: String,
}

impl RuleCx<'_> {
    fn err(&self, span: &Range<usize>, message: impl Into<String>) -> RulesError {
        self.err_at(Pos::of(self.file.text, span), message)
    }

    fn err_at(&self, pos: Pos, message: impl Into<String>) -> RulesError {
        RulesError::Invalid {
            path: self.file.path.to_path_buf(),
            line: pos.line,
            column: pos.column,
            rule: self.name.clone(),
            message: message.into(),
            snippet: pos.snippet,
        }
    }

    /// A path from the file, resolved against the file's directory; it must exist.
    fn existing_path(
        &self,
        value: &Spanned<String>,
        key: &str,
        file_only: bool,
    ) -> Result<PathBuf, RulesError> {
        let path = self.file.base_dir.join(value.get_ref());
        let ok = if file_only {
            path.is_file()
        } else {
            path.exists()
        };
        if !ok {
            let what = if file_only {
                "file"
            } else {
                "file or directory"
            };
            return Err(self.err(
                &value.span(),
                format!("{key}: no such {what}: {}", path.display()),
            ));
        }
        Ok(path)
    }
}

fn check_name(
    cx: &RuleCx<'_>,
    name: &Spanned<String>,
    line: usize,
    first_line: &mut HashMap<String, usize>,
) -> Result<(), RulesError> {
    if name.get_ref().trim().is_empty() {
        return Err(cx.err(&name.span(), "the rule name is empty"));
    }
    if let Some(first) = first_line.insert(name.get_ref().clone(), line) {
        let message = format!("duplicate rule name (first used by the rule on line {first})");
        return Err(cx.err(&name.span(), message));
    }
    Ok(())
}

fn build_rule(cx: &RuleCx<'_>, raw: RawRule, line: usize) -> Result<Rule, RulesError> {
    let matcher = build_matcher(cx, raw.matcher.as_ref())?;
    let actions = build_actions(cx, &raw)?;
    if actions.is_empty() {
        return Err(cx.err(
            &raw.name.span(),
            "the rule has no action (see docs/RULES.md for the list)",
        ));
    }
    check_phases(cx, &matcher, raw.matcher.as_ref(), &actions)?;
    Ok(Rule {
        name: cx.name.clone(),
        matcher,
        actions,
        line,
    })
}

/// The rule's actions in the fixed order documented in docs/RULES.md.
fn build_actions(cx: &RuleCx<'_>, raw: &RawRule) -> Result<Vec<Action>, RulesError> {
    let mut actions = Vec::new();
    if flag(&raw.ignore) {
        actions.push(Action::Ignore);
    }
    if flag(&raw.no_intercept) {
        actions.push(Action::NoIntercept);
    }
    header_ops(cx, Phase::Request, raw.request.as_ref(), &mut actions)?;
    if let Some(delay) = &raw.delay {
        actions.push(build_delay(cx, delay)?);
    }
    if let Some(to) = &raw.map_remote {
        let target = RemoteTarget::parse(to.get_ref())
            .map_err(|m| cx.err(&to.span(), format!("map_remote: {m}")))?;
        actions.push(Action::MapRemote { to: target });
    }
    header_ops(cx, Phase::Response, raw.response.as_ref(), &mut actions)?;
    if let Some(rate) = &raw.throttle {
        let bytes_per_sec = amount(cx, rate, "throttle", parse_rate)?;
        if bytes_per_sec == 0 {
            return Err(cx.err(
                &rate.span(),
                "throttle: 0 bytes/s would never finish; use hang instead",
            ));
        }
        actions.push(Action::Throttle { bytes_per_sec });
    }
    if let Some(after) = &raw.reset {
        let after_bytes = amount(cx, after, "reset", parse_size)?;
        actions.push(Action::Reset { after_bytes });
    }
    if let Some(terminal) = terminal_action(cx, raw)? {
        actions.push(terminal);
    }
    Ok(actions)
}

fn flag(value: &Option<Spanned<bool>>) -> bool {
    value.as_ref().is_some_and(|v| *v.get_ref())
}

/// The rule's filter; the filter's own error position is folded into the column when the
/// string has no escapes (so the caret lands on the offending character).
fn build_matcher(cx: &RuleCx<'_>, text: Option<&Spanned<String>>) -> Result<Filter, RulesError> {
    let Some(text) = text else {
        return match_all().map_err(|e| cx.err(&(0..0), e));
    };
    Filter::parse(text.get_ref()).map_err(|e| {
        let span = text.span();
        let raw = cx.file.text.get(span.clone()).unwrap_or_default();
        let value = text.get_ref();
        let plain = raw == format!("\"{value}\"") || raw == format!("'{value}'");
        let shift = if plain { 1 + e.position } else { 0 };
        let pos = Pos::of(cx.file.text, &span).shifted(shift);
        cx.err_at(pos, format!("invalid match: {}", filter_message(&e)))
    })
}

/// A rule whose `match` needs the response can only act on the response.
fn check_phases(
    cx: &RuleCx<'_>,
    matcher: &Filter,
    text: Option<&Spanned<String>>,
    actions: &[Action],
) -> Result<(), RulesError> {
    let (Some(text), true) = (text, matcher.needs_response()) else {
        return Ok(());
    };
    let early = actions
        .iter()
        .find(|a| a.acts_in(Phase::Request) || matches!(a, Action::NoIntercept));
    match early {
        Some(action) => Err(cx.err(
            &text.span(),
            format!(
                "match looks at the response, but {} acts before there is one; only response.* headers, delay.response_ms, throttle and reset can use a response match",
                action.key()
            ),
        )),
        None => Ok(()),
    }
}

fn header_ops(
    cx: &RuleCx<'_>,
    phase: Phase,
    ops: Option<&RawHeaderOps>,
    out: &mut Vec<Action>,
) -> Result<(), RulesError> {
    let Some(ops) = ops else { return Ok(()) };
    for (name, value) in headers(cx, ops.set_header.as_ref())? {
        out.push(Action::SetHeader { phase, name, value });
    }
    for (name, value) in headers(cx, ops.add_header.as_ref())? {
        out.push(Action::AddHeader { phase, name, value });
    }
    for name in ops.remove_header.iter().flatten() {
        let name = header_name(cx, name)?;
        out.push(Action::RemoveHeader { phase, name });
    }
    for r in ops.replace_header.iter().flatten() {
        let pattern = regex::Regex::new(r.pattern.get_ref()).map_err(|e| {
            cx.err(
                &r.pattern.span(),
                format!("invalid pattern: {}", regex_message(&e)),
            )
        })?;
        out.push(Action::ReplaceHeader {
            phase,
            name: header_name(cx, &r.name)?,
            pattern,
            with: r.with.clone(),
        });
    }
    Ok(())
}

/// The last line of the regex crate's multi-line message: `error: unclosed group`.
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().last().unwrap_or_default();
    last.trim().trim_start_matches("error: ").to_string()
}

fn headers(
    cx: &RuleCx<'_>,
    list: Option<&HeaderList>,
) -> Result<Vec<(String, String)>, RulesError> {
    let mut out = Vec::new();
    for (name, value) in list.map(|l| l.0.as_slice()).unwrap_or_default() {
        let name = header_name(cx, name)?;
        if http::HeaderValue::from_str(value.get_ref()).is_err() {
            return Err(cx.err(
                &value.span(),
                format!("{:?} is not a valid header value", value.get_ref()),
            ));
        }
        out.push((name, value.get_ref().clone()));
    }
    Ok(out)
}

fn header_name(cx: &RuleCx<'_>, name: &Spanned<String>) -> Result<String, RulesError> {
    match http::HeaderName::from_bytes(name.get_ref().as_bytes()) {
        Ok(_) => Ok(name.get_ref().clone()),
        Err(_) => Err(cx.err(
            &name.span(),
            format!("{:?} is not a valid header name", name.get_ref()),
        )),
    }
}

fn build_delay(
    cx: &RuleCx<'_>,
    delay: &Spanned<super::raw::RawDelay>,
) -> Result<Action, RulesError> {
    let d = delay.get_ref();
    let (request_ms, response_ms) = (d.request_ms.unwrap_or(0), d.response_ms.unwrap_or(0));
    if request_ms == 0 && response_ms == 0 {
        return Err(cx.err(
            &delay.span(),
            "delay needs request_ms and/or response_ms above 0",
        ));
    }
    Ok(Action::Delay {
        request_ms,
        response_ms,
    })
}

fn amount(
    cx: &RuleCx<'_>,
    value: &Spanned<Amount>,
    key: &str,
    parse: fn(&str) -> Result<u64, String>,
) -> Result<u64, RulesError> {
    match value.get_ref() {
        Amount::Int(n) => {
            u64::try_from(*n).map_err(|_| cx.err(&value.span(), format!("{key}: {n} is negative")))
        }
        Amount::Text(s) => parse(s).map_err(|m| cx.err(&value.span(), format!("{key}: {m}"))),
    }
}

/// Keys that decide where the request goes, as `(key, span)` in file order.
fn destinations(raw: &RawRule) -> Vec<(&'static str, Range<usize>)> {
    let on = |v: &Option<Spanned<bool>>| v.as_ref().filter(|v| *v.get_ref()).map(Spanned::span);
    let mut found: Vec<(&'static str, Range<usize>)> = [
        ("map_remote", raw.map_remote.as_ref().map(Spanned::span)),
        ("map_local", raw.map_local.as_ref().map(Spanned::span)),
        ("respond", raw.respond.as_ref().map(Spanned::span)),
        ("block", block_on(raw).map(Spanned::span)),
        ("hang", on(&raw.hang)),
        ("dns_fail", on(&raw.dns_fail)),
        ("refuse", on(&raw.refuse)),
    ]
    .into_iter()
    .filter_map(|(key, span)| span.map(|span| (key, span)))
    .collect();
    found.sort_by_key(|(_, span)| span.start);
    found
}

/// `block`, unless it is `block = false`.
fn block_on(raw: &RawRule) -> Option<&Spanned<RawBlock>> {
    raw.block
        .as_ref()
        .filter(|b| !matches!(b.get_ref(), RawBlock::Flag(false)))
}

/// The terminal action, if any, after checking that at most one key decides where the
/// request goes (`map_remote` is built elsewhere but counts); the error points at the second.
fn terminal_action(cx: &RuleCx<'_>, raw: &RawRule) -> Result<Option<Action>, RulesError> {
    if let [(first, _), (second, span), ..] = destinations(raw).as_slice() {
        let message = format!(
            "{second} and {first} both decide the answer; a rule can have only one of {DESTINATIONS}"
        );
        return Err(cx.err(span, message));
    }
    if let Some(path) = &raw.map_local {
        let path = cx.existing_path(path, "map_local", false)?;
        return Ok(Some(Action::MapLocal { path }));
    }
    if let Some(respond) = &raw.respond {
        return build_respond(cx, respond.get_ref()).map(Some);
    }
    if let Some(block) = block_on(raw) {
        return build_block(cx, block).map(Some);
    }
    let flags = [
        (&raw.hang, Action::Hang),
        (&raw.dns_fail, Action::DnsFail),
        (&raw.refuse, Action::Refuse),
    ];
    Ok(flags.into_iter().find(|(v, _)| flag(v)).map(|(_, a)| a))
}

fn build_respond(cx: &RuleCx<'_>, r: &RawRespond) -> Result<Action, RulesError> {
    let status = match &r.status {
        Some(s) => {
            check_status(*s.get_ref()).map_err(|m| cx.err(&s.span(), format!("respond: {m}")))?
        }
        None => 200,
    };
    let body = match (&r.body, &r.body_file) {
        (Some(_), Some(file)) => {
            return Err(cx.err(&file.span(), "respond: use body or body_file, not both"));
        }
        (_, Some(file)) => Body::File(cx.existing_path(file, "respond.body_file", true)?),
        (text, None) => Body::Text(text.clone().unwrap_or_default()),
    };
    Ok(Action::Respond {
        status,
        headers: headers(cx, r.headers.as_ref())?,
        body,
    })
}

fn build_block(cx: &RuleCx<'_>, block: &Spanned<RawBlock>) -> Result<Action, RulesError> {
    let (status, reason) = match block.get_ref() {
        RawBlock::Table(t) => (t.status.as_ref(), t.reason.as_deref()),
        RawBlock::Flag(_) => (None, None),
    };
    let status = match status {
        Some(s) => {
            check_status(*s.get_ref()).map_err(|m| cx.err(&s.span(), format!("block: {m}")))?
        }
        None => 403,
    };
    Ok(Action::Block {
        status,
        reason: block_reason(&cx.name, reason),
    })
}
