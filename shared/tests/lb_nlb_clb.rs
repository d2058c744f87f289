//! NLB and Classic ELB access logs: every official sample, with whole-record checks.

use logdesk_core::alb::Request;
use logdesk_core::record::{ConnectionRecord, Record, RequestRecord};
use logdesk_core::{SCHEMA_VERSION, clb, nlb};

const NLB: &str = include_str!("data/nlb-samples.log");
const CLB: &str = include_str!("data/clb-samples.log");

#[test]
fn every_nlb_sample_parses() {
    for line in NLB.lines() {
        nlb::parse_line(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        // tls_connection_creation_time (Elastic/OTel fixtures) and anything after it.
        let longer = format!("{line} 2018-12-20T02:59:30 -");
        let entry = nlb::parse_line(&longer).unwrap();
        assert_eq!(
            entry.tls_connection_creation_time,
            Some(1_545_274_770_000_000)
        );
        assert_eq!(entry.extra, vec!["-"]);
    }
}

#[test]
fn nlb_sample_as_a_whole_record() {
    let line = NLB.lines().nth(1).unwrap();
    let want = ConnectionRecord {
        v: SCHEMA_VERSION,
        t: 1_585_731_102_000_000,
        version: Some("2.0".into()),
        server: Some("net/my-network-loadbalancer/c6e77e28c25b2234".into()),
        listener: Some("g3d4b5e8bb8464cd".into()),
        client_ip: Some("72.21.218.154".into()),
        client_port: Some(51341),
        dest_ip: Some("172.100.100.185".into()),
        dest_port: Some(443),
        connection_time: Some(0.005),
        handshake_time: Some(0.002),
        received_bytes: Some(98),
        sent_bytes: Some(246),
        cert: Some(
            "arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99"
                .into(),
        ),
        tls_cipher: Some("ECDHE-RSA-AES128-SHA".into()),
        tls_protocol: Some("tlsv12".into()),
        sni: Some("my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com".into()),
        alpn_front: Some("h2".into()),
        alpn_back: Some("h2".into()),
        alpn_client_list: Some(r#""h2","http/1.1""#.into()),
        ..ConnectionRecord::default()
    };
    assert_eq!(nlb::parse_record(line), Ok(Record::Nlb(want)));
    let old = nlb::parse_line(NLB.lines().next().unwrap()).unwrap();
    assert_eq!(
        (old.alpn_fe_protocol, old.alpn_client_preference_list),
        (None, None)
    );
}

#[test]
fn every_clb_sample_parses() {
    for line in CLB.lines() {
        clb::parse_line(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let longer = format!("{line} \"-\" future");
        assert_eq!(clb::parse_line(&longer).unwrap().extra, vec!["-", "future"]);
    }
}

#[test]
fn clb_samples_as_whole_records() {
    let lines: Vec<&str> = CLB.lines().collect();
    let https = RequestRecord {
        v: SCHEMA_VERSION,
        t: 1_431_560_383_945_958,
        server: Some("my-loadbalancer".into()),
        client_ip: Some("192.168.131.39".into()),
        client_port: Some(2817),
        target_ip: Some("10.0.0.1".into()),
        target_port: Some(80),
        method: Some("GET".into()),
        url: Some("https://www.example.com:443/".into()),
        protocol: Some("HTTP/1.1".into()),
        status: Some(200),
        target_status: Some(200),
        received_bytes: Some(0),
        sent_bytes: Some(57),
        user_agent: Some("curl/7.38.0".into()),
        request_time: Some(0.000086),
        target_time: Some(0.001048),
        response_time: Some(0.001337),
        ssl_cipher: Some("DHE-RSA-AES128-SHA".into()),
        ssl_protocol: Some("TLSv1.2".into()),
        ..RequestRecord::default()
    };
    assert_eq!(clb::parse_record(lines[1]), Ok(Record::Clb(https)));
    let tcp = clb::parse_line(lines[3]).unwrap();
    assert_eq!(
        tcp.request,
        Request {
            raw: Some("- - - ".into()),
            ..Request::default()
        }
    );
    assert_eq!(
        (tcp.elb_status_code, tcp.backend_status_code, tcp.user_agent),
        (None, None, None)
    );
    assert_eq!(tcp.ssl_protocol, Some("TLSv1.2"));
}
