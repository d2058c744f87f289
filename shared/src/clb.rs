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
use crate::elb_fields::Tokens;
use crate::error::ParseError;
use crate::record::{Record, RequestRecord, SCHEMA_VERSION};

/// One parsed Classic ELB access log line, borrowing from the line. `-` and `-1` are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClbEntry<'a> {
    /// 1 `time`: when the load balancer received the request, µs UTC.
    pub time: i64,
    /// 2 `elb`: the load balancer's name.
    pub elb: &'a str,
    /// 3 `client:port`.
    pub client: Option<Endpoint<'a>>,
    /// 4 `backend:port`; absent when no instance took the request.
    pub backend: Option<Endpoint<'a>>,
    /// 5 `request_processing_time`, seconds.
    pub request_processing_time: Option<f64>,
    /// 6 `backend_processing_time`, seconds.
    pub backend_processing_time: Option<f64>,
    /// 7 `response_processing_time`, seconds.
    pub response_processing_time: Option<f64>,
    /// 8 `elb_status_code` (absent for TCP listeners).
    pub elb_status_code: Option<u16>,
    /// 9 `backend_status_code`.
    pub backend_status_code: Option<u16>,
    /// 10 `received_bytes` (HTTP: body only).
    pub received_bytes: Option<u64>,
    /// 11 `sent_bytes` (HTTP: body only).
    pub sent_bytes: Option<u64>,
    /// 12 `request`; a TCP listener's `- - - ` stays whole in `raw`.
    pub request: Request<'a>,
    /// 13 `user_agent`.
    pub user_agent: Option<Cow<'a, str>>,
    /// 14 `ssl_cipher`.
    pub ssl_cipher: Option<&'a str>,
    /// 15 `ssl_protocol`.
    pub ssl_protocol: Option<&'a str>,
    /// Fields after the 15th, in order, decoded but otherwise as written.
    pub extra: Vec<Cow<'a, str>>,
}

/// Parses one Classic ELB access log line.
pub fn parse_line(line: &str) -> Result<ClbEntry<'_>, ParseError> {
    let mut f = Tokens::new(line);
    if f.is_empty() {
        return Err(ParseError::Empty);
    }
    let time = f.required("time")?.time("time")?;
    let elb = f.required("elb")?.text;
    let client = f.required("client:port")?.endpoint("client:port")?;
    let backend = f.required("backend:port")?.endpoint("backend:port")?;
    let request_processing_time = f
        .required("request_processing_time")?
        .seconds("request_processing_time")?;
    let backend_processing_time = f
        .required("backend_processing_time")?
        .seconds("backend_processing_time")?;
    let response_processing_time = f
        .required("response_processing_time")?
        .seconds("response_processing_time")?;
    let elb_status_code = f.required("elb_status_code")?.number("elb_status_code")?;
    let backend_status_code = f
        .required("backend_status_code")?
        .number("backend_status_code")?;
    let received_bytes = f.required("received_bytes")?.number("received_bytes")?;
    let sent_bytes = f.required("sent_bytes")?.number("sent_bytes")?;
    let request = Request::split(f.required("request")?.text);
    // Added to the format later than the rest: a line may end before them.
    let user_agent = f.next("user_agent")?.and_then(|x| x.string());
    let ssl_cipher = f.next("ssl_cipher")?.and_then(|x| x.value());
    let ssl_protocol = f.next("ssl_protocol")?.and_then(|x| x.value());
    let mut extra = Vec::new();
    while let Some(field) = f.next("extra")? {
        extra.push(field.decoded());
    }
    Ok(ClbEntry {
        time,
        elb,
        client,
        backend,
        request_processing_time,
        backend_processing_time,
        response_processing_time,
        elb_status_code,
        backend_status_code,
        received_bytes,
        sent_bytes,
        request,
        user_agent,
        ssl_cipher,
        ssl_protocol,
        extra,
    })
}

/// Parses one Classic ELB access log line into its [`Record::Clb`].
pub fn parse_record(line: &str) -> Result<Record, ParseError> {
    parse_line(line).map(|entry| Record::Clb(entry.to_record()))
}

impl ClbEntry<'_> {
    /// The record written for this line.
    pub fn to_record(&self) -> RequestRecord {
        RequestRecord {
            v: SCHEMA_VERSION,
            // CLB's `time` is the arrival time; the response time is not logged.
            t: self.time,
            server: Some(self.elb.to_owned()),
            client_ip: self.client.map(|c| c.ip.to_owned()),
            client_port: self.client.map(|c| c.port),
            target_ip: self.backend.map(|b| b.ip.to_owned()),
            target_port: self.backend.map(|b| b.port),
            method: self.request.method.map(str::to_owned),
            url: self.request.url.as_deref().map(str::to_owned),
            protocol: self.request.protocol.map(str::to_owned),
            request_raw: self.request.raw.as_deref().map(str::to_owned),
            status: self.elb_status_code,
            target_status: self.backend_status_code,
            received_bytes: self.received_bytes,
            sent_bytes: self.sent_bytes,
            user_agent: self.user_agent.as_deref().map(str::to_owned),
            request_time: self.request_processing_time,
            target_time: self.backend_processing_time,
            response_time: self.response_processing_time,
            ssl_cipher: self.ssl_cipher.map(str::to_owned),
            ssl_protocol: self.ssl_protocol.map(str::to_owned),
            extra: self.extra.iter().map(|x| x.to_string()).collect(),
            ..RequestRecord::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
