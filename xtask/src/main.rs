//! logdesk's developer commands, run as `cargo xtask <command>`:
//!
//! - `test`: installs what the tests need (the emulator's virtualenv) and runs every test.
//! - `ci`: what `.ci/run` runs: format check, clippy (and clippy's `too_many_lines` on the
//!   libraries and binaries), docs, `test`, the browser tests, and the `deploy-check` steps
//!   beside them (at the lowest CPU priority), each step timed.
//! - `deploy-check`: cfn-lint, `sam validate --lint`, `cargo lambda build --release` of the
//!   three functions (x86_64), their glibc needs and sizes; see `xtask/src/deploy.rs`.
//! - `demo [--port 8080] [--token T]`: the local demo (emulator, a generated day of traffic,
//!   ingest, notify, the API on 127.0.0.1) until Ctrl-C; see `demo/`.
//! - `emulator`: just the local AWS emulator, until Ctrl-C.
//! - `bench`: the benchmarks, with their figures.
//! - `browser [--url URL --token T]`: the dashboard's tests in headless Chromium against the
//!   demo (or a running logdesk); see `xtask/src/browser.rs`.
//! - `cold-start [DIR] [--rounds N]`: each function's release bootstrap behind a local Lambda
//!   Runtime API, its init time and time to first answer; see `xtask/src/runtime.rs` (which
//!   also holds the CI steps that run the release bootstraps and the API contract test).
#![forbid(unsafe_code)]

mod browser;

use std::process::{Command, ExitCode};

use logdesk_e2e::{Emulator, ensure_venv, project_root};

mod deploy;
mod runtime;

const USAGE: &str =
    "usage: cargo xtask <test|ci|deploy-check|demo|emulator|bench|browser|cold-start> [args…]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match command.as_str() {
        "test" => test(rest),
        "ci" => ci(),
        "deploy-check" => {
            let mut steps = deploy::Steps::default();
            let r = deploy::deploy_check(&mut steps);
            steps.print();
            r
        }
        "demo" => demo(rest),
        "emulator" => emulator(),
        "bench" => bench(rest),
        "browser" => browser::browser(rest),
        "cold-start" => runtime::cold_start(rest),
        _ => {
            eprintln!("unknown command {command:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {command}: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn cargo(args: &[&str]) -> Result {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("+ cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .current_dir(project_root())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed ({status})", args.join(" ")).into())
    }
}

/// Every test of the workspace, unit and end to end, after installing the emulator.
/// What `cargo xtask test` builds and runs, and what the demo builds (the same build).
const TEST_TARGETS: [&str; 4] = ["--workspace", "--lib", "--bins", "--tests"];

fn test(extra: &[String]) -> Result {
    ensure_venv()?;
    // Benchmarks are compiled by clippy --all-targets and run by `cargo xtask bench`; running
    // them here in a debug build would only cost minutes.
    let mut args = vec!["test"];
    args.extend(TEST_TARGETS);
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)?;
    // Doc tests are not part of the targets above.
    cargo(&["test", "--workspace", "--doc"])
}

/// Format, lint, docs, every test, the dashboard's browser tests, then the deploy checks; each
/// step timed.
fn ci() -> Result {
    let mut steps = deploy::Steps::default();
    let r = ci_steps(&mut steps);
    steps.print();
    r
}

fn ci_steps(steps: &mut deploy::Steps) -> Result {
    steps.run("cargo fmt --check", || {
        cargo(&["fmt", "--all", "--", "--check"])
    })?;
    // The deploy checks (tools install, template lint, release build) run beside the rest.
    let deploy = deploy::Background::start()?;
    steps.run("cargo clippy -D warnings", || {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    // No production function over the `too-many-lines-threshold` of clippy.toml (data tables
    // carry an `allow` saying so). Libraries and binaries only: a test may be longer.
    steps.run("cargo clippy too_many_lines", || {
        cargo(&[
            "clippy",
            "--workspace",
            "--lib",
            "--bins",
            "--",
            "-D",
            "warnings",
            "-W",
            "clippy::too_many_lines",
        ])
    })?;
    steps.run("cargo doc -D warnings", || {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings")
            .current_dir(project_root())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err("cargo doc reported warnings".into())
        }
    })?;
    // The contract test is a step of its own, after the release build.
    steps.run("tests (unit, e2e, doc)", || {
        test(&["--".into(), "--skip".into(), runtime::CONTRACT_TEST.into()])
    })?;
    steps.run("dashboard in headless Chromium", || browser::browser(&[]))?;
    deploy.finish(steps)?;
    runtime::ci_steps(steps)
}

fn emulator() -> Result {
    let emulator = Emulator::start()?;
    println!("The local AWS emulator (moto) is running. Use it with:");
    println!("  export AWS_ENDPOINT_URL={}", emulator.endpoint());
    println!("  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1");
    println!("Ctrl-C stops it.");
    emulator.wait()?;
    Ok(())
}

/// The local demo: builds the function binaries and the demo once, then replaces this process
/// with `logdesk-demo` (so Ctrl-C and SIGTERM reach it directly; it stops the emulator and the
/// API it started). See `demo/src/lib.rs`.
///
/// The build is the one `cargo xtask test` makes (every package, binaries and tests): the
/// tests' dev-dependencies turn on features of the AWS SDK crates (`test-util`), and building
/// the binaries without them would compile those crates a second time.
fn demo(rest: &[String]) -> Result {
    let mut args = vec!["build"];
    args.extend(TEST_TARGETS);
    cargo(&args)?;
    // The emulator stops itself after an hour unless told otherwise; the demo runs until
    // Ctrl-C.
    let mut cmd = Command::new(deploy::target_dir().join("debug").join("logdesk-demo"));
    cmd.args(rest).current_dir(project_root());
    if std::env::var_os("LOGDESK_EMULATOR_MAX_SECONDS").is_none() {
        cmd.env("LOGDESK_EMULATOR_MAX_SECONDS", "604800");
    }
    exec(cmd)
}

#[cfg(unix)]
fn exec(mut cmd: Command) -> Result {
    use std::os::unix::process::CommandExt as _;
    // Only returns on failure.
    let program = cmd.get_program().to_owned();
    let error = cmd.exec();
    Err(format!("cannot run {program:?}: {error}").into())
}

#[cfg(not(unix))]
fn exec(mut cmd: Command) -> Result {
    let status = cmd.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed ({status})", cmd.get_program()).into())
    }
}

fn bench(extra: &[String]) -> Result {
    let mut args = vec!["bench", "--package", "logdesk-core"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)?;
    // The ingest pipeline (gunzip → records → batches) and the encoded/raw byte ratio.
    cargo(&[
        "bench",
        "--package",
        "logdesk-ingest",
        "--bench",
        "pipeline",
    ])
}
