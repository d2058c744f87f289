//! `/v1/mail/stats` through Logs Insights: three queries over the mail group, read into the
//! core's [`Tallies`], which the local engine fills record by record, so both engines finish
//! the numbers alike ([`Tallies::finish`]).
//!
//! - counts per time bucket ([`buckets_query`]): one 0/1 flag per kind of event, summed;
//! - counts per recipient domain ([`domains_query`]): the same sums, grouped by what follows
//!   the address's last `@`, normalised here ([`domain_of`]) and summed per provider by the
//!   core;
//! - bounces per raw reason inputs ([`reasons_query`]): SES's type and subtype, the status,
//!   the remote server's words and address, the recipient's domain and the reason stored at
//!   ingest, classified here by the core's rules ([`reason_on_read`]).
//!
//! Insights returns at most 10,000 rows a query: a result that reaches it (distinct diagnostic
//! texts, domains, or buckets of a very long range) misses its rarest groups, and the answer
//! names it in `approximate`.

use std::collections::HashMap;

use logdesk_core::bounce::reason_on_read;
use logdesk_core::mail_stats::{MailCounts, Tallies, domain_of};
use logdesk_core::record::MailRecord;

use super::query::{Bins, MAX_ROWS};
use super::results::{ResultError, Row, count, field, whole_key};

/// The mail records, and one 0/1 flag per kind of event (`if()`, as the stats flags).
const FLAGS: &str = "| fields if(e = \"Send\", 1, 0) as f_send, \
if(e = \"Delivery\", 1, 0) as f_delivery, if(e = \"Bounce\", 1, 0) as f_bounce, \
if(e = \"Bounce\" and bt = \"Permanent\", 1, 0) as f_permanent, \
if(e = \"Complaint\", 1, 0) as f_complaint, if(e = \"DeliveryDelay\", 1, 0) as f_delay, \
if(e = \"Reject\", 1, 0) as f_reject, if(e = \"Rendering Failure\", 1, 0) as f_rendering, \
if(e = \"Open\", 1, 0) as f_open, if(e = \"Click\", 1, 0) as f_click";

/// The sums of the flags, named as [`MailCounts`]' fields.
const SUMS: &str = "stats sum(f_send) as sent, sum(f_delivery) as delivered, \
sum(f_bounce) as bounces, sum(f_permanent) as permanent_bounces, \
sum(f_complaint) as complaints, sum(f_delay) as delays, sum(f_reject) as rejects, \
sum(f_rendering) as rendering_failures, sum(f_open) as opens, sum(f_click) as clicks";

/// The recipient's domain as Insights can cut it: what follows the last `@` of `to`.
const DOMAIN: &str = "| parse to /@(?<dom>[^@]*)$/\n";

/// Counts per time bucket of `bins` (read by [`Tally::read`]).
pub fn buckets_query(bins: Bins) -> String {
    format!(
        "filter k = \"mail\"\n{FLAGS}, {} as bucket\n| {SUMS} by bucket\n| sort bucket asc",
        bins.key_expr()
    )
}

/// Counts per recipient domain, the domains with most records first (read by
/// [`Tally::read`]).
pub fn domains_query() -> String {
    format!(
        "filter k = \"mail\"\n{DOMAIN}| filter ispresent(dom)\n{FLAGS}\n\
| {SUMS}, count(*) as records by dom\n| sort records desc"
    )
}

/// Bounces per raw reason inputs, most first (read by [`Tally::read`]). An absent value
/// is grouped as `""`.
pub fn reasons_query() -> String {
    format!(
        "filter k = \"mail\" and e = \"Bounce\"\n{DOMAIN}\
| fields coalesce(bt, \"\") as g_bt, coalesce(bst, \"\") as g_bst, coalesce(sc, \"\") as g_sc, \
coalesce(diag, \"\") as g_diag, coalesce(rip, \"\") as g_rip, coalesce(dom, \"\") as g_dom, \
coalesce(rc, \"\") as g_rc\n\
| stats count(*) as count by g_bt, g_bst, g_sc, g_diag, g_rip, g_dom, g_rc\n\
| sort count desc"
    )
}

/// The three queries, in the order a cursor carries them.
pub fn queries(bins: Bins) -> Vec<String> {
    vec![buckets_query(bins), domains_query(), reasons_query()]
}

