//! `cargo xtask deploy-check`: what CI checks about deploying, with no AWS account.
//!
//! 1. `cfn-lint` with its informational checks and `sam validate --lint` (offline: dummy
//!    credentials, no telemetry), from `deploy/requirements.txt` installed into
//!    `./.venv-deploy`;
//! 2. checkov (`deploy/requirements-checkov.txt`, its own virtualenv `./.venv-deploy/checkov`:
//!    its boto3 pin conflicts with aws-sam-cli's), offline, every suppression in the template
//!    carrying its reason;
//! 3. the Python tests of `deploy/tests/`: the SAM transform (samtranslator, offline) with
//!    assertions on the transformed template, every Athena regex against the official sample
//!    lines of every kind, and `deploy/names.json` up to date;
//! 4. `cargo lambda build --release --x86-64` of the three functions (zig from the same
//!    virtualenv; arm64 needs a target this machine cannot download);
//! 5. each `bootstrap` needs no glibc symbol version newer than Amazon Linux 2023's 2.34;
//! 6. the binary sizes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use logdesk_e2e::project_root;

use crate::Result;

/// The functions' binaries (also the `target/lambda/<name>/` directories).
const FUNCTIONS: [&str; 3] = ["logdesk-ingest", "logdesk-notify", "logdesk-api"];

/// Amazon Linux 2023's glibc.
const MAX_GLIBC: (u32, u32) = (2, 34);

/// Times of named steps, printed as they finish and summed at the end.
#[derive(Default)]
pub struct Steps(Vec<Step>);

/// One timed step.
struct Step {
    name: String,
    secs: f64,
    /// It ran beside the others (not added to the total).
    beside: bool,
}

impl Steps {
    /// Runs `f` as step `name`, printing how long it took.
    pub fn run<T>(&mut self, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        eprintln!("ci: == {name}");
        let t = Instant::now();
        let r = f();
        let secs = t.elapsed().as_secs_f64();
        let outcome = if r.is_ok() { "ok" } else { "FAILED" };
        eprintln!("ci: {name}: {outcome} in {secs:.0} s");
        self.0.push(Step {
            name: name.to_owned(),
            secs,
            beside: false,
        });
        r
    }

    /// The table of step times.
    pub fn print(&self) {
        eprintln!("ci: step times");
        for step in &self.0 {
            let beside = if step.beside { BESIDE } else { "" };
            eprintln!("ci:   {:>6.0} s  {}{beside}", step.secs, step.name);
        }
        // Steps that ran beside the others are not added: the total is the time waited.
        let total: f64 = self.0.iter().filter(|s| !s.beside).map(|s| s.secs).sum();
        eprintln!("ci:   {total:>6.0} s  total (steps marked {BESIDE} not added)");
    }
}

fn venv() -> PathBuf {
    project_root().join(".venv-deploy")
}

