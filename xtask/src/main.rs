//! logdesk's developer commands, run as `cargo xtask <command>`:
//!
//! - `test`: installs what the tests need (the emulator's virtualenv) and runs every test.
//! - `ci`: what `.ci/run` runs: format check, clippy, docs, then `test`.
//! - `demo`: the local run on the embedded default (emulator plus the bundled samples).
//! - `emulator`: just the local AWS emulator, until Ctrl-C.
//! - `bench`: the benchmarks, with their figures.

use std::path::Path;
use std::process::{Command, ExitCode};

use logdesk_e2e::{Emulator, ensure_venv, project_root};

const USAGE: &str = "usage: cargo xtask <test|ci|demo|emulator|bench> [args…]";

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
        "demo" => demo(),
        "emulator" => emulator(),
        "bench" => bench(rest),
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
fn test(extra: &[String]) -> Result {
    ensure_venv()?;
    // Benchmarks are compiled by clippy --all-targets and run by `cargo xtask bench`; running
    // them here in a debug build would only cost minutes.
    let mut args = vec!["test", "--workspace", "--lib", "--bins", "--tests"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)?;
    // Doc tests are not part of the targets above.
    cargo(&["test", "--workspace", "--doc"])
}

fn ci() -> Result {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])?;
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .current_dir(project_root())
        .status()?;
    if !status.success() {
        return Err("cargo doc reported warnings".into());
    }
    test(&[])
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

/// The local run: starts the emulator and parses the bundled sample logs with the same code
/// the ingest function uses, printing the records it would write.
fn demo() -> Result {
    let emulator = Emulator::start()?;
    cargo(&["build", "--quiet", "--package", "logdesk-ingest"])?;
    let root = project_root();
    let bin = root.join("target").join("debug").join("logdesk-ingest");
    let samples = root.join("events").join("samples");
    let runs: [(&str, &str); 6] = [
        ("alb", "alb-access.log"),
        ("alb-connection", "alb-connection.log"),
        ("nlb", "nlb.log"),
        ("clb", "clb.log"),
        ("nginx", "nginx-access.log"),
        ("ses", "ses-firehose.json"),
    ];
    for (kind, file) in runs {
        println!("\n== {kind}: events/samples/{file}");
        run_parse(&bin, kind, &samples.join(file), &[])?;
    }
    println!("\n== nginx-error: events/samples/nginx-error.log");
    run_parse(
        &bin,
        "nginx-error",
        &samples.join("nginx-error.log"),
        &["--tz", "Asia/Tokyo"],
    )?;
    println!(
        "\nThe local AWS emulator is running at {} (export AWS_ENDPOINT_URL to use it).",
        emulator.endpoint()
    );
    println!("Ctrl-C stops everything.");
    emulator.wait()?;
    Ok(())
}

fn run_parse(bin: &Path, kind: &str, file: &Path, extra: &[&str]) -> Result {
    let status = Command::new(bin)
        .args(["parse", "--kind", kind])
        .args(extra)
        .arg(file)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("logdesk-ingest parse --kind {kind} failed").into())
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
