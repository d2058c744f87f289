pub mod slack_stub;
