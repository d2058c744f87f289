//! `/v1/access?order=desc`: newest first, through Logs Insights for the load-balancer group
//! on AWS (`by_insights`), else through the local engine (`locally`).

use std::collections::HashMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Found;
use crate::AppState;
use crate::error::ApiError;
use crate::group_read::{Key, Limits, read_group};
use crate::insights;
use crate::params::{self, Common};
use crate::requests::{RequestFilter, Source, decode, groups};
use crate::source::{LogEvent, SourceError};

/// Where a newest-first listing read by the local engine continues: rows before `before` (all
/// rows below `hi_ms` when `None`), read in windows of `width_ms` going back in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalDesc {
    /// End of what is left (exclusive), ms.
    pub hi_ms: i64,
    /// The last row shown; rows at `hi_ms - 1` after it are left.
    pub before: Option<Key>,
    /// Width of the next window read, ms (halved when a read runs out of time).
    pub width_ms: i64,
}

impl LocalDesc {
    /// Whether an answer over `groups` groups to `c` can give this position: inside the range
    /// (a window at least a millisecond wide) and, after a row, just past that row's millisecond.
    pub(crate) fn fits(&self, c: &Common, groups: usize) -> bool {
        self.hi_ms <= c.to_ms()
            && self.width_ms >= 1
            && self
                .before
                .as_ref()
                .is_none_or(|b| b.fits(c.to_ms(), groups) && b.t.checked_add(1) == Some(self.hi_ms))
    }
}

/// Newest first without Logs Insights: the range is read oldest first (as FilterLogEvents
/// reads) in windows going back from the end, keeping the newest `limit` rows, ordered by
/// [`Key`] (millisecond, then group, then event id, all descending). A window whose read runs
/// out of time leaves its newest part unknown, so its rows are not shown: the answer is
/// `partial` with a cursor that reads a window half as wide (or only what was not reached).
///
/// `shown`: rows of the millisecond `shown.t` that Logs Insights already listed, by
/// [`row_token`] (a busy second taken over from the Insights path): they are left out, the
/// first copies in key order where messages repeat, so every page leaves out the same rows.
pub(crate) async fn locally(
    st: &AppState,
    c: &Common,
    source: Source,
    filter: &RequestFilter,
    after: Option<LocalDesc>,
    shown: Option<&InsightsDesc>,
) -> Result<(Vec<Found>, Option<LocalDesc>, bool), ApiError> {
    let from_ms = c.from_ms();
    let mut at = after.unwrap_or(LocalDesc {
        hi_ms: c.to_ms(),
        before: None,
        width_ms: (c.to_ms() - from_ms).max(1),
    });
    let limits = st.limits();
    let mut found: Vec<(Key, Found)> = Vec::new();
    loop {
        let lo = from_ms.max(at.hi_ms.saturating_sub(at.width_ms));
        if lo >= at.hi_ms {
            return Ok((strip(found), None, false));
        }
        let read = Window {
            source,
            filter,
            shown,
            limits,
        };
        let (mut window, covered) = read.rows(st, c, lo, at.hi_ms).await?;
        if covered < at.hi_ms {
            // The newest part of the window is unknown: show nothing of it, and next time read
            // a narrower window (what was not reached, at most half of this one).
            let width = at.hi_ms.saturating_sub(covered).min(at.width_ms / 2).max(1);
            at.width_ms = width;
            return Ok((strip(found), Some(at), true));
        }
        window.sort_by(|a, b| b.0.cmp(&a.0));
        // The window holds the whole of `shown`'s millisecond whenever it holds any of it
        // (windows are whole milliseconds), so the same rows are left out on every page.
        if let Some(k) = shown {
            let mut handled = Handled::new(k);
            window.retain(|(key, token, _)| {
                !token
                    .as_deref()
                    .is_some_and(|token| handled.take(key.t, token))
            });
        }
        window.retain(|(k, _, _)| at.before.as_ref().is_none_or(|b| k < b));
        found.extend(window.into_iter().map(|(k, _, f)| (k, f)));
        if found.len() > c.limit || (found.len() == c.limit && lo > from_ms) {
            found.truncate(c.limit);
            let next = found.last().map(|(k, _)| LocalDesc {
                hi_ms: k.t.saturating_add(1),
                before: Some(k.clone()),
                width_ms: at.width_ms,
            });
            return Ok((strip(found), next, false));
        }
        if lo <= from_ms {
            return Ok((strip(found), None, false));
        }
        at = LocalDesc {
            hi_ms: lo,
            before: None,
            width_ms: at.width_ms.saturating_mul(2),
        };
        if Instant::now() >= limits.deadline {
            return Ok((strip(found), Some(at), true));
        }
    }
}

