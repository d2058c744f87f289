//! The breakdowns of `/v1/stats` (status codes, browser/OS/device, referrer hosts, unique
//! visitors) from Logs Insights' counts: Insights counts records per raw value, and the values
//! are finished here with the core's own functions (the User-Agent parser, the referrer's
//! host), so both engines name and merge values alike.
//!
//! Approximate where Insights is: `unique_visitors` is `count_distinct`, which AWS documents
//! as an approximation for many distinct values, and a breakdown whose query answered the
//! 10,000 rows a query returns may miss rarer values. The answer lists those fields in
//! `approximate`.

use logdesk_core::stats::BreakdownAccumulator;

use crate::insights::{Shares, Totals};

/// How many rows each breakdown keeps, as the local engine's.
const TOP: usize = 10;

/// The breakdowns JSON (the local engine's shape, plus `approximate`) from the totals and the
/// status, User-Agent and referrer counts, in that order; `groups_capped` when the per-URL
/// query of the URL groups answered its 10,000 rows (`groups` is then approximate too).
pub(super) fn from_insights(
    totals: &Totals,
    shares: [Shares; 3],
    groups_capped: bool,
) -> serde_json::Value {
    let [status, agents, referrers] = shares;
    let mut acc = BreakdownAccumulator::new();
    for (v, n) in &status.rows {
        // A status that is not a code (`-` in a native record) is no status, as locally.
        if let Some(code) = whole_u16(v) {
            acc.add_status(code, *n);
        }
    }
    for (v, n) in &agents.rows {
        acc.add_user_agent(absent_as_empty(v), *n);
    }
    for (v, n) in &referrers.rows {
        acc.add_referrer(Some(absent_as_empty(v)), *n);
    }
    let mut b = acc.finish(TOP);
    b.unique_visitors = totals.visitors;
    let mut approximate = vec!["unique_visitors"];
    if status.capped {
        approximate.push("status");
    }
    if agents.capped {
        approximate.extend(["browser", "os", "device"]);
    }
    if referrers.capped {
        approximate.push("referrer");
    }
    if groups_capped {
        approximate.push("groups");
    }
    let mut v = serde_json::to_value(b).unwrap_or_default();
    v["approximate"] = approximate.into();
    v
}

/// `-` (what the queries put for an absent value, and what ALB writes for one) as `""`.
fn absent_as_empty(v: &str) -> &str {
    if v == "-" { "" } else { v }
}

/// A status code as Insights prints it (`200` or `200.0`).
fn whole_u16(v: &str) -> Option<u16> {
    let n: f64 = v.parse().ok()?;
    (n.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(&n)).then_some(n as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(rows: &[(&str, u64)], capped: bool) -> Shares {
        Shares {
            rows: rows.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect(),
            capped,
        }
    }

    #[test]
    fn raw_counts_are_finished_as_the_local_engine_finishes_them() {
        let totals = Totals {
            count: 6,
            visitors: 3,
            ..Totals::default()
        };
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        let v = from_insights(
            &totals,
            [
                shares(&[("200", 4), ("404.0", 1), ("-", 1)], false),
                shares(&[(chrome, 5), ("-", 1)], true),
                shares(
                    &[
                        ("https://Example.jp/a", 2),
                        ("https://example.jp/b", 1),
                        ("-", 3),
                    ],
                    false,
                ),
            ],
            false,
        );
        assert_eq!(v["unique_visitors"], 3);
        assert_eq!(
            v["status"],
            serde_json::json!([{"key": "200", "count": 4}, {"key": "404", "count": 1}])
        );
        assert_eq!(
            v["referrer"],
            serde_json::json!([{"key": "", "count": 3}, {"key": "example.jp", "count": 3}])
        );
        assert_eq!(v["browser"][0]["count"], 5);
        assert_eq!(
            v["approximate"],
            serde_json::json!(["unique_visitors", "browser", "os", "device"])
        );
    }
}
