//! PutLogEvents batches: pure logic, no I/O.
//!
//! A call takes at most [`MAX_BATCH_BYTES`] (message bytes plus [`EVENT_OVERHEAD`] per event)
//! and [`MAX_BATCH_EVENTS`] events, in time order, spanning at most [`MAX_SPAN_MS`]. The
//! [`Batcher`] keeps a bounded buffer (a few batches' worth), sorts it by time and cuts the
//! earliest full batch off its front, so calls are filled and memory stays flat. Events with the
//! same timestamp keep their input order, so the output is deterministic.

/// Maximum bytes in one PutLogEvents call (message bytes + 26 per event).
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Bytes CloudWatch counts for each event on top of its message.
pub const EVENT_OVERHEAD: usize = 26;
/// Maximum events in one call.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Maximum time between the first and last event of one call, in milliseconds.
pub const MAX_SPAN_MS: i64 = 24 * 60 * 60 * 1000;
/// Maximum message bytes of one event (so that it fits a call on its own).
pub const MAX_EVENT_BYTES: usize = MAX_BATCH_BYTES - EVENT_OVERHEAD;

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The message (a record's JSON), at most [`MAX_EVENT_BYTES`] bytes.
    pub message: String,
}

impl Event {
    /// The bytes this event counts for in a call.
    pub fn cost(&self) -> usize {
        self.message.len() + EVENT_OVERHEAD
    }
}

/// Collects events and hands out full batches.
#[derive(Debug)]
pub struct Batcher {
    buffer: Vec<Event>,
    bytes: usize,
    sorted: bool,
    limit_bytes: usize,
    limit_events: usize,
}

impl Default for Batcher {
    fn default() -> Self {
        Batcher::new(3)
    }
}

impl Batcher {
    /// A batcher that holds up to `batches` calls' worth of events before emitting the
    /// earliest (at least 2, so that a batch is only cut when it can be filled).
    pub fn new(batches: usize) -> Batcher {
        let batches = batches.max(2);
        Batcher {
            buffer: Vec::new(),
            bytes: 0,
            sorted: true,
            limit_bytes: batches * MAX_BATCH_BYTES,
            limit_events: batches * MAX_BATCH_EVENTS,
        }
    }

    /// Adds an event. Its message must be at most [`MAX_EVENT_BYTES`] long (see
    /// [`crate::encode`]); a longer one is cut here as a last resort.
    pub fn push(&mut self, mut event: Event) {
        if event.message.len() > MAX_EVENT_BYTES {
            let mut end = MAX_EVENT_BYTES;
            while !event.message.is_char_boundary(end) {
                end -= 1;
            }
            event.message.truncate(end);
        }
        if let Some(last) = self.buffer.last()
            && last.timestamp > event.timestamp
        {
            self.sorted = false;
        }
        self.bytes += event.cost();
        self.buffer.push(event);
    }

    /// Events buffered.
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// The earliest full batch, once the buffer holds enough to fill one for sure.
    pub fn pop_ready(&mut self) -> Option<Vec<Event>> {
        if self.bytes >= self.limit_bytes || self.buffer.len() >= self.limit_events {
            self.pop_front_batch()
        } else {
            None
        }
    }

    /// The earliest batch of whatever is left (call until it returns `None` at the end).
    pub fn pop_any(&mut self) -> Option<Vec<Event>> {
        self.pop_front_batch()
    }

    fn pop_front_batch(&mut self) -> Option<Vec<Event>> {
        if self.buffer.is_empty() {
            return None;
        }
        if !self.sorted {
            // Stable: equal timestamps keep their arrival order.
            self.buffer.sort_by_key(|e| e.timestamp);
            self.sorted = true;
        }
        let first = self.buffer[0].timestamp;
        let mut bytes = 0;
        let mut n = 0;
        for e in &self.buffer {
            if n == MAX_BATCH_EVENTS
                || bytes + e.cost() > MAX_BATCH_BYTES
                || e.timestamp - first > MAX_SPAN_MS
            {
                break;
            }
            bytes += e.cost();
            n += 1;
        }
        self.bytes -= bytes;
        Some(self.buffer.drain(..n).collect())
    }
}