/// One window's read of [`locally`]: every group of `source`, rows passing `filter`.
struct Window<'a> {
    source: Source,
    filter: &'a RequestFilter,
    shown: Option<&'a InsightsDesc>,
    limits: Limits,
}

impl Window<'_> {
    /// The rows in `[lo, hi_ms)`, each with the token of its message when it is at `shown`'s
    /// millisecond, and how far the reads got (`hi_ms` when every group was read to the end).
    async fn rows(
        &self,
        st: &AppState,
        c: &Common,
        lo: i64,
        hi_ms: i64,
    ) -> Result<(Vec<(Key, Option<String>, Found)>, i64), ApiError> {
        let (filter, shown) = (self.filter, self.shown);
        let mut window = Vec::new();
        let mut covered = hi_ms;
        for (g, (group, nginx)) in groups(st, self.source).into_iter().enumerate() {
            let mut req = filter.fetch_request(c, group, nginx);
            req.start_ms = lo;
            req.end_ms = hi_ms;
            let formats = &st.config.nginx_formats;
            let (from, to) = (c.from, c.to);
            let read = read_group(&*st.source, req, g as u8, None, None, self.limits, |e| {
                let (src, r) = decode(e, nginx, formats)
                    .filter(|(_, r)| r.t >= from && r.t < to && filter.matches(r))?;
                let token = shown
                    .filter(|k| k.t == e.timestamp)
                    .map(|_| row_token(&e.message));
                Some((token, src, r))
            })
            .await?;
            if read.cut {
                covered = covered.min(read.frontier.map_or(lo, |k| k.t));
            }
            window.extend(read.rows.into_iter().map(|(k, (token, src, r))| {
                let id = format!("{}:{}", k.g, k.id);
                (k, token, (id, src, r))
            }));
        }
        Ok((window, covered))
    }
}

fn strip(found: Vec<(Key, Found)>) -> Vec<Found> {
    found.into_iter().map(|f| f.1).collect()
}

/// Where a newest-first listing read through Logs Insights continues.
///
/// Insights takes whole seconds for a query's range and sorts rows of the same millisecond in
/// no fixed order, so the cursor names the last row shown by its millisecond `t` and keeps a
/// token of the message of every row already handled at `t` (48 bits of its SHA-256, 12 hex
/// digits each: a cursor stays within the longest accepted value up to some 400 rows in one
/// millisecond); `newer` counts rows already handled in `t`'s second after `t`. The next query ends with that
/// second and asks for `limit` more rows than it will skip. The tokens name messages, not
/// Insights' `@ptr`, so that the local engine can leave out the same rows when it takes over a
/// busy second ([`DescCursor::Busy`]); identical messages at `t` count as many times as they
/// were handled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsightsDesc {
    /// Millisecond of the last row handled.
    pub t: i64,
    /// The token of the message of every row handled at `t`, once per row.
    pub seen: Vec<String>,
    /// Rows handled in the same second after `t`.
    pub newer: usize,
}

impl InsightsDesc {
    /// Whether a listing of `c` can stand here: at a row of the range, having handled no more
    /// rows of one second than a query returns.
    fn fits(&self, c: &Common) -> bool {
        self.t < c.to_ms()
            && self.seen.len() <= insights::MAX_ROWS
            && self.newer <= insights::MAX_ROWS
    }

