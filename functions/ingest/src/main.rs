//! `logdesk-ingest`: the ingest function's binary and its command-line tools.
#![forbid(unsafe_code)]

use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use logdesk_core::nginx::LogFormat;
use logdesk_core::source::{Counts, ParseOptions, SourceKind};
use logdesk_core::telemetry::{DEFAULT_FILTER, init_tracing};
use logdesk_ingest::handler::{self, Deps};
use logdesk_ingest::route::{Config, ConfigError};
use logdesk_ingest::{JsonLines, backfill, parse_file};

#[global_allocator]
static ALLOC: logdesk_ingest::Allocator = logdesk_ingest::Allocator;

#[derive(Parser)]
#[command(
    name = "logdesk-ingest",
    version,
    about = "logdesk's ingest function and tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Parse log files and print one record per line as JSON (summary on stderr).
    Parse {
        /// What the files hold: alb, nlb, clb, alb-connection, nginx, nginx-error, ses.
        #[arg(long)]
        kind: SourceKind,
        /// nginx `log_format`: a built-in name (combined, main, extended, logdesk) or the directive
        /// text as in nginx.conf. Default: logdesk, extended or combined, by the line's shape.
        #[arg(long)]
        log_format: Option<String>,
        /// Time zone of nginx error-log times (they carry none), e.g. Asia/Tokyo.
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// Files to read, gzip or plain.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Ingest objects already in S3 (same code as the function; re-runs are safe).
    Backfill {
        /// Bucket to read.
        #[arg(long)]
        bucket: String,
        /// Key prefix to list (e.g. AWSLogs/123456789012/elasticloadbalancing/).
        #[arg(long, default_value = "")]
        prefix: String,
        /// Only objects modified at or after this date (2026-11-01) or time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
    },
}

fn main() -> ExitCode {
    let lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    if lambda && std::env::args_os().len() <= 1 {
        return run_async(run_lambda());
    }
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Parse {
            kind,
            log_format,
            tz,
            files,
        }) => parse(kind, log_format, &tz, &files),
        Some(Command::Backfill {
            bucket,
            prefix,
            since,
        }) => run_async(backfill(bucket, prefix, since)),
        None => {
            eprintln!("logdesk-ingest: give a command (parse, backfill); see --help");
            ExitCode::from(2)
        }
    }
}

fn run_async(f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("logdesk-ingest: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn deps() -> Result<Deps, ConfigError> {
    let config = Config::from_env()?;
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(4))
        .load()
        .await;
    let s3_config = aws_sdk_s3::config::Builder::from(&aws)
        .force_path_style(std::env::var_os("LOGDESK_S3_PATH_STYLE").is_some())
        .build();
    Ok(Deps::new(
        aws_sdk_s3::Client::from_conf(s3_config),
        aws_sdk_cloudwatchlogs::Client::new(&aws),
        config,
    ))
}

async fn run_lambda() -> ExitCode {
    init_tracing(DEFAULT_FILTER);
    let deps = match deps().await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "configuration");
            return ExitCode::FAILURE;
        }
    };
    let deps = &deps;
    let result = lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            handler::handler(deps, event.payload)
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        },
    ))
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "lambda runtime");
            ExitCode::FAILURE
        }
    }
}

fn parse_since(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    text.parse::<jiff::civil::Date>()
        .map_err(|e| format!("--since {text:?}: {e}"))
        .and_then(|d| {
            d.to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .map_err(|e| format!("--since {text:?}: {e}"))
        })
}

async fn backfill(bucket: String, prefix: String, since: Option<String>) -> ExitCode {
    init_tracing(DEFAULT_FILTER);
    let since = match since.as_deref().map(parse_since).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("logdesk-ingest: {e}");
            return ExitCode::from(2);
        }
    };
    let deps = match deps().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("logdesk-ingest: {e}");
            return ExitCode::from(2);
        }
    };
    let objects = match backfill::list(&deps, &bucket, &prefix, since).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("logdesk-ingest: {e}");
            return ExitCode::FAILURE;
        }
    };
    let total = objects.len();
    eprintln!("logdesk-ingest: {total} objects under s3://{bucket}/{prefix}");
    let started = std::time::Instant::now();
    let totals = backfill::run(&deps, objects, |t, results| {
        for r in results {
            if let Err(e) = r {
                eprintln!("logdesk-ingest: FAILED {e}");
            }
        }
        let done = t.ingested + t.already + t.skipped + t.failed;
        eprintln!(
            "[{done}/{total}] ingested={} already={} skipped={} failed={} records={} ({:.0}s)",
            t.ingested,
            t.already,
            t.skipped,
            t.failed,
            t.records,
            started.elapsed().as_secs_f64()
        );
    })
    .await;
    eprintln!(
        "logdesk-ingest: done: objects={} ingested={} already={} skipped={} failed={} records={} bad={} rejected={} batches={}",
        totals.objects,
        totals.ingested,
        totals.already,
        totals.skipped,
        totals.failed,
        totals.records,
        totals.bad,
        totals.rejected,
        totals.batches
    );
    if totals.too_old > 0 {
        eprintln!(
            "logdesk-ingest: {} events too old: {}",
            totals.too_old,
            backfill::TOO_OLD_ADVICE
        );
    }
    if totals.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn parse(kind: SourceKind, log_format: Option<String>, tz: &str, files: &[PathBuf]) -> ExitCode {
    let nginx_format = match log_format.as_deref() {
        None => None,
        Some(text) => match LogFormat::builtin(text).map_or_else(|| LogFormat::parse(text), Ok) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("logdesk-ingest: --log-format: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let tz = match jiff::tz::TimeZone::get(tz) {
        Ok(tz) => tz,
        Err(e) => {
            eprintln!("logdesk-ingest: --tz: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = io::stdout().lock();
    let mut out = JsonLines::new(BufWriter::with_capacity(256 * 1024, stdout));
    let mut total = Counts::default();
    let mut failed = false;
    for file in files {
        let options = ParseOptions {
            nginx_format: nginx_format.clone(),
            tz: tz.clone(),
        };
        let result = parse_file(file, kind, options, &mut out);
        match result {
            Ok(c) => {
                total.lines += c.lines;
                total.records += c.records;
                total.bad += c.bad;
            }
            Err(e) => {
                eprintln!("logdesk-ingest: {e}");
                failed = true;
            }
        }
    }
    if let Err(e) = out.finish() {
        eprintln!("logdesk-ingest: writing output: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "lines={} records={} bad={}",
        total.lines, total.records, total.bad
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
