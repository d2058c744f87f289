//! URL groups, the way alp groups them: `/users/123/posts/9f86d081884c7d659a2feaa0c55ad015`
//! and `/users/7/posts/0a1b…` are one line in a report, `/users/*/posts/*`.
//!
//! A [`UrlGrouper`] tries the caller's regular expressions first (alp's `-m`): the first that
//! matches the path names the group, and the group name is the pattern text itself. Otherwise each
//! path segment that looks like an identifier collapses to `*`:
//! - numbers (`123`),
//! - UUIDs (`550e8400-e29b-41d4-a716-446655440000`),
//! - hex strings of 16 or more characters (hashes, object ids),
//! - opaque tokens: 20 or more characters of `[A-Za-z0-9_-]` with both letters and digits and at
//!   most two `-`/`_` (base64url ids and session tokens; slugs such as
//!   `2024-summer-sale-tokyo-store` have more separators and stay).
//!
//! A segment `name.ext` whose extension has a letter collapses its name alone (`123.json` →
//! `*.json`). The query string and fragment are dropped. The default path uses no regex and
//! allocates only when a segment collapses.

use std::borrow::Cow;

use regex::{Regex, RegexSet};

/// Groups request paths for per-URL statistics.
#[derive(Debug, Clone)]
pub struct UrlGrouper {
    /// The caller's patterns, tested in one pass; `None` when there are none.
    set: Option<RegexSet>,
    /// The same patterns' text, by index, which is what names a group.
    names: Vec<String>,
}

impl UrlGrouper {
    /// A grouper with the caller's patterns (regular expressions, tried in order, matched against
    /// the path without its query) in front of the default collapsing.
    pub fn new(patterns: &[&str]) -> Result<UrlGrouper, regex::Error> {
        // Compile each pattern alone first so an error names the pattern that caused it.
        for p in patterns {
            Regex::new(p)?;
        }
        let set = if patterns.is_empty() {
            None
        } else {
            Some(RegexSet::new(patterns)?)
        };
        Ok(UrlGrouper {
            set,
            names: patterns.iter().map(|p| (*p).to_owned()).collect(),
        })
    }

    /// The group of a request path (`/path?query`): a matching pattern's text, or the path with
    /// identifier-like segments replaced by `*` and the query dropped.
    pub fn group<'a>(&'a self, path: &'a str) -> Cow<'a, str> {
        let path = strip_query(path);
        if let Some(set) = &self.set {
            // RegexSet reports every match; the lowest index is the first pattern in order.
            if let Some(i) = set.matches(path).into_iter().next() {
                if let Some(name) = self.names.get(i) {
                    return Cow::Borrowed(name.as_str());
                }
            }
        }
        collapse(path)
    }
}

impl Default for UrlGrouper {
    /// The default collapsing alone, with no patterns.
    fn default() -> Self {
        UrlGrouper {
            set: None,
            names: Vec::new(),
        }
    }
}

/// The path without `?query` and `#fragment`.
fn strip_query(path: &str) -> &str {
    match path.find(['?', '#']) {
        Some(i) => &path[..i],
        None => path,
    }
}

/// The default collapsing of identifier-like segments, borrowing when nothing collapses.
fn collapse(path: &str) -> Cow<'_, str> {
    let path = strip_query(path);
    let mut out: Option<String> = None;
    let mut start = 0;
    for segment in path.split('/') {
        let end = start + segment.len();
        let replacement = segment_replacement(segment);
        match (&mut out, replacement) {
            (None, None) => {}
            (None, Some(rep)) => {
                let mut s = String::with_capacity(path.len());
                s.push_str(&path[..start]);
                push_replacement(&mut s, segment, rep);
                out = Some(s);
            }
            (Some(s), rep) => {
                if start > 0 {
                    s.push('/');
                }
                match rep {
                    Some(rep) => push_replacement(s, segment, rep),
                    None => s.push_str(segment),
                }
            }
        }
        // Skip the '/' that ended this segment.
        start = end + 1;
    }
    match out {
        Some(s) => Cow::Owned(s),
        None => Cow::Borrowed(path),
    }
}

/// How a segment collapses: whole, or its name before an extension.
#[derive(Clone, Copy)]
enum Replacement {
    Whole,
    /// The byte index of the extension's dot.
    NameBefore(usize),
}

fn push_replacement(out: &mut String, segment: &str, rep: Replacement) {
    out.push('*');
    if let Replacement::NameBefore(dot) = rep {
        out.push_str(&segment[dot..]);
    }
}

fn segment_replacement(segment: &str) -> Option<Replacement> {
    if is_identifier(segment) {
        return Some(Replacement::Whole);
    }
    let dot = segment.rfind('.')?;
    let (name, ext) = (&segment[..dot], &segment[dot + 1..]);
    let ext_ok = (1..=5).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        && ext.bytes().any(|b| b.is_ascii_alphabetic());
    (ext_ok && is_identifier(name)).then_some(Replacement::NameBefore(dot))
}