    /// The position after handling a row at `t` whose message has `token` (rows come newest
    /// first).
    fn advance(self, t: i64, token: String) -> InsightsDesc {
        if self.t == t {
            let mut seen = self.seen;
            seen.push(token);
            InsightsDesc { seen, ..self }
        } else if self.t.div_euclid(1000) == t.div_euclid(1000) {
            InsightsDesc {
                t,
                newer: self.newer.saturating_add(self.seen.len()),
                seen: vec![token],
            }
        } else {
            InsightsDesc {
                t,
                seen: vec![token],
                newer: 0,
            }
        }
    }

    /// Rows handled in `t`'s second.
    fn skip(&self) -> usize {
        self.newer.saturating_add(self.seen.len())
    }

    /// The position after every row of `t`'s second and the later ones: the end of the
    /// second before.
    fn before_second(&self) -> InsightsDesc {
        InsightsDesc {
            t: self
                .t
                .div_euclid(1000)
                .saturating_mul(1000)
                .saturating_sub(1),
            seen: Vec::new(),
            newer: 0,
        }
    }
}

/// Which rows of one answer a position has handled already: those after its millisecond, and
/// at its millisecond as many rows with each token as it names (rows with the same message
/// are alike, so which copies does not matter).
struct Handled {
    t: i64,
    left: HashMap<String, usize>,
}

impl Handled {
    fn new(at: &InsightsDesc) -> Handled {
        let mut left: HashMap<String, usize> = HashMap::new();
        for token in &at.seen {
            *left.entry(token.clone()).or_default() += 1;
        }
        Handled { t: at.t, left }
    }

    /// Whether a row at `t` with `token` was handled (each token at `t` is used up once).
    fn take(&mut self, t: i64, token: &str) -> bool {
        if t != self.t {
            return t > self.t;
        }
        match self.left.get_mut(token) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}

/// A short stand-in for a row's message in a cursor: 48 bits of its SHA-256, plenty to tell
/// apart the rows of one millisecond.
fn row_token(message: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(message.as_bytes())[..6])
}

/// The cursor of a newest-first listing read through Logs Insights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DescCursor {
    /// The rows older than the last one handled.
    After(InsightsDesc),
    /// The query for the rows after `at` (the newest rows when `None`) was still running when
    /// the previous answer ran out of time: it is read by id (not started again). It asked for
    /// `asked` rows; `fp` is the parameters' fingerprint (given with other parameters, the
    /// cursor is a 400 naming `cursor`).
    Pending {
        /// [`crate::params::Params::fingerprint`] of the request that started the query.
        fp: String,
        /// Where the listing stands.
        at: Option<InsightsDesc>,
        /// The query's `limit`.
        asked: usize,
        /// Its range and id.
        query: insights::Part,
    },
    /// The rest of `at`'s second, which holds more rows than a query can skip and return, is
    /// being read through the local engine (FilterLogEvents, every row re-checked, ordered by
    /// [`Key`]): `local` is where that read stands, inside the second and not after `at.t`;
    /// the rows `at` names at its millisecond were listed by Insights and are left out (the
    /// tokens are dropped once the read is past that millisecond). `fp` as for `Pending`.
    Busy {
        /// [`crate::params::Params::fingerprint`] of the request that started the listing of the second.
        fp: String,
        /// Where the Insights read stood when the local engine took the second over.
        at: InsightsDesc,
        /// Where the local read of the second stands.
        local: LocalDesc,
    },
}

impl DescCursor {
    /// A [`DescCursor::Busy`] position is one the listing can be at: inside `at`'s second, not
    /// after `at`, a window of at least a millisecond (reads stay inside the second whatever
    /// its width), and `before` in the millisecond below `hi_ms` of the one group read.
    fn busy_valid(at: &InsightsDesc, local: &LocalDesc) -> bool {
        let start_ms = at.t.div_euclid(1000).saturating_mul(1000);
        start_ms < local.hi_ms
            && local.hi_ms <= at.t.saturating_add(1)
            && local.width_ms >= 1
            && local
                .before
                .as_ref()
                .is_none_or(|b| b.g == 0 && b.t.checked_add(1) == Some(local.hi_ms))
    }
}

/// Most queries one newest-first page runs (rows that fail the re-check may need another, and
/// a busy second read locally counts as one).
const MAX_DESC_QUERIES: usize = 5;

