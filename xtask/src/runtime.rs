//! The functions as Lambda runs them, and the API's contract:
//!
//! - `cargo xtask cold-start [DIR] [--rounds N]`: each function's release `bootstrap` started
//!   behind a local Lambda Runtime API ([`logdesk_e2e::runtime_api`]) N times (default 10),
//!   reporting its init time (process start to its first poll for an invocation) and its time
//!   to the first answer (an event that needs no AWS call: the S3 test event, an SNS bounce
//!   with no alert channel, `GET /v1/health`). DIR holds `<function>/bootstrap` or the binary
//!   `<function>` (default: the CI build `target/ci-lambda/lambda`, else `target/release`).
//! - CI steps after the release build: `tests/tests/runtime_bootstrap.rs` run against that
//!   build's bootstraps, and the schemathesis contract test (`tests/tests/runtime_contract.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use logdesk_e2e::runtime_api::{Answer, RuntimeApi};
use logdesk_e2e::{lambda_env, project_root};

use crate::deploy::{Steps, target_dir};
use crate::{Result, cargo};

/// The contract test's name, run as its own CI step (and skipped in the general test step).
pub const CONTRACT_TEST: &str = "every_schema_valid_request_is_answered_as_documented";

/// The functions, with an invocation each that needs no AWS call.
const FUNCTIONS: [(&str, &str); 3] = [
    ("logdesk-ingest", "ingest/s3-test-event.json"),
    ("logdesk-notify", "notify/sns-bounce.json"),
    ("logdesk-api", "api/health.json"),
];

/// The release bootstraps' directory of the CI build.
pub fn ci_lambda_dir() -> PathBuf {
    target_dir().join("ci-lambda").join("lambda")
}

/// The CI steps that need the release build (made by the deploy checks into `target/ci-lambda`).
pub fn ci_steps(steps: &mut Steps) -> Result {
    steps.run(
        "release bootstraps behind a local Lambda Runtime API",
        || {
            let cargo_bin = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo_bin)
                .args(["test", "-p", "logdesk-e2e", "--test", "runtime_bootstrap"])
                .env("LOGDESK_BOOTSTRAP_DIR", ci_lambda_dir())
                .current_dir(project_root())
                .status()?;
            if status.success() {
                Ok(())
            } else {
                Err("the runtime test failed".into())
            }
        },
    )?;
    steps.run("API contract (schemathesis)", || {
        cargo(&["test", "-p", "logdesk-e2e", "--test", "runtime_contract"])
    })?;
    steps.run("cold starts (release bootstraps)", || {
        cold_start(&[
            ci_lambda_dir().display().to_string(),
            "--rounds".into(),
            "5".into(),
        ])
    })
}

/// `cargo xtask cold-start [DIR] [--rounds N]`.
pub fn cold_start(args: &[String]) -> Result {
    let mut dir: Option<PathBuf> = None;
    let mut rounds = 10usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--rounds" => {
                rounds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n >= 1)
                    .ok_or("--rounds takes a whole number of at least 1")?;
            }
            other => dir = Some(PathBuf::from(other)),
        }
    }
    println!(
        "cold start, {rounds} rounds each (median, fastest): init = process start to its first poll; answer = to its first answer"
    );
    for (function, event) in FUNCTIONS {
        let binary = bootstrap(dir.as_deref(), function)?;
        let payload = std::fs::read_to_string(project_root().join("events").join(event))?;
        let mut init = Vec::new();
        let mut answer = Vec::new();
        for round in 0..rounds {
            let (i, a) = once(&binary, function, &payload, round)?;
            init.push(i);
            answer.push(a);
        }
        println!(
            "  {function:15} init {:>6.1} ms ({:.1})   answer {:>6.1} ms ({:.1})   {}",
            ms(median(&mut init)),
            ms(init[0]),
            ms(median(&mut answer)),
            ms(answer[0]),
            binary.display()
        );
    }
    Ok(())
}

fn bootstrap(dir: Option<&Path>, function: &str) -> Result<PathBuf> {
    let candidates = match dir {
        Some(d) => vec![d.join(function).join("bootstrap"), d.join(function)],
        None => vec![
            ci_lambda_dir().join(function).join("bootstrap"),
            target_dir().join("release").join(function),
        ],
    };
    candidates.into_iter().find(|p| p.exists()).ok_or_else(|| {
        format!("no release build of {function}: run `cargo xtask deploy-check` first").into()
    })
}

/// One cold start: (init, first answer).
fn once(
    binary: &Path,
    function: &str,
    payload: &str,
    round: usize,
) -> Result<(Duration, Duration)> {
    let api = RuntimeApi::start()?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(lambda_env(api.address(), function))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Nothing listens there: the invocations make no AWS call.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("LB_LOG_GROUP", "/logdesk/lb")
        .env("MAIL_LOG_GROUP", "/logdesk/mail")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let id = format!("cold-{round}");
    api.invoke(&id, payload);
    let result = (|| {
        let first_poll = api.first_poll(Duration::from_secs(30)).ok_or(format!(
            "{function} never polled (init error: {:?})",
            api.init_error()
        ))?;
        let answered = api.answer(&id, Duration::from_secs(30));
        let done = Instant::now();
        match answered {
            Some(Answer::Response { .. }) => Ok((
                first_poll.duration_since(started),
                done.duration_since(started),
            )),
            other => Err(format!("{function} answered {other:?}").into()),
        }
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
