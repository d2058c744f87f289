//! Reading request records cheaply, for the endpoints that look at every request of a range
//! (stats, visits) rather than showing each one.
//!
//! [`Record::from_json`](logdesk_core::Record::from_json) builds an owned record with some thirty
//! fields, a dozen of them strings, for every event: most of a stats request's time went there.
//! Here the JSON is read into a borrowed view with only the keys the filters, the stats and the
//! visits use (strings borrowed from the message; one with an escaped string is read in full),
//! and copied into one [`RequestRecord`] that is reused from event to event, so a record costs
//! no allocation once the scratch strings have grown. The filters ([`RequestFilter::matches`]) and the core's
//! analysis code then run on that record unchanged, so answers are the same as through the full
//! record.

use logdesk_core::Record;
use logdesk_core::nginx::LogFormat;
use logdesk_core::record::RequestRecord;
use logdesk_core::scan;
use serde::Deserialize;

use crate::requests::RequestFilter;
use crate::source::LogEvent;

/// The keys of a request record ([`RequestRecord`]) that filters, stats and visits read, borrowed
/// from the message. A string with an escape cannot be borrowed; such a message (rare: a quote or
/// a backslash in a user agent) is read through the full record instead.
#[derive(Debug, Default, PartialEq, Deserialize)]
struct View<'a> {
    k: &'a str,
    t: i64,
    #[serde(borrow, default)]
    ip: Option<&'a str>,
    #[serde(borrow, default)]
    h: Option<&'a str>,
    #[serde(borrow, default)]
    m: Option<&'a str>,
    #[serde(borrow, default)]
    u: Option<&'a str>,
    #[serde(borrow, default)]
    rq: Option<&'a str>,
    #[serde(default)]
    s: Option<u16>,
    #[serde(default)]
    ts: Option<u16>,
    #[serde(borrow, default)]
    ua: Option<&'a str>,
    #[serde(default)]
    d: Option<f64>,
    #[serde(default)]
    dq: Option<f64>,
    #[serde(default)]
    dt: Option<f64>,
    #[serde(default)]
    dr: Option<f64>,
    #[serde(borrow, default)]
    tr: Option<&'a str>,
    #[serde(borrow, default)]
    cid: Option<&'a str>,
}

/// A value of the compact JSON [`fast_view`] reads.
enum Value<'a> {
    Str(&'a str),
    Num(&'a str),
    Null,
    Bool,
}

/// Reads the [`View`] straight from the compact JSON the ingest writes (`{"k":"alb","t":…}`: no
/// white space, strings without escapes, numbers, `null`, booleans), or `None` for anything
/// else, which then goes to serde_json. It gives what serde_json gives for every message it
/// accepts (a property test compares the two); it exists because a stats request reads every
/// record of its range and serde_json's general parser was most of that request's time.
fn fast_view(message: &str) -> Option<View<'_>> {
    const K: u32 = 1;
    const T: u32 = 1 << 1;
    let b = message.as_bytes();
    // Control characters are invalid inside JSON strings ([`string_at`] refuses them) and
    // anywhere else (no branch below accepts one).
    if b.first() != Some(&b'{') {
        return None;
    }
    let mut v = View::default();
    let mut seen = 0u32;
    let mut i = 1;
    loop {
        let (key, next) = string_at(message, i)?;
        i = next;
        if b.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        let value = match b.get(i)? {
            b'"' => {
                let (text, next) = string_at(message, i)?;
                i = next;
                Value::Str(text)
            }
            b'-' | b'0'..=b'9' => {
                let end = number_end(b, i)?;
                let text = message.get(i..end)?;
                i = end;
                Value::Num(text)
            }
            _ => {
                let rest = b.get(i..)?;
                let (word, value) = if rest.starts_with(b"null") {
                    (4, Value::Null)
                } else if rest.starts_with(b"true") {
                    (4, Value::Bool)
                } else if rest.starts_with(b"false") {
                    (5, Value::Bool)
                } else {
                    // Arrays and objects (`x`, extra fields): left to serde_json.
                    return None;
                };
                i += word;
                value
            }
        };
        // serde rejects a field given twice.
        let mut once = |bit: u32| {
            let fresh = seen & bit == 0;
            seen |= bit;
            fresh.then_some(())
        };
        match key {
            "k" => (once(K)?, v.k = text(value)?).1,
            "t" => (once(T)?, v.t = integer(value)?).1,
            "ip" => (once(1 << 2)?, v.ip = opt_text(value)?).1,
            "h" => (once(1 << 3)?, v.h = opt_text(value)?).1,
            "m" => (once(1 << 4)?, v.m = opt_text(value)?).1,
            "u" => (once(1 << 5)?, v.u = opt_text(value)?).1,
            "rq" => (once(1 << 6)?, v.rq = opt_text(value)?).1,
            "s" => (once(1 << 7)?, v.s = opt_status(value)?).1,
            "ts" => (once(1 << 8)?, v.ts = opt_status(value)?).1,
            "ua" => (once(1 << 9)?, v.ua = opt_text(value)?).1,
            "d" => (once(1 << 10)?, v.d = opt_float(value)?).1,
            "dq" => (once(1 << 11)?, v.dq = opt_float(value)?).1,
            "dt" => (once(1 << 12)?, v.dt = opt_float(value)?).1,
            "dr" => (once(1 << 13)?, v.dr = opt_float(value)?).1,
            "tr" => (once(1 << 14)?, v.tr = opt_text(value)?).1,
            "cid" => (once(1 << 15)?, v.cid = opt_text(value)?).1,
            _ => {}
        }
        match b.get(i)? {
            b',' => i += 1,
            b'}' if i + 1 == b.len() => break,
            _ => return None,
        }
    }
    (seen & (K | T) == K | T).then_some(v)
}