/// The newest `limit` rows of `at`'s second not yet handled (rows at or before `at.t`, less
/// those `at` names at `at.t`), read through the local engine from `local` (from `at` when
/// `None`): a second that holds more rows than one Logs Insights query returns. Like
/// `/v1/visits`, it reads that one second through FilterLogEvents with the same filter and
/// re-checks every row; rows come ordered by [`Key`] (millisecond, then event id, descending).
async fn newest_in_second(
    st: &AppState,
    c: &Common,
    filter: &RequestFilter,
    at: &InsightsDesc,
    local: Option<LocalDesc>,
    limit: usize,
) -> Result<(Vec<Found>, Option<LocalDesc>, bool), ApiError> {
    let s = at.t.div_euclid(1000);
    let mut second = c.clone();
    second.from = c.from.max(s.saturating_mul(1_000_000));
    second.to = c.to.min(s.saturating_add(1).saturating_mul(1_000_000));
    second.limit = limit;
    let local = local.unwrap_or_else(|| {
        let hi_ms = at.t.saturating_add(1).min(second.to_ms());
        LocalDesc {
            hi_ms,
            before: None,
            width_ms: hi_ms.saturating_sub(second.from_ms()).clamp(1, 1000),
        }
    });
    locally(st, &second, Source::Lb, filter, Some(local), Some(at)).await
}

/// Where a newest-first listing through Insights stands, from its cursor: the position, the
/// query still running (rows asked, range and id), the local read of a busy second. A cursor
/// made with other parameters, or at a position no answer to `c` gives, is a 400.
type Unpacked = (
    Option<InsightsDesc>,
    Option<(usize, insights::Part)>,
    Option<LocalDesc>,
);

fn unpack(cursor: Option<DescCursor>, fingerprint: &str, c: &Common) -> Result<Unpacked, ApiError> {
    let unpacked = match cursor {
        None => (None, None, None),
        Some(DescCursor::After(k)) => (Some(k), None, None),
        Some(DescCursor::Pending { fp, .. } | DescCursor::Busy { fp, .. }) if fp != fingerprint => {
            return Err(params::other_parameters());
        }
        Some(DescCursor::Pending {
            at, asked, query, ..
        }) => (at, Some((asked, query)), None),
        Some(DescCursor::Busy { at, local, .. }) => {
            if !DescCursor::busy_valid(&at, &local) {
                return Err(params::bad_cursor());
            }
            (Some(at), None, Some(local))
        }
    };
    if unpacked.0.as_ref().is_some_and(|k| !k.fits(c)) {
        return Err(params::bad_cursor());
    }
    Ok(unpacked)
}

/// The query of the next page, over the seconds `[start_s, end_s]`: the `pending` one of the
/// cursor (which must be over those seconds), or a new one asking for the `wanted` rows plus
/// those of `at`'s second to skip.
fn query_for(
    pending: Option<(usize, insights::Part)>,
    at: Option<&InsightsDesc>,
    wanted: usize,
    (start_s, end_s): (i64, i64),
) -> Result<(usize, insights::Part), ApiError> {
    match pending {
        Some((asked, q))
            if q.s == start_s
                && q.e == end_s
                && q.valid()
                && (1..=insights::MAX_ROWS).contains(&asked) =>
        {
            Ok((asked, q))
        }
        Some(_) => Err(params::bad_cursor()),
        None => {
            // Nothing to skip: as many rows as one query returns (a CSV export may want
            // more); else the rows to skip and the rows wanted, which fit (see `by_insights`).
            let skip = at.map_or(0, InsightsDesc::skip);
            let asked = if skip == 0 {
                wanted.min(insights::MAX_ROWS)
            } else {
                wanted.saturating_add(skip)
            };
            Ok((asked, insights::Part::new(start_s, end_s)))
        }
    }
}

