//! Mail statistics: how much was sent and what became of it, over time, by bounce reason, by
//! recipient provider and by recipient domain — the overview Amazon SES's reputation page and
//! Virtual Deliverability Manager give, computed from logdesk's own [`MailRecord`]s.
//!
//! Every record counts once for its event type (ingest writes one record per recipient, so a
//! mail to three recipients is three sends). Opens and clicks count events, so one recipient
//! opening twice counts twice, as in SES's own metrics.
//!
//! The two rates follow SES's account reputation metrics: the **bounce rate** counts permanent
//! (hard) bounces only, the **complaint rate** counts complaints, both over the mail sent in the
//! same period. SES reviews an account whose bounce rate reaches [`BOUNCE_RATE_REVIEW`] (5 %) or
//! whose complaint rate reaches [`COMPLAINT_RATE_REVIEW`] (0.1 %). SES computes its rates over a
//! representative volume of recent mail, so the figures here are a close guide, not its verdict.
//!
//! Time buckets are aligned as in [`crate::stats`]: multiples of the bucket width from the Unix
//! epoch, shifted by the display zone's offset, from the first record's bucket to the last's.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::bounce::{ReasonCode, Severity, reason_on_read};
use crate::provider::Provider;
use crate::record::MailRecord;

/// The bounce rate at which Amazon SES puts an account under review (5 %).
pub const BOUNCE_RATE_REVIEW: f64 = 0.05;
/// The complaint rate at which Amazon SES puts an account under review (0.1 %).
pub const COMPLAINT_RATE_REVIEW: f64 = 0.001;
/// The most time buckets a result holds before the bucket width is widened.
pub const MAX_BUCKETS: usize = 2_000;

/// What to compute.
#[derive(Debug, Clone, Copy)]
pub struct MailStatsOptions {
    /// Width of a time bucket in seconds (values below 60 are taken as 60).
    pub bucket_seconds: i64,
    /// Shift of bucket boundaries from UTC, in seconds (32400 aligns day buckets to JST).
    pub utc_offset_seconds: i64,
    /// How many recipient domains with problems to list.
    pub top_domains: usize,
}

impl Default for MailStatsOptions {
    /// Hourly UTC buckets, ten domains.
    fn default() -> Self {
        MailStatsOptions {
            bucket_seconds: 3600,
            utc_offset_seconds: 0,
            top_domains: 10,
        }
    }
}

/// Counts of each kind of event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailCounts {
    /// Send events: mail SES accepted, per recipient.
    pub sent: u64,
    /// Delivery events: the recipient's server accepted the mail.
    pub delivered: u64,
    /// Bounce events of every type.
    pub bounces: u64,
    /// Permanent (hard) bounces: SES will not retry, and they count in the bounce rate.
    pub permanent_bounces: u64,
    /// Transient (soft) and undetermined bounces.
    pub temporary_bounces: u64,
    /// Complaint events (spam reports).
    pub complaints: u64,
    /// DeliveryDelay events: SES is still retrying.
    pub delays: u64,
    /// Reject events: SES refused to send (a virus).
    pub rejects: u64,
    /// Rendering Failure events (template errors).
    pub rendering_failures: u64,
    /// Open events (when open tracking is on).
    pub opens: u64,
    /// Click events (when click tracking is on).
    pub clicks: u64,
}

impl MailCounts {
    fn push(&mut self, r: &MailRecord) {
        match r.event.as_str() {
            "Send" => self.sent += 1,
            "Delivery" => self.delivered += 1,
            "Bounce" => {
                self.bounces += 1;
                if is_permanent(r) {
                    self.permanent_bounces += 1;
                } else {
                    self.temporary_bounces += 1;
                }
            }
            "Complaint" => self.complaints += 1,
            "DeliveryDelay" => self.delays += 1,
            "Reject" => self.rejects += 1,
            "Rendering Failure" => self.rendering_failures += 1,
            "Open" => self.opens += 1,
            "Click" => self.clicks += 1,
            _ => {}
        }
    }