/// The string starting with the quote at `i` and the index after its closing quote; `None`
/// when it has an escape or a control character (serde_json refuses those raw).
fn string_at(message: &str, i: usize) -> Option<(&str, usize)> {
    let b = message.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let mut at = start;
    // Eight bytes at a time until a word holds something to look at byte by byte.
    while let Some(Ok(chunk)) = b.get(at..at + 8).map(<[u8; 8]>::try_from) {
        if scan::word_needs_escape(u64::from_le_bytes(chunk)) {
            break;
        }
        at += 8;
    }
    while let Some(&c) = b.get(at) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        at += 1;
    }
    if b.get(at) != Some(&b'"') {
        return None;
    }
    Some((message.get(start..at)?, at + 1))
}

/// The end of the JSON number starting at `i` (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`),
/// `None` when it is not one.
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |i: usize| {
        b.get(i..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match (b.get(i), digits(i)) {
        (Some(b'0'), 1) => i += 1,
        (Some(b'1'..=b'9'), n) => i += n,
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    Some(i)
}

fn text(value: Value<'_>) -> Option<&str> {
    match value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// `Some(None)` for `null`, `None` (not this reader's to decide) for another type.
fn opt_text(value: Value<'_>) -> Option<Option<&str>> {
    match value {
        Value::Str(s) => Some(Some(s)),
        Value::Null => Some(None),
        _ => None,
    }
}

/// The value of a run of at most 19 ASCII digits (no overflow in a u64), `None` otherwise.
fn digits_value(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(c - b'0');
    }
    Some(n)
}

/// A plain integer (digits, an optional minus), as serde reads an `i64`; longer numbers are
/// left to serde_json.
fn integer(value: Value<'_>) -> Option<i64> {
    let Value::Num(n) = value else { return None };
    match n.as_bytes().split_first()? {
        (b'-', digits) => digits_value(digits).and_then(|d| 0i64.checked_sub_unsigned(d)),
        _ => digits_value(n.as_bytes()).and_then(|d| i64::try_from(d).ok()),
    }
}

fn opt_status(value: Value<'_>) -> Option<Option<u16>> {
    match value {
        Value::Null => Some(None),
        Value::Num(n) => digits_value(n.as_bytes())
            .and_then(|d| u16::try_from(d).ok())
            .map(Some),
        _ => None,
    }
}

/// A plain decimal ([`scan::decimal`]: at most 15 digits, no exponent), which is what
/// serde_json computes for it too; anything longer is left to serde_json.
fn opt_float(value: Value<'_>) -> Option<Option<f64>> {
    let n = match value {
        Value::Null => return Some(None),
        Value::Num(n) => n,
        _ => return None,
    };
    let value = match n.strip_prefix('-') {
        Some(digits) => -scan::decimal(digits)?,
        None => scan::decimal(n)?,
    };
    Some(Some(value))
}

/// Copies `v` into `dst`, reusing the string already there.
fn set(dst: &mut Option<String>, v: Option<&str>) {
    match (dst.as_mut(), v) {
        (Some(d), Some(v)) => {
            d.clear();
            d.push_str(v);
        }
        (None, Some(v)) => *dst = Some(v.to_owned()),
        (_, None) => *dst = None,
    }
}

/// A reusable request record for reading many events one at a time.
#[derive(Debug, Default)]
pub struct Scratch {
    rec: RequestRecord,
}

impl Scratch {
    /// An empty scratch record.
    pub fn new() -> Scratch {
        Scratch::default()
    }

    /// Reads `e` (a logdesk record from the load-balancer group, or a raw nginx line when
    /// `nginx`) into the scratch record and returns it when it is a request of `[from, to)`
    /// that passes `filter`. Only the keys of the view are to be read: the others may hold an
    /// earlier event's values.
    pub fn read(
        &mut self,
        e: &LogEvent,
        nginx: bool,
        formats: &[LogFormat],
        range: (i64, i64),
        filter: &RequestFilter,
    ) -> Option<&RequestRecord> {
        self.read_message(&e.message, nginx, formats, range, filter)
    }

    /// [`read`](Scratch::read) for a message on its own (a Logs Insights `@message`).
    pub fn read_message(
        &mut self,
        message: &str,
        nginx: bool,
        formats: &[LogFormat],
        (from, to): (i64, i64),
        filter: &RequestFilter,
    ) -> Option<&RequestRecord> {
        let json = message.starts_with('{');
        let kind_ok = |k: &str| {
            if nginx {
                k == "nginx"
            } else {
                matches!(k, "alb" | "clb" | "nginx")
            }
        };
        let view = if json {
            fast_view(message).or_else(|| serde_json::from_str::<View<'_>>(message).ok())
        } else {
            None
        };
        if let Some(v) = view {
            if !kind_ok(v.k) {
                return None;
            }
            let r = &mut self.rec;
            r.t = v.t;
            set(&mut r.client_ip, v.ip);
            set(&mut r.host, v.h);
            set(&mut r.method, v.m);
            set(&mut r.url, v.u);
            set(&mut r.request_raw, v.rq);
            set(&mut r.user_agent, v.ua);
            set(&mut r.trace_id, v.tr);
            set(&mut r.conn_trace_id, v.cid);
            r.status = v.s;
            r.target_status = v.ts;
            r.duration = v.d;
            r.request_time = v.dq;
            r.target_time = v.dt;
            r.response_time = v.dr;
        } else if json && let Ok(full) = Record::from_json(message) {
            match full {
                Record::Nginx(r) if nginx => self.rec = r,
                Record::Alb(r) | Record::Clb(r) | Record::Nginx(r) if !nginx => self.rec = r,
                _ => return None,
            }
        } else if nginx {
            self.rec = formats.iter().find_map(|f| f.parse_line(message).ok())?;
        } else {
            return None;
        }
        let r = &self.rec;
        (r.t >= from && r.t < to && filter.matches(r)).then_some(r)
    }
}

/// The owned copy of the keys of the view, for callers that keep records (visits).
pub fn keep(r: &RequestRecord) -> RequestRecord {
    RequestRecord {
        t: r.t,
        client_ip: r.client_ip.clone(),
        host: r.host.clone(),
        method: r.method.clone(),
        url: r.url.clone(),
        request_raw: r.request_raw.clone(),
        user_agent: r.user_agent.clone(),
        trace_id: r.trace_id.clone(),
        conn_trace_id: r.conn_trace_id.clone(),
        status: r.status,
        target_status: r.target_status,
        duration: r.duration,
        request_time: r.request_time,
        target_time: r.target_time,
        response_time: r.response_time,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::decode;
    use crate::synthetic;
    use proptest::prelude::*;

    fn event(message: String) -> LogEvent {
        LogEvent {
            timestamp: 0,
            id: "1".into(),
            message: message.into(),
        }
    }

    /// What serde_json reads for a message (the reference the fast reader must agree with).
    fn serde_view(m: &str) -> Option<View<'_>> {
        serde_json::from_str::<View<'_>>(m).ok()
    }

    proptest! {
        /// On any record (escapes, control characters, any number), the fast reader either
        /// steps aside or reads exactly what serde_json reads; on plain text it never steps
        /// aside.
        #[test]
        fn fast_view_equals_serde(
            ip in prop::option::of(".{0,20}"),
            ua in prop::option::of(prop_oneof![".{0,40}", "[ -~]{0,40}"]),
            t in prop::num::i64::ANY,
            s in prop::option::of(0u32..70_000),
            d in prop::option::of(prop_oneof![
                prop::num::f64::ANY,
                (0u32..100_000, 0u32..6).prop_map(|(m, e)| f64::from(m) / 10f64.powi(e as i32)),
            ]),
            extra in prop::option::of(prop_oneof![
                Just(serde_json::json!(["a", "b"])),
                Just(serde_json::json!(true)),
                Just(serde_json::json!(1.5e300)),
            ]),
        ) {
            let mut o = serde_json::json!({"k": "alb", "v": 1, "t": t, "ip": ip, "ua": ua, "s": s, "dt": d});
            if let Some(x) = extra {
                o["x"] = x;
            }
            let m = o.to_string();
            let fast = fast_view(&m);
            let slow = serde_view(&m);
            if fast.is_some() {
                prop_assert_eq!(&fast, &slow, "{}", m);
            }
            // Numbers with an exponent or more than 15 digits are left to serde_json.
            let short = |v: f64| {
                let t = serde_json::json!(v).to_string();
                !t.contains(['e', 'E']) && t.replace(['-', '.'], "").len() <= 15
            };
            let plain = !m.contains('\\') && !m.contains('[') && slow.is_some() && d.is_none_or(short);
            prop_assert!(!plain || fast.is_some(), "{}", m);
        }

        /// Mangled records: whatever the fast reader accepts, serde_json reads the same.
        #[test]
        fn fast_view_on_mangled_records(cut in 0usize..200, at in 0usize..200, junk in "[ -~\\t]{0,4}") {
            let base = r#"{"k":"alb","v":1,"t":1795132800000000,"ip":"203.0.113.5","m":"GET","u":"https://x.jp/a?b=1","s":200,"ts":200,"ua":"curl/8","dq":0.001,"dt":0.05,"dr":0,"tr":"Root=1-a-b","x":null}"#;
            let mut m = base.to_owned();
            let at = at.min(m.len());
            m.insert_str(at, &junk);
            m.truncate(m.len().saturating_sub(cut % 4));
            let fast = fast_view(&m);
            if fast.is_some() {
                prop_assert_eq!(&fast, &serde_view(&m), "{}", m);
            }
        }
    }

    /// The scratch record holds what the full record holds on every key the view reads, and
    /// the same events pass the same filters.
    #[test]
    fn same_records_as_the_full_decoder() {
        let formats = [LogFormat::extended(), LogFormat::combined()];
        let filters = [
            RequestFilter::default(),
            RequestFilter {
                status: vec![crate::requests::StatusFilter::Class(5)],
                ..Default::default()
            },
            RequestFilter {
                path: Some("/apply".to_owned()),
                host: Some("EXAMPLE".to_lowercase()),
                ..Default::default()
            },
        ];
        let mut events: Vec<(LogEvent, bool)> =
            synthetic::alb_requests(300, 1_795_132_800_000_000, 3600)
                .map(|e| (event(e.message), false))
                .collect();
        for e in synthetic::day(1_795_132_800_000_000) {
            let nginx = e.group == synthetic::Group::NginxAccess;
            if nginx || e.group == synthetic::Group::Lb {
                events.push((event(e.message), nginx));
            }
        }
        // Escapes in strings, and a record of another kind.
        events.push((
            event(
                r#"{"k":"alb","v":1,"t":5,"u":"https://x.jp/\u3042?q=\"a\"","s":200,"ua":"A\\B"}"#
                    .to_owned(),
            ),
            false,
        ));
        events.push((event(r#"{"k":"mail","v":1,"t":5}"#.to_owned()), false));
        events.push((event("not json".to_owned()), false));
        let mut scratch = Scratch::new();
        let mut passed = 0;
        for f in &filters {
            for (e, nginx) in &events {
                let full = decode(e, *nginx, &formats)
                    .map(|(_, r)| r)
                    .filter(|r| f.matches(r));
                let light = scratch.read(e, *nginx, &formats, (i64::MIN, i64::MAX), f);
                match (full, light) {
                    (None, None) => {}
                    (Some(full), Some(light)) => {
                        assert_eq!(keep(&full), keep(light), "{}", e.message);
                        passed += 1;
                    }
                    (full, light) => panic!("{}: {full:?} vs {light:?}", e.message),
                }
            }
        }
        assert!(passed > 300, "{passed}");
    }
}
