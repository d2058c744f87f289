//! One table per ELB log format that the tokenizer (`elb_fields.rs`) reads: the ALB access log
//! (`alb.rs`), the ALB connection log (`alb_connection.rs`) and the Classic ELB log (`clb.rs`).
//!
//! A format is declared once, as rows of [`elb_format!`]: the entry member, its type, its kind
//! (how the field is read, written to JSON and into the record), its index in the line, its
//! documented name, the keys a natively delivered JSON record may carry it under, and the
//! record keys and members it fills. From those rows come the entry struct, the table of field
//! names for errors, the reading of a split line (the record path), the record's members, the
//! native field table and, for ALB, both JSON writers (`alb.rs`'s `alb_json!`). Adding a field
//! is adding a row (and the record member in `record.rs` with its serde name, which a test
//! holds to the row's key).
//!
//! The kinds are the functions of [`read`], [`plain`], [`member`] and [`record`] of the same
//! name; a row names its kind and the macro calls the function of that name in each.

use std::borrow::Cow;

use crate::alb::{Endpoint, Request};
use crate::elb_fields::{Field, Fields};
use crate::error::ParseError;

/// One field of a line as a native record carries it: its documented name, the keys a native
/// record may carry it under (first the one the delivery's field list implies), and whether
/// the S3 line quotes it.
pub(crate) type FieldSpec = (&'static str, &'static [&'static str], bool);

/// `rows` (in their table's order) placed at their `index` in the line.
pub(crate) const fn by_index<const N: usize>(
    rows: [FieldSpec; N],
    index: [usize; N],
) -> [FieldSpec; N] {
    let mut out = rows;
    let mut i = 0;
    while i < N {
        out[index[i]] = rows[i];
        i += 1;
    }
    out
}

/// The documented names of `specs`, in order.
pub(crate) const fn names<const N: usize>(specs: &[FieldSpec; N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = specs[i].0;
        i += 1;
    }
    out
}

/// The first problem of a line in line order: a line that ends before field `required` or
/// leaves a quote open is reported at the field where it stops, after any invalid value
/// before it (what a field-by-field reader reports).
pub(crate) struct FirstError(Option<(usize, ParseError)>);

impl FirstError {
    /// Starts with the line's shape: `Missing`/`Unterminated` at the field it stops at.
    pub(crate) fn new<const N: usize>(fields: &Fields<'_, N>, required: usize) -> FirstError {
        let at = fields.found;
        let shape = (fields.unterminated || at < required).then(|| {
            let e = fields.required(at).err();
            (at, e.unwrap_or(ParseError::Empty))
        });
        FirstError(shape)
    }

    /// Keeps `e` (of field `index`) if it comes before the one kept.
    #[cold]
    pub(crate) fn keep(&mut self, index: usize, e: ParseError) {
        if self.0.as_ref().is_none_or(|(at, _)| index < *at) {
            self.0 = Some((index, e));
        }
    }

    /// The first problem, if any.
    pub(crate) fn into_result(self) -> Result<(), ParseError> {
        self.0.map_or(Ok(()), |(_, e)| Err(e))
    }
}

/// Field `i` of a split line, or an empty field (read as absent) past the line's end.
#[inline(always)]
pub(crate) fn field<'a, const N: usize>(fields: &Fields<'a, N>, i: usize) -> Field<'a> {
    match fields.fields.get(i) {
        Some(f) if i < fields.found => *f,
        _ => Field::EMPTY,
    }
}

/// Reading a field into the entry (the record path): quoted text is decoded.
#[allow(clippy::unnecessary_wraps)] // one signature for every kind
pub(crate) mod read {
    use super::*;

    /// Required text as written (`type`, `elb`).
    #[inline(always)]
    pub(crate) fn text<'a>(f: Field<'a>, _: &'static str) -> Result<&'a str, ParseError> {
        Ok(f.text)
    }

    /// An unquoted value, absent as `-`.
    #[inline(always)]
    pub(crate) fn word<'a>(f: Field<'a>, _: &'static str) -> Result<Option<&'a str>, ParseError> {
        Ok(f.value())
    }