fn venv_bin(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

fn checkov_venv() -> PathBuf {
    venv().join("checkov")
}

/// `PATH` with the virtualenv's `bin` first (so cargo-lambda finds its zig through the
/// venv's python).
fn path_with_venv() -> std::ffi::OsString {
    let mut paths = vec![venv().join("bin")];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

fn run(cmd: &mut Command) -> Result {
    eprintln!("+ {cmd:?}");
    let status = cmd.current_dir(project_root()).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed ({status})", cmd.get_program()).into())
    }
}

/// Creates `.venv-deploy` and installs `deploy/requirements.txt`, unless that exact file was
/// installed already.
pub fn ensure_venv() -> Result {
    let deploy = project_root().join("deploy");
    let requirements = deploy.join("requirements.txt");
    logdesk_e2e::install_requirements(&venv(), &requirements, "the deploy tools")?;
    let checkov = deploy.join("requirements-checkov.txt");
    logdesk_e2e::install_requirements(&checkov_venv(), &checkov, "checkov")?;
    Ok(())
}

/// `cfn-lint template.yaml`, informational checks included.
pub fn cfn_lint() -> Result {
    run(Command::new(venv_bin("cfn-lint")).args(["--include-checks", "I", "--", "template.yaml"]))
}

/// checkov over `template.yaml`, offline (no platform download, no telemetry); suppressions
/// live in the template's `Metadata.checkov.skip`, each with its `comment`.
pub fn checkov() -> Result {
    run(Command::new(checkov_venv().join("bin").join("python"))
        .args(["-m", "checkov.main", "--file", "template.yaml"])
        .args(["--framework", "cloudformation", "--compact", "--quiet"])
        .arg("--skip-download")
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .env("ANALYTICS_DISABLED", "true"))
}

/// The Python tests of `deploy/tests/` (SAM transform, Athena regexes) and the names check.
pub fn deploy_tests() -> Result {
    run(Command::new(venv_bin("python"))
        .args(["-m", "unittest", "discover", "-s", "deploy/tests"])
        .env("AWS_DEFAULT_REGION", "ap-northeast-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE"))?;
    run(Command::new(venv_bin("python")).args(["deploy/names.py", "--check"]))
}

/// `sam validate --lint`, offline.
pub fn sam_validate() -> Result {
    run(Command::new(venv_bin("sam"))
        .args(["validate", "--lint", "--template-file", "template.yaml"])
        .args(["--region", "us-east-1"])
        .env("SAM_CLI_TELEMETRY", "0")
        .env("AWS_ACCESS_KEY_ID", "dummy")
        .env("AWS_SECRET_ACCESS_KEY", "dummy")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN"))
}

/// `cargo lambda build --release --x86-64` of the three functions, into `target` (the
/// cargo target directory). With a `log`, its output goes there and it runs at the lowest
/// CPU priority (`nice -n 19`, inherited by cargo and every rustc), beside other work.
pub fn lambda_build(target: &Path, log: Option<&Path>) -> Result {
    let mut cmd = match log {
        Some(_) => {
            let mut nice = Command::new("nice");
            nice.args(["-n", "19"]).arg(venv_bin("cargo-lambda"));
            nice
        }
        None => Command::new(venv_bin("cargo-lambda")),
    };
    cmd.args(["lambda", "build", "--release", "--x86-64"]);
    for f in FUNCTIONS {
        cmd.args(["--package", f]);
    }
    cmd.env("PATH", path_with_venv())
        .env("CARGO_TARGET_DIR", target);
    if let Some(log) = log {
        let file = fs::File::create(log)?;
        cmd.stdout(file.try_clone()?).stderr(file);
    }
    run(&mut cmd)
}

/// The cargo target directory of this process (`CARGO_TARGET_DIR` or `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|d| {
            if d.is_absolute() {
                d
            } else {
                project_root().join(d)
            }
        })
        .unwrap_or_else(|| project_root().join("target"))
}

fn bootstrap(target: &Path, function: &str) -> PathBuf {
    target.join("lambda").join(function).join("bootstrap")
}

/// The newest `GLIBC_x.y` symbol version in `readelf -V` output.
pub fn newest_glibc(readelf: &str) -> Option<(u32, u32)> {
    readelf
        .split("GLIBC_")
        .skip(1)
        .filter_map(|rest| {
            let v: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let mut parts = v.split('.').filter(|p| !p.is_empty());
            let major = parts.next()?.parse().ok()?;
            let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
            Some((major, minor))
        })
        .max()
}

/// Each bootstrap (built into `target`) needs no glibc newer than 2.34; prints versions and
/// sizes.
pub fn check_binaries(target: &Path) -> Result {
    let mut bad = Vec::new();
    for f in FUNCTIONS {
        let path = bootstrap(target, f);
        let out = Command::new("readelf")
            .args(["-V", "--wide"])
            .arg(&path)
            .output()?;
        if !out.status.success() {
            return Err(format!("readelf -V {} failed", path.display()).into());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let newest = newest_glibc(&text);
        let size = fs::metadata(&path)?.len();
        let shown = newest
            .map(|(a, b)| format!("GLIBC_{a}.{b}"))
            .unwrap_or_else(|| "no glibc symbol versions".into());
        eprintln!(
            "ci:   {f:<15} {:>6.1} MiB  newest glibc symbol: {shown}  ({})",
            size as f64 / 1_048_576.0,
            rel(&path)
        );
        if newest.is_some_and(|v| v > MAX_GLIBC) {
            bad.push(format!("{f} needs {shown}"));
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "newer glibc than Amazon Linux 2023's 2.34: {}",
            bad.join(", ")
        )
        .into())
    }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(project_root())
        .unwrap_or(p)
        .display()
        .to_string()
}

