//! The classifier against real bounce diagnostics (`tests/data/bounces/`, see its README):
//! accuracy per reason and overall, on the part the rules were written from and on the
//! held-out part (`heldout-*.jsonl`) that was not looked at while writing them.
//!
//! `BOUNCE_CORPUS_VERBOSE=1` lists the misses of the development part (never of the held-out
//! part, so that it stays unseen).

use std::collections::BTreeMap;
use std::path::Path;

use logdesk_core::bounce::{BounceFacts, ReasonCode, classify};
use serde::Deserialize;

/// One diagnostic with the reason an expert (or Sisimai's test expectations) gives it.
#[derive(Debug, Deserialize)]
struct Case {
    status: String,
    diagnostic: String,
    remote_mta: String,
    recipient_domain: String,
    bounce_type: String,
    bounce_subtype: String,
    expected: String,
    /// A second acceptable reason where experts disagree (empty when there is none).
    also: String,
    source: String,
}

fn load(held_out: bool) -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bounces");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with("heldout-") == held_out
        })
        .collect();
    names.sort();
    let mut cases = Vec::new();
    for path in names {
        let text = std::fs::read_to_string(&path).expect("readable corpus file");
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let case: Case = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
            cases.push(case);
        }
    }
    cases
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

fn classify_case(case: &Case) -> ReasonCode {
    classify(&BounceFacts {
        bounce_type: &case.bounce_type,
        bounce_subtype: &case.bounce_subtype,
        status: non_empty(&case.status),
        diagnostic: non_empty(&case.diagnostic),
        remote_mta: non_empty(&case.remote_mta),
        recipient_domain: non_empty(&case.recipient_domain),
    })
}

/// (hits, total) per expected reason, and the misses.
struct Score {
    per_reason: BTreeMap<String, (usize, usize)>,
    misses: Vec<String>,
}

impl Score {
    fn of(cases: &[Case]) -> Score {
        let mut per_reason = BTreeMap::new();
        let mut misses = Vec::new();
        for case in cases {
            let got = classify_case(case);
            let hit = got.as_str() == case.expected || got.as_str() == case.also;
            let entry = per_reason.entry(case.expected.clone()).or_insert((0, 0));
            entry.1 += 1;
            if hit {
                entry.0 += 1;
            } else {
                misses.push(format!(
                    "want {} got {got} [{} {}] {:.160} ({})",
                    case.expected, case.status, case.recipient_domain, case.diagnostic, case.source
                ));
            }
        }
        Score { per_reason, misses }
    }

    fn totals(&self) -> (usize, usize) {
        self.per_reason
            .values()
            .fold((0, 0), |(h, t), (hh, tt)| (h + hh, t + tt))
    }

    fn print(&self, title: &str) {
        let (hits, total) = self.totals();
        println!("{title}: {hits}/{total} = {:.1} %", percent(hits, total));
        for (reason, (h, t)) in &self.per_reason {
            println!("  {reason:<24} {h:>4}/{t:<4} {:>5.1} %", percent(*h, *t));
        }
    }
}

fn percent(hits: usize, total: usize) -> f64 {
    if total == 0 {
        return 100.0;
    }
    // Counts are far below 2^52: exact as floats.
    hits as f64 * 100.0 / total as f64
}

#[test]
fn corpus_accuracy() {
    let dev = load(false);
    let held = load(true);
    assert!(
        dev.len() + held.len() >= 300,
        "corpus has {}",
        dev.len() + held.len()
    );
    let dev_score = Score::of(&dev);
    let held_score = Score::of(&held);
    dev_score.print("development part");
    held_score.print("held-out part");
    if std::env::var_os("BOUNCE_CORPUS_VERBOSE").is_some() {
        for miss in &dev_score.misses {
            println!("MISS {miss}");
        }
    }
    let (dh, dt) = dev_score.totals();
    let (hh, ht) = held_score.totals();
    let overall = percent(dh + hh, dt + ht);
    println!("overall: {}/{} = {overall:.1} %", dh + hh, dt + ht);
    assert!(
        overall >= 95.0,
        "overall accuracy {overall:.1} % is under 95 %"
    );
    let held_out = percent(hh, ht);
    // A guard against overfitting the development part; the figure itself is reported above.
    assert!(
        held_out >= 85.0,
        "held-out accuracy {held_out:.1} % is under 85 %"
    );
}

#[test]
fn corpus_is_well_formed() {
    let cases: Vec<Case> = load(false).into_iter().chain(load(true)).collect();
    let japanese = cases
        .iter()
        .filter(|c| {
            let jp_provider = logdesk_core::provider::Provider::from_domain(&c.recipient_domain)
                .or_else(|| logdesk_core::provider::Provider::from_host(&c.remote_mta))
                .is_some_and(|p| {
                    use logdesk_core::provider::Provider as P;
                    matches!(
                        p,
                        P::Docomo
                            | P::Au
                            | P::SoftBank
                            | P::RakutenMobile
                            | P::YahooJapan
                            | P::Ocn
                            | P::Biglobe
                            | P::SoNet
                            | P::Nifty
                    )
                });
            jp_provider
                || c.diagnostic
                    .chars()
                    .any(|ch| matches!(ch, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
        })
        .count();
    assert!(japanese >= 60, "{japanese} Japanese cases");
    for case in &cases {
        assert!(
            ReasonCode::from_name(&case.expected).is_some(),
            "{}",
            case.expected
        );
        assert!(
            case.also.is_empty() || ReasonCode::from_name(&case.also).is_some(),
            "{}",
            case.also
        );
        assert!(!case.source.is_empty() && !case.diagnostic.is_empty());
    }
}