/// The rows of the three queries read into the core's tallies.
#[derive(Debug, Default)]
pub struct Tally {
    /// What the local engine would have counted from the records.
    pub tallies: Tallies,
    /// The queries whose result reached [`MAX_ROWS`] rows (`buckets`, `domains`, `reasons`).
    pub capped: Vec<&'static str>,
}

impl Tally {
    /// Reads the rows of [`queries`] (in that order).
    pub fn read(rows: &[Vec<Row>]) -> Result<Tally, ResultError> {
        let [buckets, domains, reasons] = rows else {
            return Err(ResultError::Rows { rows: rows.len() });
        };
        let mut t = Tally::default();
        t.buckets(buckets)?;
        t.domains(domains)?;
        t.reasons(reasons)?;
        for (name, r) in [
            ("buckets", buckets),
            ("domains", domains),
            ("reasons", reasons),
        ] {
            if r.len() >= MAX_ROWS {
                t.capped.push(name);
            }
        }
        Ok(t)
    }

    fn buckets(&mut self, rows: &[Row]) -> Result<(), ResultError> {
        for row in rows {
            let key = whole_key(row, "bucket")?;
            self.tallies
                .buckets
                .entry(key)
                .or_default()
                .add(&counts(row)?);
        }
        Ok(())
    }

    fn domains(&mut self, rows: &[Row]) -> Result<(), ResultError> {
        for row in rows {
            let raw = field(row, "dom")?;
            if let Some(domain) = domain_of(&format!("@{raw}")) {
                self.tallies
                    .domains
                    .entry(domain)
                    .or_default()
                    .add(&counts(row)?);
            }
        }
        Ok(())
    }

    fn reasons(&mut self, rows: &[Row]) -> Result<(), ResultError> {
        let mut by: HashMap<_, u64> = HashMap::new();
        for row in rows {
            let text = |name: &'static str| -> Result<Option<String>, ResultError> {
                let v = field(row, name)?;
                Ok((!v.is_empty()).then(|| v.to_owned()))
            };
            let record = MailRecord {
                event: "Bounce".to_owned(),
                bounce_type: text("g_bt")?,
                bounce_subtype: text("g_bst")?,
                status: text("g_sc")?,
                diagnostic: text("g_diag")?,
                remote_mta_ip: text("g_rip")?,
                recipient: text("g_dom")?.map(|d| format!("@{d}")),
                reason: text("g_rc")?,
                ..MailRecord::default()
            };
            if let Some(code) = reason_on_read(&record) {
                *by.entry(code).or_default() += count(row, "count")?;
            }
        }
        for (code, n) in by {
            *self.tallies.reasons.entry(code).or_default() += n;
        }
        Ok(())
    }
}

