//! Visits: one visitor's path through the site, page by page, with the time spent on each.
//!
//! A visitor is a client IP plus a User-Agent string (no cookies in access logs, so two people
//! behind one NAT with the same browser are one visitor, and one person switching networks is
//! two). Requests are sorted by time whatever order they came in (records arrive from several
//! log files), and a visit ends after more than [`VisitOptions::gap_seconds`] without a request
//! (30 minutes by default, the usual web-analytics session timeout).
//!
//! A page's dwell time is the next page's time minus its own, within the visit; the last page's
//! is unknown (`None`): logs do not say when someone stopped reading.
//!
//! Left out by default, each switchable: static assets ([`is_static_asset`]) and bots
//! ([`UaSummary::is_bot`]). Always left out: requests without a client IP or without a URL
//! (malformed request lines), since they cannot be placed in a visit.
//!
//! The result is deterministic and does not depend on input order: requests at the same
//! microsecond are ordered by path, method and status, and visits by start time, IP and user
//! agent. Pages borrow their strings from the records.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::record::RequestRecord;
use crate::urlgroup::path_of;
use crate::useragent::{UaCache, UaSummary};

/// What counts as a visit and what is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitOptions {
    /// More than this many seconds without a request ends a visit.
    pub gap_seconds: i64,
    /// Keep requests for static assets (CSS, scripts, images, fonts, `/robots.txt`, …).
    pub include_assets: bool,
    /// Keep visitors whose user agent is a bot or tool.
    pub include_bots: bool,
}

impl Default for VisitOptions {
    /// 30-minute gap, no assets, no bots.
    fn default() -> Self {
        VisitOptions {
            gap_seconds: 30 * 60,
            include_assets: false,
            include_bots: false,
        }
    }
}

/// One visit: consecutive requests of one visitor with no long gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit<'a> {
    /// Client IP address.
    #[serde(borrow)]
    pub ip: Cow<'a, str>,
    /// User-Agent header as sent (`None` when absent).
    #[serde(borrow)]
    pub user_agent: Option<Cow<'a, str>>,
    /// Summary of the user agent.
    pub ua: UaSummary,
    /// Time of the first request, µs.
    pub start: i64,
    /// Time of the last request, µs.
    pub end: i64,
    /// The requests, oldest first.
    #[serde(borrow)]
    pub pages: Vec<PageView<'a>>,
}

/// One request within a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageView<'a> {
    /// Request time, µs.
    pub t: i64,
    /// HTTP method.
    #[serde(borrow)]
    pub method: Option<Cow<'a, str>>,
    /// Path and query as requested ([`path_of`] the URL).
    #[serde(borrow)]
    pub path: Cow<'a, str>,
    /// Status sent to the client.
    pub status: Option<u16>,
    /// Seconds until the next request of the visit; `None` for the last one.
    pub dwell_seconds: Option<f64>,
}

impl Visit<'_> {
    /// The same visit owning its strings, to outlive the records.
    pub fn into_owned(self) -> Visit<'static> {
        Visit {
            ip: Cow::Owned(self.ip.into_owned()),
            user_agent: self.user_agent.map(|u| Cow::Owned(u.into_owned())),
            ua: self.ua,
            start: self.start,
            end: self.end,
            pages: self
                .pages
                .into_iter()
                .map(|p| PageView {
                    t: p.t,
                    method: p.method.map(|m| Cow::Owned(m.into_owned())),
                    path: Cow::Owned(p.path.into_owned()),
                    status: p.status,
                    dwell_seconds: p.dwell_seconds,
                })
                .collect(),
        }
    }
}

/// File extensions of static assets, compared case-insensitively.
const ASSET_EXTENSIONS: &[&str] = &[
    "css", "js", "mjs", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif", "bmp", "woff",
    "woff2", "ttf", "otf", "eot", "map",
];

/// Paths fetched by browsers and crawlers on their own, not pages a person chose.
const ASSET_PATHS: &[&str] = &["/robots.txt", "/sitemap.xml", "/ads.txt", "/favicon.ico"];

/// Whether a request path (query allowed) is a static asset rather than a page: by extension
/// (`css js png jpg jpeg gif svg ico webp woff woff2 ttf map`, a few more image and font types),
/// or one of `/robots.txt`, `/sitemap.xml`, `/ads.txt`, `/favicon.ico` and `/.well-known/…`.
pub fn is_static_asset(path: &str) -> bool {
    let path = crate::urlgroup::strip_query(path);
    if ASSET_PATHS.contains(&path) || path.starts_with("/.well-known/") {
        return true;
    }
    let last = path.rsplit('/').next().unwrap_or(path);
    match last.rsplit_once('.') {
        Some((_, ext)) => ASSET_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)),
        None => false,
    }
}

/// Who a visitor is, found once per distinct IP and user agent.
struct Visitor<'r> {
    ip: &'r str,
    user_agent: Option<&'r str>,
    ua: usize,
    is_bot: bool,
}

/// One kept request, as sorted.
struct Entry<'r> {
    visitor: u32,
    status: Option<u16>,
    t: i64,
    path: &'r str,
    method: Option<&'r str>,
}