/// Whether `batch` obeys every PutLogEvents limit (used by tests and debug assertions).
pub fn within_limits(batch: &[Event]) -> bool {
    let bytes: usize = batch.iter().map(Event::cost).sum();
    let ordered = batch.windows(2).all(|w| w[0].timestamp <= w[1].timestamp);
    let span = match (batch.first(), batch.last()) {
        (Some(a), Some(b)) => b.timestamp - a.timestamp,
        _ => 0,
    };
    !batch.is_empty()
        && batch.len() <= MAX_BATCH_EVENTS
        && bytes <= MAX_BATCH_BYTES
        && ordered
        && span <= MAX_SPAN_MS
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(timestamp: i64, len: usize) -> Event {
        Event {
            timestamp,
            message: "x".repeat(len),
        }
    }

    fn run(events: Vec<Event>) -> Vec<Vec<Event>> {
        let mut b = Batcher::default();
        let mut out = Vec::new();
        for e in events {
            b.push(e);
            while let Some(batch) = b.pop_ready() {
                out.push(batch);
            }
        }
        while let Some(batch) = b.pop_any() {
            out.push(batch);
        }
        out
    }

    #[test]
    fn batching_table() {
        struct Case {
            name: &'static str,
            events: Vec<Event>,
            sizes: Vec<usize>,
        }
        let day = MAX_SPAN_MS;
        let cases = vec![
            Case {
                name: "empty_input_no_batches",
                events: vec![],
                sizes: vec![],
            },
            Case {
                name: "one_event",
                events: vec![event(1, 10)],
                sizes: vec![1],
            },
            Case {
                name: "count_limit_splits_small_events",
                events: (0..25_000).map(|i| event(i, 10)).collect(),
                sizes: vec![10_000, 10_000, 5_000],
            },
            Case {
                // 1,048,576 / (1000 + 26) = 1022.0… → 1022 per call.
                name: "byte_limit_counts_26_per_event",
                events: (0..3000).map(|i| event(i, 1000)).collect(),
                sizes: vec![1022, 1022, 956],
            },
            Case {
                name: "exactly_full_batch",
                events: vec![event(0, MAX_EVENT_BYTES), event(1, 0)],
                sizes: vec![1, 1],
            },
            Case {
                name: "span_over_24h_splits",
                events: vec![event(0, 1), event(day, 1), event(day + 1, 1)],
                sizes: vec![2, 1],
            },
            Case {
                name: "unordered_input_sorted_in_batch",
                events: vec![event(5, 1), event(1, 1), event(3, 1)],
                sizes: vec![3],
            },
        ];
        for case in cases {
            let batches = run(case.events);
            let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
            assert_eq!(sizes, case.sizes, "{}", case.name);
            assert!(batches.iter().all(|b| within_limits(b)), "{}", case.name);
        }
    }

    #[test]
    fn equal_timestamps_keep_input_order() {
        let events: Vec<Event> = (0..100)
            .map(|i| Event {
                timestamp: 7 - (i % 2),
                message: i.to_string(),
            })
            .collect();
        let batches = run(events);
        let got: Vec<&str> = batches[0].iter().map(|e| e.message.as_str()).collect();
        let mut want: Vec<String> = (0..100)
            .filter(|i| i % 2 == 1)
            .map(|i| i.to_string())
            .collect();
        want.extend((0..100).filter(|i| i % 2 == 0).map(|i| i.to_string()));
        assert_eq!(got, want);
    }

    #[test]
    fn typical_alb_volume_is_well_filled() {
        // 10,000 lines of ~700 bytes: 7.2 MB → ceil = 7 calls, at most 1.1× that.
        let events: Vec<Event> = (0..10_000)
            .map(|i| event(i * 30, 700 + (i % 50) as usize))
            .collect();
        let total: usize = events.iter().map(Event::cost).sum();
        let batches = run(events);
        let ideal = total.div_ceil(MAX_BATCH_BYTES);
        assert!(
            batches.len() as f64 <= 1.1 * ideal as f64,
            "{} vs {ideal}",
            batches.len()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_batch_within_limits_nothing_lost(
            spec in prop::collection::vec((0i64..3 * MAX_SPAN_MS, 0usize..200_000), 0..300)
        ) {
            let events: Vec<Event> = spec
                .iter()
                .enumerate()
                .map(|(i, (t, len))| Event { timestamp: *t, message: format!("{i:06}{}", "y".repeat(*len)) })
                .collect();
            let total: usize = events.iter().map(Event::cost).sum();
            let batches = run(events.clone());
            prop_assert!(batches.iter().all(|b| within_limits(b)));
            // Nothing lost, nothing duplicated.
            let mut got: Vec<String> = batches.iter().flatten().map(|e| e.message.clone()).collect();
            let mut want: Vec<String> = events.iter().map(|e| e.message.clone()).collect();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want);
            // Filled: when the span limit never interferes, calls stay near the byte minimum.
            let span = spec.iter().map(|s| s.0).max().unwrap_or(0) - spec.iter().map(|s| s.0).min().unwrap_or(0);
            if span <= MAX_SPAN_MS && total > 0 {
                let ideal = total.div_ceil(MAX_BATCH_BYTES);
                // Events up to 200 KB waste at most ~20% of a call each.
                prop_assert!(batches.len() <= ideal + ideal / 4 + 1, "{} vs {}", batches.len(), ideal);
            }
        }
    }
}
