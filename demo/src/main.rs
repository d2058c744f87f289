//! `logdesk-demo [--port 8080] [--token T]`: the local demo (run it with `cargo xtask demo`,
//! which builds the binaries first). Starts the emulator, seeds it, prints the alert notify
//! sent, serves the API with the `logdesk-api` binary next to this one, prints example `curl`
//! commands and `logdesk is ready: http://127.0.0.1:PORT/`, and runs until Ctrl-C or SIGTERM.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use logdesk_demo::examples::{self, curl, has_data};
use logdesk_demo::traffic::FIXED;
use logdesk_demo::{Seeded, now_us, setup_and_seed};
use logdesk_e2e::Emulator;
use sha2::Digest as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str = "usage: logdesk-demo [--port PORT] [--token TOKEN]";

struct Args {
    port: u16,
    token: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 8080,
        token: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (a.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next());
        match name.as_str() {
            "--port" => {
                let v = value().ok_or("--port needs a value")?;
                args.port = v.parse().map_err(|_| format!("--port {v:?}: not a port"))?;
            }
            "--token" => {
                let v = value().ok_or("--token needs a value")?;
                if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '\'') {
                    return Err("--token: give a non-empty token without spaces or quotes".into());
                }
                args.token = Some(v);
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    // Warnings only: the functions' info lines (one per object ingested) would bury the demo's
    // own output. `RUST_LOG` overrides it, here and for the API process started below.
    logdesk_core::telemetry::init_tracing("warn");
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("logdesk-demo: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("logdesk-demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut sigint = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    let mut sigterm = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    println!(
        "logdesk demo: starting the local AWS emulator (moto; installed into .venv on first use)…"
    );
    let emulator = tokio::task::spawn_blocking(Emulator::start)
        .await
        .context("emulator start task")?
        .context("starting the emulator")?;
    println!("emulator: {}", emulator.endpoint());

    let work = async {
        let seeded = setup_and_seed(&emulator.endpoint(), now_us(), |line| {
            println!("  {line}");
        })
        .await?;
        report(&seeded);
        let (child, port) = serve_api(&emulator.endpoint(), &seeded, &args).await?;
        Ok::<_, anyhow::Error>((seeded, child, port))
    };
    let (seeded, mut child, port) = tokio::select! {
        r = work => r?,
        _ = sigint.recv() => { println!("logdesk demo: interrupted"); return Ok(()); }
        _ = sigterm.recv() => { println!("logdesk demo: terminated"); return Ok(()); }
    };

    let base = format!("http://127.0.0.1:{port}");
    let list = examples::examples(&seeded.fixed);
    let checked = check_examples(&base, args.token.as_deref(), &list).await;
    match &checked {
        Ok(()) => println!(
            "checked {} example requests: each answered 200 with data",
            list.len()
        ),
        Err(e) => println!("WARNING: {e}"),
    }
    println!();
    println!("Try (the API's default range is the last 24 hours; add &lang=en for English):");
    for e in &list {
        println!("  # {}", e.title);
        println!("  {}", curl(&base, args.token.as_deref(), e));
    }
    println!("Ctrl-C stops the API and the emulator.");
    println!("logdesk is ready: {base}/");
    let _ = std::io::stdout().flush();

    let outcome = tokio::select! {
        _ = sigint.recv() => "interrupted".to_owned(),
        _ = sigterm.recv() => "terminated".to_owned(),
        s = child.wait() => format!("the API exited ({})", s.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())),
    };
    let _ = child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    drop(emulator);
    println!("logdesk demo: {outcome}; stopped the API and the emulator");
    Ok(())
}

fn report(s: &Seeded) {
    println!("\nResources (as template.yaml creates them):");
    for l in &s.created.lines {
        println!("  {l}");
    }
    if !s.created.missing.is_empty() {
        println!("Not created in the emulator:");
        for m in &s.created.missing {
            println!("  - {m}");
        }
    }
    println!("\nFixed content to try:\n{FIXED}");
    println!(
        "  (message ids: hard bounce {}, soft bounce {}, delivered {}; trace id of the HTTP 500 {})",
        s.fixed.hard_bounce, s.fixed.soft_bounce, s.fixed.delivered, s.fixed.api_500_trace
    );
    println!("\nThe alert notify sent for the hard bounce (SNS e-mail subscription text):");
    println!("  Subject: {}", s.alert.subject);
    for l in s.alert.message.lines() {
        println!("  | {l}");
    }
    println!();
}

fn api_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating logdesk-demo")?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("logdesk-demo has no directory"))?;
    let api = dir.join("logdesk-api");
    if api.exists() {
        Ok(api)
    } else {
        Err(anyhow!(
            "{} not found: run `cargo xtask demo` (it builds the function binaries)",
            api.display()
        ))
    }
}

/// Starts `logdesk-api serve` with the function's environment from names.json and waits until
/// it answers; returns the child and its port.
async fn serve_api(endpoint: &str, s: &Seeded, args: &Args) -> anyhow::Result<(Child, u16)> {
    let mut cmd = Command::new(api_binary()?);
    cmd.args(["serve", "--port", &args.port.to_string()])
        .envs(&s.names.functions.api.env)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_REGION", &s.names.region)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(t) = &args.token {
        cmd.env("AUTH_MODE", "token").env(
            "TOKEN_SHA256",
            hex::encode(sha2::Sha256::digest(t.as_bytes())),
        );
    }
    let mut child = cmd.spawn().context("starting logdesk-api")?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow!("no stderr from logdesk-api"))?;
    let mut lines = BufReader::new(stderr).lines();
    let port = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(addr) = line.split("listening on http://").nth(1) {
                return addr
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.trim().parse::<u16>().ok());
            }
            eprintln!("{line}");
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| {
        anyhow!(
            "logdesk-api did not start on 127.0.0.1:{} (is the port in use? try --port)",
            args.port
        )
    })?;
    // The API's own log (warnings and errors) goes on to our stderr.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("{line}");
        }
    });
    let health = format!("http://127.0.0.1:{port}/v1/health");
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(&health).await
            && r.status().is_success()
        {
            return Ok((child, port));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(anyhow!("logdesk-api did not answer {health}"))
}

async fn check_examples(
    base: &str,
    token: Option<&str>,
    list: &[examples::Example],
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let mut failed = Vec::new();
    for e in list {
        let mut req = http.get(format!("{base}{}", e.path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.send().await {
            Ok(r) => {
                let status = r.status();
                let body = r.bytes().await.unwrap_or_default();
                if !status.is_success() || !has_data(e, &body) {
                    failed.push(format!(
                        "{} → {status}: {}",
                        e.path,
                        String::from_utf8_lossy(&body[..body.len().min(300)])
                    ));
                }
            }
            Err(err) => failed.push(format!("{} → {err}", e.path)),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(
            "some example requests found no data:\n  {}",
            failed.join("\n  ")
        ))
    }
}
