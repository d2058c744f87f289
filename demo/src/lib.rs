//! logdesk's local demo (`cargo xtask demo`): in the local AWS emulator, the resources
//! `template.yaml` creates (names from `deploy/names.json` only), a generated day of traffic
//! ending now (ALB access-log objects, the same requests in the nginx access log of the
//! targets behind the ALB, a blog's nginx access and error lines, SES events from Firehose), the real ingest code over the uploaded objects and the real notify code over a
//! bounce; then the `logdesk-api` binary serves the result on 127.0.0.1.
//!
//! [`setup_and_seed`] is everything up to serving the API; the demo binary and the
//! end-to-end test both call it.
#![forbid(unsafe_code)]

pub mod examples;
pub mod names;
pub mod recipients;
pub mod rng;
pub mod stack;
pub mod traffic;

use std::time::Instant;

use crate::names::Names;
use crate::stack::{Alert, Clients, Created, Ingested};
use crate::traffic::{Counts, FixedIds};

/// What [`setup_and_seed`] did.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The names used.
    pub names: Names,
    /// Resources created, and those the emulator lacks.
    pub created: Created,
    /// The generated day's counts.
    pub counts: Counts,
    /// The fixed mails' message ids.
    pub fixed: FixedIds,
    /// Objects uploaded.
    pub uploaded: usize,
    /// nginx access lines put.
    pub nginx_access: usize,
    /// nginx error lines put.
    pub nginx_error: usize,
    /// What ingest did.
    pub ingested: Ingested,
    /// The alert notify published for the sample bounce.
    pub alert: Alert,
    /// The end of the generated day, µs since the epoch.
    pub now_us: i64,
}

/// Microseconds since the Unix epoch, now.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Creates the resources in the emulator at `endpoint`, generates the day ending at `now_us`,
/// uploads it, runs ingest and notify. `progress` gets one line per step.
pub async fn setup_and_seed(
    endpoint: &str,
    now_us: i64,
    mut progress: impl FnMut(String),
) -> anyhow::Result<Seeded> {
    let names = Names::embedded()?;
    let clients = Clients::new(endpoint, &names.region).await;
    let started = Instant::now();
    let created = stack::create_resources(&clients, &names).await?;
    progress(format!(
        "created {} resources of stack {} (names from deploy/names.json)",
        created.lines.len(),
        names.stack_name
    ));
    let day = traffic::generate(&names, now_us);
    let c = day.counts;
    progress(format!(
        "generated a day ending now: {} ALB requests from {} visitors, {} nginx access lines ({} of them the shop's behind the ALB, same trace ids) and {} nginx error lines, {} mails ({} SES events, {} bounces)",
        c.alb_requests,
        c.visitors,
        c.nginx_access,
        c.nginx_access - c.nginx_blog,
        c.nginx_error,
        c.mails,
        c.ses_events,
        c.bounces
    ));
    let uploaded = stack::upload(&clients, &day).await?;
    progress(format!(
        "uploaded {uploaded} objects (ALB logs under {}{}/elasticloadbalancing/…, SES events under {}partitioned/…)",
        names.prefixes.lb, names.account_id, names.prefixes.ses
    ));
    let nginx_access =
        stack::put_lines(&clients, &names.log_groups.nginx_access, &day.nginx_access).await?;
    let nginx_error =
        stack::put_lines(&clients, &names.log_groups.nginx_error, &day.nginx_error).await?;
    progress(format!(
        "put {nginx_access} lines into {} and {nginx_error} into {} (as the CloudWatch agent would)",
        names.log_groups.nginx_access, names.log_groups.nginx_error
    ));
    let t = Instant::now();
    let ingested = stack::ingest(&clients, &names).await?;
    progress(format!(
        "ingest (the backfill code of logdesk-ingest): {} objects, {} records written to {} and {}, {} bad, {} failed ({:.1} s)",
        ingested.objects,
        ingested.records,
        names.log_groups.lb,
        names.log_groups.mail,
        ingested.bad,
        ingested.failed,
        t.elapsed().as_secs_f64()
    ));
    let alert = stack::notify(&clients, &names, &created, &day.sample_bounce).await?;
    progress(format!(
        "notify: a bounce published to {} went through {} and the handler; the alert arrived on {}",
        names.topics.ses_events.name, names.queues.ses_events.name, names.topics.alerts.name
    ));
    progress(format!(
        "set-up and seeding took {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(Seeded {
        names,
        created,
        counts: day.counts,
        fixed: day.fixed,
        uploaded,
        nginx_access,
        nginx_error,
        ingested,
        alert,
        now_us,
    })
}