/// All of the above, timed.
pub fn deploy_check(steps: &mut Steps) -> Result {
    let target = target_dir();
    tools_and_build(steps, &target, None)?;
    steps.run("bootstrap glibc <= 2.34, sizes", || check_binaries(&target))
}

/// The tools, the template checks and the release build into `target` (beside other work,
/// at the lowest priority, when given a `log`: see [`lambda_build`]).
fn tools_and_build(steps: &mut Steps, target: &Path, log: Option<&Path>) -> Result {
    steps.run("install deploy tools (.venv-deploy)", ensure_venv)?;
    steps.run("cfn-lint template.yaml (informational included)", cfn_lint)?;
    steps.run("sam validate --lint", sam_validate)?;
    steps.run("checkov template.yaml", checkov)?;
    steps.run(
        "deploy/tests (SAM transform, Athena regexes, names)",
        deploy_tests,
    )?;
    let name = match log {
        Some(_) => "nice cargo lambda build --release --x86-64",
        None => "cargo lambda build --release --x86-64",
    };
    steps.run(name, || lambda_build(target, log))
}

/// The deploy checks of CI, started beside the other steps: the release build is long and
/// the other steps leave a core idle much of the time (a crate that everything waits for,
/// tests waiting on the emulator), so it runs at the lowest CPU priority (`nice`) in a
/// target directory of its own (`target/ci-lambda`, so that neither build waits for the
/// other's lock), its output in `target/ci-lambda.log`.
pub struct Background {
    thread: std::thread::JoinHandle<Finished>,
    target: PathBuf,
    log: PathBuf,
}

/// Marks the name of a step that ran beside the others.
const BESIDE: &str = " (background)";

/// The background steps' times, and their error if one failed.
type Finished = (Steps, Option<String>);

impl Background {
    /// Starts the deploy tools' install, cfn-lint, sam validate, checkov, the deploy tests and the
    /// release build.
    pub fn start() -> Result<Background> {
        let target = target_dir().join("ci-lambda");
        let log = target_dir().join("ci-lambda.log");
        fs::create_dir_all(&target)?;
        let (t, l) = (target.clone(), log.clone());
        let thread = std::thread::Builder::new()
            .name("deploy-check".into())
            .spawn(move || {
                let mut steps = Steps::default();
                let r = tools_and_build(&mut steps, &t, Some(&l));
                (steps, r.err().map(|e| e.to_string()))
            })?;
        Ok(Background {
            thread,
            target,
            log,
        })
    }

    /// Waits for the background steps, adds their times to `steps` (marked as run beside the
    /// others), then checks the binaries.
    pub fn finish(self, steps: &mut Steps) -> Result {
        let (times, failed) = steps.run("wait for the deploy checks", || {
            self.thread
                .join()
                .map_err(|_| "the deploy-check thread panicked".into())
        })?;
        steps.0.extend(times.0.into_iter().map(|step| Step {
            beside: true,
            ..step
        }));
        if let Some(e) = failed {
            let text = fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
            return Err(format!("deploy checks: {e} (whole output: {})", rel(&self.log)).into());
        }
        steps.run("bootstrap glibc <= 2.34, sizes", || {
            check_binaries(&self.target)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_glibc_reads_readelf_output() {
        let text = "  0x0010:   Name: GLIBC_2.2.5  Flags: none  Version: 3\n  0x0020:   Name: GLIBC_2.34  Flags: none\n  0x0030: Name: GLIBC_2.17\n";
        assert_eq!(newest_glibc(text), Some((2, 34)));
        assert_eq!(newest_glibc("Name: GLIBC_2.39"), Some((2, 39)));
        assert_eq!(newest_glibc("nothing"), None);
    }
}
