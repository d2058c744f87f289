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
use logdesk_api::synthetic;
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
            let src = synthetic::day_source(BASE, "/logdesk", 100);
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
    // Schemathesis keeps a cache in its working directory: under target/, not in the tree.
    let report = project_root().join("target").join("contract-report");
    std::fs::create_dir_all(&report).unwrap();
    let mut child = Command::new(venv.join("bin").join("st"))
        .current_dir(&report)
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

/// `/v1/openapi.json` takes no parameters and refuses unknown ones like every other endpoint;
/// every operation but health documents its security, its 400 and its 401.
#[tokio::test]
async fn the_document_states_auth_and_errors_and_refuses_unknown_parameters() {
    use tower::ServiceExt;
    let config = Config::from_lookup(|_| None).unwrap();
    let app = router(AppState::new(config, Arc::new(MemorySource::new(10))));
    let get = |uri: &str| {
        let app = app.clone();
        let req = axum::http::Request::builder()
            .uri(uri)
            .body(axum::body::Body::empty())
            .unwrap();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap()
                .to_bytes();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            )
        }
    };
    let (status, v) = get("/v1/openapi.json?x=1").await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["parameter"], "x");
    let (status, doc) = get("/v1/openapi.json").await;
    assert_eq!(status, 200);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["sigv4"]["name"], "Authorization", "{schemes}");
    for (path, item) in doc["paths"].as_object().unwrap() {
        let op = &item["get"];
        if path == "/v1/health" {
            continue;
        }
        assert!(
            op["security"].as_array().is_some_and(|s| s.len() == 2),
            "{path}"
        );
        for code in ["400", "401"] {
            assert_eq!(
                op["responses"][code]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{path} {code}"
            );
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["name"] == "limit" {
                assert_eq!(p["schema"]["minimum"], 1, "{path}");
                assert_eq!(p["schema"]["maximum"], 1000, "{path}");
            }
        }
    }
}