/// The sums of one row as [`MailCounts`] (temporary bounces: every bounce not permanent, as
/// the local engine counts them).
fn counts(row: &Row) -> Result<MailCounts, ResultError> {
    let bounces = count(row, "bounces")?;
    let permanent = count(row, "permanent_bounces")?;
    Ok(MailCounts {
        sent: count(row, "sent")?,
        delivered: count(row, "delivered")?,
        bounces,
        permanent_bounces: permanent,
        temporary_bounces: bounces.saturating_sub(permanent),
        complaints: count(row, "complaints")?,
        delays: count(row, "delays")?,
        rejects: count(row, "rejects")?,
        rendering_failures: count(row, "rendering_failures")?,
        opens: count(row, "opens")?,
        clicks: count(row, "clicks")?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::results::tests::row;
    use super::*;

    const SUMS_ROW: [(&str, &str); 10] = [
        ("sent", "10"),
        ("delivered", "8"),
        ("bounces", "2"),
        ("permanent_bounces", "1"),
        ("complaints", "1"),
        ("delays", "0"),
        ("rejects", "0"),
        ("rendering_failures", "0"),
        ("opens", "3"),
        ("clicks", "1"),
    ];

    #[test]
    fn golden_mail_queries() {
        let flags = "| fields if(e = \"Send\", 1, 0) as f_send, if(e = \"Delivery\", 1, 0) as f_delivery, if(e = \"Bounce\", 1, 0) as f_bounce, if(e = \"Bounce\" and bt = \"Permanent\", 1, 0) as f_permanent, if(e = \"Complaint\", 1, 0) as f_complaint, if(e = \"DeliveryDelay\", 1, 0) as f_delay, if(e = \"Reject\", 1, 0) as f_reject, if(e = \"Rendering Failure\", 1, 0) as f_rendering, if(e = \"Open\", 1, 0) as f_open, if(e = \"Click\", 1, 0) as f_click";
        let sums = "stats sum(f_send) as sent, sum(f_delivery) as delivered, sum(f_bounce) as bounces, sum(f_permanent) as permanent_bounces, sum(f_complaint) as complaints, sum(f_delay) as delays, sum(f_reject) as rejects, sum(f_rendering) as rendering_failures, sum(f_open) as opens, sum(f_click) as clicks";
        let day_jst = Bins {
            width_s: 86_400,
            offset_s: 32_400,
        };
        assert_eq!(
            buckets_query(day_jst),
            format!(
                "filter k = \"mail\"\n{flags}, floor((toMillis(@timestamp) + 32400000) / 86400000) as bucket\n| {sums} by bucket\n| sort bucket asc"
            )
        );
        assert_eq!(
            domains_query(),
            format!(
                "filter k = \"mail\"\n| parse to /@(?<dom>[^@]*)$/\n| filter ispresent(dom)\n{flags}\n| {sums}, count(*) as records by dom\n| sort records desc"
            )
        );
        assert_eq!(
            reasons_query(),
            "filter k = \"mail\" and e = \"Bounce\"\n| parse to /@(?<dom>[^@]*)$/\n\
| fields coalesce(bt, \"\") as g_bt, coalesce(bst, \"\") as g_bst, coalesce(sc, \"\") as g_sc, coalesce(diag, \"\") as g_diag, coalesce(rip, \"\") as g_rip, coalesce(dom, \"\") as g_dom, coalesce(rc, \"\") as g_rc\n\
| stats count(*) as count by g_bt, g_bst, g_sc, g_diag, g_rip, g_dom, g_rc\n\
| sort count desc"
        );
    }

    #[test]
    fn rows_are_read_into_tallies_or_refused() {
        let mut bucket = row(&SUMS_ROW);
        bucket.insert("bucket".to_owned(), "498657".to_owned());
        let mut docomo = row(&SUMS_ROW);
        docomo.insert("dom".to_owned(), "Docomo.NE.JP>".to_owned());
        let mut also_docomo = row(&SUMS_ROW);
        also_docomo.insert("dom".to_owned(), "docomo.ne.jp".to_owned());
        let unknown_user = row(&[
            ("g_bt", "Permanent"),
            ("g_bst", "General"),
            ("g_sc", "5.1.1"),
            ("g_diag", "smtp; 550 5.1.1 user unknown"),
            ("g_rip", ""),
            ("g_dom", "example.co.jp"),
            ("g_rc", ""),
            ("count", "4"),
        ]);
        let t = Tally::read(&[
            vec![bucket.clone()],
            vec![docomo, also_docomo],
            vec![unknown_user.clone()],
        ])
        .unwrap();
        let counts = &t.tallies.buckets[&498_657];
        assert_eq!(
            (
                counts.sent,
                counts.permanent_bounces,
                counts.temporary_bounces
            ),
            (10, 1, 1)
        );
        assert_eq!(t.tallies.domains.len(), 1, "one domain, normalised");
        assert_eq!(t.tallies.domains["docomo.ne.jp"].sent, 20);
        assert_eq!(
            t.tallies.reasons[&logdesk_core::bounce::ReasonCode::UserUnknown],
            4
        );
        assert!(t.capped.is_empty());
        // The emulator's raw rows, or a row without its sums: an error, never zeros.
        let raw = row(&[("@timestamp", "1795133100123"), ("@message", "{}")]);
        assert_eq!(
            Tally::read(&[vec![raw], vec![], vec![]]).unwrap_err(),
            ResultError::Missing { field: "bucket" }
        );
        bucket.remove("clicks");
        assert_eq!(
            Tally::read(&[vec![bucket], vec![], vec![]]).unwrap_err(),
            ResultError::Missing { field: "clicks" }
        );
        assert_eq!(
            Tally::read(&[vec![], vec![]]).unwrap_err(),
            ResultError::Rows { rows: 2 }
        );
    }
}