/// Adds to `found` the rows of one query's answer that `at` has not handled yet and that pass
/// the re-check, newest first, moving `at` past each; `true` once `found` holds a page.
fn take_rows(
    rows: Vec<insights::Message>,
    at: &mut Option<InsightsDesc>,
    c: &Common,
    filter: &RequestFilter,
    formats: &[logdesk_core::nginx::LogFormat],
    found: &mut Vec<Found>,
) -> bool {
    let mut rows = rows;
    rows.sort_by_key(|r| std::cmp::Reverse(r.t_ms));
    let mut handled = at.as_ref().map(Handled::new);
    for insights::Message {
        t_ms: t,
        ptr,
        message,
    } in rows
    {
        let token = row_token(&message);
        if handled.as_mut().is_some_and(|h| h.take(t, &token)) {
            continue;
        }
        let event = LogEvent {
            timestamp: t,
            id: ptr.as_str().into(),
            message: message.into(),
        };
        if let Some((src, r)) = decode(&event, false, formats)
            && r.t >= c.from
            && r.t < c.to
            && filter.matches(&r)
        {
            found.push((format!("0:{ptr}"), src, r));
        }
        *at = Some(at.take().unwrap_or_default().advance(t, token));
        if found.len() >= c.limit {
            return true;
        }
    }
    false
}

/// Newest first through Logs Insights (`source=lb`): `fields @timestamp, @message, @ptr |
/// filter … | sort @timestamp desc | limit N`, rows re-checked here, continued by
/// [`InsightsDesc`] with no duplicates or gaps, even inside one millisecond. A query that runs
/// past the deadline is not stopped: the answer is `partial` with a [`DescCursor::Pending`].
///
/// A second where the rows already handled plus the rows wanted pass what one query returns
/// ([`insights::MAX_ROWS`]) cannot go on through Insights: the rest of it is read through the
/// local engine ([`newest_in_second`], continued by a [`DescCursor::Busy`]), then the listing
/// goes on through Insights with the seconds before it.
pub(crate) async fn by_insights(
    st: &AppState,
    client: &aws_sdk_cloudwatchlogs::Client,
    c: &Common,
    filter: &RequestFilter,
    cursor: Option<DescCursor>,
    fingerprint: &str,
) -> Result<(Vec<Found>, Option<DescCursor>, bool), ApiError> {
    let (at, pending, busy) = unpack(cursor, fingerprint, c)?;
    let mut read = DescRead {
        st,
        client,
        c,
        filter,
        fingerprint,
        deadline: st.limits().deadline,
        found: Vec::new(),
        at,
        pending,
        busy,
    };
    let (start_s, last_s) = c.seconds();
    for _ in 0..MAX_DESC_QUERIES {
        let end_s = read.at.as_ref().map_or(last_s, |k| k.t.div_euclid(1000));
        if end_s < start_s {
            return Ok((read.found, None, false));
        }
        let wanted = c.limit - read.found.len();
        let busy_now = read.at.as_ref().is_some_and(|k| read.too_busy(k, wanted));
        let step = match read.at.take_if(|_| busy_now) {
            Some(k) => read.busy_second(k, wanted).await?,
            None => read.query(wanted, (start_s, end_s)).await?,
        };
        if let Some((next, partial)) = step {
            return Ok((read.found, next, partial));
        }
    }
    Ok((read.found, read.at.map(DescCursor::After), false))
}

/// A newest-first read through Logs Insights under way ([`by_insights`]): what it was asked,
/// the rows found so far and where it stands.
struct DescRead<'a> {
    st: &'a AppState,
    client: &'a aws_sdk_cloudwatchlogs::Client,
    c: &'a Common,
    filter: &'a RequestFilter,
    fingerprint: &'a str,
    deadline: Instant,
    found: Vec<Found>,
    /// Where the listing stands (`None`: at the end of the range).
    at: Option<InsightsDesc>,
    /// A query from the cursor still to be read, with the rows it asked for.
    pending: Option<(usize, insights::Part)>,
    /// The local read of a busy second, from the cursor.
    busy: Option<LocalDesc>,
}

/// The end of one step of a [`DescRead`]: the cursor and partial flag of the answer, or
/// `None` to go on.
type Stop = Option<(Option<DescCursor>, bool)>;

