//! The harness for logdesk's end-to-end tests and local demo: a project-local Python virtualenv
//! with moto's AWS emulator (installed on first use), and [`Emulator`], which runs it on
//! 127.0.0.1 on a free port and stops it when dropped.
//!
//! [`runtime_api`] is a local Lambda Runtime API, to run the functions' `bootstrap` binaries as
//! Lambda runs them.
//!
//! Only the standard library is used, so the developer commands (`cargo xtask`) can depend on
//! this crate without building the AWS SDK; the `sdk` feature adds `sdk_config` (and
//! `Emulator::sdk_config`), the one AWS SDK configuration every emulator client uses, and the
//! `events` feature adds `lambda_events`, the SNS and SQS event envelopes of the notify tests;
//! `router` adds `http`, requests through the API's router.
#![forbid(unsafe_code)]

#[cfg(feature = "router")]
pub mod http;
#[cfg(feature = "events")]
pub mod lambda_events;
pub mod runtime_api;

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The repository root (the directory holding the workspace `Cargo.toml`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The project-local virtualenv's directory.
pub fn venv_dir() -> PathBuf {
    project_root().join(".venv")
}

/// The virtualenv's Python interpreter.
pub fn venv_python() -> PathBuf {
    venv_dir().join("bin").join("python")
}

/// Creates `.venv` and installs `tests/requirements.txt` into it, unless that exact
/// requirements file was installed already. Safe to call from many test processes at once
/// (a file lock serialises the install).
pub fn ensure_venv() -> io::Result<PathBuf> {
    let requirements = project_root().join("tests").join("requirements.txt");
    install_requirements(&venv_dir(), &requirements, "the local AWS emulator")?;
    Ok(venv_python())
}

/// Creates the virtualenv `venv` (with `$LOGDESK_PYTHON`, default `python3`) and installs the
/// pinned `requirements` file into it, unless that exact file was installed already (a copy of
/// it is kept in the venv as the stamp). A file lock under `target/` serialises concurrent
/// installs into the same venv. `what` names the tools in the one line printed on install.
pub fn install_requirements(venv: &Path, requirements: &Path, what: &str) -> io::Result<()> {
    let wanted = fs::read_to_string(requirements)?;
    let stamp = venv.join("logdesk-requirements.txt");
    let installed = || fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str());
    if installed() {
        return Ok(());
    }
    let target = project_root().join("target");
    fs::create_dir_all(&target)?;
    let name = venv.file_name().unwrap_or_default().to_string_lossy();
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(target.join(format!("{name}.lock")))?;
    lock.lock()?;
    if installed() {
        return Ok(());
    }
    eprintln!("logdesk: installing {what} into {}", venv.display());
    let python = venv.join("bin").join("python");
    if !python.exists() {
        run(Command::new(python3()).args(["-m", "venv"]).arg(venv))?;
    }
    run(Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements))?;
    fs::write(&stamp, wanted)?;
    Ok(())
}

fn python3() -> String {
    std::env::var("LOGDESK_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn run(cmd: &mut Command) -> io::Result<()> {
    let status = cmd.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("{cmd:?} failed: {status}")))
    }
}

/// A running moto server on 127.0.0.1. Dropping it stops the server.
pub struct Emulator {
    child: Child,
    // Held open: the server exits when this pipe closes.
    _stdin: Option<ChildStdin>,
    port: u16,
}

impl Emulator {
    /// Installs the emulator if needed, starts it on a free port and waits until it answers
    /// (at most 60 s).
    pub fn start() -> io::Result<Emulator> {
        Self::start_on(0)
    }

    /// Like [`Emulator::start`], on a given port (0 = any free port).
    pub fn start_on(port: u16) -> io::Result<Emulator> {
        let python = ensure_venv()?;
        let script = project_root().join("tests").join("emulator.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "true")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout from emulator"))?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other("the emulator did not start within 60 s"));
            }
        };
        let port = line
            .trim()
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| io::Error::other(format!("unexpected emulator output {line:?}")))?;
        Ok(Emulator {
            child,
            _stdin: stdin,
            port,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The endpoint URL to give the AWS SDK (`AWS_ENDPOINT_URL`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An AWS SDK configuration for this emulator: its endpoint, `us-east-1` and fixed test
    /// credentials. S3 clients built from it also need `force_path_style(true)` (the
    /// emulator serves no virtual-host buckets).
    #[cfg(feature = "sdk")]
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config(&self.endpoint(), "us-east-1").await
    }

    /// Waits for the server to exit (it exits when this process's stdin pipe closes or at its
    /// time limit). Used by the demo, which runs until Ctrl-C.
    pub fn wait(mut self) -> io::Result<()> {
        self.child.wait().map(|_| ())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An AWS SDK configuration for an emulator at `endpoint` (`http://127.0.0.1:PORT`) in
/// `region`, with fixed test credentials and nothing read from the environment's profiles.
/// S3 clients built from it also need `force_path_style(true)`.
#[cfg(feature = "sdk")]
pub async fn sdk_config(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test",
            "test",
            None,
            None,
            "logdesk-tests",
        ))
        .load()
        .await
}

/// Creates log group `group` with one stream `s1` in the emulator and puts `events` (time in
/// ms, message) into it in time order, as one batch; a rejected event is a panic.
#[cfg(feature = "sdk")]
pub async fn log_group_with(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    events: &[(i64, &str)],
) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect("create the log group");
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name("s1")
        .send()
        .await
        .expect("create the log stream");
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| e.0);
    let batch: Vec<InputLogEvent> = sorted
        .iter()
        .map(|(t, m)| {
            InputLogEvent::builder()
                .timestamp(*t)
                .message(*m)
                .build()
                .expect("a log event")
        })
        .collect();
    let out = logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name("s1")
        .set_log_events(Some(batch))
        .send()
        .await
        .expect("put the log events");
    assert!(out.rejected_log_events_info().is_none(), "{group}: {out:?}");
}

/// The environment Lambda gives a function's process (`AWS_LAMBDA_*`, 256 MB, the region)
/// plus the emulator's test credentials, for running a `bootstrap` under the local Runtime API
/// at `runtime_api` (`127.0.0.1:PORT`). Callers start from `env_clear()` and add the
/// function's own settings.
pub fn lambda_env(runtime_api: &str, function: &str) -> [(&'static str, String); 9] {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
    ]
}

/// Appends a line to a log file under `target/` (used by long-running commands to leave a trace).
pub fn append_log(name: &str, line: &str) -> io::Result<()> {
    let mut f: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(project_root().join("target").join(name))?;
    writeln!(f, "{line}")
}
