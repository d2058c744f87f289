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
    /// Path and query as requested ([`RequestRecord::path`]).
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
    let path = match path.find(['?', '#']) {
        Some(i) => &path[..i],
        None => path,
    };
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

/// Builds the visits in `records` (any order), oldest visit first.
pub fn build_visits<'r>(
    records: impl IntoIterator<Item = &'r RequestRecord>,
    opts: &VisitOptions,
) -> Vec<Visit<'r>> {
    let mut cache = UaCache::new();
    let mut ids: HashMap<(&'r str, Option<&'r str>), u32> = HashMap::new();
    let mut visitors: Vec<Visitor<'r>> = Vec::new();
    // (visitor, time, record, path): sorting these, not the records, orders the requests.
    let mut entries: Vec<(u32, i64, &'r RequestRecord, &'r str)> = Vec::new();

    for r in records {
        let (Some(ip), Some(path)) = (r.client_ip.as_deref(), r.path()) else {
            continue;
        };
        if !opts.include_assets && is_static_asset(path) {
            continue;
        }
        let user_agent = r.user_agent.as_deref();
        let id = match ids.get(&(ip, user_agent)) {
            Some(&id) => id,
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
                ids.insert((ip, user_agent), id);
                id
            }
        };
        if !opts.include_bots && visitors.get(id as usize).is_some_and(|v| v.is_bot) {
            continue;
        }
        entries.push((id, r.t, r, path));
    }

    // Same-time requests are ordered by what they are, so input order never shows.
    entries.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then_with(|| a.3.cmp(b.3))
            .then_with(|| a.2.method.cmp(&b.2.method))
            .then_with(|| a.2.status.cmp(&b.2.status))
    });

    let gap_us = opts.gap_seconds.max(0).saturating_mul(1_000_000);
    let mut visits = Vec::new();
    let mut rest = entries.as_slice();
    while let Some(&(id, first_t, _, _)) = rest.first() {
        // The visit runs while the same visitor keeps coming back within the gap.
        let mut len = 1;
        let mut prev_t = first_t;
        while let Some(&(next_id, t, _, _)) = rest.get(len) {
            if next_id != id || t.saturating_sub(prev_t) > gap_us {
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
        let pages: Vec<PageView<'r>> = run
            .iter()
            .enumerate()
            .map(|(i, &(_, t, r, path))| PageView {
                t,
                method: r.method.as_deref().map(Cow::Borrowed),
                path: Cow::Borrowed(path),
                status: r.status,
                dwell_seconds: run
                    .get(i + 1)
                    .map(|next| next.1.saturating_sub(t) as f64 / 1e6),
            })
            .collect();
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
