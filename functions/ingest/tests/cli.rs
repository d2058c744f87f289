//! `logdesk-ingest parse` as a user runs it: records on stdout, a summary on stderr, exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use logdesk_core::Record;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/samples")
}

fn parse(args: &[&str], files: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logdesk-ingest"))
        .arg("parse")
        .args(args)
        .args(files)
        .output()
        .expect("run logdesk-ingest")
}

fn records(out: &Output) -> Vec<Record> {
    String::from_utf8(out.stdout.clone())
        .expect("stdout is UTF-8")
        .lines()
        .map(|l| Record::from_json(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn summary(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

#[test]
fn alb_sample_with_one_bad_line() {
    let out = parse(&["--kind", "alb"], &[&samples().join("alb-access.log")]);
    assert!(out.status.success(), "{}", summary(&out));
    assert_eq!(summary(&out), "lines=10 records=10 bad=1");
    let recs = records(&out);
    assert!(matches!(recs[0], Record::Alb(_)));
    match &recs[9] {
        Record::Bad(b) => {
            assert_eq!(b.source, "alb");
            assert_eq!(b.line, 10);
            assert!(b.raw.starts_with("http 2026-11-22T01:15:09"));
        }
        other => panic!("expected a bad record, got {other:?}"),
    }
}

#[test]
fn every_kind_parses_its_sample() {
    let cases = [
        ("alb-connection", "alb-connection.log"),
        ("nlb", "nlb.log"),
        ("clb", "clb.log"),
        ("nginx", "nginx-access.log"),
        ("nginx-error", "nginx-error.log"),
        ("ses", "ses-firehose.json"),
    ];
    for (kind, file) in cases {
        let out = parse(&["--kind", kind], &[&samples().join(file)]);
        assert!(out.status.success(), "{kind}: {}", summary(&out));
        let recs = records(&out);
        assert!(!recs.is_empty(), "{kind}: no records");
        let good = recs.iter().filter(|r| !matches!(r, Record::Bad(_))).count();
        assert!(good > 0, "{kind}: only bad records: {recs:?}");
    }
}

#[test]
fn gzip_input_gives_the_same_records_as_plain() {
    let plain = samples().join("alb-access.log");
    let dir = std::env::temp_dir().join(format!("logdesk-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz = dir.join("alb.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    enc.finish().unwrap();
    let a = parse(&["--kind", "alb"], &[&plain]);
    let b = parse(&["--kind", "alb"], &[&gz]);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(summary(&a), summary(&b));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unreadable_file_fails_but_others_are_still_parsed() {
    let out = parse(
        &["--kind", "alb"],
        &[
            Path::new("/nonexistent/logdesk.log"),
            &samples().join("alb-access.log"),
        ],
    );
    assert!(!out.status.success());
    assert!(summary(&out).contains("cannot open /nonexistent/logdesk.log"));
    assert!(summary(&out).ends_with("lines=10 records=10 bad=1"));
}

#[test]
fn truncated_gzip_fails_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("logdesk-cli-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz = dir.join("cut.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for _ in 0..2000 {
        enc.write_all(&std::fs::read(samples().join("alb-access.log")).unwrap())
            .unwrap();
    }
    let data = enc.finish().unwrap();
    std::fs::write(&gz, &data[..data.len() / 2]).unwrap();
    let out = parse(&["--kind", "alb"], &[&gz]);
    assert!(!out.status.success());
    assert!(summary(&out).contains("cut.log.gz"), "{}", summary(&out));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_arguments_are_rejected() {
    let out = parse(&["--kind", "apache"], &[&samples().join("alb-access.log")]);
    assert_eq!(out.status.code(), Some(2));
    let out = parse(
        &["--kind", "nginx", "--log-format", "log_format x '"],
        &[&samples().join("nginx-access.log")],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn custom_nginx_log_format_directive() {
    let dir = std::env::temp_dir().join(format!("logdesk-cli-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("access.log");
    std::fs::write(
        &log,
        "2026-11-22T10:15:02+09:00 203.0.113.5 \"GET /a HTTP/1.1\" 200 0.010\n",
    )
    .unwrap();
    let out = parse(
        &[
            "--kind",
            "nginx",
            "--log-format",
            "log_format short '$time_iso8601 $remote_addr \"$request\" $status $request_time';",
        ],
        &[&log],
    );
    assert!(out.status.success(), "{}", summary(&out));
    assert_eq!(summary(&out), "lines=1 records=1 bad=0");
    match &records(&out)[0] {
        Record::Nginx(r) => {
            assert_eq!(r.client_ip.as_deref(), Some("203.0.113.5"));
            assert_eq!(r.status, Some(200));
            assert_eq!(r.duration, Some(0.010));
            assert_eq!(r.t, 1_795_310_102_000_000);
        }
        other => panic!("expected an nginx record, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).ok();
}
