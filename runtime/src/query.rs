//! Queries of access patterns: one page at a time with cursors bound to the pattern, or
//! every page in turn.

use std::collections::{HashMap, VecDeque};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::entity::Entity;
use crate::error::{Error, sdk};
use crate::item::{Item, ItemError};
use crate::table::{Table, TableDesign};

/// One page of a query: the items, and a cursor when DynamoDB says there may be more.
/// A page can be short, even empty, while more remain: the page size (`limit`) counts
/// items read before filters, as DynamoDB's `Limit` does.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub cursor: Option<Cursor>,
}

/// A page read with [`Query::send_lenient`]: the items that decoded, the items that did
/// not (each error names the item's key and the attribute at fault), and the cursor.
#[derive(Debug)]
pub struct LenientPage<T> {
    pub items: Vec<T>,
    pub errors: Vec<ItemError>,
    pub cursor: Option<Cursor>,
}

/// An opaque position in one access pattern's results. It can be stored and sent to a
/// client as a string; it is accepted only by the pattern that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Takes back a string from [`Cursor::as_str`]; it is checked when used.
    pub fn from_string(s: impl Into<String>) -> Self {
        Cursor(s.into())
    }

    pub(crate) fn encode(pattern: &str, key: &Item) -> Self {
        let mut names: Vec<&String> = key.keys().collect();
        names.sort();
        let mut raw = String::from(pattern);
        for n in names {
            let (t, v) = match &key[n] {
                AttributeValue::S(s) => ('S', s.clone()),
                AttributeValue::N(s) => ('N', s.clone()),
                _ => continue,
            };
            raw.push('\n');
            raw.push_str(&escape_line(n));
            raw.push('\t');
            raw.push(t);
            raw.push_str(&escape_line(&v));
        }
        Cursor(base64url(raw.as_bytes()))
    }

    pub(crate) fn decode(&self, pattern: &'static str) -> Result<Item, Error> {
        let bytes = unbase64url(&self.0).ok_or(Error::InvalidCursor)?;
        let raw = String::from_utf8(bytes).map_err(|_| Error::InvalidCursor)?;
        let mut lines = raw.split('\n');
        let found = lines.next().unwrap_or_default();
        if found != pattern {
            return Err(Error::CursorMismatch {
                expected: pattern,
                found: found.to_string(),
            });
        }
        let mut key = Item::new();
        for line in lines {
            let (n, rest) = line.split_once('\t').ok_or(Error::InvalidCursor)?;
            let mut chars = rest.chars();
            let t = chars.next().ok_or(Error::InvalidCursor)?;
            let v = unescape_line(chars.as_str());
            let av = match t {
                'S' => AttributeValue::S(v),
                'N' => AttributeValue::N(v),
                _ => return Err(Error::InvalidCursor),
            };
            key.insert(unescape_line(n), av);
        }
        Ok(key)
    }
}

impl ::std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn escape_line(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\t', "\\t")
}