    /// A quoted value, decoded, absent as `-`.
    #[inline(always)]
    pub(crate) fn string<'a>(
        f: Field<'a>,
        _: &'static str,
    ) -> Result<Option<Cow<'a, str>>, ParseError> {
        Ok(f.string())
    }

    /// A required ISO 8601 time, µs.
    #[inline(always)]
    pub(crate) fn time(f: Field<'_>, name: &'static str) -> Result<i64, ParseError> {
        f.time(name)
    }

    /// An ISO 8601 time, µs, absent as `-`.
    #[inline(always)]
    pub(crate) fn opt_time(f: Field<'_>, name: &'static str) -> Result<Option<i64>, ParseError> {
        match f.value() {
            Some(_) => f.time(name).map(Some),
            None => Ok(None),
        }
    }

    /// Seconds; `-1` and `-` are absent.
    #[inline(always)]
    pub(crate) fn seconds(f: Field<'_>, name: &'static str) -> Result<Option<f64>, ParseError> {
        f.seconds(name)
    }

    /// An HTTP status code.
    #[inline(always)]
    pub(crate) fn status(f: Field<'_>, name: &'static str) -> Result<Option<u16>, ParseError> {
        f.status(name)
    }

    /// A port number.
    #[inline(always)]
    pub(crate) fn port(f: Field<'_>, name: &'static str) -> Result<Option<u16>, ParseError> {
        f.number(name)
    }

    /// A byte count.
    #[inline(always)]
    pub(crate) fn count(f: Field<'_>, name: &'static str) -> Result<Option<u64>, ParseError> {
        f.count(name)
    }

    /// A signed integer.
    #[inline(always)]
    pub(crate) fn integer(f: Field<'_>, name: &'static str) -> Result<Option<i32>, ParseError> {
        f.integer(name)
    }

    /// An `ip:port`.
    #[inline(always)]
    pub(crate) fn endpoint<'a>(
        f: Field<'a>,
        name: &'static str,
    ) -> Result<Option<Endpoint<'a>>, ParseError> {
        f.endpoint(name)
    }

    /// A request line, split.
    #[inline(always)]
    pub(crate) fn request<'a>(f: Field<'a>, _: &'static str) -> Result<Request<'a>, ParseError> {
        Ok(Request::split_with(f.text, f.quoted))
    }
}

/// Reading a field of a line with nothing to escape or decode (the JSON fast path): as
/// [`read`], but quoted text stays borrowed as it is, and `None` for any problem (the line is
/// then read the [`read`] way, which names it). Not `read(..).ok()`: a value moved out of a
/// `Result` whose error owns a string costs copies on every line.
pub(crate) mod plain {
    use super::*;

    #[inline(always)]
    pub(crate) fn text<'a>(f: Field<'a>, _: &'static str) -> Option<&'a str> {
        Some(f.text)
    }

    #[inline(always)]
    pub(crate) fn word<'a>(f: Field<'a>, _: &'static str) -> Option<Option<&'a str>> {
        Some(f.value())
    }

    pub(crate) use word as string;

    #[inline(always)]
    pub(crate) fn time(f: Field<'_>, name: &'static str) -> Option<i64> {
        f.time(name).ok()
    }

    #[inline(always)]
    pub(crate) fn opt_time(f: Field<'_>, name: &'static str) -> Option<Option<i64>> {
        match f.value() {
            Some(_) => f.time(name).ok().map(Some),
            None => Some(None),
        }
    }

    #[inline(always)]
    pub(crate) fn seconds(f: Field<'_>, name: &'static str) -> Option<Option<f64>> {
        f.seconds(name).ok()
    }

    #[inline(always)]
    pub(crate) fn status(f: Field<'_>, name: &'static str) -> Option<Option<u16>> {
        f.status(name).ok()
    }

    #[inline(always)]
    pub(crate) fn count(f: Field<'_>, name: &'static str) -> Option<Option<u64>> {
        f.count(name).ok()
    }

    #[inline(always)]
    pub(crate) fn integer(f: Field<'_>, name: &'static str) -> Option<Option<i32>> {
        f.integer(name).ok()
    }

    #[inline(always)]
    pub(crate) fn endpoint<'a>(f: Field<'a>, name: &'static str) -> Option<Option<Endpoint<'a>>> {
        f.endpoint(name).ok()
    }

