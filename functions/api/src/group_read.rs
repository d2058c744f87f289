//! Reading log groups page by page, oldest first, with a stable position key for cursors.
//!
//! Every row has a [`Key`]: the event's millisecond, the log group's index in the request and
//! the event id. Rows are returned in key order and a cursor is the last key returned, so the
//! next page starts right after it — no duplicates, no gaps — however the pages of the source
//! fell. A group read stops when it has enough rows (after finishing the millisecond it was in,
//! so no event of that millisecond is left unseen), when it has read the most events allowed,
//! or when the time budget runs out (then the response is `partial`).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::source::{FetchRequest, LogEvent, LogSource, SourceError};

/// Position of a row: (event ms, group index, event id), ordered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// Event timestamp, ms.
    pub t: i64,
    /// Index of the log group in the request.
    pub g: u8,
    /// Event id ("" sorts before every event of the millisecond).
    pub id: String,
}

impl Key {
    /// Whether this is a position an answer over `groups` groups that ends at `end_ms` can
    /// give (a cursor's key is checked before it is read from).
    pub fn fits(&self, end_ms: i64, groups: usize) -> bool {
        usize::from(self.g) < groups && self.t <= end_ms
    }
}

/// Limits of one read.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Stop reading (partial) after this instant.
    pub deadline: Instant,
    /// Stop reading (partial) after this many events.
    pub max_events: usize,
}

/// What one group read produced.
#[derive(Debug)]
pub struct GroupRows<T> {
    /// Rows in key order.
    pub rows: Vec<(Key, T)>,
    /// Every event up to this key was examined; `None` when the whole range was.
    pub frontier: Option<Key>,
    /// The read stopped on the budget or the event cap, not because it had enough rows.
    pub cut: bool,
    /// Events examined.
    pub events: usize,
}

/// Reads `req` from `source` as group `g`, keeping rows after `after` that `keep` turns into
/// values, until `want` rows (all when `None`), the end of the range, or a limit.
pub async fn read_group<T>(
    source: &dyn LogSource,
    mut req: FetchRequest,
    g: u8,
    after: Option<&Key>,
    want: Option<usize>,
    limits: Limits,
    mut keep: impl FnMut(&LogEvent) -> Option<T>,
) -> Result<GroupRows<T>, SourceError> {
    if let Some(a) = after {
        req.start_ms = req.start_ms.max(a.t);
    }
    let mut read = Progress {
        g,
        after,
        want,
        rows: Vec::new(),
        events: 0,
        stop_at: None,
        last_seen: None,
    };
    let mut end = Ending::default();
    loop {
        if req.start_ms >= req.end_ms {
            end.exhausted = true;
            break;
        }
        let page = match source.fetch(&req).await {
            Ok(page) => page,
            // Throttled until the retries or the time ran out: answer what there is.
            Err(SourceError::Throttled { .. }) => {
                end.throttled = true;
                end.cut = true;
                break;
            }
            Err(e) => return Err(e),
        };
        let finished = read.take(page.events, &mut keep);
        match page.next {
            Some(next) if !finished => req.next = Some(next),
            Some(_) => {}
            // The last page, read to its end: nothing is left after it.
            None => end.exhausted = !finished,
        }
        if finished || end.exhausted {
            break;
        }
        if read.events >= limits.max_events || Instant::now() >= limits.deadline {
            end.cut = read.stop_at.is_none();
            break;
        }
    }
    Ok(read.finish(end, req.start_ms))
}

/// How a group read ended.
#[derive(Debug, Default, Clone, Copy)]
struct Ending {
    /// Stopped on the budget, the event cap or throttling, not because it had enough rows.
    cut: bool,
    /// The range was read to its end.
    exhausted: bool,
    /// The source kept throttling.
    throttled: bool,
}

/// What a group read has gathered so far.
struct Progress<'a, T> {
    /// The group's index in the request.
    g: u8,
    /// The cursor the read continues from.
    after: Option<&'a Key>,
    /// Rows wanted (all when `None`).
    want: Option<usize>,
    /// Rows kept, in the order read.
    rows: Vec<(Key, T)>,
    /// Events examined.
    events: usize,
    /// Once `want` rows are in: the millisecond to finish before stopping.
    stop_at: Option<i64>,
    /// The latest millisecond examined.
    last_seen: Option<i64>,
}

impl<T> Progress<'_, T> {
    /// Examines a page's events in key order, keeping what `keep` turns into values; `true`
    /// when an event after `stop_at`'s millisecond showed that the read has enough.
    fn take(
        &mut self,
        mut events: Vec<LogEvent>,
        keep: &mut impl FnMut(&LogEvent) -> Option<T>,
    ) -> bool {
        events.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
        for e in &events {
            if self.stop_at.is_some_and(|s| e.timestamp > s) {
                return true;
            }
            self.events += 1;
            self.last_seen = Some(self.last_seen.map_or(e.timestamp, |l| l.max(e.timestamp)));
            let g = self.g;
            if self
                .after
                .is_some_and(|a| (e.timestamp, g, &*e.id) <= (a.t, a.g, a.id.as_str()))
            {
                continue;
            }
            if let Some(v) = keep(e) {
                let key = Key {
                    t: e.timestamp,
                    g,
                    id: e.id.to_string(),
                };
                self.rows.push((key, v));
                if self.stop_at.is_none() && self.want.is_some_and(|w| self.rows.len() >= w) {
                    self.stop_at = Some(e.timestamp);
                }
            }
        }
        false
    }

    /// The rows in key order with the frontier: after `want` rows, the last of them; after a
    /// cut, the start of the last millisecond seen (`start_ms` when none was).
    fn finish(self, end: Ending, start_ms: i64) -> GroupRows<T> {
        let Progress {
            g,
            after,
            want,
            mut rows,
            events,
            stop_at,
            last_seen,
        } = self;
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let frontier = if let (Some(w), Some(_), false) = (want, stop_at, end.throttled) {
            if end.exhausted && rows.len() <= w {
                None
            } else {
                rows.truncate(w);
                rows.last().map(|r| r.0.clone())
            }
        } else if end.cut {
            // Events of the last millisecond seen may continue on the next page: only what
            // came strictly before it is known complete.
            let t = last_seen.unwrap_or(start_ms);
            rows.retain(|r| r.0.t < t);
            let known = Key {
                t,
                g,
                id: String::new(),
            };
            // Never behind the cursor this read started from: that much was answered before.
            Some(match after {
                Some(a) if *a > known => a.clone(),
                _ => known,
            })
        } else {
            None
        };
        GroupRows {
            rows,
            frontier,
            cut: end.cut,
            events,
        }
    }
}

