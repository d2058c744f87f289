//! Network Load Balancer access log lines (`reference/alb.md`, section 7). NLB logs only TLS
//! listeners, one line per TLS connection:
//!
//! ```text
//! type version time elb listener client:port destination:port connection_time
//! tls_handshake_time received_bytes sent_bytes incoming_tls_alert chosen_cert_arn
//! chosen_cert_serial tls_cipher tls_protocol_version tls_named_group domain_name
//! alpn_fe_protocol alpn_be_protocol alpn_client_preference_list tls_connection_creation_time
//! ```
//!
//! Unlike ALB, no field is quoted: `domain_name` and the ALPN list are URL-encoded instead (the
//! list reads `"h2","http/1.1"` once decoded, quotes included). Times have no fraction and no
//! zone (`2018-12-20T02:59:40`, UTC); durations are integer milliseconds. The ALPN fields were
//! added in 2020 and `tls_connection_creation_time` later, so a line may end anywhere after
//! `domain_name`; fields after the 22nd are kept in `extra`.

use std::borrow::Cow;

use crate::alb::Endpoint;
use crate::elb_fields::Field;
use crate::error::ParseError;
use crate::record::{ConnectionRecord, Record, SCHEMA_VERSION};
use crate::timestamp::{parse_iso8601, parse_naive_utc};

/// One parsed NLB access log line, borrowing from the line. `-` values are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct NlbEntry<'a> {
    /// 1 `type`: `tls`.
    pub kind: &'a str,
    /// 2 `version`: `2.0`.
    pub version: &'a str,
    /// 3 `time`: when the connection was logged (its end), µs UTC.
    pub time: i64,
    /// 4 `elb`: the load balancer's resource id (`net/name/id`).
    pub elb: &'a str,
    /// 5 `listener`: the TLS listener's resource id.
    pub listener: &'a str,
    /// 6 `client:port`.
    pub client: Option<Endpoint<'a>>,
    /// 7 `destination:port`: the listener's address as the client reached it.
    pub destination: Option<Endpoint<'a>>,
    /// 8 `connection_time`, seconds (logged in milliseconds).
    pub connection_time: Option<f64>,
    /// 9 `tls_handshake_time`, seconds (logged in milliseconds); absent if not completed.
    pub tls_handshake_time: Option<f64>,
    /// 10 `received_bytes`.
    pub received_bytes: Option<u64>,
    /// 11 `sent_bytes`.
    pub sent_bytes: Option<u64>,
    /// 12 `incoming_tls_alert`.
    pub incoming_tls_alert: Option<&'a str>,
    /// 13 `chosen_cert_arn`.
    pub chosen_cert_arn: Option<&'a str>,
    /// 14 `chosen_cert_serial`.
    pub chosen_cert_serial: Option<&'a str>,
    /// 15 `tls_cipher`.
    pub tls_cipher: Option<&'a str>,
    /// 16 `tls_protocol_version` (`tlsv12`).
    pub tls_protocol_version: Option<&'a str>,
    /// 17 `tls_named_group` (`x25519`).
    pub tls_named_group: Option<&'a str>,
    /// 18 `domain_name`: the SNI, URL-decoded.
    pub domain_name: Option<Cow<'a, str>>,
    /// 19 `alpn_fe_protocol`.
    pub alpn_fe_protocol: Option<&'a str>,
    /// 20 `alpn_be_protocol`.
    pub alpn_be_protocol: Option<&'a str>,
    /// 21 `alpn_client_preference_list`, URL-decoded (`"h2","http/1.1"`).
    pub alpn_client_preference_list: Option<Cow<'a, str>>,
    /// 22 `tls_connection_creation_time`, µs UTC.
    pub tls_connection_creation_time: Option<i64>,
    /// Fields after the 22nd, in order, as written.
    pub extra: Vec<&'a str>,
}

/// Field names in order, for [`ParseError::MissingField`].
const NAMES: [&str; 18] = [
    "type",
    "version",
    "time",
    "elb",
    "listener",
    "client:port",
    "destination:port",
    "connection_time",
    "tls_handshake_time",
    "received_bytes",
    "sent_bytes",
    "incoming_tls_alert",
    "chosen_cert_arn",
    "chosen_cert_serial",
    "tls_cipher",
    "tls_protocol_version",
    "tls_named_group",
    "domain_name",
];