    #[inline(always)]
    pub(crate) fn request<'a>(f: Field<'a>, _: &'static str) -> Option<Request<'a>> {
        Some(Request::split_with(f.text, false))
    }
}

/// Whether the S3 line quotes a field of each kind.
#[allow(non_upper_case_globals)] // named as the kinds are
pub(crate) mod quoted {
    pub(crate) const text: bool = false;
    pub(crate) const word: bool = false;
    pub(crate) const string: bool = true;
    pub(crate) const time: bool = false;
    pub(crate) const opt_time: bool = false;
    pub(crate) const seconds: bool = false;
    pub(crate) const status: bool = false;
    pub(crate) const port: bool = false;
    pub(crate) const count: bool = false;
    pub(crate) const integer: bool = false;
    pub(crate) const endpoint: bool = false;
    pub(crate) const request: bool = true;
}

/// A value as the record's members hold it: a tuple with one value per record key of the row.
pub(crate) mod record {
    use super::*;

    fn owned<S: AsRef<str>>(v: &Option<S>) -> Option<String> {
        v.as_ref().map(|s| s.as_ref().to_owned())
    }

    pub(crate) fn text<T: From<String>>(v: &&str) -> (T,) {
        (T::from((*v).to_owned()),)
    }

    pub(crate) fn word<S: AsRef<str>>(v: &Option<S>) -> (Option<String>,) {
        (owned(v),)
    }

    pub(crate) use word as string;

    pub(crate) fn time<T: From<i64>>(v: &i64) -> (T,) {
        (T::from(*v),)
    }

    pub(crate) fn opt_time(_: &Option<i64>) {}

    pub(crate) fn seconds(v: &Option<f64>) -> (Option<f64>,) {
        (*v,)
    }

    pub(crate) fn status(v: &Option<u16>) -> (Option<u16>,) {
        (*v,)
    }

    pub(crate) use status as port;

    pub(crate) fn count(v: &Option<u64>) -> (Option<u64>,) {
        (*v,)
    }

    pub(crate) fn integer(v: &Option<i32>) -> (Option<i32>,) {
        (*v,)
    }

    pub(crate) fn endpoint(v: &Option<Endpoint<'_>>) -> (Option<String>, Option<u16>) {
        (v.map(|e| e.ip.to_owned()), v.map(|e| e.port))
    }

    pub(crate) fn request(
        v: &Request<'_>,
    ) -> (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) {
        (
            v.method.map(str::to_owned),
            owned(&v.url),
            v.protocol.map(str::to_owned),
            owned(&v.raw),
        )
    }
}

/// Writing a field's JSON members: `keys` are the row's keys as `(",\"k\":", ",\"k\":\"")`.
pub(crate) mod member {
    use super::*;
    use crate::record::ArnPrefix;
    use crate::record_json::JsonObject;

    /// A key, before a number and before a string.
    pub(crate) type Key = (&'static str, &'static str);

    #[inline(always)]
    pub(crate) fn text(o: &mut JsonObject<'_>, [k]: [Key; 1], v: &&str) {
        o.str(k.1, Some(v));
    }

    #[inline(always)]
    pub(crate) fn word<S: AsRef<str>>(o: &mut JsonObject<'_>, [k]: [Key; 1], v: &Option<S>) {
        o.str(k.1, v.as_ref().map(AsRef::as_ref));
    }

    pub(crate) use word as string;

    /// A value written without its ARN prefix ([`ArnPrefix::compact`]).
    #[inline(always)]
    pub(crate) fn arn<S: AsRef<str>>(
        o: &mut JsonObject<'_>,
        [k]: [Key; 1],
        v: &Option<S>,
        prefix: &ArnPrefix,
    ) {
        o.str(k.1, v.as_ref().map(|a| prefix.compact(a.as_ref())));
    }

    #[inline(always)]
    pub(crate) fn time(o: &mut JsonObject<'_>, [k]: [Key; 1], v: &i64) {
        o.int(k.0, *v);
    }