    /// Adds another set of counts.
    pub fn add(&mut self, o: &MailCounts) {
        self.sent += o.sent;
        self.delivered += o.delivered;
        self.bounces += o.bounces;
        self.permanent_bounces += o.permanent_bounces;
        self.temporary_bounces += o.temporary_bounces;
        self.complaints += o.complaints;
        self.delays += o.delays;
        self.rejects += o.rejects;
        self.rendering_failures += o.rendering_failures;
        self.opens += o.opens;
        self.clicks += o.clicks;
    }

    /// Bounces, complaints, delays and rejects: the events that need someone's attention.
    pub fn problems(&self) -> u64 {
        self.bounces + self.complaints + self.delays + self.rejects
    }
}

fn is_permanent(r: &MailRecord) -> bool {
    r.bounce_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("Permanent"))
}

/// One time bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailBucket {
    /// Start of the bucket, µs.
    pub start: i64,
    /// What happened in it.
    #[serde(flatten)]
    pub counts: MailCounts,
}

/// Bounces of one reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonCount {
    /// The reason.
    pub code: ReasonCode,
    /// How serious it is (permanent, temporary, needs a fix on our side, …).
    pub severity: Severity,
    /// Bounces with this reason.
    pub count: u64,
}

/// The provider of a recipient's domain, or `other` for every domain without its own entry
/// in [`Provider`]'s table. In JSON: the provider's snake_case name, or `"other"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKey {
    /// Any other domain (company and provider mail servers).
    Other,
    /// A provider with its own entry.
    #[serde(untagged)]
    Known(Provider),
}

/// The domain of an address, lower case (`None` without an `@`).
pub fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.trim().rsplit_once('@')?;
    let domain = domain.trim_end_matches('>').trim().to_ascii_lowercase();
    (!domain.is_empty()).then_some(domain)
}

/// What happened to the mail of one provider or domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destination<K> {
    /// The provider or the domain.
    pub key: K,
    /// Its counts.
    #[serde(flatten)]
    pub counts: MailCounts,
    /// Bounces and complaints over sends (`None` when nothing was sent).
    pub problem_rate: Option<f64>,
}

/// The statistics of a set of mail records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailStats {
    /// Everything in the range.
    pub totals: MailCounts,
    /// Permanent bounces over sends (`None` when nothing was sent).
    pub bounce_rate: Option<f64>,
    /// Complaints over sends (`None` when nothing was sent).
    pub complaint_rate: Option<f64>,
    /// [`BOUNCE_RATE_REVIEW`], for the reader of the JSON.
    pub bounce_rate_review: f64,
    /// [`COMPLAINT_RATE_REVIEW`], for the reader of the JSON.
    pub complaint_rate_review: f64,
    /// Width of the time buckets actually used, seconds.
    pub bucket_seconds: i64,
    /// Counts over time, oldest first, empty buckets included.
    pub buckets: Vec<MailBucket>,
    /// Bounces by reason, most first.
    pub reasons: Vec<ReasonCount>,
    /// Counts by recipient provider, most sent first; providers with nothing are left out.
    pub providers: Vec<Destination<ProviderKey>>,
    /// Recipient domains with the most bounces, complaints, delays and rejects, most first.
    pub problem_domains: Vec<Destination<String>>,
}

fn rate(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

fn destination<K>(key: K, counts: MailCounts) -> Destination<K> {
    let problem_rate = rate(counts.bounces + counts.complaints, counts.sent);
    Destination {
        key,
        counts,
        problem_rate,
    }
}

/// Computes the statistics of `records` (in any order).
pub fn compute<'r>(
    records: impl IntoIterator<Item = &'r MailRecord>,
    opts: &MailStatsOptions,
) -> MailStats {
    let mut tallies = Tallies::default();
    for r in records {
        tallies.push(r, opts);
    }
    tallies.finish(opts)
}

