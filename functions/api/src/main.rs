//! `logdesk-api` (skeleton: the router is not written yet).

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("logdesk-api: the query API is not implemented yet");
    ExitCode::FAILURE
}
