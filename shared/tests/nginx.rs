//! nginx access and error logs: whole records for the tricky lines, and the fixture files.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use logdesk_core::nginx::{Escape, FormatError, LogFormat};
use logdesk_core::nginx_error::{self, ErrorLogAssembler, split_entries};
use logdesk_core::record::{ErrorRecord, Record, RequestRecord};
use logdesk_core::{ParseError, SCHEMA_VERSION};

/// Microseconds since the epoch of an RFC 3339 time.
fn utc(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().unwrap().as_microsecond()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// The record every table case starts from: fields of a plain combined line.
fn base(t: &str) -> RequestRecord {
    RequestRecord {
        v: SCHEMA_VERSION,
        t: utc(t),
        ..Default::default()
    }
}

#[test]
fn combined_lines() {
    let f = LogFormat::combined();
    let cases: Vec<(&str, &str, RequestRecord)> = vec![
        (
            "ipv4_user_and_zone_plus_nine",
            r#"203.0.113.7 - alice [31/Mar/2021:12:04:07 +0900] "GET /index.html?a=1 HTTP/1.1" 200 612 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)""#,
            RequestRecord {
                client_ip: s("203.0.113.7"),
                remote_user: s("alice"),
                method: s("GET"),
                url: s("/index.html?a=1"),
                protocol: s("HTTP/1.1"),
                status: Some(200),
                sent_bytes: Some(612),
                referrer: s("https://example.com/"),
                user_agent: s("Mozilla/5.0 (X11; Linux x86_64)"),
                ..base("2021-03-31T03:04:07Z")
            },
        ),
        (
            "ipv6_remote_addr_bare",
            r#"2001:db8::1 - - [01/Apr/2021:00:00:00 +0000] "POST /api HTTP/2.0" 201 0 "-" "curl/7.68.0""#,
            RequestRecord {
                client_ip: s("2001:db8::1"),
                method: s("POST"),
                url: s("/api"),
                protocol: s("HTTP/2.0"),
                status: Some(201),
                sent_bytes: Some(0),
                user_agent: s("curl/7.68.0"),
                ..base("2021-04-01T00:00:00Z")
            },
        ),
        (
            "zone_minus_seven",
            r#"192.0.2.1 - - [31/Dec/2020:20:00:00 -0700] "GET / HTTP/1.0" 200 5 "-" "-""#,
            RequestRecord {
                client_ip: s("192.0.2.1"),
                method: s("GET"),
                url: s("/"),
                protocol: s("HTTP/1.0"),
                status: Some(200),
                sent_bytes: Some(5),
                ..base("2021-01-01T03:00:00Z")
            },
        ),
        (
            "empty_request_of_a_400",
            r#"198.51.100.2 - - [01/Apr/2021:00:00:01 +0000] "" 400 0 "-" "-""#,
            RequestRecord {
                client_ip: s("198.51.100.2"),
                status: Some(400),
                sent_bytes: Some(0),
                ..base("2021-04-01T00:00:01Z")
            },
        ),
        (
            "tls_client_hello_on_plain_http_kept_as_logged",
            r#"198.51.100.3 - - [01/Apr/2021:00:00:02 +0000] "\x16\x03\x01\x00\xA5\x01\x00\x00\xA1\x03\x03" 400 157 "-" "-""#,
            RequestRecord {
                client_ip: s("198.51.100.3"),
                request_raw: s(r"\x16\x03\x01\x00\xA5\x01\x00\x00\xA1\x03\x03"),
                status: Some(400),
                sent_bytes: Some(157),
                ..base("2021-04-01T00:00:02Z")
            },
        ),
        (
            "utf8_user_agent_and_url_as_hex_escapes",
            r#"192.0.2.9 - - [01/Apr/2021:09:00:00 +0900] "GET /search?q=\xE3\x81\x82 HTTP/1.1" 200 10 "-" "Bot\xE2\x80\x99s crawler""#,
            RequestRecord {
                client_ip: s("192.0.2.9"),
                method: s("GET"),
                url: s("/search?q=あ"),
                protocol: s("HTTP/1.1"),
                status: Some(200),
                sent_bytes: Some(10),
                user_agent: s("Bot’s crawler"),
                ..base("2021-04-01T00:00:00Z")
            },
        ),
        (
            "escaped_quote_in_user_agent",
            r#"192.0.2.9 - - [01/Apr/2021:09:00:00 +0900] "GET / HTTP/1.1" 200 10 "-" "Mozilla \x22quoted\x22 \x5C""#,
            RequestRecord {
                client_ip: s("192.0.2.9"),
                method: s("GET"),
                url: s("/"),
                protocol: s("HTTP/1.1"),
                status: Some(200),
                sent_bytes: Some(10),
                user_agent: s(r#"Mozilla "quoted" \"#),
                ..base("2021-04-01T00:00:00Z")
            },
        ),
        (
            "empty_referer_and_user_agent_headers",
            r#"192.0.2.9 - - [01/Apr/2021:09:00:00 +0900] "GET / HTTP/1.1" 200 10 "" """#,
            RequestRecord {
                client_ip: s("192.0.2.9"),
                method: s("GET"),
                url: s("/"),
                protocol: s("HTTP/1.1"),
                status: Some(200),
                sent_bytes: Some(10),
                ..base("2021-04-01T00:00:00Z")
            },
        ),
        (
            "trailing_gzip_ratio_kept_in_extra",
            r#"192.0.2.9 - - [01/Apr/2021:09:00:00 +0900] "GET / HTTP/1.1" 200 10 "-" "ua" "2.51""#,
            RequestRecord {
                client_ip: s("192.0.2.9"),
                method: s("GET"),
                url: s("/"),
                protocol: s("HTTP/1.1"),
                status: Some(200),
                sent_bytes: Some(10),
                user_agent: s("ua"),
                extra: vec!["2.51".into()],
                ..base("2021-04-01T00:00:00Z")
            },
        ),
        (
            "space_in_url_and_crlf_line_end",
            "192.0.2.9 - - [01/Apr/2021:09:00:00 +0900] \"GET /a b HTTP/1.1\" 200 10 \"-\" \"ua\"\r\n",
            RequestRecord {
                client_ip: s("192.0.2.9"),
                method: s("GET"),
                url: s("/a b"),
                protocol: s("HTTP/1.1"),
                status: Some(200),
                sent_bytes: Some(10),
                user_agent: s("ua"),
                ..base("2021-04-01T00:00:00Z")
            },
        ),
        (
            "garbage_request_with_spaces_kept_whole",
            r#"192.0.2.9 - - [01/Apr/2021:09:00:00 +0900] "]&\xDF\xBDV\xE7\xBB<\x10;\xA2b}\xDFM\x1D" 400 150 "-" "-""#,
            RequestRecord {
                client_ip: s("192.0.2.9"),
                request_raw: s(r"]&\xDF\xBDV\xE7\xBB<\x10;\xA2b}\xDFM\x1D"),
                status: Some(400),
                sent_bytes: Some(150),
                ..base("2021-04-01T00:00:00Z")
            },
        ),
    ];
    for (name, line, want) in cases {
        assert_eq!(f.parse_line(line), Ok(want), "case {name}");
    }
}

#[test]
fn main_and_extended_lines() {
    let line = r#"10.0.0.2 - - [31/Mar/2021:12:04:07 +0900] "GET / HTTP/1.1" 200 5 "-" "ua" "203.0.113.9, 10.0.0.1""#;
    let want = RequestRecord {
        client_ip: s("10.0.0.2"),
        method: s("GET"),
        url: s("/"),
        protocol: s("HTTP/1.1"),
        status: Some(200),
        sent_bytes: Some(5),
        user_agent: s("ua"),
        forwarded_for: s("203.0.113.9, 10.0.0.1"),
        ..base("2021-03-31T03:04:07Z")
    };
    assert_eq!(LogFormat::main().parse_line(line), Ok(want));

    let ext = LogFormat::extended();
    let common = RequestRecord {
        client_ip: s("10.0.0.2"),
        method: s("GET"),
        url: s("/"),
        protocol: s("HTTP/1.1"),
        status: Some(200),
        sent_bytes: Some(5),
        user_agent: s("ua"),
        ..base("2021-03-31T03:04:07Z")
    };
    let cases = [
        (
            "all_three_fields",
            r#"10.0.0.2 - - [31/Mar/2021:12:04:07 +0900] "GET / HTTP/1.1" 200 5 "-" "ua" 0.123 https www.example.jp"#,
            RequestRecord {
                duration: Some(0.123),
                forwarded_proto: s("https"),
                host: s("www.example.jp"),
                ..common.clone()
            },
        ),
        (
            "no_forwarded_proto",
            r#"10.0.0.2 - - [31/Mar/2021:12:04:07 +0900] "GET / HTTP/1.1" 200 5 "-" "ua" 0.000 - _"#,
            RequestRecord {
                duration: Some(0.0),
                host: s("_"),
                ..common.clone()
            },
        ),
        (
            "fields_appended_after_host_go_to_extra",
            r#"10.0.0.2 - - [31/Mar/2021:12:04:07 +0900] "GET / HTTP/1.1" 200 5 "-" "ua" 1.5 https h.example 10.0.1.5:8080 "x y""#,
            RequestRecord {
                duration: Some(1.5),
                forwarded_proto: s("https"),
                host: s("h.example"),
                extra: vec!["10.0.1.5:8080".into(), "x y".into()],
                ..common.clone()
            },
        ),
    ];
    for (name, line, want) in cases {
        assert_eq!(ext.parse_line(line), Ok(want), "case {name}");
    }
    // The record kind for CloudWatch.
    let rec = ext.parse_record(cases_first_line()).unwrap();
    assert!(matches!(rec, Record::Nginx(_)));
}

fn cases_first_line() -> &'static str {
    include_str!("data/nginx/access-extended.log")
        .lines()
        .next()
        .unwrap()
}

#[test]
fn extended_fixture_file() {
    let f = LogFormat::extended();
    let text = include_str!("data/nginx/access-extended.log");
    let records: Vec<RequestRecord> = text.lines().map(|l| f.parse_line(l).unwrap()).collect();
    assert_eq!(records.len(), 6);
    assert_eq!(
        records[2],
        RequestRecord {
            client_ip: s("2001:db8::25"),
            method: s("POST"),
            url: s("/api/orders/1234"),
            protocol: s("HTTP/2.0"),
            status: Some(502),
            sent_bytes: Some(157),
            user_agent: s("okhttp/4.9.0"),
            duration: Some(30.001),
            forwarded_proto: s("https"),
            host: s("api.example.jp"),
            ..base("2021-03-31T03:05:00Z")
        }
    );
    assert_eq!(
        records[3].request_raw.as_deref(),
        Some(r"\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03")
    );
    assert_eq!(records[4].request_raw, None);
    assert_eq!(records[4].method, None);
    assert_eq!(records[5].url.as_deref(), Some("/admin/日"));
    assert_eq!(records[5].remote_user.as_deref(), Some("admin"));
    assert_eq!(records[5].referrer, None);
}

#[test]
fn json_escaping_in_combined_shape() {
    let f = LogFormat::parse(
        r#"log_format j escape=json '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" "$http_user_agent"';"#,
    )
    .unwrap();
    assert_eq!(f.escape(), Escape::Json);
    assert_eq!(f.name(), Some("j"));
    let line = r#"192.0.2.1 - - [01/Apr/2021:09:00:00 +0900] "GET /q?\"a\" HTTP/1.1" 200 3 "" "Mozilla \"quoted\" ok\\""#;
    assert_eq!(
        f.parse_line(line),
        Ok(RequestRecord {
            client_ip: s("192.0.2.1"),
            method: s("GET"),
            url: s(r#"/q?"a""#),
            protocol: s("HTTP/1.1"),
            status: Some(200),
            sent_bytes: Some(3),
            user_agent: s(r#"Mozilla "quoted" ok\"#),
            ..base("2021-04-01T00:00:00Z")
        })
    );
}

#[test]
fn json_shaped_custom_directive() {
    let directive = r#"
    log_format json_log escape=json
        '{'
          '"time":"$time_iso8601",'
          '"ip":"$remote_addr",'
          '"xff":"$http_x_forwarded_for",'
          '"request":"$request",'
          '"status": $status,'
          '"bytes":$body_bytes_sent,'
          '"rt":"$request_time",'
          '"urt":"$upstream_response_time",'
          '"ups":"$upstream_addr",'
          '"ua":"$http_user_agent",'
          '"trace":"$http_x_amzn_trace_id",'
          '"scheme":"$scheme"'
        '}';
    "#;
    let f = LogFormat::parse(directive).unwrap();
    let line = r#"{"time":"2021-03-31T12:04:07+09:00","ip":"10.0.0.1","xff":"203.0.113.5","request":"GET /search?q=\"x\" HTTP/1.1","status": 200,"bytes":1234,"rt":"0.020","urt":"0.012, 0.003","ups":"10.0.1.5:8080","ua":"curl/8.0 \"test\"","trace":"Root=1-67891233-abcdef012345678912345678","scheme":"https"}"#;
    assert_eq!(
        f.parse_line(line),
        Ok(RequestRecord {
            client_ip: s("10.0.0.1"),
            forwarded_for: s("203.0.113.5"),
            method: s("GET"),
            url: s(r#"/search?q="x""#),
            protocol: s("HTTP/1.1"),
            status: Some(200),
            sent_bytes: Some(1234),
            duration: Some(0.02),
            target_time: Some(0.015),
            target_ip: s("10.0.1.5"),
            target_port: Some(8080),
            user_agent: s(r#"curl/8.0 "test""#),
            trace_id: s("Root=1-67891233-abcdef012345678912345678"),
            vars: BTreeMap::from([("scheme".to_string(), "https".to_string())]),
            ..base("2021-03-31T03:04:07Z")
        })
    );
}

#[test]
fn braces_and_msec() {
    let f = LogFormat::parse(
        "'${remote_addr}|${msec}|$status|${request_time}s|$host|${upstream_addr}'",
    )
    .unwrap();
    assert_eq!(
        f.variables().collect::<Vec<_>>(),
        [
            "remote_addr",
            "msec",
            "status",
            "request_time",
            "host",
            "upstream_addr"
        ]
    );
    let line = "10.0.0.1|1617192247.123|200|0.050s|example.com|10.0.1.5:80, 10.0.1.6:80";
    assert_eq!(
        f.parse_line(line),
        Ok(RequestRecord {
            v: SCHEMA_VERSION,
            t: 1_617_192_247_123_000,
            client_ip: s("10.0.0.1"),
            status: Some(200),
            duration: Some(0.05),
            host: s("example.com"),
            vars: BTreeMap::from([(
                "upstream_addr".to_string(),
                "10.0.1.5:80, 10.0.1.6:80".to_string()
            )]),
            ..Default::default()
        })
    );
}

#[test]
fn escape_none_prefers_the_closing_quote_that_lets_the_line_match() {
    let f = LogFormat::parse(
        r#"log_format raw escape=none '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';"#,
    )
    .unwrap();
    let line = r#"192.0.2.1 - - [01/Apr/2021:09:00:00 +0900] "GET /a"b HTTP/1.1" 200 5 "-" "UA "quoted" x""#;
    assert_eq!(
        f.parse_line(line),
        Ok(RequestRecord {
            client_ip: s("192.0.2.1"),
            method: s("GET"),
            url: s(r#"/a"b"#),
            protocol: s("HTTP/1.1"),
            status: Some(200),
            sent_bytes: Some(5),
            user_agent: s(r#"UA "quoted" x"#),
            ..base("2021-04-01T00:00:00Z")
        })
    );
}

#[test]
fn pasted_commented_main_from_nginx_conf() {
    let text = r#"    #log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
    #                  '$status $body_bytes_sent "$http_referer" '
    #                  '"$http_user_agent" "$http_x_forwarded_for"';"#;
    let f = LogFormat::parse(text).unwrap();
    assert_eq!(f.name(), Some("main"));
    assert_eq!(
        f.variables().collect::<Vec<_>>(),
        LogFormat::main().variables().collect::<Vec<_>>()
    );
    // Bare format strings and built-in names work too.
    let bare = LogFormat::parse(
        r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#,
    )
    .unwrap();
    assert_eq!(
        bare.variables().collect::<Vec<_>>(),
        LogFormat::combined().variables().collect::<Vec<_>>()
    );
    assert_eq!(LogFormat::parse("extended"), Ok(LogFormat::extended()));
    assert_eq!(LogFormat::builtin("nope"), None);
}

#[test]
fn bad_directives() {
    let cases: [(&str, &str, FormatError); 9] = [
        ("blank", "  \n ", FormatError::Empty),
        (
            "unterminated_single_quote",
            "log_format main '$remote_addr - $remote_user",
            FormatError::UnterminatedQuote {
                quote: '\'',
                at: 16,
            },
        ),
        (
            "no_variables",
            "log_format main 'hello world';",
            FormatError::NoVariables,
        ),
        (
            "adjacent_variables",
            "log_format main '$remote_addr$remote_user [$time_local]';",
            FormatError::AdjacentVariables {
                first: "remote_addr".into(),
                second: "remote_user".into(),
            },
        ),
        (
            "unknown_escape",
            "log_format main escape=xml '$remote_addr';",
            FormatError::UnknownEscape("xml".into()),
        ),
        ("keyword_only", "log_format", FormatError::MissingName),
        ("name_only", "log_format main;", FormatError::Empty),
        (
            "unclosed_brace",
            "log_format main '${remote_addr [$time_local]';",
            FormatError::UnterminatedBrace {
                name: "remote_addr".into(),
            },
        ),
        (
            "access_log_pasted_along",
            "log_format main '$remote_addr [$time_local]';\naccess_log /var/log/nginx/access.log main;",
            FormatError::TrailingText("access_log /var/log/nginx/access.log main;".into()),
        ),
    ];
    for (name, text, want) in cases {
        assert_eq!(LogFormat::parse(text), Err(want), "case {name}");
    }
    // The message says which variables.
    let err = LogFormat::parse("'$status$body_bytes_sent$remote_user $time_local'").unwrap_err();
    assert_eq!(
        err.to_string(),
        "`$body_bytes_sent` and `$remote_user` follow each other with nothing between them, so a line cannot be split between them"
    );
}

#[test]
fn fixed_width_variable_may_touch_the_next() {
    let f = LogFormat::parse("'[$time_local]$status$body_bytes_sent'").unwrap();
    let r = f.parse_line("[01/Apr/2021:09:00:00 +0900]200612").unwrap();
    assert_eq!((r.status, r.sent_bytes), (Some(200), Some(612)));
}

#[test]
fn lines_that_do_not_match() {
    let f = LogFormat::combined();
    let cases = [
        ("empty", "", ParseError::Empty),
        (
            "cut_after_time",
            "192.0.2.1 - - [01/Apr/2021:09:00:00 +0900]",
            ParseError::MissingField("request"),
        ),
        (
            "request_quote_never_closed",
            r#"192.0.2.1 - - [01/Apr/2021:09:00:00 +0900] "GET / HTTP/1.1"#,
            ParseError::Unterminated("request"),
        ),
        (
            "status_not_a_number",
            r#"192.0.2.1 - - [01/Apr/2021:09:00:00 +0900] "GET / HTTP/1.1" abc 5 "-" "-""#,
            ParseError::invalid("status", "abc"),
        ),
        (
            "bad_month",
            r#"192.0.2.1 - - [01/Foo/2021:09:00:00 +0900] "GET / HTTP/1.1" 200 5 "-" "-""#,
            ParseError::invalid("time_local", "01/Foo/2021:09:00:00 +0900"),
        ),
        (
            "an_alb_line",
            "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817",
            ParseError::MissingField("remote_user"),
        ),
    ];
    for (name, line, want) in cases {
        assert_eq!(f.parse_line(line), Err(want), "case {name}");
    }
    // No time variable: every line is an error, and the format says so up front.
    let no_time = LogFormat::parse("'$remote_addr $status'").unwrap();
    assert!(!no_time.has_time());
    assert_eq!(
        no_time.parse_line("10.0.0.1 200"),
        Err(ParseError::MissingField("time_local"))
    );
    // An unknown variable is named in the error text.
    let custom = LogFormat::parse("'[$time_local] $status $my_var $my_other'").unwrap();
    assert_eq!(
        custom.parse_line("[01/Apr/2021:09:00:00 +0900] 200 x"),
        Err(ParseError::Format(
            "line ends before field `my_other`".into()
        ))
    );
}

// ---- error log ----

fn err_base(t: &str, level: &str, pid: u32, message: &str) -> ErrorRecord {
    ErrorRecord {
        v: SCHEMA_VERSION,
        t: utc(t),
        level: level.into(),
        pid: Some(pid),
        tid: Some(u64::from(pid)),
        message: message.into(),
        ..Default::default()
    }
}

#[test]
fn error_log_reference_examples() {
    let utc_tz = TimeZone::UTC;
    let cases = [
        (
            "open_failed_with_client_server_request_host",
            r#"2021/04/01 13:02:31 [error] 31#31: *1 open() "/usr/share/nginx/html/not-found" failed (2: No such file or directory), client: 172.17.0.1, server: localhost, request: "POST /not-found HTTP/1.1", host: "localhost:8081""#,
            ErrorRecord {
                connection: Some(1),
                client: s("172.17.0.1"),
                server: s("localhost"),
                request: s("POST /not-found HTTP/1.1"),
                host: s("localhost:8081"),
                ..err_base(
                    "2021-04-01T13:02:31Z",
                    "error",
                    31,
                    r#"open() "/usr/share/nginx/html/not-found" failed (2: No such file or directory)"#,
                )
            },
        ),
        (
            "empty_server_host_and_referrer",
            r#"2023/09/08 13:50:28 [warn] 3#3: *531 an upstream response is buffered to a temporary file /var/lib/nginx/tmp/fastcgi/6/03/0000000036 while reading upstream, client: 10.224.1.1, server: , request: "GET / HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", host: "", referrer: """#,
            ErrorRecord {
                connection: Some(531),
                client: s("10.224.1.1"),
                request: s("GET / HTTP/1.1"),
                upstream: s("fastcgi://127.0.0.1:9000"),
                ..err_base(
                    "2023-09-08T13:50:28Z",
                    "warn",
                    3,
                    "an upstream response is buffered to a temporary file /var/lib/nginx/tmp/fastcgi/6/03/0000000036 while reading upstream",
                )
            },
        ),
        (
            "startup_line_without_connection",
            "2021/06/17 19:25:59 [notice] 133309#133309: signal process started",
            err_base(
                "2021-06-17T19:25:59Z",
                "notice",
                133309,
                "signal process started",
            ),
        ),
        (
            "quote_inside_request_line",
            r#"2021/04/01 13:02:31 [error] 31#31: *7 access forbidden by rule, client: 10.0.0.1, server: example.com, request: "GET /a"b, host: "x" HTTP/1.1", host: "example.com""#,
            ErrorRecord {
                connection: Some(7),
                client: s("10.0.0.1"),
                server: s("example.com"),
                request: s(r#"GET /a"b, host: "x" HTTP/1.1"#),
                host: s("example.com"),
                ..err_base(
                    "2021-04-01T13:02:31Z",
                    "error",
                    31,
                    "access forbidden by rule",
                )
            },
        ),
        (
            "rate_limit_zone_in_quotes_and_subrequest",
            r#"2021/04/01 13:02:31 [error] 31#31: *9 limiting requests, excess: 50.416 by zone "api_access_token", client: 10.0.0.1, server: api, request: "GET /x HTTP/1.1", subrequest: "/auth", host: "api""#,
            ErrorRecord {
                connection: Some(9),
                client: s("10.0.0.1"),
                server: s("api"),
                request: s("GET /x HTTP/1.1"),
                subrequest: s("/auth"),
                host: s("api"),
                ..err_base(
                    "2021-04-01T13:02:31Z",
                    "error",
                    31,
                    r#"limiting requests, excess: 50.416 by zone "api_access_token""#,
                )
            },
        ),
    ];
    for (name, line, want) in cases {
        assert_eq!(
            nginx_error::parse_line(line, &utc_tz),
            Ok(want),
            "case {name}"
        );
    }
}

#[test]
fn error_log_local_time_zone_and_levels() {
    let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
    let r = nginx_error::parse_line("2021/04/01 09:00:00 [crit] 1#2: boom", &tokyo).unwrap();
    assert_eq!(r.t, utc("2021-04-01T00:00:00Z"));
    assert_eq!((r.pid, r.tid, r.connection), (Some(1), Some(2), None));
    for level in nginx_error::LEVELS {
        let line = format!("2021/04/01 09:00:00 [{level}] 1#1: *2 m");
        let r = nginx_error::parse_line(&line, &TimeZone::UTC).unwrap();
        assert_eq!((r.level.as_str(), r.message.as_str()), (level, "m"));
    }
    let bad = [
        ("garbage", "hello", ParseError::invalid("time", "hello")),
        (
            "unknown_level",
            "2021/04/01 09:00:00 [fatal] 1#1: m",
            ParseError::invalid("level", "fatal"),
        ),
        (
            "no_pid",
            "2021/04/01 09:00:00 [error] m",
            ParseError::MissingField("pid"),
        ),
        (
            "month_thirteen",
            "2021/13/01 09:00:00 [error] 1#1: m",
            ParseError::invalid("time", "2021/13/01 09:00:00"),
        ),
    ];
    for (name, line, want) in bad {
        assert_eq!(
            nginx_error::parse_line(line, &TimeZone::UTC),
            Err(want),
            "case {name}"
        );
    }
}

#[test]
fn error_log_fixture_with_multi_line_fastcgi() {
    let text = include_str!("data/nginx/error.log");
    let entries: Vec<&str> = split_entries(text).collect();
    assert_eq!(entries.len(), 6);
    assert_eq!(entries.concat(), text);

    // The assembler, fed line by line, groups the same way.
    let mut asm = ErrorLogAssembler::new();
    let mut streamed: Vec<String> = text.lines().filter_map(|l| asm.push(l)).collect();
    streamed.extend(asm.finish());
    let trimmed: Vec<&str> = entries.iter().map(|e| e.trim_end_matches('\n')).collect();
    assert_eq!(streamed, trimmed);

    let parsed: Vec<_> = entries
        .iter()
        .map(|e| nginx_error::parse_record(e, &TimeZone::UTC))
        .collect();
    // The leading `nginx: [warn]` line from `nginx -t` is not an entry.
    assert!(parsed[0].is_err());
    assert!(parsed[1..].iter().all(Result::is_ok));
    let Ok(Record::NginxError(fastcgi)) = &parsed[4] else {
        panic!("not an error record: {:?}", parsed[4]);
    };
    assert_eq!(
        *fastcgi,
        ErrorRecord {
            connection: Some(540),
            client: s("10.224.1.7"),
            server: s("shop.example.jp"),
            request: s("GET /cart.php?id=3 HTTP/1.1"),
            upstream: s("fastcgi://unix:/run/php/php8.2-fpm.sock:"),
            host: s("shop.example.jp"),
            referrer: s("https://shop.example.jp/"),
            ..err_base(
                "2023-09-08T13:51:02Z",
                "error",
                3,
                "FastCGI sent in stderr: \"PHP message: PHP Warning:  Undefined variable $total in /var/www/html/cart.php on line 41\n\
                 PHP message: PHP Fatal error:  Uncaught TypeError: count(): Argument #1 ($value) must be of type Countable|array, null given in /var/www/html/cart.php:42\n\
                 Stack trace:\n\
                 #0 {main}\n  thrown in /var/www/html/cart.php on line 42\" while reading response header from upstream",
            )
        }
    );
}

// ---------------------------------------------------------------------------------------------
// The nginx kit (deploy/nginx/): the recommended format and the CloudWatch agent configuration.

/// The kit's nginx configuration file, as users copy it.
const KIT_CONF: &str = include_str!("../../deploy/nginx/logdesk.conf");
/// The kit's CloudWatch agent configuration.
const KIT_AGENT: &str = include_str!("../../deploy/nginx/amazon-cloudwatch-agent.json");
/// The template, for the log group parameters' defaults.
const TEMPLATE: &str = include_str!("../../template.yaml");

/// The `log_format` directive of the kit's file: from `log_format` to the `;` that ends it.
fn kit_directive() -> &'static str {
    let start = KIT_CONF
        .find("log_format")
        .expect("the kit has a log_format");
    let end = KIT_CONF[start..].find("';").expect("the directive ends") + start + 2;
    &KIT_CONF[start..end]
}

/// The format string of the kit's directive: its single-quoted pieces, concatenated as nginx
/// does.
fn kit_format_string() -> String {
    kit_directive()
        .split('\'')
        .skip(1)
        .step_by(2)
        .collect::<Vec<_>>()
        .concat()
}

/// nginx's `ngx_escape_json` (src/core/ngx_string.c), used for every variable under
/// `escape=json`: `"` and `\` get a backslash; bytes below 0x20 become `\n`, `\r`, `\t`, `\b`,
/// `\f` or `\u00XX` (uppercase hex); everything else, bytes above 0x7F included, is written
/// as it is.
fn ngx_escape_json(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Renders one access-log line from the kit's real format string, with nginx's semantics for
/// the values given:
/// * `$msec`, `$status`, `$body_bytes_sent`, `$request_time` and `$time_iso8601` are written
///   by the log module itself, never escaped: `$msec` and `$request_time` with millisecond
///   resolution (`1795132800.123`, `0.000`), `$status` as three digits.
/// * every other variable goes through `ngx_escape_json`; a variable that is not found (no
///   such header; `$upstream_response_time` when the request never went upstream, e.g. a
///   static file) is written as nothing at all under `escape=json` (not `-`, which is the
///   `escape=default` convention), so its JSON string is `""`.
/// * `$upstream_response_time` lists one time per upstream tried, `, ` between servers and
///   ` : ` across internal redirects; `-` for an upstream that was not reached.
fn render(values: &[(&str, Option<&str>)]) -> String {
    let mut line = kit_format_string();
    // Longest names first, so that `$request` does not eat the start of `$request_time`.
    let mut values = values.to_vec();
    values.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    for (name, value) in values {
        let raw = matches!(
            name,
            "msec" | "status" | "body_bytes_sent" | "request_time" | "time_iso8601"
        );
        let text = match value {
            None => String::new(),
            Some(v) if raw => v.to_string(),
            Some(v) => ngx_escape_json(v),
        };
        line = line.replace(&format!("${name}"), &text);
    }
    assert!(!line.contains('$'), "a variable was left: {line}");
    line
}

/// The values of one request, by variable name; `None` is "not found".
struct Vars<'a> {
    time: &'a str,
    msec: &'a str,
    remote_addr: &'a str,
    xff: Option<&'a str>,
    host: &'a str,
    request: &'a str,
    status: &'a str,
    bytes: &'a str,
    request_time: &'a str,
    upstream: Option<&'a str>,
    referer: Option<&'a str>,
    ua: Option<&'a str>,
    trace: Option<&'a str>,
}

impl Vars<'_> {
    fn line(&self) -> String {
        render(&[
            ("time_iso8601", Some(self.time)),
            ("msec", Some(self.msec)),
            ("remote_addr", Some(self.remote_addr)),
            ("http_x_forwarded_for", self.xff),
            ("host", Some(self.host)),
            ("request", Some(self.request)),
            ("status", Some(self.status)),
            ("body_bytes_sent", Some(self.bytes)),
            ("request_time", Some(self.request_time)),
            ("upstream_response_time", self.upstream),
            ("http_referer", self.referer),
            ("http_user_agent", self.ua),
            ("http_x_amzn_trace_id", self.trace),
        ])
    }
}

const TRACE: &str = "Root=1-67891233-abcdef012345678912345678";

fn proxied<'a>() -> Vars<'a> {
    Vars {
        time: "2026-11-20T19:00:00+09:00",
        msec: "1795168800.123",
        remote_addr: "10.0.0.15",
        xff: Some("203.0.113.50"),
        host: "www.example.jp",
        request: "GET /products/42 HTTP/1.1",
        status: "200",
        bytes: "18234",
        request_time: "0.087",
        upstream: Some("0.085"),
        referer: Some("https://www.example.jp/products"),
        ua: Some("Mozilla/5.0 (X11; Linux x86_64)"),
        trace: Some(TRACE),
    }
}

fn proxied_record() -> RequestRecord {
    RequestRecord {
        client_ip: s("10.0.0.15"),
        forwarded_for: s("203.0.113.50"),
        host: s("www.example.jp"),
        method: s("GET"),
        url: s("/products/42"),
        protocol: s("HTTP/1.1"),
        status: Some(200),
        sent_bytes: Some(18234),
        duration: Some(0.087),
        target_time: Some(0.085),
        referrer: s("https://www.example.jp/products"),
        user_agent: s("Mozilla/5.0 (X11; Linux x86_64)"),
        trace_id: s(TRACE),
        ..base("2026-11-20T10:00:00.123Z")
    }
}

#[test]
fn kit_directive_is_the_builtin_logdesk_format() {
    let kit = LogFormat::parse(kit_directive()).unwrap();
    assert_eq!(kit, LogFormat::logdesk());
    assert_eq!(kit.escape(), Escape::Json);
    assert!(kit.has_time());
    assert_eq!(LogFormat::builtin("logdesk"), Some(LogFormat::logdesk()));
    // The fields the issue asks for, and nothing logdesk would not read.
    let vars: Vec<&str> = kit.variables().collect();
    assert_eq!(
        vars,
        [
            "time_iso8601",
            "msec",
            "remote_addr",
            "http_x_forwarded_for",
            "host",
            "request",
            "status",
            "body_bytes_sent",
            "request_time",
            "upstream_response_time",
            "http_referer",
            "http_user_agent",
            "http_x_amzn_trace_id",
        ]
    );
    assert!(KIT_CONF.contains("access_log /var/log/nginx/access.log logdesk;"));
}

#[test]
fn kit_lines_are_json_objects() {
    let line = proxied().line();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["status"], 200);
    assert_eq!(v["request_time"], 0.087);
    assert_eq!(v["trace_id"], TRACE);
    let tricky = Vars {
        ua: Some("a \"quoted\" \\ ua\twith\u{1}control"),
        upstream: None,
        ..proxied()
    };
    let v: serde_json::Value = serde_json::from_str(&tricky.line()).unwrap();
    assert_eq!(v["user_agent"], "a \"quoted\" \\ ua\twith\u{1}control");
    assert_eq!(v["upstream_response_time"], "");
}

#[test]
fn kit_lines_read_without_a_configured_format() {
    let cases: Vec<(&str, Vars, RequestRecord)> = vec![
        ("proxied_with_trace_id", proxied(), proxied_record()),
        (
            "static_file_has_no_upstream_and_no_referer",
            Vars {
                request: "GET /static/css/site.css?v=20261101 HTTP/1.1",
                bytes: "48211",
                request_time: "0.000",
                upstream: None,
                referer: None,
                ..proxied()
            },
            RequestRecord {
                url: s("/static/css/site.css?v=20261101"),
                sent_bytes: Some(48211),
                duration: Some(0.0),
                target_time: None,
                referrer: None,
                ..proxied_record()
            },
        ),
        (
            "escaped_quote_backslash_and_control_characters",
            Vars {
                request: "GET /q?a=\"x\"\\y HTTP/1.1",
                ua: Some("Bot \"1.0\"\t\u{1}end\\"),
                ..proxied()
            },
            RequestRecord {
                url: s("/q?a=\"x\"\\y"),
                user_agent: s("Bot \"1.0\"\t\u{1}end\\"),
                ..proxied_record()
            },
        ),
        (
            "utf8_user_agent_is_written_raw",
            Vars {
                ua: Some("テスト/1.0 (日本語)"),
                ..proxied()
            },
            RequestRecord {
                user_agent: s("テスト/1.0 (日本語)"),
                ..proxied_record()
            },
        ),
        (
            "two_upstreams_and_a_redirect_are_summed",
            Vars {
                upstream: Some("0.012, 0.003 : 0.001"),
                ..proxied()
            },
            RequestRecord {
                target_time: Some(0.016),
                ..proxied_record()
            },
        ),
        (
            "alb_gave_up_client_closed_499",
            Vars {
                status: "499",
                bytes: "0",
                request_time: "60.001",
                upstream: Some("60.000"),
                ..proxied()
            },
            RequestRecord {
                status: Some(499),
                sent_bytes: Some(0),
                duration: Some(60.001),
                target_time: Some(60.0),
                ..proxied_record()
            },
        ),
        (
            "empty_request_line_no_headers",
            Vars {
                remote_addr: "2001:db8::7",
                xff: None,
                host: "_",
                request: "",
                status: "400",
                bytes: "150",
                request_time: "0.001",
                upstream: None,
                referer: None,
                ua: None,
                trace: None,
                ..proxied()
            },
            RequestRecord {
                client_ip: s("2001:db8::7"),
                host: s("_"),
                status: Some(400),
                sent_bytes: Some(150),
                duration: Some(0.001),
                ..base("2026-11-20T10:00:00.123Z")
            },
        ),
    ];
    let formats = LogFormat::defaults();
    for (name, vars, want) in cases {
        let line = vars.line();
        let got = formats.iter().find_map(|f| f.parse_line(&line).ok());
        assert_eq!(got.as_ref(), Some(&want), "{name}: {line}");
        // The builtin alone reads it the same way.
        assert_eq!(LogFormat::logdesk().parse_line(&line).ok(), got, "{name}");
    }
}

#[test]
fn defaults_still_read_extended_and_combined() {
    let combined =
        r#"203.0.113.7 - - [31/Mar/2021:12:04:07 +0900] "GET / HTTP/1.1" 200 612 "-" "curl/8""#;
    let formats = LogFormat::defaults();
    let read: Vec<_> = formats
        .iter()
        .map(|f| f.parse_line(combined).is_ok())
        .collect();
    assert_eq!(read, [false, false, true]);
    assert!(LogFormat::logdesk().parse_line(combined).is_err());
}

/// The keys the agent's JSON schema (amazon-cloudwatch-agent `translator/config/schema.json`,
/// `logsFilesDefinition.collect_list.items`, `additionalProperties: false`) allows in one
/// collect_list entry.
const AGENT_FILE_KEYS: [&str; 18] = [
    "file_path",
    "log_group_name",
    "log_stream_name",
    "log_group_class",
    "multi_line_start_pattern",
    "timestamp_format",
    "timezone",
    "trim_timestamp",
    "encoding",
    "auto_removal",
    "backpressure_mode",
    "blacklist",
    "publish_multi_logs",
    "retention_in_days",
    "filters",
    "service.name",
    "deployment.environment",
    "kms_key_id",
];

/// The agent's translation of `timestamp_format` into the regular expression it searches each
/// line with (`ruleTimestampFormat.go`, `TimeFormatRexMap`), for the directives the kit uses.
/// Note `%z` there is `[\+-]\d{4}`: it cannot match nginx's `+09:00`, which is why the kit
/// stops at the seconds and sets `timezone: Local` (nginx and the agent share the host's zone).
fn agent_timestamp_regex(format: &str) -> regex::Regex {
    let mut re = regex::escape(format);
    for (directive, pattern) in [
        ("%Y", r"\d{4}"),
        ("%m", r"\d{2}"),
        ("%d", r"\d{2}"),
        ("%H", r"\d{2}"),
        ("%M", r"\d{2}"),
        ("%S", r"\d{2}"),
    ] {
        re = re.replace(directive, pattern);
    }
    assert!(
        !re.contains('%'),
        "a directive the test does not know: {format}"
    );
    regex::Regex::new(&format!("({re})")).unwrap()
}

/// A parameter's default in template.yaml.
fn template_default(parameter: &str) -> String {
    let at = TEMPLATE
        .find(&format!("\n  {parameter}:\n"))
        .unwrap_or_else(|| panic!("{parameter} is a parameter"));
    let block = &TEMPLATE[at..];
    let line = block
        .lines()
        .find_map(|l| l.trim().strip_prefix("Default: "))
        .unwrap();
    line.trim_matches('\'').to_string()
}

#[test]
fn kit_agent_configuration_has_the_agents_shape() {
    let v: serde_json::Value = serde_json::from_str(KIT_AGENT).unwrap();
    let top: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(top, ["agent", "logs"]);
    let logs = v["logs"].as_object().unwrap();
    for key in logs.keys() {
        assert!(
            ["logs_collected", "force_flush_interval", "log_stream_name"].contains(&key.as_str()),
            "{key}"
        );
    }
    let flush = v["logs"]["force_flush_interval"].as_u64().unwrap();
    assert!((1..=172_800).contains(&flush));
    let list = v["logs"]["logs_collected"]["files"]["collect_list"]
        .as_array()
        .unwrap();
    assert_eq!(list.len(), 2);
    for entry in list {
        let entry = entry.as_object().unwrap();
        assert!(entry.contains_key("file_path"));
        for (key, value) in entry {
            assert!(AGENT_FILE_KEYS.contains(&key.as_str()), "{key}");
            let text = value.as_str().unwrap();
            assert!((1..=512).contains(&text.len()), "{key}");
        }
        assert!(["Local", "LOCAL", "UTC"].contains(&entry["timezone"].as_str().unwrap()));
    }
    let (access, error) = (&list[0], &list[1]);

    // The log groups the stack reads by default.
    assert_eq!(
        access["log_group_name"],
        template_default("NginxAccessLogGroup")
    );
    assert_eq!(
        error["log_group_name"],
        template_default("NginxErrorLogGroup")
    );
    assert_eq!(access["file_path"], "/var/log/nginx/access.log");
    assert_eq!(error["file_path"], "/var/log/nginx/error.log");

    // The access log's events carry the request time: the agent's regex finds `time` (local
    // time, to the second) in a rendered line.
    let re = agent_timestamp_regex(access["timestamp_format"].as_str().unwrap());
    let line = proxied().line();
    let found = re.find(&line).unwrap();
    assert_eq!(found.as_str(), "2026-11-20T19:00:00");
    assert_eq!(found.start(), r#"{"time":""#.len());

    // The error log: one event per entry, a new entry starting with the time; a FastCGI
    // message continued on the next line stays in its entry.
    assert_eq!(error["multi_line_start_pattern"], "{timestamp_format}");
    let re = agent_timestamp_regex(error["timestamp_format"].as_str().unwrap());
    let first =
        "2026/11/20 19:00:00 [error] 1201#1201: *5 FastCGI sent in stderr: \"PHP message: a";
    assert_eq!(re.find(first).map(|m| m.start()), Some(0));
    assert!(
        re.find("PHP message: b\" while reading response header")
            .is_none()
    );
}