    /// No key of its own (ALB's `request_creation_time` is the record's `t`).
    #[inline(always)]
    pub(crate) fn opt_time(_: &mut JsonObject<'_>, []: [Key; 0], _: &Option<i64>) {}

    #[inline(always)]
    pub(crate) fn seconds(o: &mut JsonObject<'_>, [k]: [Key; 1], v: &Option<f64>) {
        o.float(k.0, *v);
    }

    #[inline(always)]
    pub(crate) fn status(o: &mut JsonObject<'_>, [k]: [Key; 1], v: &Option<u16>) {
        o.opt_int(k.0, *v);
    }

    #[inline(always)]
    pub(crate) fn count(o: &mut JsonObject<'_>, [k]: [Key; 1], v: &Option<u64>) {
        o.uint(k.0, *v);
    }

    #[inline(always)]
    pub(crate) fn integer(o: &mut JsonObject<'_>, [k]: [Key; 1], v: &Option<i32>) {
        o.opt_int(k.0, *v);
    }

    #[inline(always)]
    pub(crate) fn endpoint(o: &mut JsonObject<'_>, [ip, port]: [Key; 2], v: &Option<Endpoint<'_>>) {
        o.str(ip.1, v.map(|e| e.ip));
        o.opt_int(port.0, v.map(|e| e.port));
    }

    #[inline(always)]
    pub(crate) fn request(o: &mut JsonObject<'_>, [m, u, p, r]: [Key; 4], v: &Request<'_>) {
        o.str(m.1, v.method);
        o.str(u.1, v.url.as_deref());
        o.str(p.1, v.protocol);
        o.str(r.1, v.raw.as_deref());
    }
}

/// The native keys of a row: those it lists, else its documented name.
macro_rules! native_keys {
    ($name:literal) => {
        &[$name]
    };
    ($name:literal, $($native:literal),+) => {
        &[$($native),+]
    };
}

/// Fills the record members of one row.
macro_rules! record_members {
    ($r:ident, $kind:ident, $v:expr, [$($rec:ident),*]) => {
        ($($r.$rec,)*) = $crate::elb_format::record::$kind(&$v);
    };
    ($r:ident, $kind:ident, $v:expr, [$($rec:ident),*], via $view:ident($($arg:expr),*)) => {
        ($($r.$rec,)*) = ($view($v.as_deref(), $($arg),*).map(str::to_owned),);
    };
}

/// Declares an ELB log format from its table of fields (see the module documentation):
///
/// ```text
/// pub struct Entry<'a> for RecordType in Record::Variant, required N, record_time f(a, b) {
///     /// doc of the member
///     member: Type = kind(index, "documented name", "native key"…)
///         [as ARN_PREFIX] [via view(other_member…)] => ["json key" record_member, …],
/// }
/// ```
///
/// Fields before `required` must be on every line; a line may end anywhere after. `as` writes
/// the value without that ARN prefix; `via view(…)` passes the value (and the named members)
/// through `view` before it is written (JSON and record). Generates the struct (members in
/// row order, then `extra`), `FIELDS` (the native table, in line order), `FIELD_NAMES`,
/// `entry_from`, `parse_line`, `parse_record` and the entry's `to_record`.
macro_rules! elb_format {
    (
        $(#[$meta:meta])*
        pub struct $entry:ident<$lt:lifetime> for $record:ident in Record::$variant:ident,
            required $required:literal
            $(, record_time $t_fn:ident($($t_arg:ident),*))? {
            $(
                $(#[doc = $doc:literal])*
                $member:ident: $ty:ty = $kind:ident($index:literal, $name:literal $(, $native:literal)*)
                    $(as $arn:ident)? $(via $view:ident($($arg:ident),*))?
                    => [$($key:literal $rec:ident),*],
            )*
        }
    ) => {
        $(#[$meta])*
        pub struct $entry<$lt> {
            $( $(#[doc = $doc])* pub $member: $ty, )*
            /// Fields after the defined ones, in order, decoded but otherwise as written (`-`
            /// stays `-`).
            pub extra: Vec<std::borrow::Cow<$lt, str>>,
        }

        /// Every record key the table maps, in row order.
        #[cfg(test)]
        const RECORD_KEYS: &[&str] = &[$($($key,)*)*];

        /// How many fields the format defines.
        const FIELD_COUNT: usize = [$($index),*].len();

        /// The defined fields in line order, with their native keys and quoting.
        pub(crate) const FIELDS: [$crate::elb_format::FieldSpec; FIELD_COUNT] =
            $crate::elb_format::by_index(
                [$(($name, native_keys!($name $(, $native)*), $crate::elb_format::quoted::$kind)),*],
                [$($index),*],
            );

        /// The defined fields' names in line order, for errors.
        const FIELD_NAMES: [&str; FIELD_COUNT] = $crate::elb_format::names(&FIELDS);

        /// The entry of a line whose fields are split (`extra`: what followed the defined
        /// ones). Fields are read in the table's order; the error is the first in line order.
        #[inline(always)]
        fn entry_from<$lt>(
            fields: &$crate::elb_fields::Fields<$lt, FIELD_COUNT>,
            extra: $crate::elb_fields::Extra<$lt>,
        ) -> Result<$entry<$lt>, $crate::error::ParseError> {
            let mut first = $crate::elb_format::FirstError::new(fields, $required);
            $(
                let field = $crate::elb_format::field(fields, $index);
                let $member = match $crate::elb_format::read::$kind(field, $name) {
                    Ok(value) => value,
                    Err(e) => {
                        first.keep($index, e);
                        Default::default()
                    }
                };
            )*
            first.into_result()?;
            let extra = extra?
                .into_iter()
                .map($crate::elb_fields::Field::decoded)
                .collect();
            Ok($entry { $($member,)* extra })
        }

        /// Parses one line (a trailing `\r\n` or `\n` is ignored).
        pub fn parse_line(line: &str) -> Result<$entry<'_>, $crate::error::ParseError> {
            parse(line)
        }

        /// Parses one line into its [`Record`].
        pub fn parse_record(line: &str) -> Result<Record, $crate::error::ParseError> {
            parse(line).map(|entry| Record::$variant(entry.record()))
        }

        /// Splits and reads one line.
        #[inline(always)]
        fn parse(line: &str) -> Result<$entry<'_>, $crate::error::ParseError> {
            let mut fields = $crate::elb_fields::Fields::new(&FIELD_NAMES);
            let mut tokens = $crate::elb_fields::Tokens::new(line);
            let extra = $crate::elb_fields::split(&mut tokens, &mut fields)?;
            entry_from(&fields, extra)
        }

        impl $entry<'_> {
            /// The record written for this line.
            pub fn to_record(&self) -> $record {
                self.record()
            }

            /// The record of this entry: the members the table maps, `extra`, `v` and `t`.
            fn record(&self) -> $record {
                let mut r = $record {
                    v: $crate::record::SCHEMA_VERSION,
                    ..$record::default()
                };
                $(
                    record_members!(r, $kind, self.$member, [$($rec),*]
                        $(, via $view($(self.$arg),*))?);
                )*
                $( r.t = $t_fn($(self.$t_arg),*); )?
                r.extra = self.extra.iter().map(|x| x.to_string()).collect();
                r
            }
        }
    };
}

pub(crate) use elb_format;
pub(crate) use native_keys;
pub(crate) use record_members;

/// Asserts that the keys of the record JSON objects `json` are, together, `k`, `v`, `t`, `x`
/// and `keys` (a table's record keys): serde's names are the table's.
#[cfg(test)]
pub(crate) fn assert_record_keys(json: &[String], keys: &[&str]) {
    use std::collections::BTreeSet;
    let seen: BTreeSet<String> = json
        .iter()
        .flat_map(|j| {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(j).unwrap();
            object.keys().cloned().collect::<Vec<_>>()
        })
        .collect();
    let want: BTreeSet<String> = ["k", "v", "t", "x"]
        .iter()
        .chain(keys)
        .map(|k| (*k).to_owned())
        .collect();
    assert_eq!(seen, want);
    assert_eq!(
        keys.iter().collect::<BTreeSet<_>>().len(),
        keys.len(),
        "a key twice: {keys:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each table places one row at each index of the line.
    #[test]
    fn every_index_has_one_row() {
        fn check<const N: usize>(specs: &[FieldSpec; N]) {
            for (i, (name, native, _)) in specs.iter().enumerate() {
                assert!(!name.is_empty() && !native.is_empty(), "{i}");
                assert_eq!(specs.iter().filter(|s| s.0 == *name).count(), 1, "{name}");
            }
        }
        check(&crate::alb::FIELDS);
        check(&crate::clb::FIELDS);
        check(&crate::alb_connection::FIELDS);
    }
}