fn unescape_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn unbase64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.as_bytes().chunks(4) {
        if chunk.len() < 2 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = B64.iter().position(|b| b == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// A prepared query of one access pattern; built by the generated pattern methods.
#[derive(Debug, Clone)]
pub struct QuerySpec {
    pub pattern: &'static str,
    pub index: Option<&'static str>,
    pub key_condition: &'static str,
    pub filter: Option<&'static str>,
    pub projection: Option<&'static str>,
    pub names: &'static [(&'static str, &'static str)],
    pub values: Vec<(&'static str, AttributeValue)>,
    pub forward: bool,
    pub limit: Option<i32>,
    pub consistent: bool,
    pub cursor: Option<Cursor>,
    /// The TTL attribute, when items whose time to live has passed are skipped.
    pub unexpired: Option<&'static str>,
    /// An input a raw key cannot hold: (entity, attribute, why). The query fails with
    /// [`Error::InvalidKey`] before any request.
    pub refused: Option<(&'static str, &'static str, String)>,
}

/// The condition that keeps items whose TTL has not passed (DynamoDB's rule: an item
/// expires once its TTL, in epoch seconds, is below the current time). Its names cannot
/// meet a pattern's: those are `#pk`, `#sk`, `#f0`, ...
const UNEXPIRED: &str = "attribute_not_exists(#dyngen_ttl) OR #dyngen_ttl > :dyngen_now";
const UNEXPIRED_NAME: &str = "#dyngen_ttl";
const UNEXPIRED_VALUE: &str = ":dyngen_now";

/// Expression values of a query, by placeholder.
type Values = [(&'static str, AttributeValue)];

fn key_value<'v>(values: &'v Values, placeholder: &str) -> Option<&'v AttributeValue> {
    values
        .iter()
        .find(|(k, _)| *k == placeholder)
        .map(|(_, v)| v)
}

/// No item has an empty string in a key attribute (DynamoDB refuses to store one, and
/// refuses one in a key condition), so a partition key or an exact sort key that renders
/// empty matches nothing, without a request.
fn matches_nothing(key_condition: &str, values: &Values) -> bool {
    let empty =
        |v: Option<&AttributeValue>| matches!(v, Some(AttributeValue::S(s)) if s.is_empty());
    // The parts of a multi-attribute key: `:pk1`.., and the sort attributes given `:s0`..
    let equality_part = |k: &str| {
        let digits = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
        k.strip_prefix(":pk").is_some_and(digits) || k.strip_prefix(":s").is_some_and(digits)
    };
    empty(key_value(values, ":pk"))
        || (key_condition.contains("#sk = :sk") && empty(key_value(values, ":sk")))
        || values
            .iter()
            .any(|(k, v)| equality_part(k) && empty(Some(v)))
}

impl QuerySpec {
    /// The key condition to send. `begins_with` an empty prefix (an input that rendered
    /// empty) matches every sort key, and DynamoDB refuses it: the query then reads the
    /// partition, dropping the sort key's name and value.
    fn without_empty_prefix(
        &self,
        names: &mut HashMap<String, String>,
        values: &mut HashMap<String, AttributeValue>,
    ) -> &'static str {
        const BEGINS: &str = " AND begins_with(#sk, :sk)";
        let empty = matches!(values.get(":sk"), Some(AttributeValue::S(s)) if s.is_empty());
        match self.key_condition.strip_suffix(BEGINS) {
            Some(partition) if empty => {
                values.remove(":sk");
                let elsewhere = [self.filter, self.projection]
                    .iter()
                    .flatten()
                    .any(|e| e.contains("#sk"));
                if !elsewhere {
                    names.remove("#sk");
                }
                partition
            }
            _ => self.key_condition,
        }
    }
}

/// `between` needs its lower bound at or below its upper one (DynamoDB rejects the request
/// otherwise); compared as DynamoDB does, strings by their UTF-8 bytes.
fn check_range(pattern: &'static str, values: &Values) -> Result<(), Error> {
    let (Some(lo), Some(hi)) = (key_value(values, ":lo"), key_value(values, ":hi")) else {
        return Ok(());
    };
    let ordered = match (lo, hi) {
        (AttributeValue::S(a), AttributeValue::S(b)) => a.as_bytes() <= b.as_bytes(),
        (AttributeValue::N(a), AttributeValue::N(b)) => {
            match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(a), Ok(b)) => a <= b,
                _ => true,
            }
        }
        _ => true,
    };
    if ordered {
        Ok(())
    } else {
        Err(Error::InvalidRange { pattern })
    }
}

/// A cursor continues the query it came from: its partition key is this query's.
fn check_cursor(spec: &QuerySpec, values: &Values, start: Item) -> Result<Item, Error> {
    // Every partition attribute: `#pk`, and `#pk1`.. of a multi-attribute key.
    let same = spec
        .names
        .iter()
        .filter_map(|(k, attr)| Some((k.strip_prefix("#pk")?, *attr)))
        .all(
            |(suffix, attr)| match key_value(values, &format!(":pk{suffix}")) {
                Some(value) => start.get(attr) == Some(value),
                None => true,
            },
        );
    if same {
        Ok(start)
    } else {
        Err(Error::CursorInputsMismatch {
            pattern: spec.pattern,
        })
    }
}

