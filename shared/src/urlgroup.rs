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

use regex::Regex;

/// Groups request paths for per-URL statistics.
#[derive(Debug, Clone)]
pub struct UrlGrouper {
    /// The caller's patterns in order, with their text, which is what names a group.
    patterns: Vec<(Regex, String)>,
}

impl UrlGrouper {
    /// A grouper with the caller's patterns (regular expressions, tried in order, matched against
    /// the path without its query) in front of the default collapsing.
    pub fn new(patterns: &[&str]) -> Result<UrlGrouper, regex::Error> {
        let patterns = patterns
            .iter()
            .map(|p| Ok((Regex::new(p)?, (*p).to_owned())))
            .collect::<Result<_, regex::Error>>()?;
        Ok(UrlGrouper { patterns })
    }

    /// The group of a request path (`/path?query`): a matching pattern's text, or the path with
    /// identifier-like segments replaced by `*` and the query dropped.
    pub fn group<'a>(&'a self, path: &'a str) -> Cow<'a, str> {
        let path = strip_query(path);
        match self.pattern_group(path) {
            Some(name) => Cow::Borrowed(name),
            None => collapse(path),
        }
    }

    /// [`group`](UrlGrouper::group) writing into a reused buffer when something collapses, for
    /// callers grouping many paths (no allocation per path once the buffer has grown).
    pub fn group_into<'a>(&'a self, path: &'a str, buf: &'a mut String) -> &'a str {
        let path = strip_query(path);
        if let Some(name) = self.pattern_group(path) {
            return name;
        }
        buf.clear();
        if collapse_into(path, buf) {
            buf.as_str()
        } else {
            path
        }
    }

    /// The text of the first pattern matching `path`, if any. Tried one by one rather than as
    /// a `RegexSet`: the first match ends the search, and anchored patterns fail at once.
    fn pattern_group(&self, path: &str) -> Option<&str> {
        self.patterns
            .iter()
            .find(|(re, _)| re.is_match(path))
            .map(|(_, name)| name.as_str())
    }
}

impl Default for UrlGrouper {
    /// The default collapsing alone, with no patterns.
    fn default() -> Self {
        UrlGrouper {
            patterns: Vec::new(),
        }
    }
}

/// The path without `?query` and `#fragment`.
pub(crate) fn strip_query(path: &str) -> &str {
    // A byte scan: both are ASCII, and `str::find` with a char set decodes every character.
    match path.bytes().position(|b| b == b'?' || b == b'#') {
        Some(i) => &path[..i],
        None => path,
    }
}

/// The path and query of a request URL as logged: the URL itself when it starts with `/`
/// (nginx), else what follows the scheme and authority (ALB's `https://host:443/p?q` →
/// `/p?q`, and `/` when there is nothing after the authority).
///
/// Like [`RequestRecord::path`](crate::record::RequestRecord::path), but a relative URL with
/// `://` in its query (`/go?to=https://example.com/`) stays whole, and it is cheaper: this runs
/// once per request in statistics and visits.
pub fn path_of(url: &str) -> &str {
    if url.starts_with('/') {
        return url;
    }
    let Some(colon) = memchr::memchr(b':', url.as_bytes()) else {
        return url;
    };
    let Some(rest) = url.get(colon..).and_then(|r| r.strip_prefix("://")) else {
        return url;
    };
    match rest.bytes().position(|b| b == b'/' || b == b'?') {
        Some(i) => &rest[i..],
        None => "/",
    }
}

/// The host of an absolute URL (`scheme://host:port/…`) without its port (IPv6 without its
/// brackets); `None` for a path (`/…`) or anything without `://`.
pub fn host_of(url: &str) -> Option<&str> {
    if url.starts_with('/') {
        return None;
    }
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    // Strip the port, taking care of bracketed IPv6 hosts.
    let host = if let Some(stripped) = authority.strip_prefix('[') {
        stripped.split(']').next().unwrap_or(stripped)
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    Some(host)
}

/// The default collapsing of identifier-like segments, borrowing when nothing collapses.
fn collapse(path: &str) -> Cow<'_, str> {
    let mut buf = String::new();
    if collapse_into(path, &mut buf) {
        Cow::Owned(buf)
    } else {
        Cow::Borrowed(path)
    }
}

/// Writes the collapsed `path` (no query) into `out` and returns true, or returns false and
/// leaves `out` untouched when no segment collapses.
fn collapse_into(path: &str, out: &mut String) -> bool {
    let mut collapsed = false;
    let mut start = 0;
    loop {
        // memchr rather than `str::split`: this runs for every request of a report.
        let end = path
            .as_bytes()
            .get(start..)
            .and_then(|rest| memchr::memchr(b'/', rest))
            .map_or(path.len(), |i| start + i);
        // Both ends are at a '/' or an end of the string, so on character boundaries.
        let Some(segment) = path.get(start..end) else {
            break;
        };
        let replacement = segment_replacement(segment);
        if !collapsed {
            if let Some(rep) = replacement {
                // First collapse: copy what came before as is.
                out.push_str(&path[..start]);
                push_replacement(out, segment, rep);
                collapsed = true;
            }
        } else {
            out.push('/');
            match replacement {
                Some(rep) => push_replacement(out, segment, rep),
                None => out.push_str(segment),
            }
        }
        if end >= path.len() {
            break;
        }
        // Skip the '/' that ended this segment.
        start = end + 1;
    }
    collapsed
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
    let dot = memchr::memrchr(b'.', segment.as_bytes())?;
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
    fn group_into_reuses_the_buffer_and_agrees_with_group() {
        let g = UrlGrouper::new(&["^/api/"]).unwrap();
        let mut buf = String::new();
        for path in ["/users/1/x?q", "/api/9", "/plain", "/7", "", "/a//9/"] {
            let want = g.group(path).into_owned();
            assert_eq!(g.group_into(path, &mut buf), want, "path {path}");
        }
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
    fn path_of_urls() {
        let cases = [
            (
                "alb_absolute",
                "https://www.example.com:443/p/1?q=2",
                "/p/1?q=2",
            ),
            (
                "alb_query_without_path",
                "https://www.example.com:443?q=2",
                "?q=2",
            ),
            ("alb_no_path", "http://[2001:db8::1]:80", "/"),
            ("nginx_relative", "/relative?x=1", "/relative?x=1"),
            (
                "scheme_inside_query",
                "/go?to=https://example.com/x",
                "/go?to=https://example.com/x",
            ),
            ("connect_authority", "example.com:443", "example.com:443"),
            ("options_star", "*", "*"),
            ("empty", "", ""),
        ];
        for (name, url, want) in cases {
            assert_eq!(path_of(url), want, "case {name}");
        }
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
