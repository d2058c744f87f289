//! Writes a month of the demo's SES event objects (30 generated days, Firehose's keys and
//! gzip objects) under a directory, for measuring what Athena scans (`docs/sources.md`,
//! "Parquet or JSON"):
//!
//! ```text
//! cargo run -p logdesk-demo --example ses_month -- /tmp/ses-month
//! ```

use std::path::PathBuf;

use logdesk_demo::names::Names;
use logdesk_demo::traffic;

const DAY_US: i64 = 24 * 3600 * 1_000_000;

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or_else(|| anyhow::anyhow!("usage: ses_month DIR"))?,
    );
    let names = Names::embedded()?;
    // A fixed month (ending 2026-11-30 00:00 UTC) so that the figures can be reproduced.
    let end = 1_796_083_200 * 1_000_000_i64;
    let (mut objects, mut bytes) = (0, 0);
    for day in 0..30 {
        let d = traffic::generate(&names, end - day * DAY_US);
        for o in d.objects.iter().filter(|o| o.bucket == names.buckets.mail) {
            let path = dir.join(&o.key);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &o.body)?;
            objects += 1;
            bytes += o.body.len();
        }
    }
    println!("{objects} objects, {bytes} bytes under {}", dir.display());
    Ok(())
}
