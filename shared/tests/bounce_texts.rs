//! Golden files for every text staff read about a mail event, in Japanese and English:
//! reasons (with severity), the events that are not failures, the delivery-delay texts, the
//! translated SES codes, the severities and the provider advice. `UPDATE_GOLDEN=1 cargo test
//! -p logdesk-core --test bounce_texts` rewrites them; read the diff before committing it.
//!
//! The Japanese texts are also checked against the style rules of `bounce::texts`.

use std::fmt::Write as _;
use std::path::PathBuf;

use logdesk_core::bounce::texts::{self, LabelKind};
use logdesk_core::bounce::{Explanation, Lang, ReasonCode};
use logdesk_core::provider::Provider;

const EVENTS: &[&str] = &[
    "Send",
    "Delivery",
    "Bounce",
    "Complaint",
    "Reject",
    "Open",
    "Click",
    "Rendering Failure",
    "DeliveryDelay",
    "Subscription",
];

fn write_explanation(out: &mut String, ex: &Explanation) {
    let _ = writeln!(out, "  title: {}", ex.title);
    let _ = writeln!(out, "  explanation: {}", ex.explanation);
    let _ = writeln!(out, "  action: {}", ex.action);
}

fn render(lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Reasons");
    for code in ReasonCode::ALL {
        let (severity, _) = texts::severity_label(code.severity(), lang);
        let _ = writeln!(out, "\n{code} [{}: {severity}]", code.severity());
        write_explanation(&mut out, &code.explain(lang));
    }
    let _ = writeln!(out, "\n# Events");
    for event in EVENTS {
        let _ = writeln!(out, "\n{event}");
        let ex = texts::event_explanation(event, lang).expect("every SES event is explained");
        write_explanation(&mut out, &ex);
    }
    let _ = writeln!(
        out,
        "\n# Delivery delay (its action replaces the cause's action)"
    );
    write_explanation(&mut out, &texts::delay_explanation(lang));
    let _ = writeln!(out, "\n# Severities");
    for severity in texts::SEVERITIES {
        let (name, meaning) = texts::severity_label(*severity, lang);
        let _ = writeln!(out, "{severity}: {name} / {meaning}");
    }
    let _ = writeln!(out, "\n# SES codes");
    for (kind, code) in texts::labelled_codes() {
        let label = texts::label(kind, code, lang).unwrap_or_default();
        let _ = writeln!(out, "{kind:?} {code}: {label}");
    }
    let _ = writeln!(out, "\n# Providers");
    for provider in Provider::ALL {
        let _ = writeln!(out, "\n{provider:?}: {}", provider.address_label(lang));
        for code in ReasonCode::ALL {
            if let Some(advice) = provider.advice(*code, lang) {
                let _ = writeln!(out, "  {code}: {advice}");
            }
        }
    }
    out
}

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bounces/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("writable golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

#[test]
fn golden_texts() {
    check("texts.ja.txt", &render(Lang::Ja));
    check("texts.en.txt", &render(Lang::En));
}

/// Every Japanese text staff read, one per line.
fn japanese_texts() -> Vec<String> {
    render(Lang::Ja)
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, text)| text.to_owned()))
        .collect()
}

#[test]
fn japanese_follows_the_style_rules() {
    for text in japanese_texts() {
        // Rule 2: never 「〜いただいてください」.
        assert!(!text.contains("いただいてください"), "{text}");
        // Rule 3: full-width punctuation around Japanese words (half-width only inside
        // codes, kept here in the SES-code lines as 「（Permanent）」).
        for bad in ["(", ")", "、,", ": "] {
            let japanese_around = text.contains(bad)
                && text
                    .split(bad)
                    .any(|part| part.chars().last().is_some_and(is_japanese));
            assert!(!japanese_around, "half-width {bad:?} in {text}");
        }
        // Rule 1: one term per concept.
        for banned in ["苦情", "抑制リスト", "技術担当者", "ひな形", "送り直"] {
            assert!(!text.contains(banned), "{banned} in {text}");
        }
        // メールアドレス, never a bare アドレス (IP アドレス is another thing).
        for (i, _) in text.match_indices("アドレス") {
            let before = &text[..i];
            assert!(
                before.ends_with("メール") || before.ends_with("IP "),
                "bare アドレス in {text}"
            );
        }
    }
}

#[test]
fn labels_translate_and_keep_the_code() {
    assert_eq!(
        texts::label(LabelKind::BounceType, "Permanent", Lang::Ja).as_deref(),
        Some("恒久的（Permanent）")
    );
    assert_eq!(
        texts::label(LabelKind::Event, "rendering failure", Lang::Ja).as_deref(),
        Some("テンプレートエラー（Rendering Failure）")
    );
    assert_eq!(
        texts::label(LabelKind::DelayType, "SomethingNew", Lang::Ja).as_deref(),
        Some("SomethingNew")
    );
    assert_eq!(texts::label(LabelKind::BounceSubtype, " ", Lang::En), None);
}

fn is_japanese(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}')
}