/// What [`compute`] counts before it sorts and cuts: counts per time bucket of the base width
/// (`opts.bucket_seconds`), bounces per reason, counts per recipient domain. Filled record by
/// record ([`Tallies::push`]) or from counts made elsewhere (Logs Insights groups records by
/// the same keys); [`Tallies::finish`] turns either into the same [`MailStats`].
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    /// Counts per bucket key: `(t + offset) / width` in µs, at the base width.
    pub buckets: BTreeMap<i64, MailCounts>,
    /// Bounces per reason ([`reason_on_read`]).
    pub reasons: HashMap<ReasonCode, u64>,
    /// Counts per recipient domain ([`domain_of`]), for providers and problem domains.
    pub domains: HashMap<String, MailCounts>,
}

impl Tallies {
    /// The bucket key of time `t_us` at the base width of `opts`.
    pub fn bucket_key(t_us: i64, opts: &MailStatsOptions) -> i64 {
        t_us.saturating_add(opts.utc_offset_seconds.saturating_mul(1_000_000))
            .div_euclid(base_width_us(opts))
    }

    /// Counts one record.
    pub fn push(&mut self, r: &MailRecord, opts: &MailStatsOptions) {
        self.buckets
            .entry(Self::bucket_key(r.t, opts))
            .or_default()
            .push(r);
        if r.event == "Bounce"
            && let Some(code) = reason_on_read(r)
        {
            *self.reasons.entry(code).or_default() += 1;
        }
        if let Some(domain) = r.recipient.as_deref().and_then(domain_of) {
            self.domains.entry(domain).or_default().push(r);
        }
    }

    /// The statistics: totals summed over the buckets, buckets widened (doubling) until at
    /// most [`MAX_BUCKETS`] span the records, providers summed over their domains.
    pub fn finish(self, opts: &MailStatsOptions) -> MailStats {
        let mut totals = MailCounts::default();
        for c in self.buckets.values() {
            totals.add(c);
        }
        let base_us = base_width_us(opts);
        let factor = widening(&self.buckets);
        let mut buckets: BTreeMap<i64, MailCounts> = BTreeMap::new();
        for (k, c) in &self.buckets {
            buckets.entry(k.div_euclid(factor)).or_default().add(c);
        }
        let width_us = base_us.saturating_mul(factor);
        let offset_us = opts.utc_offset_seconds.saturating_mul(1_000_000);
        let mut providers: HashMap<ProviderKey, MailCounts> = HashMap::new();
        for (domain, c) in &self.domains {
            let key = Provider::from_domain(domain).map_or(ProviderKey::Other, ProviderKey::Known);
            providers.entry(key).or_default().add(c);
        }
        MailStats {
            bounce_rate: rate(totals.permanent_bounces, totals.sent),
            complaint_rate: rate(totals.complaints, totals.sent),
            bounce_rate_review: BOUNCE_RATE_REVIEW,
            complaint_rate_review: COMPLAINT_RATE_REVIEW,
            bucket_seconds: width_us / 1_000_000,
            buckets: fill_buckets(buckets, width_us, offset_us),
            reasons: sorted_reasons(self.reasons),
            providers: sorted_providers(providers),
            problem_domains: problem_domains(self.domains, opts.top_domains),
            totals,
        }
    }
}

/// The base bucket width in µs (at least a minute).
fn base_width_us(opts: &MailStatsOptions) -> i64 {
    opts.bucket_seconds.max(60).saturating_mul(1_000_000)
}

/// By how much (a power of two) the base width is multiplied so that at most [`MAX_BUCKETS`]
/// buckets span the first to the last bucket. Widening by whole factors keeps the keys exact:
/// the key at width `w·f` is the key at width `w` divided by `f` (rounded down).
fn widening(buckets: &BTreeMap<i64, MailCounts>) -> i64 {
    let (Some(&lo), Some(&hi)) = (buckets.keys().next(), buckets.keys().next_back()) else {
        return 1;
    };
    let mut factor: i64 = 1;
    loop {
        let span = (hi.div_euclid(factor) - lo.div_euclid(factor)) as u64;
        if span < MAX_BUCKETS as u64 || factor > i64::MAX / 4 {
            return factor;
        }
        factor = factor.saturating_mul(2);
    }
}

