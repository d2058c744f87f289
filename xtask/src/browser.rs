//! `cargo xtask browser [--url URL --token T]`: the dashboard's tests in headless Chromium.
//!
//! Installs what is missing (Debian's `chromium` through apt, a Japanese font for the
//! screenshots, `npm ci` in `tests/browser`),
//! starts the local demo as a child (`xtask demo --port <free> --token <random>`), waits for its
//! `logdesk is ready: URL` line, runs `node --test` in `tests/browser` against it, and stops the
//! demo (SIGTERM to it, then SIGKILL to its process group if it lingers). With `--url` (and
//! `--token`) it tests an already running logdesk instead. Every step has a time limit.
//! Screenshots of each screen land in `target/screenshots/`.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use logdesk_e2e::project_root;

use crate::Result;

const CHROMIUM: &str = "/usr/bin/chromium";
const READY_PREFIX: &str = "logdesk is ready: ";

/// How long the demo may take to get ready (it builds the functions on a fresh clone).
fn ready_timeout() -> Duration {
    seconds_from_env("LOGDESK_BROWSER_READY_SECS", 1800)
}

/// How long the whole `node --test` run may take.
fn tests_timeout() -> Duration {
    seconds_from_env("LOGDESK_BROWSER_TEST_SECS", 900)
}

fn seconds_from_env(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

/// The command: install, start the demo (unless `--url`), test, stop.
pub fn browser(args: &[String]) -> Result {
    let mut url = None;
    let mut token = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--url" => url = it.next().cloned(),
            "--token" => token = it.next().cloned(),
            other => return Err(format!("browser: unknown argument {other:?}").into()),
        }
    }
    let root = project_root();
    let dir = root.join("tests").join("browser");
    ensure_chromium()?;
    ensure_japanese_font();
    ensure_node_modules(&dir)?;
    let shots = root.join("target").join("screenshots");
    std::fs::create_dir_all(&shots)?;

    if let Some(url) = url {
        return run_tests(&dir, &url, token.as_deref().unwrap_or(""), &shots);
    }
    let port = free_port()?;
    let token = token.unwrap_or_else(random_token);
    let mut demo = Demo::start(port, &token)?;
    let ready = demo.wait_ready(ready_timeout());
    let result = ready.and_then(|url| run_tests(&dir, &url, &token, &shots));
    demo.stop();
    result
}

fn ensure_chromium() -> Result {
    if Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    eprintln!("+ apt-get install -y chromium");
    let status = Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends", "chromium"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()?;
    if !status.success() || !Path::new(CHROMIUM).exists() {
        return Err(format!(
            "{CHROMIUM} is missing and `apt-get install -y chromium` failed ({status}); \
             install Debian's chromium package (as root) and run again"
        )
        .into());
    }
    Ok(())
}

/// Screenshots of a Japanese page need a Japanese font (the tests read text, not pixels, so
/// a failed install is only a warning).
fn ensure_japanese_font() {
    let listed = Command::new("fc-list")
        .arg(":lang=ja")
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if listed {
        return;
    }
    eprintln!("+ apt-get install -y fonts-ipafont-gothic");
    let ok = Command::new("apt-get")
        .args([
            "install",
            "-y",
            "--no-install-recommends",
            "fonts-ipafont-gothic",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "warning: no Japanese font; screenshots will show boxes instead of Japanese text"
        );
    }
}

fn ensure_node_modules(dir: &Path) -> Result {
    let installed = dir
        .join("node_modules")
        .join("playwright-core")
        .join("package.json");
    let lock = dir.join("package-lock.json");
    let fresh = match (installed.metadata(), lock.metadata()) {
        (Ok(i), Ok(l)) => match (i.modified(), l.modified()) {
            (Ok(i), Ok(l)) => i >= l,
            _ => true,
        },
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    eprintln!("+ npm ci (tests/browser)");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()?;
    if !status.success() {
        return Err(format!("npm ci in tests/browser failed ({status})").into());
    }
    Ok(())
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

/// 32 hex digits from the kernel's random source.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // Only a local test token: the clock is random enough for that.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The demo as a child in its own process group.
struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Demo {
    fn start(port: u16, token: &str) -> Result<Demo> {
        let exe = std::env::current_exe()?;
        let port = port.to_string();
        eprintln!("+ xtask demo --port {port} --token <random>");
        let mut child = Command::new(exe)
            .args(["demo", "--port", &port, "--token", token])
            .current_dir(project_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout from the demo")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                println!("demo | {line}");
                if tx.send(line).is_err() {
                    // Nobody waits any more; keep draining so the demo never blocks on a pipe.
                    continue;
                }
            }
        });
        Ok(Demo { child, lines })
    }

    /// The URL from the demo's ready line, or an error when it exits or takes too long.
    fn wait_ready(&mut self, limit: Duration) -> Result<String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("the demo was not ready within {limit:?}").into());
            }
            match self.lines.recv_timeout(left.min(Duration::from_secs(1))) {
                Ok(line) => {
                    if let Some(url) = line.trim().strip_prefix(READY_PREFIX) {
                        return Ok(url.trim().to_owned());
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(status) = self.child.try_wait()? {
                        return Err(
                            format!("the demo exited before it was ready ({status})").into()
                        );
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait()?;
                    return Err(format!("the demo exited before it was ready ({status})").into());
                }
            }
        }
    }

    /// SIGTERM to the demo (it stops its own children), then SIGKILL to the whole group if
    /// anything is still there after 30 s.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            eprintln!("the demo did not stop on SIGTERM; killing its process group");
        }
        // The group may still hold a grandchild that outlived the demo; the group id is the
        // demo's pid (process_group(0)).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

fn run_tests(dir: &Path, url: &str, token: &str, shots: &Path) -> Result {
    eprintln!("+ node --test (tests/browser) against {url}");
    let mut child = Command::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "--test-timeout=600000",
            "dashboard.test.mjs",
        ])
        .current_dir(dir)
        .env("LOGDESK_URL", url)
        .env("LOGDESK_TOKEN", token)
        .env("SCREENSHOTS", shots)
        .env("CHROMIUM", CHROMIUM)
        .process_group(0)
        .spawn()?;
    let limit = tests_timeout();
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return if status.success() {
                eprintln!("browser tests passed; screenshots in {}", shots.display());
                Ok(())
            } else {
                Err(format!("browser tests failed ({status})").into())
            };
        }
        if Instant::now() >= deadline {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            return Err(format!("browser tests did not finish within {limit:?}").into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
