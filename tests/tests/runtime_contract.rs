//! The OpenAPI document as a contract: schemathesis (installed into `./.venv-contract` on first
//! use) generates requests from `/v1/openapi.json` and sends them to a local server holding the
//! sample day; the run fails on any schema-valid request refused, any 5xx, and any answer whose
//! status, content type or body the document does not describe. Bounded: a fixed seed, a few
//! examples per operation, and a wall-clock limit after which the run is stopped and fails.
//! Schemathesis's coverage phase is left out: it does not apply `tests/contract/hooks.py`, which
//! keeps generated requests clear of what a schema cannot say (from before to, a known zone,
//! cursors the API gave out, no Insights locally).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use logdesk_api::serve::{ServeLimits, serve};
use logdesk_api::source::MemorySource;
use logdesk_api::synthetic::{self, Group};
use logdesk_api::{AppState, Config, router};
use logdesk_e2e::{install_requirements, project_root};

/// The sample day's first instant (2026-11-20T00:00:00Z), as the hooks file expects.
const BASE: i64 = 1_795_132_800_000_000;
/// Longest the whole schemathesis run may take.
const WALL: Duration = Duration::from_secs(300);

/// Serves the sample day on 127.0.0.1 from a thread of its own; the port.
fn start_server() -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut src = MemorySource::new(100);
            for e in synthetic::day(BASE) {
                let g = match e.group {
                    Group::Lb => "/logdesk/lb",
                    Group::Mail => "/logdesk/mail",
                    Group::NginxAccess => "/logdesk/nginx/access",
                    Group::NginxError => "/logdesk/nginx/error",
                };
                src.push(g, e.timestamp, e.message);
            }
            let config = Config::from_lookup(|_| None).unwrap();
            let app = router(AppState::new(config, Arc::new(src)));
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .unwrap();
            tx.send(listener.local_addr().unwrap().port()).unwrap();
            let _ = serve(listener, app, ServeLimits::default()).await;
        });
    });
    rx.recv_timeout(Duration::from_secs(30)).unwrap()
}

#[test]
fn every_schema_valid_request_is_answered_as_documented() {
    let venv = project_root().join(".venv-contract");
    let contract = project_root().join("tests").join("contract");
    install_requirements(&venv, &contract.join("requirements.txt"), "schemathesis").unwrap();
    let port = start_server();
    let report = project_root().join("target").join("contract-report");
    let mut child = Command::new(venv.join("bin").join("st"))
        .current_dir(&contract)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", &contract)
        .args([
            "run",
            &format!("http://127.0.0.1:{port}/v1/openapi.json"),
            "--mode",
            "positive",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,positive_data_acceptance",
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            "40",
            "--seed",
            "2026",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            "junit",
        ])
        .arg("--report-dir")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > WALL {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(status.is_some(), "schemathesis ran past {WALL:?}:\n{text}");
    assert!(status.unwrap().success(), "contract broken:\n{text}");
}
