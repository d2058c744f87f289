//! Filter patterns for FilterLogEvents, built from user input without ever pasting it raw.
//!
//! A pattern only narrows what is read; the API re-checks every row, so a pattern must match a
//! superset of the rows wanted. When a value cannot be expressed safely (a quote or backslash, a
//! control character, multi-byte text in a regex, very long input), the condition is left out
//! and more is read rather than risk a wrong or injected pattern.
//!
//! Filter patterns are case-sensitive; case-insensitive substring searches become a regex with a
//! character class per letter (`%[Tt][Aa][Rr][Oo]@%`). Regex patterns allow alphanumerics, a few
//! symbols and the regex operators; every other ASCII character is written as `\xHH`.

/// Longest user value put into a pattern; longer values are checked on our side only.
const MAX_VALUE: usize = 200;

/// One condition on a JSON record field.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonCond<'a> {
    /// `$.key = "value"` (exact string).
    Eq(&'static str, &'a str),
    /// `$.key = number`.
    NumEq(&'static str, i64),
    /// `$.key >= lo && $.key <= hi`.
    NumRange(&'static str, i64, i64),
    /// `$.key = %value%` (substring, case-sensitive, as the documented regex form: AWS
    /// documents `*` wildcards in JSON strings, but not on both sides of a term).
    Contains(&'static str, &'a str),
    /// Either key in the range: `($.a >= lo && $.a <= hi || $.b >= lo && $.b <= hi)`.
    EitherRange(&'static str, &'static str, i64, i64),
}

/// Whether `v` can sit inside a double-quoted pattern string: printable ASCII without `"`, `\`
/// or `*` (a wildcard there would widen an exact match into a different one).
fn quotable(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= MAX_VALUE
        && v.bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' && b != b'*')
}

/// A JSON filter pattern joining the conditions with `&&`; conditions whose value cannot be
/// quoted safely are left out. `None` when nothing is left.
pub fn json(conds: &[JsonCond<'_>]) -> Option<String> {
    let parts: Vec<String> = conds
        .iter()
        .filter_map(|c| match c {
            JsonCond::Eq(k, v) if quotable(v) => Some(format!("$.{k} = \"{v}\"")),
            JsonCond::Eq(..) => None,
            JsonCond::NumEq(k, n) => Some(format!("$.{k} = {n}")),
            JsonCond::NumRange(k, lo, hi) => Some(format!("$.{k} >= {lo} && $.{k} <= {hi}")),
            JsonCond::Contains(k, v) => regex(v, false).map(|r| format!("$.{k} = {r}")),
            JsonCond::EitherRange(a, b, lo, hi) => Some(format!(
                "($.{a} >= {lo} && $.{a} <= {hi} || $.{b} >= {lo} && $.{b} <= {hi})"
            )),
        })
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(format!("{{ {} }}", parts.join(" && ")))
    }
}

/// A JSON pattern (`{ … }`, as [`json`] writes it) that also matches events passing `alt`:
/// `{ (…) || alt }`.
pub fn or_json(pattern: &str, alt: &str) -> String {
    let inner = pattern
        .trim()
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(pattern)
        .trim();
    format!("{{ ({inner}) || {alt} }}")
}

/// A quoted term pattern (`"value"`) matching raw text lines that contain `value`, or `None`.
pub fn term(value: &str) -> Option<String> {
    quotable(value).then(|| format!("\"{value}\""))
}

/// A regex pattern matching events that contain `needle` in any letter case, or `None` when
/// the needle cannot be written as a filter-pattern regex (non-ASCII, control characters,
/// `"`/`\` which appear escaped in JSON messages, or too long).
pub fn contains_ignore_case(needle: &str) -> Option<String> {
    regex(needle, true)
}

/// A `%…%` regex matching `needle` as a substring (each letter as `[Xx]` when `any_case`), or
/// `None` when it cannot be written (see [`contains_ignore_case`]).
fn regex(needle: &str, any_case: bool) -> Option<String> {
    if needle.is_empty() || needle.len() > MAX_VALUE {
        return None;
    }
    let mut out = String::from("%");
    for c in needle.chars() {
        match c {
            'a'..='z' | 'A'..='Z' if !any_case => out.push(c),
            'a'..='z' | 'A'..='Z' => {
                out.push('[');
                out.push(c.to_ascii_uppercase());
                out.push(c.to_ascii_lowercase());
                out.push(']');
            }
            '0'..='9' | '_' | '#' | '=' | '@' | '/' | ';' | ',' | '-' => out.push(c),
            '"' | '\\' => return None,
            ' '..='~' => out.push_str(&format!("\\x{:02x}", c as u32)),
            _ => return None,
        }
    }
    out.push('%');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The load-balancer pattern lets records without `k` (native ALB deliveries) through.
    #[test]
    fn golden_or_json() {
        let p = json(&[
            JsonCond::Eq("ip", "203.0.113.5"),
            JsonCond::Contains("tr", "Root=1-a"),
        ])
        .unwrap();
        assert_eq!(
            or_json(&p, "$.k NOT EXISTS"),
            r#"{ ($.ip = "203.0.113.5" && $.tr = %Root=1-a%) || $.k NOT EXISTS }"#
        );
    }

    #[test]
    fn golden_json_patterns() {
        let cases: &[(&[JsonCond], Option<&str>)] = &[
            (&[], None),
            (
                &[JsonCond::Eq("mid", "0100018f-abc")],
                Some(r#"{ $.mid = "0100018f-abc" }"#),
            ),
            (
                &[
                    JsonCond::Eq("ip", "203.0.113.9"),
                    JsonCond::NumRange("s", 500, 599),
                ],
                Some(r#"{ $.ip = "203.0.113.9" && $.s >= 500 && $.s <= 599 }"#),
            ),
            (&[JsonCond::NumEq("s", 404)], Some("{ $.s = 404 }")),
            (
                &[
                    JsonCond::EitherRange("s", "ts", 500, 599),
                    JsonCond::Contains("tr", "Root=1-ab"),
                ],
                Some(
                    r#"{ ($.s >= 500 && $.s <= 599 || $.ts >= 500 && $.ts <= 599) && $.tr = %Root=1-ab% }"#,
                ),
            ),
            (
                &[JsonCond::Contains("tr", "a*b")],
                Some(r"{ $.tr = %a\x2ab% }"),
            ),
            (&[JsonCond::Contains("tr", "a\"b")], None),
            // Injection attempts are left out, not escaped into the pattern.
            (&[JsonCond::Eq("mid", r#"x" || $.k = "mail"#)], None),
            (&[JsonCond::Eq("mid", r"x\")], None),
            (&[JsonCond::Eq("mid", "a*")], None),
            (&[JsonCond::Eq("mid", "改行\n")], None),
            (
                &[JsonCond::Eq(
                    "tr",
                    "Root=1-67891233-abcdef012345678912345678",
                )],
                Some(r#"{ $.tr = "Root=1-67891233-abcdef012345678912345678" }"#),
            ),
        ];
        for (conds, want) in cases {
            assert_eq!(json(conds).as_deref(), *want, "{conds:?}");
        }
    }

    #[test]
    fn golden_regex_patterns() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Taro@example.jp",
                Some(r"%[Tt][Aa][Rr][Oo]@[Ee][Xx][Aa][Mm][Pp][Ll][Ee]\x2e[Jj][Pp]%"),
            ),
            ("a.b+c", Some(r"%[Aa]\x2e[Bb]\x2b[Cc]%")),
            ("(x)", Some(r"%\x28[Xx]\x29%")),
            ("100%", Some(r"%100\x25%")),
            ("/api/v1", Some(r"%/[Aa][Pp][Ii]/[Vv]1%")),
            ("申込", None),
            ("a\"b", None),
            ("a\\b", None),
            ("tab\there", None),
            ("", None),
        ];
        for (needle, want) in cases {
            assert_eq!(contains_ignore_case(needle).as_deref(), *want, "{needle:?}");
        }
    }

    #[test]
    fn golden_terms() {
        assert_eq!(term("203.0.113.9").as_deref(), Some("\"203.0.113.9\""));
        assert_eq!(term("a\"b").as_deref(), None);
        assert_eq!(term(&"x".repeat(201)), None);
    }
}