/// A number, UUID, long hex string or opaque token (see the module doc).
fn is_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    if b.iter().all(u8::is_ascii_digit) {
        return true;
    }
    if is_uuid(b) {
        return true;
    }
    if b.len() >= 16 && b.iter().all(u8::is_ascii_hexdigit) {
        return true;
    }
    is_token(b)
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_token(b: &[u8]) -> bool {
    if b.len() < 20 {
        return false;
    }
    let (mut digits, mut letters, mut separators) = (0usize, 0usize, 0usize);
    for c in b {
        match c {
            b'0'..=b'9' => digits += 1,
            b'a'..=b'z' | b'A'..=b'Z' => letters += 1,
            b'-' | b'_' => separators += 1,
            _ => return false,
        }
    }
    digits > 0 && letters > 0 && separators <= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_collapsing() {
        let g = UrlGrouper::default();
        let cases = [
            ("root", "/", "/"),
            ("empty", "", ""),
            ("numeric_id", "/users/123", "/users/*"),
            (
                "brief_example_id_and_md5",
                "/users/123/posts/9f86d081884c7d659a2feaa0c55ad015",
                "/users/*/posts/*",
            ),
            (
                "uuid",
                "/orders/550e8400-e29b-41d4-a716-446655440000/items",
                "/orders/*/items",
            ),
            (
                "uppercase_uuid",
                "/o/550E8400-E29B-41D4-A716-446655440000",
                "/o/*",
            ),
            ("hex_16", "/obj/0123456789abcdef", "/obj/*"),
            (
                "hex_15_is_a_word",
                "/obj/0123456789abcde",
                "/obj/0123456789abcde",
            ),
            ("query_dropped", "/search?q=shoes&page=2", "/search"),
            (
                "query_dropped_after_collapse",
                "/items/42?ref=top",
                "/items/*",
            ),
            ("fragment_dropped", "/help#top", "/help"),
            ("trailing_slash_kept", "/users/123/", "/users/*/"),
            ("double_slash_kept", "/a//9", "/a//*"),
            (
                "extension_name_collapses",
                "/api/items/123.json",
                "/api/items/*.json",
            ),
            ("static_file_stays", "/css/site.css", "/css/site.css"),
            ("version_segment_stays", "/api/v2/users", "/api/v2/users"),
            (
                "dotted_version_stays",
                "/static/3.2.1/app.js",
                "/static/3.2.1/app.js",
            ),
            ("opaque_token", "/reset/aZ3kP9qLmX2vB7nR4tY8", "/reset/*"),
            (
                "base64url_token_with_dash",
                "/s/Yk3_x9PqLw2-ZtR8vNc4Ha",
                "/s/*",
            ),
            (
                "long_slug_stays",
                "/blog/2024-summer-sale-tokyo-store",
                "/blog/2024-summer-sale-tokyo-store",
            ),
            ("short_mixed_stays", "/p/abc123", "/p/abc123"),
            (
                "percent_encoded_japanese_stays",
                "/tag/%E6%9D%B1%E4%BA%AC",
                "/tag/%E6%9D%B1%E4%BA%AC",
            ),
            ("relative_path", "items/5", "items/*"),
            ("every_segment", "/1/2/3", "/*/*/*"),
            ("non_ascii_segment", "/商品/12", "/商品/*"),
        ];
        for (name, path, want) in cases {
            assert_eq!(g.group(path), want, "case {name}");
        }
    }

    #[test]
    fn nothing_collapsed_borrows() {
        let g = UrlGrouper::default();
        assert!(matches!(g.group("/a/b?x=1"), Cow::Borrowed("/a/b")));
        assert!(matches!(g.group("/a/1"), Cow::Owned(_)));
    }

    #[test]
    fn user_patterns_first_in_order_and_named_by_pattern() {
        let g = UrlGrouper::new(&["^/users/[0-9]+/posts$", "^/users/.+", "^/api/"]).unwrap();
        assert_eq!(g.group("/users/12/posts?x=1"), "^/users/[0-9]+/posts$");
        assert_eq!(g.group("/users/12/posts/3"), "^/users/.+");
        assert_eq!(g.group("/api/v1/items/9"), "^/api/");
        assert_eq!(g.group("/items/9"), "/items/*");
    }

    #[test]
    fn bad_pattern_is_an_error() {
        assert!(UrlGrouper::new(&["/ok", "/users/(["]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn group_never_panics(path in "\\PC*") {
            let g = UrlGrouper::new(&["^/x/[0-9]+$"]).unwrap();
            let _ = g.group(&path);
        }

        #[test]
        fn group_never_panics_on_path_like_input(path in "(/[a-zA-Z0-9._%-]{0,40}){0,6}(\\?.{0,10})?") {
            let g = UrlGrouper::default();
            let grouped = g.group(&path);
            // Collapsing never adds segments.
            proptest::prop_assert_eq!(grouped.matches('/').count(), super::strip_query(&path).matches('/').count());
        }
    }
}