impl QuerySpec {
    /// The span description of this query.
    pub(crate) fn op<'t>(&self, db: &'t Table) -> crate::trace::OpInfo<'t> {
        crate::trace::OpInfo {
            pattern: Some(self.pattern),
            index: self.index,
            ..crate::trace::OpInfo::new("query", db.table_name(), "")
        }
    }

    /// Reads one page of raw items, moving the expression values into the request.
    pub async fn into_page(mut self, db: &Table) -> Result<(Vec<Item>, Option<Cursor>), Error> {
        let values = ::std::mem::take(&mut self.values);
        self.page_with(db, values).await
    }

    /// Reads one page of raw items (the spec stays, for the next page).
    pub async fn page(&self, db: &Table) -> Result<(Vec<Item>, Option<Cursor>), Error> {
        self.page_with(db, self.values.clone()).await
    }

    async fn page_with(
        &self,
        db: &Table,
        values: Vec<(&'static str, AttributeValue)>,
    ) -> Result<(Vec<Item>, Option<Cursor>), Error> {
        if let Some((entity, attribute, reason)) = &self.refused {
            return Err(Error::InvalidKey {
                entity,
                attribute,
                reason: reason.clone(),
            });
        }
        let start = match &self.cursor {
            Some(c) => Some(check_cursor(self, &values, c.decode(self.pattern)?)?),
            None => None,
        };
        check_range(self.pattern, &values)?;
        if matches_nothing(self.key_condition, &values) {
            return Ok((Vec::new(), None));
        }
        let mut names: HashMap<String, String> = self
            .names
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut values: HashMap<String, AttributeValue> = values
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let key_condition = self.without_empty_prefix(&mut names, &mut values);
        let filter = match self.unexpired {
            Some(ttl) => {
                names.insert(UNEXPIRED_NAME.into(), ttl.into());
                let now = crate::value::Timestamp::now()
                    .unix_millis()
                    .div_euclid(1000);
                values.insert(UNEXPIRED_VALUE.into(), AttributeValue::N(now.to_string()));
                Some(match self.filter {
                    Some(f) => format!("({f}) AND ({UNEXPIRED})"),
                    None => UNEXPIRED.to_string(),
                })
            }
            None => self.filter.map(str::to_string),
        };
        let out = db
            .client()
            .query()
            .table_name(db.table_name())
            .set_index_name(self.index.map(str::to_string))
            .key_condition_expression(key_condition)
            .set_filter_expression(filter)
            .set_projection_expression(self.projection.map(str::to_string))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(self.forward)
            .set_limit(self.limit)
            .consistent_read(self.consistent)
            .set_exclusive_start_key(start)
            .set_return_consumed_capacity(crate::trace::capacity_mode())
            .send()
            .await
            .map_err(sdk)?;
        crate::trace::consumed(out.consumed_capacity());
        crate::trace::page(out.items().len());
        let cursor = out
            .last_evaluated_key()
            .map(|k| Cursor::encode(self.pattern, k));
        Ok((out.items.unwrap_or_default(), cursor))
    }
}

/// The query of one access pattern: set a page size or a cursor, then `send` for one
/// page, or `pages` / `all` to read every page. `CONSISTENT` queries (on the table's own
/// key) also offer strongly consistent reads; DynamoDB has none on a GSI.
#[must_use = "a query does nothing until it is sent"]
pub struct Query<'a, T, const CONSISTENT: bool> {
    db: &'a Table,
    spec: QuerySpec,
    decode: fn(Item) -> Result<Option<T>, ItemError>,
}

/// A query on the table's own key.
pub type TableQuery<'a, T> = Query<'a, T, true>;
/// A query on a global secondary index.
pub type IndexQuery<'a, T> = Query<'a, T, false>;

impl<'a, T, const CONSISTENT: bool> Query<'a, T, CONSISTENT> {
    pub fn new(
        db: &'a Table,
        spec: QuerySpec,
        decode: fn(Item) -> Result<Option<T>, ItemError>,
    ) -> Self {
        Query { db, spec, decode }
    }

    /// Items evaluated per request (before filters, as DynamoDB counts `Limit`).
    pub fn limit(mut self, n: i32) -> Self {
        self.spec.limit = Some(n);
        self
    }

    /// Continues after the page that returned this cursor.
    pub fn cursor(mut self, cursor: Cursor) -> Self {
        self.spec.cursor = Some(cursor);
        self
    }

    /// Reads one page.
    pub async fn send(self) -> Result<Page<T>, Error> {
        let op = self.spec.op(self.db);
        let (items, cursor) = crate::trace::traced(op, self.spec.into_page(self.db)).await?;
        Ok(Page {
            items: decode_page(items, self.decode)?,
            cursor,
        })
    }

    /// Reads every page in turn; `next().await` yields one item at a time.
    pub fn pages(self) -> Pager<'a, T> {
        Pager::new(self.db, self.spec, self.decode)
    }

    /// Reads one page, keeping the items that decode and reporting each one that does not
    /// (its key and why) instead of failing the page: for a table another writer shares.
    pub async fn send_lenient(self) -> Result<LenientPage<T>, Error> {
        let op = self.spec.op(self.db);
        let (items, cursor) = crate::trace::traced(op, self.spec.into_page(self.db)).await?;
        let mut page = LenientPage {
            items: Vec::with_capacity(items.len()),
            errors: Vec::new(),
            cursor,
        };
        for item in items {
            match (self.decode)(item) {
                Ok(Some(v)) => page.items.push(v),
                Ok(None) => {}
                Err(e) => page.errors.push(e),
            }
        }
        Ok(page)
    }

    /// Reads every remaining item as [`Query::send_lenient`] does: the items that decode,
    /// and an error for each one that does not.
    pub async fn all_lenient(self) -> Result<(Vec<T>, Vec<ItemError>), Error> {
        let op = self.spec.op(self.db);
        let mut pager = self.pages();
        crate::trace::traced(op, async move {
            let (mut items, mut errors) = (Vec::new(), Vec::new());
            while let Some(next) = pager.next().await {
                match next {
                    Ok(v) => items.push(v),
                    Err(Error::InvalidItem(e)) => errors.push(e),
                    Err(e) => return Err(e),
                }
            }
            Ok((items, errors))
        })
        .await
    }

    /// Reads every remaining item.
    pub async fn all(self) -> Result<Vec<T>, Error> {
        let op = self.spec.op(self.db);
        crate::trace::traced(op, self.pages().collect()).await
    }
}