/// Builds the visits in `records` (any order), oldest visit first.
pub fn build_visits<'r>(
    records: impl IntoIterator<Item = &'r RequestRecord>,
    opts: &VisitOptions,
) -> Vec<Visit<'r>> {
    let mut cache = UaCache::new();
    let (visitors, mut entries) = kept_requests(records, opts, &mut cache);

    // Same-time requests are ordered by what they are, so input order never shows.
    entries.sort_unstable_by(|a, b| {
        (a.visitor, a.t)
            .cmp(&(b.visitor, b.t))
            .then_with(|| (a.path, a.method, a.status).cmp(&(b.path, b.method, b.status)))
    });

    let gap_us = opts.gap_seconds.max(0).saturating_mul(1_000_000);
    let mut visits = Vec::new();
    let mut rest = entries.as_slice();
    while let Some(&Entry {
        visitor: id,
        t: first_t,
        ..
    }) = rest.first()
    {
        // The visit runs while the same visitor keeps coming back within the gap.
        let mut len = 1;
        let mut prev_t = first_t;
        while let Some(next) = rest.get(len) {
            let t = next.t;
            if next.visitor != id || t.saturating_sub(prev_t) > gap_us {
                break;
            }
            prev_t = t;
            len += 1;
        }
        let (run, tail) = rest.split_at(len);
        rest = tail;
        let Some(v) = visitors.get(id as usize) else {
            continue;
        };
        let pages = page_views(run);
        visits.push(Visit {
            ip: Cow::Borrowed(v.ip),
            user_agent: v.user_agent.map(Cow::Borrowed),
            ua: cache
                .by_id(v.ua)
                .cloned()
                .unwrap_or_else(|| crate::useragent::summarize("")),
            start: first_t,
            end: prev_t,
            pages,
        });
    }
    visits.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then_with(|| a.ip.cmp(&b.ip))
            .then_with(|| a.user_agent.cmp(&b.user_agent))
    });
    visits
}

/// The requests a visit can hold (with a client IP and a path; assets and bots as `opts`
/// says), in input order, and the visitors they belong to.
fn kept_requests<'r>(
    records: impl IntoIterator<Item = &'r RequestRecord>,
    opts: &VisitOptions,
    cache: &mut UaCache,
) -> (Vec<Visitor<'r>>, Vec<Entry<'r>>) {
    // Visitor ids by IP, then by user agent: hashing the IP alone and comparing the few user
    // agents of one IP is much cheaper than hashing a 150-byte user agent for every request.
    let mut ids: HashMap<&'r str, Vec<(Option<&'r str>, u32)>> = HashMap::new();
    let mut visitors: Vec<Visitor<'r>> = Vec::new();
    // Sorting these small entries, not the records, orders the requests; they carry what a
    // page view needs so the records are read once, in input order.
    let records = records.into_iter();
    // Sized up front: growing a vector of a million entries by doubling costs page faults.
    let mut entries: Vec<Entry<'r>> = Vec::with_capacity(records.size_hint().0);

    for r in records {
        let (Some(ip), Some(path)) = (r.client_ip.as_deref(), r.url.as_deref().map(path_of)) else {
            continue;
        };
        if !opts.include_assets && is_static_asset(path) {
            continue;
        }
        let user_agent = r.user_agent.as_deref();
        let known = ids.entry(ip).or_default();
        let id = match known.iter().find(|(ua, _)| *ua == user_agent) {
            Some(&(_, id)) => id,
            None => {
                let Ok(id) = u32::try_from(visitors.len()) else {
                    // More than four billion visitors does not fit a Lambda's memory anyway.
                    continue;
                };
                let ua = cache.id(user_agent.unwrap_or(""));
                let is_bot = cache.by_id(ua).is_some_and(|s| s.is_bot);
                visitors.push(Visitor {
                    ip,
                    user_agent,
                    ua,
                    is_bot,
                });
                known.push((user_agent, id));
                id
            }
        };
        if !opts.include_bots && visitors.get(id as usize).is_some_and(|v| v.is_bot) {
            continue;
        }
        entries.push(Entry {
            visitor: id,
            status: r.status,
            t: r.t,
            path,
            method: r.method.as_deref(),
        });
    }
    (visitors, entries)
}

/// The page views of one visit's requests; each dwells until the next one.
fn page_views<'r>(run: &[Entry<'r>]) -> Vec<PageView<'r>> {
    run.iter()
        .enumerate()
        .map(|(i, e)| PageView {
            t: e.t,
            method: e.method.map(Cow::Borrowed),
            path: Cow::Borrowed(e.path),
            status: e.status,
            dwell_seconds: run
                .get(i + 1)
                .map(|next| next.t.saturating_sub(e.t) as f64 / 1e6),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_assets() {
        let cases = [
            ("css", "/static/site.css", true),
            ("uppercase_extension", "/img/PHOTO.JPG", true),
            ("query_after_extension", "/app.js?v=3", true),
            ("woff2", "/fonts/a.woff2", true),
            ("source_map", "/app.js.map", true),
            ("favicon", "/favicon.ico", true),
            ("robots", "/robots.txt", true),
            ("well_known", "/.well-known/security.txt", true),
            ("page", "/products/12", false),
            ("html_page", "/about.html", false),
            ("dot_in_directory_only", "/v1.2/items", false),
            ("root", "/", false),
            ("other_txt_is_a_page", "/terms.txt", false),
            ("extension_in_query_only", "/search?q=a.css", false),
        ];
        for (name, path, want) in cases {
            assert_eq!(is_static_asset(path), want, "case {name}");
        }
    }
}
