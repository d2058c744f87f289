//! Classic Load Balancer access log lines (`reference/alb.md`, section 8):
//!
//! ```text
//! time elb client:port backend:port request_processing_time backend_processing_time
//! response_processing_time elb_status_code backend_status_code received_bytes sent_bytes
//! "request" "user_agent" ssl_cipher ssl_protocol
//! ```
//!
//! Differences from ALB worth knowing: `time` is when the request *arrived*; `elb` is the load
//! balancer's name; TCP and SSL listeners log the request as `"- - - "` with `-` statuses; and
//! for HTTP listeners the byte counts exclude headers. The quoting rules are ALB's, so the ALB
//! tokenizer reads it. Old lines end after `request` (the user agent and TLS fields came
//! later), and fields after the 15th are kept in `extra`.

use std::borrow::Cow;

use crate::alb::{Endpoint, Request};
use crate::elb_format::{elb_format, native_keys, record_members};
use crate::record::{Record, RequestRecord};

elb_format! {
    /// One parsed Classic ELB access log line, borrowing from the line. `-` and `-1` are
    /// `None`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ClbEntry<'a> for RequestRecord in Record::Clb, required 12 {
        /// 1 `time`: when the load balancer received the request, µs UTC (the record's `t`:
        /// the response time is not logged).
        time: i64 = time(0, "time") => ["t" t],
        /// 2 `elb`: the load balancer's name.
        elb: &'a str = text(1, "elb") => ["lb" server],
        /// 3 `client:port`.
        client: Option<Endpoint<'a>> = endpoint(2, "client:port") => ["ip" client_ip, "cp" client_port],
        /// 4 `backend:port`; absent when no instance took the request.
        backend: Option<Endpoint<'a>> = endpoint(3, "backend:port")
            => ["tip" target_ip, "tpt" target_port],
        /// 5 `request_processing_time`, seconds.
        request_processing_time: Option<f64> = seconds(4, "request_processing_time")
            => ["dq" request_time],
        /// 6 `backend_processing_time`, seconds.
        backend_processing_time: Option<f64> = seconds(5, "backend_processing_time")
            => ["dt" target_time],
        /// 7 `response_processing_time`, seconds.
        response_processing_time: Option<f64> = seconds(6, "response_processing_time")
            => ["dr" response_time],
        /// 8 `elb_status_code` (absent for TCP listeners).
        elb_status_code: Option<u16> = status(7, "elb_status_code") => ["s" status],
        /// 9 `backend_status_code`.
        backend_status_code: Option<u16> = status(8, "backend_status_code") => ["ts" target_status],
        /// 10 `received_bytes` (HTTP: body only).
        received_bytes: Option<u64> = count(9, "received_bytes") => ["rb" received_bytes],
        /// 11 `sent_bytes` (HTTP: body only).
        sent_bytes: Option<u64> = count(10, "sent_bytes") => ["sb" sent_bytes],
        /// 12 `request`; a TCP listener's `- - - ` stays whole in `raw`.
        request: Request<'a> = request(11, "request")
            => ["m" method, "u" url, "pr" protocol, "rq" request_raw],
        /// 13 `user_agent`.
        user_agent: Option<Cow<'a, str>> = string(12, "user_agent") => ["ua" user_agent],
        /// 14 `ssl_cipher`.
        ssl_cipher: Option<&'a str> = word(13, "ssl_cipher") => ["ci" ssl_cipher],
        /// 15 `ssl_protocol`.
        ssl_protocol: Option<&'a str> = word(14, "ssl_protocol") => ["sp" ssl_protocol],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ParseError;
    use proptest::prelude::*;

    const TCP: &str = r#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -"#;

    #[test]
    fn line_table() {
        let e = parse_line(TCP).unwrap();
        assert_eq!(
            e.request,
            Request {
                raw: Some("- - - ".into()),
                ..Request::default()
            }
        );
        assert_eq!((e.elb_status_code, e.user_agent), (None, None));

        let failed = TCP.replace("0.001069 0.000028 0.000041", "-1 -1 -1");
        let e = parse_line(&failed).unwrap();
        assert_eq!(
            (
                e.request_processing_time,
                e.backend_processing_time,
                e.response_processing_time
            ),
            (None, None, None)
        );

        let no_backend = TCP.replace(" 10.0.0.1:80 ", " - ");
        assert_eq!(parse_line(&no_backend).unwrap().backend, None);

        let old = &TCP[..TCP.find(r#" "-" - -"#).unwrap()];
        assert_eq!(parse_line(old).unwrap().ssl_cipher, None);
        let cut = &TCP[..TCP.find(r#" "- - - ""#).unwrap()];
        assert_eq!(parse_line(cut), Err(ParseError::MissingField("request")));
        assert_eq!(parse_line("\n"), Err(ParseError::Empty));
    }

    /// The serde names of `RequestRecord` are the table's keys.
    #[test]
    fn the_record_keys_are_the_tables() {
        let full = r#"2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 200 200 82 305 "GET http://x/ HTTP/1.1" "curl" ECDHE TLSv1.2 future"#;
        let raw = full.replace("GET http://x/ HTTP/1.1", "- - -");
        let json: Vec<String> = [full, &raw]
            .iter()
            .map(|line| parse_record(line).unwrap().to_json())
            .collect();
        crate::elb_format::assert_record_keys(&json, RECORD_KEYS);
    }

    #[test]
    fn every_prefix_is_handled() {
        for (cut, _) in TCP.char_indices() {
            if let Err(e) = parse_line(&TCP[..cut]) {
                assert!(!matches!(e, ParseError::Format(_)), "{cut}: {e}");
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics(line in ".*") {
            let _ = parse_line(&line);
            let _ = parse_record(&line);
        }

        #[test]
        fn render_then_parse_gives_back_the_entry(
            time in 0i64..4_102_444_800_000_000,
            timings in prop::collection::vec(prop::option::of(0u32..10_000_000), 3),
            statuses in (prop::option::of(100u16..600), prop::option::of(100u16..600)),
            bytes in (prop::option::of(any::<u64>()), prop::option::of(any::<u64>())),
            url in "/[!#-\\[\\]-~]{0,30}",
            ua in prop::option::of("[ !#-\\[\\]-~]{2,40}"),
            tls in prop::option::of(("[A-Z0-9-]{5,20}", "TLSv1\\.[0-3]")),
        ) {
            let secs: Vec<Option<f64>> = timings.iter().map(|t| t.map(|us| f64::from(us) / 1e6)).collect();
            let entry = ClbEntry {
                time,
                elb: "my-lb",
                client: Some(Endpoint { ip: "192.0.2.1", port: 2817 }),
                backend: None,
                request_processing_time: secs[0],
                backend_processing_time: secs[1],
                response_processing_time: secs[2],
                elb_status_code: statuses.0,
                backend_status_code: statuses.1,
                received_bytes: bytes.0,
                sent_bytes: bytes.1,
                request: Request {
                    method: Some("POST"),
                    url: Some(Cow::Borrowed(&url)),
                    protocol: Some("HTTP/1.1"),
                    raw: None,
                },
                user_agent: ua.as_deref().map(Cow::Borrowed),
                ssl_cipher: tls.as_ref().map(|t| t.0.as_str()),
                ssl_protocol: tls.as_ref().map(|t| t.1.as_str()),
                extra: Vec::new(),
            };
            let ts = jiff::Timestamp::from_microsecond(time).unwrap();
            let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
            let line = [
                ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                "my-lb".into(),
                "192.0.2.1:2817".into(),
                "-".into(),
                opt(secs[0].map(|s| format!("{s:.6}"))).replace('-', "-1"),
                opt(secs[1].map(|s| format!("{s:.6}"))).replace('-', "-1"),
                opt(secs[2].map(|s| format!("{s:.6}"))).replace('-', "-1"),
                opt(statuses.0.map(|s| s.to_string())),
                opt(statuses.1.map(|s| s.to_string())),
                opt(bytes.0.map(|s| s.to_string())),
                opt(bytes.1.map(|s| s.to_string())),
                format!("\"POST {url} HTTP/1.1\""),
                format!("\"{}\"", ua.as_deref().unwrap_or("-")),
                opt(tls.as_ref().map(|t| t.0.clone())),
                opt(tls.as_ref().map(|t| t.1.clone())),
            ]
            .join(" ");
            prop_assert_eq!(parse_line(&line), Ok(entry), "{}", line);
        }
    }
}
