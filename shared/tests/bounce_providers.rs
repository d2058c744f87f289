//! The classifier on the replies of the providers the issue names, as SES reports them
//! (`smtp; ` prefix, status field, the recipient's domain, an IP address as the remote MTA).
//!
//! `tests/data/bounces/provider-examples.tsv` holds one case a line: recipient domain,
//! status, diagnostic, expected reason. The texts follow the providers' documented replies
//! (Gmail's SMTP error reference, Microsoft's NDR reference, Yahoo's error codes, the
//! Japanese carriers' bulk-sender notes) and the ordering rules; they are examples
//! written for this test, not diagnostics collected in public (those are in the `*.jsonl`
//! corpus).

use std::path::Path;

use logdesk_core::bounce::{BounceFacts, classify};

#[test]
fn provider_examples() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bounces/provider-examples.tsv");
    let text = std::fs::read_to_string(&path).expect("provider examples");
    let mut failures = Vec::new();
    let mut cases = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [domain, status, diagnostic, want] = fields[..] else {
            panic!("four tab-separated fields: {line}");
        };
        let bounce_type = if status.starts_with('4') {
            "Transient"
        } else {
            "Permanent"
        };
        let got = classify(&BounceFacts {
            bounce_type,
            bounce_subtype: "General",
            status: Some(status),
            diagnostic: Some(diagnostic),
            remote_mta: Some("203.0.113.9"),
            recipient_domain: Some(domain),
        });
        cases += 1;
        if got.as_str() != want {
            failures.push(format!("{domain} {diagnostic}: got {got}, want {want}"));
        }
    }
    assert!(cases >= 40, "{cases} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