impl<T> Query<'_, T, true> {
    /// Strongly consistent reads.
    pub fn consistent_read(mut self, yes: bool) -> Self {
        self.spec.consistent = yes;
        self
    }
}

/// Decodes items of one entity, skipping items of others.
pub fn decode_entity<E: Entity>(item: Item) -> Result<Option<E>, ItemError> {
    if entity_type(E::DESIGN, &item) == Some(E::ENTITY_TYPE) {
        E::from_item_owned(item).map(Some)
    } else {
        Ok(None)
    }
}

impl QuerySpec {
    /// A query of `pattern`: the key condition with its names and values.
    pub fn new(
        pattern: &'static str,
        index: Option<&'static str>,
        key_condition: &'static str,
        names: &'static [(&'static str, &'static str)],
        values: Vec<(&'static str, AttributeValue)>,
    ) -> Self {
        QuerySpec {
            pattern,
            index,
            key_condition,
            filter: None,
            projection: None,
            names,
            values,
            forward: true,
            limit: None,
            consistent: false,
            cursor: None,
            unexpired: None,
            refused: None,
        }
    }
    /// Checks an input that stands raw in the key (`escape: false`): one holding the
    /// delimiter would query a different key, so the query is refused instead.
    pub fn raw_input(mut self, entity: &'static str, attribute: &'static str, value: &str) -> Self {
        if let Some(reason) = crate::key::raw_refusal(value) {
            self.refused.get_or_insert((entity, attribute, reason));
        }
        self
    }
    /// Skips items whose TTL (epoch seconds in `attribute`) has passed: DynamoDB deletes
    /// them only within days. A filter, so they are still read (and paid for).
    pub fn unexpired(mut self, attribute: &'static str) -> Self {
        self.unexpired = Some(attribute);
        self
    }
    pub fn filter(mut self, filter: &'static str) -> Self {
        self.filter = Some(filter);
        self
    }
    pub fn projection(mut self, projection: &'static str) -> Self {
        self.projection = Some(projection);
        self
    }
    pub fn descending(mut self) -> Self {
        self.forward = false;
        self
    }
    pub fn page_size(mut self, limit: i32) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// Reads a pattern's results page after page; `next` yields items until none remain.
pub struct Pager<'a, T> {
    pub(crate) db: &'a Table,
    pub(crate) spec: QuerySpec,
    pub(crate) decode: fn(Item) -> Result<Option<T>, ItemError>,
    pub(crate) buffer: VecDeque<Item>,
    pub(crate) done: bool,
}

impl<'a, T> Pager<'a, T> {
    pub fn new(
        db: &'a Table,
        spec: QuerySpec,
        decode: fn(Item) -> Result<Option<T>, ItemError>,
    ) -> Self {
        Pager {
            db,
            spec,
            decode,
            buffer: VecDeque::new(),
            done: false,
        }
    }

    /// The next item, fetching the next page when needed; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        loop {
            while let Some(item) = self.buffer.pop_front() {
                match (self.decode)(item) {
                    Ok(Some(v)) => return Some(Ok(v)),
                    Ok(None) => continue,
                    Err(e) => return Some(Err(e.into())),
                }
            }
            if self.done {
                return None;
            }
            let op = self.spec.op(self.db);
            match crate::trace::traced(op, self.spec.page(self.db)).await {
                Ok((items, cursor)) => {
                    self.buffer.extend(items);
                    self.done = cursor.is_none();
                    self.spec.cursor = cursor;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }

    /// Every remaining item.
    pub async fn collect(mut self) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        while let Some(item) = self.next().await {
            out.push(item?);
        }
        Ok(out)
    }
}

/// Decodes a page with a pattern's decoder.
pub fn decode_page<T>(
    items: Vec<Item>,
    decode: fn(Item) -> Result<Option<T>, ItemError>,
) -> Result<Vec<T>, Error> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(v) = decode(item)? {
            out.push(v);
        }
    }
    Ok(out)
}

/// The entity type written on an item.
pub fn entity_type<'i>(design: &TableDesign, item: &'i Item) -> Option<&'i str> {
    item.get(design.entity_type_attribute)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}