/// Parses one NLB access log line.
pub fn parse_line(line: &str) -> Result<NlbEntry<'_>, ParseError> {
    let line = line.trim_matches([' ', '\t', '\r', '\n', '\u{feff}']);
    if line.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut split = line.split(' ').map(|text| Field {
        text,
        quoted: false,
    });
    let mut required = [Field {
        text: "",
        quoted: false,
    }; NAMES.len()];
    for (slot, name) in required.iter_mut().zip(NAMES) {
        *slot = split.next().ok_or(ParseError::MissingField(name))?;
    }
    let [
        kind,
        version,
        time,
        elb,
        listener,
        client,
        destination,
        connection_time,
        tls_handshake_time,
        received_bytes,
        sent_bytes,
        incoming_tls_alert,
        chosen_cert_arn,
        chosen_cert_serial,
        tls_cipher,
        tls_protocol_version,
        tls_named_group,
        domain_name,
    ] = required;
    let alpn_fe_protocol = split.next().and_then(Field::value);
    let alpn_be_protocol = split.next().and_then(Field::value);
    let alpn_client_preference_list = split.next().and_then(Field::value).map(url_decode);
    let tls_connection_creation_time = match split.next().and_then(Field::value) {
        Some(text) => Some(
            nlb_time(text)
                .ok_or_else(|| ParseError::invalid("tls_connection_creation_time", text))?,
        ),
        None => None,
    };
    Ok(NlbEntry {
        kind: kind.text,
        version: version.text,
        time: nlb_time(time.text).ok_or_else(|| ParseError::invalid("time", time.text))?,
        elb: elb.text,
        listener: listener.text,
        client: client.endpoint("client:port")?,
        destination: destination.endpoint("destination:port")?,
        connection_time: millis(connection_time, "connection_time")?,
        tls_handshake_time: millis(tls_handshake_time, "tls_handshake_time")?,
        received_bytes: received_bytes.number("received_bytes")?,
        sent_bytes: sent_bytes.number("sent_bytes")?,
        incoming_tls_alert: incoming_tls_alert.value(),
        chosen_cert_arn: chosen_cert_arn.value(),
        chosen_cert_serial: chosen_cert_serial.value(),
        tls_cipher: tls_cipher.value(),
        tls_protocol_version: tls_protocol_version.value(),
        tls_named_group: tls_named_group.value(),
        domain_name: domain_name.value().map(url_decode),
        alpn_fe_protocol,
        alpn_be_protocol,
        alpn_client_preference_list,
        tls_connection_creation_time,
        extra: split.map(|f| f.text).collect(),
    })
}

/// Parses one NLB access log line into its [`Record::Nlb`].
pub fn parse_record(line: &str) -> Result<Record, ParseError> {
    parse_line(line).map(|entry| Record::Nlb(entry.to_record()))
}

impl NlbEntry<'_> {
    /// The record written for this line.
    pub fn to_record(&self) -> ConnectionRecord {
        ConnectionRecord {
            v: SCHEMA_VERSION,
            t: self.time,
            version: Some(self.version.to_owned()),
            server: Some(self.elb.to_owned()),
            listener: Some(self.listener.to_owned()),
            client_ip: self.client.map(|c| c.ip.to_owned()),
            client_port: self.client.map(|c| c.port),
            dest_ip: self.destination.map(|d| d.ip.to_owned()),
            dest_port: self.destination.map(|d| d.port),
            connection_time: self.connection_time,
            handshake_time: self.tls_handshake_time,
            received_bytes: self.received_bytes,
            sent_bytes: self.sent_bytes,
            tls_alert: self.incoming_tls_alert.map(str::to_owned),
            cert: self.chosen_cert_arn.map(str::to_owned),
            cert_serial: self.chosen_cert_serial.map(str::to_owned),
            tls_cipher: self.tls_cipher.map(str::to_owned),
            tls_protocol: self.tls_protocol_version.map(str::to_owned),
            tls_key_exchange: self.tls_named_group.map(str::to_owned),
            sni: self.domain_name.as_deref().map(str::to_owned),
            alpn_front: self.alpn_fe_protocol.map(str::to_owned),
            alpn_back: self.alpn_be_protocol.map(str::to_owned),
            alpn_client_list: self
                .alpn_client_preference_list
                .as_deref()
                .map(str::to_owned),
            tls_created: self.tls_connection_creation_time,
            extra: self.extra.iter().map(|x| x.to_string()).collect(),
            ..ConnectionRecord::default()
        }
    }
}

/// NLB writes zone-less UTC times; a zoned ISO 8601 time is accepted too.
fn nlb_time(text: &str) -> Option<i64> {
    parse_naive_utc(text).or_else(|| parse_iso8601(text))
}

/// Milliseconds as seconds; `-` (and a negative value) is absent.
fn millis(field: Field<'_>, name: &'static str) -> Result<Option<f64>, ParseError> {
    Ok(field.seconds(name)?.map(|ms| ms / 1000.0))
}

