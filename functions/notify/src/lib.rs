//! # logdesk-notify
//!
//! Bounce and complaint alerts by email (SNS) and Slack, in plain Japanese and English.
//! The handler is not written yet: this crate is the skeleton the notify issue fills. What it
//! will read and explain already lives in `logdesk-core` (`ses`, `bounce`).