/// Where a read of `[start, end)` (µs) is complete: `end` when the read was not `cut`, else
/// the start of its `frontier`'s millisecond (everything before it was examined), kept within
/// the range. Events read at or after that point are to be dropped from an exact answer.
pub fn covered(start: i64, end: i64, cut: bool, frontier: Option<&Key>) -> i64 {
    if !cut {
        return end;
    }
    frontier
        .map(|k| k.t.saturating_mul(1000).clamp(start, end))
        .unwrap_or(start)
}

/// A merged page of rows from several groups.
#[derive(Debug)]
pub struct Merged<T> {
    /// Up to `limit` rows in key order.
    pub rows: Vec<(Key, T)>,
    /// Where the next page starts, when there may be more.
    pub next: Option<Key>,
    /// Some group stopped on the budget or the event cap.
    pub partial: bool,
}

/// Merges group reads into one page of `limit` rows with a cursor that loses nothing.
pub fn merge<T>(groups: Vec<GroupRows<T>>, limit: usize) -> Merged<T> {
    let frontier = groups.iter().filter_map(|g| g.frontier.clone()).min();
    let partial = groups.iter().any(|g| g.cut);
    let mut rows: Vec<(Key, T)> = groups.into_iter().flat_map(|g| g.rows).collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let total = rows.len();
    if let Some(f) = &frontier {
        rows.retain(|r| &r.0 <= f);
    }
    let dropped = rows.len() < total;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| r.0.clone())
    } else if rows.len() == limit && (frontier.is_some() || dropped) {
        rows.last().map(|r| r.0.clone())
    } else {
        frontier
    };
    Merged {
        rows,
        next,
        partial,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;
    use std::time::Duration;

    fn limits() -> Limits {
        Limits {
            deadline: Instant::now() + Duration::from_secs(10),
            max_events: 1_000_000,
        }
    }

    fn req(group: &str) -> FetchRequest {
        FetchRequest {
            group: group.to_owned(),
            start_ms: 0,
            end_ms: 1_000,
            pattern: None,
            next: None,
        }
    }

    /// Pages through two groups whose events share milliseconds, with tiny source pages, and
    /// checks every event comes out exactly once in key order.
    #[tokio::test]
    async fn pages_have_no_duplicates_or_gaps() {
        let mut src = MemorySource::new(3);
        for i in 0..40 {
            src.push("a", (i / 4) as i64, format!("a{i}"));
            src.push("b", (i / 3) as i64, format!("b{i}"));
        }
        for limit in [1, 2, 5, 7] {
            let mut cursor: Option<Key> = None;
            let mut seen = Vec::new();
            for _ in 0..200 {
                let mut groups = Vec::new();
                for (g, name) in ["a", "b"].iter().enumerate() {
                    groups.push(
                        read_group(
                            &src,
                            req(name),
                            g as u8,
                            cursor.as_ref(),
                            Some(limit),
                            limits(),
                            |e| Some(e.message.to_string()),
                        )
                        .await
                        .unwrap(),
                    );
                }
                let m = merge(groups, limit);
                assert!(m.rows.len() <= limit);
                seen.extend(m.rows.into_iter().map(|r| r.1));
                match m.next {
                    Some(k) => cursor = Some(k),
                    None => break,
                }
            }
            let mut want: Vec<String> = (0..40)
                .flat_map(|i| [format!("a{i}"), format!("b{i}")])
                .collect();
            let mut got = seen.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want, "limit {limit}");
        }
    }

    #[tokio::test]
    async fn a_spent_budget_gives_a_partial_page_with_a_cursor() {
        let mut src = MemorySource::new(2);
        for i in 0..10 {
            src.push("a", i, format!("a{i}"));
        }
        let spent = Limits {
            deadline: Instant::now(),
            max_events: 1_000_000,
        };
        let g = read_group(&src, req("a"), 0, None, Some(100), spent, |e| {
            Some(e.message.to_string())
        })
        .await
        .unwrap();
        let m = merge(vec![g], 100);
        assert!(m.partial);
        assert_eq!(
            m.rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
            ["a0"]
        );
        let next = m.next.unwrap();
        let g = read_group(&src, req("a"), 0, Some(&next), Some(100), limits(), |e| {
            Some(e.message.to_string())
        })
        .await
        .unwrap();
        let m = merge(vec![g], 100);
        assert!(!m.partial);
        assert_eq!(m.rows.len(), 9);
        assert_eq!(m.next, None);
    }
}
