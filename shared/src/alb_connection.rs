//! Application Load Balancer connection log lines (`reference/alb.md`, section 5): one line per
//! client connection, linked to its requests in the access log by `conn_trace_id`.
//!
//! ```text
//! timestamp client_ip client_port listener_port tls_protocol tls_cipher tls_handshake_latency
//! "leaf_client_cert_subject" leaf_client_cert_validity leaf_client_cert_serial_number
//! tls_verify_status conn_trace_id tls_keyexchange elb ip_address
//! ```
//!
//! The documentation's examples end at `conn_trace_id` (12 fields) and Elastic's fixtures at
//! `tls_verify_status` (11); fields 13–15 are newer. So a line may end anywhere after field 11,
//! and fields after the 15th are kept in `extra`.

use std::borrow::Cow;

use crate::elb_format::{elb_format, native_keys, record_members};
use crate::record::{ConnectionRecord, Record};

elb_format! {
    /// One parsed connection log line, borrowing from the line. `-` values are `None`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct AlbConnectionEntry<'a> for ConnectionRecord in Record::AlbConnection, required 11 {
        /// 1 `timestamp`: when the connection was logged, µs UTC.
        time: i64 = time(0, "timestamp", "time", "timestamp") => ["t" t],
        /// 2 `client_ip`.
        client_ip: &'a str = text(1, "client_ip") => ["ip" client_ip],
        /// 3 `client_port`.
        client_port: Option<u16> = port(2, "client_port") => ["cp" client_port],
        /// 4 `listener_port`.
        listener_port: Option<u16> = port(3, "listener_port") => ["lp" listener_port],
        /// 5 `tls_protocol`; absent for a plain-HTTP listener.
        tls_protocol: Option<&'a str> = word(4, "tls_protocol") => ["tp" tls_protocol],
        /// 6 `tls_cipher`.
        tls_cipher: Option<&'a str> = word(5, "tls_cipher") => ["ci" tls_cipher],
        /// 7 `tls_handshake_latency`, seconds; absent if the handshake failed.
        tls_handshake_latency: Option<f64> = seconds(6, "tls_handshake_latency")
            => ["hs" handshake_time],
        /// 8 `leaf_client_cert_subject` (mTLS).
        leaf_client_cert_subject: Option<Cow<'a, str>> = string(7, "leaf_client_cert_subject")
            => ["cs" client_cert_subject],
        /// 9 `leaf_client_cert_validity` (`NotBefore=…;NotAfter=…`).
        leaf_client_cert_validity: Option<&'a str> = word(8, "leaf_client_cert_validity")
            => ["cv" client_cert_validity],
        /// 10 `leaf_client_cert_serial_number` (the client certificate's serial, in the
        /// record's `cert_serial`).
        leaf_client_cert_serial_number: Option<&'a str> = word(9, "leaf_client_cert_serial_number")
            => ["csn" cert_serial],
        /// 11 `tls_verify_status`: `Success` or `Failed:<code>`.
        tls_verify_status: Option<&'a str> = word(10, "tls_verify_status") => ["vs" verify_status],
        /// 12 `conn_trace_id` (`TID_…`).
        conn_trace_id: Option<&'a str> = word(11, "conn_trace_id") => ["cid" conn_trace_id],
        /// 13 `tls_keyexchange`.
        tls_keyexchange: Option<&'a str> = word(12, "tls_keyexchange") => ["kx" tls_key_exchange],
        /// 14 `elb`: the load balancer's resource id.
        elb: Option<&'a str> = word(13, "elb") => ["lb" server],
        /// 15 `ip_address`: the load balancer node's address.
        ip_address: Option<&'a str> = word(14, "ip_address") => ["nip" node_ip],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ParseError;
    use proptest::prelude::*;

    const DOC: &str = r#"2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US" NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Success TID_3180a73013c8ca4bac2f731159d4b0fe"#;

    #[test]
    fn line_table() {
        let newer = format!("{DOC} x25519 app/my-lb/50dc6c495c0c9188 10.0.1.2 future");
        let e = parse_line(&newer).unwrap();
        assert_eq!(
            (e.tls_keyexchange, e.elb, e.ip_address),
            (
                Some("x25519"),
                Some("app/my-lb/50dc6c495c0c9188"),
                Some("10.0.1.2")
            )
        );
        assert_eq!(e.extra, vec![Cow::Borrowed("future")]);

        let escaped = DOC.replace("O=endEntity", r"O=\x22end\x22");
        let e = parse_line(&escaped).unwrap();
        assert_eq!(
            e.leaf_client_cert_subject.as_deref(),
            Some(r#"CN=amazondomains.com,O="end",L=Seattle,ST=Washington,C=US"#)
        );

        let plain = "2024-11-29T13:45:24.599544Z 172.31.43.26 58206 80 - - - \"-\" - - - TID_16132ed0b4112148";
        let e = parse_line(plain).unwrap();
        assert_eq!(
            (
                e.tls_protocol,
                e.tls_handshake_latency,
                e.leaf_client_cert_subject
            ),
            (None, None, None)
        );

        let cut = &DOC[..DOC.find(" Success").unwrap()];
        assert_eq!(
            parse_line(cut),
            Err(ParseError::MissingField("tls_verify_status"))
        );
        assert_eq!(parse_line(" \r\n"), Err(ParseError::Empty));
        assert_eq!(
            parse_line(&DOC.replace(" 36280 ", " port ")),
            Err(ParseError::invalid("client_port", "port"))
        );
    }

    /// The serde names of `ConnectionRecord` are the table's keys.
    #[test]
    fn the_record_keys_are_the_tables() {
        let full = format!("{DOC} x25519 app/my-lb/1 10.0.1.2 future");
        let json = [parse_record(&full).unwrap().to_json()];
        crate::elb_format::assert_record_keys(&json, RECORD_KEYS);
    }

    #[test]
    fn every_prefix_is_handled() {
        for (cut, _) in DOC.char_indices() {
            if let Err(e) = parse_line(&DOC[..cut]) {
                assert!(
                    matches!(
                        e,
                        ParseError::Empty
                            | ParseError::MissingField(_)
                            | ParseError::Unterminated(_)
                            | ParseError::InvalidField { .. }
                    ),
                    "{cut}: {e}"
                );
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
            ports in (prop::option::of(any::<u16>()), prop::option::of(any::<u16>())),
            latency in prop::option::of((0u32..100_000).prop_map(|ms| f64::from(ms) / 1000.0)),
            subject in prop::option::of("[ -!#-\\[\\]-~]{1,40}".prop_filter("dash", |s| s != "-")),
            tokens in prop::collection::vec(prop::option::of("[A-Za-z0-9_./:=;-]{2,20}"), 10),
        ) {
            let ip = tokens[0].clone().unwrap_or_else(|| "10.0.0.1".into());
            let entry = AlbConnectionEntry {
                time,
                client_ip: &ip,
                client_port: ports.0,
                listener_port: ports.1,
                tls_protocol: tokens[1].as_deref(),
                tls_cipher: tokens[2].as_deref(),
                tls_handshake_latency: latency,
                leaf_client_cert_subject: subject.as_deref().map(Cow::Borrowed),
                leaf_client_cert_validity: tokens[3].as_deref(),
                leaf_client_cert_serial_number: tokens[4].as_deref(),
                tls_verify_status: tokens[5].as_deref(),
                conn_trace_id: tokens[6].as_deref(),
                tls_keyexchange: tokens[7].as_deref(),
                elb: tokens[8].as_deref(),
                ip_address: tokens[9].as_deref(),
                extra: Vec::new(),
            };
            let bare = |v: Option<&str>| v.unwrap_or("-").to_string();
            let port = |v: Option<u16>| v.map_or("-".into(), |p| p.to_string());
            let ts = jiff::Timestamp::from_microsecond(time).unwrap();
            let line = [
                ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                ip.clone(),
                port(entry.client_port),
                port(entry.listener_port),
                bare(entry.tls_protocol),
                bare(entry.tls_cipher),
                latency.map_or("-".into(), |l| format!("{l:.3}")),
                format!("\"{}\"", subject.as_deref().unwrap_or("-")),
                bare(entry.leaf_client_cert_validity),
                bare(entry.leaf_client_cert_serial_number),
                bare(entry.tls_verify_status),
                bare(entry.conn_trace_id),
                bare(entry.tls_keyexchange),
                bare(entry.elb),
                bare(entry.ip_address),
            ]
            .join(" ");
            prop_assert_eq!(parse_line(&line), Ok(entry), "{}", line);
        }
    }
}
