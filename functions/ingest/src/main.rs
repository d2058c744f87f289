//! `logdesk-ingest`: the ingest function's binary and its command-line tools.

use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use logdesk_core::nginx::LogFormat;
use logdesk_core::source::{Counts, ParseOptions, SourceKind};
use logdesk_ingest::{JsonLines, parse_file};

#[derive(Parser)]
#[command(
    name = "logdesk-ingest",
    version,
    about = "logdesk's ingest function and tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse log files and print one record per line as JSON (summary on stderr).
    Parse {
        /// What the files hold: alb, nlb, clb, alb-connection, nginx, nginx-error, ses.
        #[arg(long)]
        kind: SourceKind,
        /// nginx `log_format`: a built-in name (combined, main, extended) or the directive
        /// text as in nginx.conf. Default: extended, then combined.
        #[arg(long)]
        log_format: Option<String>,
        /// Time zone of nginx error-log times (they carry none), e.g. Asia/Tokyo.
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// Files to read, gzip or plain.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Parse {
            kind,
            log_format,
            tz,
            files,
        } => parse(kind, log_format, &tz, &files),
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
        let result = parse_file(file, kind, options, &mut |r| out.write(&r));
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
