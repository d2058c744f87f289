//! `logdesk-notify` (skeleton: the Lambda handler is not written yet).

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("logdesk-notify: the alert handler is not implemented yet");
    ExitCode::FAILURE
}