fn fill_buckets(
    buckets: BTreeMap<i64, MailCounts>,
    width_us: i64,
    offset_us: i64,
) -> Vec<MailBucket> {
    let (Some(&lo), Some(&hi)) = (buckets.keys().next(), buckets.keys().next_back()) else {
        return Vec::new();
    };
    (lo..=hi)
        .map(|k| MailBucket {
            start: k.saturating_mul(width_us).saturating_sub(offset_us),
            counts: buckets.get(&k).cloned().unwrap_or_default(),
        })
        .collect()
}

fn sorted_reasons(reasons: HashMap<ReasonCode, u64>) -> Vec<ReasonCount> {
    let mut out: Vec<ReasonCount> = reasons
        .into_iter()
        .map(|(code, count)| ReasonCount {
            code,
            severity: code.severity(),
            count,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    out
}

fn sorted_providers(providers: HashMap<ProviderKey, MailCounts>) -> Vec<Destination<ProviderKey>> {
    let mut out: Vec<_> = providers
        .into_iter()
        .map(|(p, c)| destination(p, c))
        .collect();
    out.sort_by(|a, b| {
        (b.counts.sent, b.counts.problems())
            .cmp(&(a.counts.sent, a.counts.problems()))
            .then(a.key.cmp(&b.key))
    });
    out
}

fn problem_domains(domains: HashMap<String, MailCounts>, top: usize) -> Vec<Destination<String>> {
    let mut out: Vec<_> = domains
        .into_iter()
        .filter(|(_, c)| c.problems() > 0)
        .map(|(d, c)| destination(d, c))
        .collect();
    out.sort_by(|a, b| {
        b.counts
            .problems()
            .cmp(&a.counts.problems())
            .then(a.key.cmp(&b.key))
    });
    out.truncate(top);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t_s: i64, event: &str, to: &str) -> MailRecord {
        let mut r: MailRecord = serde_json::from_value(serde_json::json!({
            "v": 1, "t": t_s * 1_000_000, "e": event, "mid": format!("m{t_s}"), "to": to,
        }))
        .unwrap_or_else(|e| panic!("test record: {e}"));
        if event == "Bounce" {
            r.bounce_type = Some("Permanent".into());
            r.bounce_subtype = Some("NoEmail".into());
            r.status = Some("5.1.1".into());
        }
        r
    }

    #[test]
    fn providers_are_found_by_domain_and_subdomain() {
        assert_eq!(domain_of("A@Docomo.NE.JP").as_deref(), Some("docomo.ne.jp"));
        assert_eq!(domain_of("nobody"), None);
        assert_eq!(domain_of("x@"), None);
    }

    #[test]
    fn counts_rates_reasons_and_domains() {
        let mut records = Vec::new();
        for i in 0..40 {
            let to = if i % 2 == 0 {
                "a@docomo.ne.jp"
            } else {
                "b@gmail.com"
            };
            records.push(rec(i * 60, "Send", to));
            records.push(rec(i * 60 + 5, "Delivery", to));
        }
        records.push(rec(100, "Bounce", "x@docomo.ne.jp"));
        let mut soft = rec(200, "Bounce", "y@example.jp");
        soft.bounce_type = Some("Transient".into());
        soft.bounce_subtype = Some("MailboxFull".into());
        soft.status = Some("4.2.2".into());
        records.push(soft);
        records.push(rec(300, "Complaint", "b@gmail.com"));
        records.push(rec(7200, "Open", "b@gmail.com"));
        let s = compute(&records, &MailStatsOptions::default());
        assert_eq!(s.totals.sent, 40);
        assert_eq!(s.totals.delivered, 40);
        assert_eq!(s.totals.bounces, 2);
        assert_eq!(s.totals.permanent_bounces, 1);
        assert_eq!(s.totals.temporary_bounces, 1);
        assert_eq!(s.totals.opens, 1);
        assert_eq!(s.bounce_rate, Some(1.0 / 40.0));
        assert_eq!(s.complaint_rate, Some(1.0 / 40.0));
        // 0 s .. 7200 s in hour buckets: three buckets, the middle one empty of sends.
        assert_eq!(s.bucket_seconds, 3600);
        assert_eq!(s.buckets.len(), 3);
        assert_eq!(s.buckets[0].counts.sent, 40);
        assert_eq!(s.buckets[1].counts, MailCounts::default());
        assert_eq!(s.buckets[2].start, 7_200_000_000);
        let codes: Vec<_> = s.reasons.iter().map(|r| r.code).collect();
        assert!(codes.contains(&ReasonCode::UserUnknown), "{codes:?}");
        assert!(codes.contains(&ReasonCode::MailboxFull), "{codes:?}");
        let full = s.reasons.iter().find(|r| r.code == ReasonCode::MailboxFull);
        assert_eq!(full.map(|r| r.severity), Some(Severity::Temporary));
        assert_eq!(s.providers[0].key, ProviderKey::Known(Provider::Docomo));
        assert_eq!(s.providers[0].counts.bounces, 1);
        let doms: Vec<_> = s.problem_domains.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(doms, ["docomo.ne.jp", "example.jp", "gmail.com"]);
    }

    #[test]
    fn day_buckets_start_at_local_midnight_and_wide_ranges_are_widened() {
        let records = [rec(0, "Send", "a@b.jp"), rec(86_400 * 3, "Send", "a@b.jp")];
        let s = compute(
            &records,
            &MailStatsOptions {
                bucket_seconds: 86_400,
                utc_offset_seconds: 32_400,
                top_domains: 5,
            },
        );
        // 1970-01-01T00:00Z is 09:00 JST: its day started 9 hours earlier.
        assert_eq!(s.buckets[0].start, -32_400_000_000);
        assert_eq!(s.buckets.len(), 4);
        let far = [
            rec(0, "Send", "a@b.jp"),
            rec(86_400 * 400, "Send", "a@b.jp"),
        ];
        let s = compute(&far, &MailStatsOptions::default());
        assert!(s.buckets.len() <= MAX_BUCKETS, "{}", s.buckets.len());
        assert!(s.bucket_seconds > 3600);
    }

    #[test]
    fn nothing_sent_has_no_rates() {
        let s = compute(&[], &MailStatsOptions::default());
        assert_eq!(s.bounce_rate, None);
        assert!(s.buckets.is_empty());
        assert!(s.providers.is_empty());
    }

    /// Counts made elsewhere (per base bucket and per domain, as Logs Insights groups them)
    /// finish into exactly what `compute` gives from the records, widening included.
    #[test]
    fn tallies_from_counts_finish_as_compute_does() {
        let mut records = Vec::new();
        for day in [0, 1, 200, 400] {
            records.push(rec(86_400 * day, "Send", "a@Docomo.ne.jp"));
            records.push(rec(86_400 * day + 60, "Bounce", "x@gmail.com"));
        }
        let opts = MailStatsOptions::default();
        let mut t = Tallies::default();
        for r in &records {
            let mut one = MailCounts::default();
            one.push(r);
            t.buckets
                .entry(Tallies::bucket_key(r.t, &opts))
                .or_default()
                .add(&one);
            if let Some(d) = r.recipient.as_deref().and_then(domain_of) {
                t.domains.entry(d).or_default().add(&one);
            }
            if let Some(code) = reason_on_read(r) {
                *t.reasons.entry(code).or_default() += 1;
            }
        }
        let want = compute(&records, &opts);
        assert!(want.bucket_seconds > 3600, "widened");
        assert_eq!(t.finish(&opts), want);
    }
}
