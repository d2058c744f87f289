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
use serde::Deserialize;

use crate::access::RequestFilter;
use crate::source::LogEvent;

/// The keys of a request record ([`RequestRecord`]) that filters, stats and visits read, borrowed
/// from the message. A string with an escape cannot be borrowed; such a message (rare: a quote or
/// a backslash in a user agent) is read through the full record instead.
#[derive(Debug, Deserialize)]
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
            serde_json::from_str::<View<'_>>(message).ok()
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
    use crate::access::decode;
    use crate::sample;

    fn event(message: String) -> LogEvent {
        LogEvent {
            timestamp: 0,
            id: "1".into(),
            message: message.into(),
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
                status: vec![crate::access::StatusFilter::Class(5)],
                ..Default::default()
            },
            RequestFilter {
                path: Some("/apply".to_owned()),
                host: Some("EXAMPLE".to_lowercase()),
                ..Default::default()
            },
        ];
        let mut events: Vec<(LogEvent, bool)> =
            sample::alb_requests(300, 1_795_132_800_000_000, 3600)
                .map(|e| (event(e.message), false))
                .collect();
        for e in sample::day(1_795_132_800_000_000) {
            let nginx = e.group == sample::Group::NginxAccess;
            if nginx || e.group == sample::Group::Lb {
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