/// Decodes `%XX` escapes (a `+` stays a `+`: this is not form encoding). Invalid escapes are
/// kept as written; bytes that are not UTF-8 after decoding become U+FFFD.
fn url_decode(text: &str) -> Cow<'_, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let decoded = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DOC: &str = r#"tls 2.0 2020-04-01T08:51:42 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com h2 h2 "h2","http/1.1""#;

    #[test]
    fn url_decode_table() {
        let cases = [
            ("plain.example.com", "plain.example.com"),
            ("%22h2%22%2C%22http%2F1.1%22", r#""h2","http/1.1""#),
            ("%E6%97%A5.example", "日.example"),
            ("bad%zz%4", "bad%zz%4"),
            ("latin%E9", "latin\u{fffd}"),
            ("a+b", "a+b"),
        ];
        for (input, want) in cases {
            assert_eq!(url_decode(input), want, "{input}");
        }
    }

    #[test]
    fn line_table() {
        let newer = DOC.replace(" tlsv12 - ", " tlsv13 x25519 ") + " 2020-04-01T08:51:30 future";
        let e = parse_line(&newer).unwrap();
        assert_eq!(e.tls_named_group, Some("x25519"));
        assert_eq!(e.tls_connection_creation_time, Some(1_585_731_090_000_000));
        assert_eq!(e.extra, vec!["future"]);

        let v6 = DOC.replace("72.21.218.154:51341", "2600:1f18:abcd::5:51341");
        let e = parse_line(&v6).unwrap();
        assert_eq!(
            e.client,
            Some(Endpoint {
                ip: "2600:1f18:abcd::5",
                port: 51341
            })
        );

        let no_handshake = DOC.replace(" 5 2 98 ", " 5 - 98 ");
        assert_eq!(parse_line(&no_handshake).unwrap().tls_handshake_time, None);

        let cut = &DOC[..DOC.find(" my-network-loadbalancer-c6e").unwrap()];
        assert_eq!(
            parse_line(cut),
            Err(ParseError::MissingField("domain_name"))
        );
        assert_eq!(parse_line(""), Err(ParseError::Empty));
        assert_eq!(
            parse_line(&DOC.replace("2020-04-01T08:51:42", "now")),
            Err(ParseError::invalid("time", "now"))
        );
    }

    #[test]
    fn every_prefix_is_handled() {
        for (cut, _) in DOC.char_indices() {
            if let Err(e) = parse_line(&DOC[..cut]) {
                assert!(
                    !matches!(e, ParseError::Format(_) | ParseError::Unterminated(_)),
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
            let _ = url_decode(&line);
        }

        #[test]
        fn render_then_parse_gives_back_the_entry(
            secs in (0i64..4_102_444_800, prop::option::of(0i64..4_102_444_800)),
            ms in (prop::option::of(0u32..10_000_000), prop::option::of(0u32..10_000)),
            bytes in (prop::option::of(any::<u64>()), prop::option::of(any::<u64>())),
            tokens in prop::collection::vec(prop::option::of("[A-Za-z0-9_./:=-]{2,20}"), 8),
            sni in prop::option::of("\\PC{1,20}"),
            extra in prop::collection::vec("[!-~]{1,8}", 0..3),
        ) {
            prop_assume!(sni.as_deref() != Some("-"));
            let time = |s: i64| {
                jiff::Timestamp::from_second(s).unwrap().strftime("%Y-%m-%dT%H:%M:%S").to_string()
            };
            let encode = |s: &str| {
                s.bytes()
                    .map(|b| if b.is_ascii_alphanumeric() || b == b'.' { (b as char).to_string() } else { format!("%{b:02X}") })
                    .collect::<String>()
            };
            let bare = |v: Option<&str>| v.unwrap_or("-").to_string();
            let num = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
            let entry = NlbEntry {
                kind: "tls",
                version: "2.0",
                time: secs.0 * 1_000_000,
                elb: "net/lb/1",
                listener: "abc",
                client: Some(Endpoint { ip: "2600:1f18::5", port: 443 }),
                destination: None,
                connection_time: ms.0.map(|m| f64::from(m) / 1000.0),
                tls_handshake_time: ms.1.map(|m| f64::from(m) / 1000.0),
                received_bytes: bytes.0,
                sent_bytes: bytes.1,
                incoming_tls_alert: tokens[0].as_deref(),
                chosen_cert_arn: tokens[1].as_deref(),
                chosen_cert_serial: tokens[2].as_deref(),
                tls_cipher: tokens[3].as_deref(),
                tls_protocol_version: tokens[4].as_deref(),
                tls_named_group: tokens[5].as_deref(),
                domain_name: sni.as_deref().map(Cow::Borrowed),
                alpn_fe_protocol: tokens[6].as_deref(),
                alpn_be_protocol: tokens[7].as_deref(),
                alpn_client_preference_list: Some(Cow::Borrowed(r#""h2","http/1.1""#)),
                tls_connection_creation_time: secs.1.map(|s| s * 1_000_000),
                extra: extra.iter().map(String::as_str).collect(),
            };
            let mut fields = vec![
                "tls".to_string(), "2.0".into(), time(secs.0), "net/lb/1".into(), "abc".into(),
                "2600:1f18::5:443".into(), "-".into(),
                num(ms.0.map(u64::from)), num(ms.1.map(u64::from)), num(bytes.0), num(bytes.1),
            ];
            fields.extend(tokens[..6].iter().map(|t| bare(t.as_deref())));
            fields.push(sni.as_deref().map_or("-".into(), encode));
            fields.push(bare(tokens[6].as_deref()));
            fields.push(bare(tokens[7].as_deref()));
            fields.push("%22h2%22%2C%22http%2F1.1%22".into());
            fields.push(secs.1.map_or("-".into(), time));
            fields.extend(extra.iter().cloned());
            let line = fields.join(" ");
            prop_assert_eq!(parse_line(&line), Ok(entry), "{}", line);
        }
    }
}
