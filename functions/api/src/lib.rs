//! # logdesk-api
//!
//! The HTTP query API behind a Lambda Function URL (mail, access, visits, stats, errors).
//! The router is not written yet: this crate is the skeleton the API issue fills. The analysis
//! it will serve already lives in `logdesk-core` (`stats`, `visits`, `useragent`, `bounce`).