impl DescRead<'_> {
    /// Whether the second at `k` goes on through the local engine: it does already, or the
    /// rows already handled in it plus those `wanted` pass what one query returns.
    fn too_busy(&self, k: &InsightsDesc, wanted: usize) -> bool {
        self.busy.is_some()
            || (self.pending.is_none()
                && k.skip() > 0
                && k.skip().saturating_add(wanted) > insights::MAX_ROWS)
    }

    /// The answer with the listing continued from where it stands.
    fn after(&mut self, partial: bool) -> Stop {
        Some((self.at.take().map(DescCursor::After), partial))
    }

    /// The rest of the busy second at `k` through the local engine ([`newest_in_second`]).
    async fn busy_second(&mut self, mut k: InsightsDesc, wanted: usize) -> Result<Stop, ApiError> {
        let (rows, next, partial) =
            newest_in_second(self.st, self.c, self.filter, &k, self.busy.take(), wanted).await?;
        self.found.extend(rows);
        if let Some(local) = next {
            // Past `k`'s millisecond its tokens are not needed any more.
            if local.hi_ms <= k.t {
                k.seen.clear();
            }
            let next = DescCursor::Busy {
                fp: self.fingerprint.to_owned(),
                at: k,
                local,
            };
            return Ok(Some((Some(next), partial)));
        }
        // The whole second is listed: on with the seconds before it.
        self.at = Some(k.before_second());
        if self.found.len() >= self.c.limit {
            return Ok(self.after(false));
        }
        if Instant::now() >= self.deadline {
            return Ok(self.after(true));
        }
        Ok(None)
    }

    /// One query for the newest rows of `[start_s, end_s]` not handled yet.
    async fn query(&mut self, wanted: usize, range_s: (i64, i64)) -> Result<Stop, ApiError> {
        let (asked, part) = query_for(self.pending.take(), self.at.as_ref(), wanted, range_s)?;
        let text = insights::newest_query(self.filter, asked)
            .map_err(|e| ApiError::bad(e.parameter, e.to_string()))?;
        let split = insights::Split::until(self.deadline).within(self.c.from_ms(), self.c.to_ms());
        let groups = [self.st.config.lb_group.clone()];
        let rows = match insights::run_part(self.client, &groups, part, &text, split).await? {
            insights::Ran::Complete { rows, .. } => rows,
            insights::Ran::Pending(query) => {
                // Still running: the rows shown so far, and the query to read next time.
                let next = DescCursor::Pending {
                    fp: self.fingerprint.to_owned(),
                    at: self.at.take(),
                    asked,
                    query,
                };
                return Ok(Some((Some(next), true)));
            }
        };
        // Fewer rows than asked: nothing older is left (counted before any row is dropped).
        let complete = rows.len() < asked;
        // Rows that are not what the query produces are an error, never dropped.
        let rows = insights::Message::read_all(rows).map_err(SourceError::from)?;
        let formats = &self.st.config.nginx_formats;
        if take_rows(
            rows,
            &mut self.at,
            self.c,
            self.filter,
            formats,
            &mut self.found,
        ) {
            return Ok(self.after(false));
        }
        if complete {
            return Ok(Some((None, false)));
        }
        if Instant::now() >= self.deadline {
            return Ok(self.after(true));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two rows with the same message in one millisecond, one of them listed: the other one is
    /// not taken for it, on the Insights path (a position) or the local one (the same `Handled`).
    #[test]
    fn identical_messages_in_one_millisecond_are_handled_once_each() {
        let (x, y) = (row_token("x"), row_token("y"));
        let at = InsightsDesc::default()
            .advance(5_001, y.clone())
            .advance(5_000, x.clone());
        assert_eq!(at.skip(), 2);
        let mut h = Handled::new(&at);
        assert!(h.take(5_001, &x), "a later millisecond of the second");
        assert!(h.take(5_000, &x), "the copy listed");
        assert!(!h.take(5_000, &x), "the other copy");
        assert!(!h.take(5_000, &y));
        assert!(!h.take(4_999, &x));
        // Listing the second copy names it twice.
        let at = at.advance(5_000, x.clone());
        let mut h = Handled::new(&at);
        assert!(h.take(5_000, &x) && h.take(5_000, &x));
        assert!(!h.take(5_000, &x));
        assert_eq!(
            at.before_second(),
            InsightsDesc {
                t: 4_999,
                seen: Vec::new(),
                newer: 0
            }
        );
    }
}
