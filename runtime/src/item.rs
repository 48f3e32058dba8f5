//! Item conversion: how entity fields become DynamoDB attribute values and back, with
//! errors that name the entity, the attribute and the item's key.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

use crate::stored_time::TimestampForm;
use crate::value::{Date, NumberSet, StringSet, Timestamp};

/// A stored item: attribute name to value.
pub type Item = HashMap<String, AttributeValue>;

/// Why an item read from DynamoDB could not become an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    /// The entity being read.
    pub entity: &'static str,
    /// The attribute at fault.
    pub attribute: &'static str,
    /// The item's partition and sort key, as stored, for finding it.
    pub key: String,
    pub kind: ItemErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemErrorKind {
    /// A required attribute is absent.
    Missing,
    /// The attribute holds another DynamoDB type.
    WrongType { expected: &'static str },
    /// The attribute has the right type but an unusable value.
    Invalid { reason: String },
}

impl ::std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match &self.kind {
            ItemErrorKind::Missing => write!(
                f,
                "{} item {}: attribute `{}` is missing",
                self.entity, self.key, self.attribute
            ),
            ItemErrorKind::WrongType { expected } => write!(
                f,
                "{} item {}: attribute `{}` is not of type {}",
                self.entity, self.key, self.attribute, expected
            ),
            ItemErrorKind::Invalid { reason } => write!(
                f,
                "{} item {}: attribute `{}` is invalid: {}",
                self.entity, self.key, self.attribute, reason
            ),
        }
    }
}

impl ::std::error::Error for ItemError {}

/// Where an [`ItemError`] is raised: which entity, and the key of the item.
#[derive(Clone, Copy)]
pub struct ReadCx<'a> {
    pub entity: &'static str,
    pub item: &'a Item,
    pub pk: &'static str,
    pub sk: &'static str,
}

impl ReadCx<'_> {
    #[cold]
    #[inline(never)]
    pub fn error(&self, attribute: &'static str, kind: ItemErrorKind) -> ItemError {
        ItemError {
            entity: self.entity,
            attribute,
            key: key_text(self.item, self.pk, self.sk),
            kind,
        }
    }
}

/// An item's key for messages: `(pk, sk)` as stored, `?` for a part that is missing, and
/// `(pk)` in a table with a partition key only (`sk` empty).
pub(crate) fn key_text(item: &Item, pk: &str, sk: &str) -> String {
    let part = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        Some(AttributeValue::N(n)) => n.clone(),
        _ => String::from("?"),
    };
    if sk.is_empty() {
        format!("({})", part(pk))
    } else {
        format!("({}, {})", part(pk), part(sk))
    }
}

/// Reads attributes out of an item it owns, moving values instead of copying them: the
/// path for items that come straight from a response.
pub struct TakeCx {
    pub entity: &'static str,
    pub item: Item,
    pub pk: &'static str,
    pub sk: &'static str,
}

impl TakeCx {
    #[cold]
    #[inline(never)]
    fn error(&self, attribute: &'static str, kind: ItemErrorKind) -> ItemError {
        ReadCx {
            entity: self.entity,
            item: &self.item,
            pk: self.pk,
            sk: self.sk,
        }
        .error(attribute, kind)
    }
}

/// Reads an entity's attributes, from a borrowed item ([`ReadCx`], copying values) or
/// an owned one ([`TakeCx`], moving them). Each entity's reading code is written once,
/// over this trait.
pub trait Reader {
    /// The attribute's value; `None` when absent or NULL.
    fn value<T: Attr>(&mut self, name: &'static str) -> Result<Option<T>, ItemError>;
    fn missing(&self, name: &'static str) -> ItemError;

    /// A required attribute.
    #[inline]
    fn required<T: Attr>(&mut self, name: &'static str) -> Result<T, ItemError> {
        match self.value(name)? {
            Some(v) => Ok(v),
            None => Err(self.missing(name)),
        }
    }

    /// An optional attribute; DynamoDB's NULL reads as absent.
    #[inline]
    fn optional<T: Attr>(&mut self, name: &'static str) -> Result<Option<T>, ItemError> {
        self.value(name)
    }

    /// A required attribute with a schema default used when it is absent.
    #[inline]
    fn or_default<T: Attr>(
        &mut self,
        name: &'static str,
        default: impl FnOnce() -> T,
    ) -> Result<T, ItemError> {
        Ok(self.value(name)?.unwrap_or_else(default))
    }

    /// A TTL attribute: epoch seconds.
    #[inline]
    fn ttl(&mut self, name: &'static str) -> Result<Option<Timestamp>, ItemError> {
        Ok(self.value::<TtlSeconds>(name)?.map(|e| e.0))
    }
}

impl Reader for ReadCx<'_> {
    #[inline]
    fn value<T: Attr>(&mut self, name: &'static str) -> Result<Option<T>, ItemError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(av) => T::from_av(av)
                .map(Some)
                .map_err(|kind| self.error(name, kind)),
        }
    }
    fn missing(&self, name: &'static str) -> ItemError {
        self.error(name, ItemErrorKind::Missing)
    }
}

impl Reader for TakeCx {
    #[inline]
    fn value<T: Attr>(&mut self, name: &'static str) -> Result<Option<T>, ItemError> {
        match self.item.remove(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(av) => T::from_av_owned(av)
                .map(Some)
                .map_err(|kind| self.error(name, kind)),
        }
    }
    fn missing(&self, name: &'static str) -> ItemError {
        self.error(name, ItemErrorKind::Missing)
    }
}

/// A Rust value stored as one DynamoDB attribute value.
pub trait Attr: Sized {
    fn to_av(&self) -> AttributeValue;
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind>;
    /// Like `from_av`, moving strings out of the value instead of copying them.
    #[inline]
    fn from_av_owned(av: AttributeValue) -> Result<Self, ItemErrorKind> {
        Self::from_av(&av)
    }
}

#[cold]
fn wrong(expected: &'static str) -> ItemErrorKind {
    ItemErrorKind::WrongType { expected }
}

#[cold]
fn invalid(reason: impl ::std::fmt::Display) -> ItemErrorKind {
    ItemErrorKind::Invalid {
        reason: reason.to_string(),
    }
}

impl Attr for String {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        AttributeValue::S(self.clone())
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::S(s) => Ok(s.clone()),
            _ => Err(wrong("S")),
        }
    }
    #[inline]
    fn from_av_owned(av: AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::S(s) => Ok(s),
            _ => Err(wrong("S")),
        }
    }
}

impl Attr for i64 {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        AttributeValue::N(self.to_string())
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::N(n) => n.parse().map_err(invalid),
            _ => Err(wrong("N")),
        }
    }
}

impl Attr for f64 {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        AttributeValue::N(self.to_string())
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::N(n) => n.parse().map_err(invalid),
            _ => Err(wrong("N")),
        }
    }
}

impl Attr for bool {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        AttributeValue::Bool(*self)
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::Bool(b) => Ok(*b),
            _ => Err(wrong("BOOL")),
        }
    }
}

impl<T: Attr> Attr for Vec<T> {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        AttributeValue::L(self.iter().map(Attr::to_av).collect())
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::L(l) => l.iter().map(T::from_av).collect(),
            _ => Err(wrong("L")),
        }
    }
    #[inline]
    fn from_av_owned(av: AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::L(l) => l.into_iter().map(T::from_av_owned).collect(),
            _ => Err(wrong("L")),
        }
    }
}

impl<T: Attr> Attr for ::std::collections::BTreeMap<String, T> {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        AttributeValue::M(self.iter().map(|(k, v)| (k.clone(), v.to_av())).collect())
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::M(m) => m
                .iter()
                .map(|(k, v)| Ok((k.clone(), T::from_av(v)?)))
                .collect(),
            _ => Err(wrong("M")),
        }
    }
    #[inline]
    fn from_av_owned(av: AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::M(m) => m
                .into_iter()
                .map(|(k, v)| Ok((k, T::from_av_owned(v)?)))
                .collect(),
            _ => Err(wrong("M")),
        }
    }
}

impl Attr for StringSet {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        AttributeValue::Ss(self.iter().cloned().collect())
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::Ss(s) => Ok(s.iter().cloned().collect()),
            _ => Err(wrong("SS")),
        }
    }
    #[inline]
    fn from_av_owned(av: AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::Ss(s) => Ok(s.into_iter().collect()),
            _ => Err(wrong("SS")),
        }
    }
}

impl Attr for NumberSet {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        AttributeValue::Ns(self.iter().map(|n| n.to_string()).collect())
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::Ns(s) => s.iter().map(|n| n.parse().map_err(invalid)).collect(),
            _ => Err(wrong("NS")),
        }
    }
}

/// Writes a value unless it is a set that DynamoDB cannot store (an empty one).
#[inline]
pub fn write_attr<T: Attr>(item: &mut Item, name: &str, value: &T) {
    let av = value.to_av();
    let storable = match &av {
        AttributeValue::Ss(s) | AttributeValue::Ns(s) => !s.is_empty(),
        _ => true,
    };
    if storable {
        item.insert(name.to_string(), av);
    }
}

/// Writes an optional value; `None` leaves the attribute absent.
#[inline]
pub fn write_opt<T: Attr>(item: &mut Item, name: &str, value: &Option<T>) {
    if let Some(v) = value {
        write_attr(item, name, v);
    }
}

impl Attr for Timestamp {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        AttributeValue::S(self.to_string())
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::S(s) => Timestamp::parse(s)
                .ok_or_else(|| invalid(format!("`{s}` is not an RFC 3339 timestamp"))),
            AttributeValue::N(n) => Err(invalid(format!(
                "`{n}` is a number, and this timestamp is declared as RFC 3339 text (`stored_as: epoch_seconds` or `epoch_millis` reads numbers)"
            ))),
            _ => Err(wrong("S")),
        }
    }
}

/// A TTL value as stored: epoch seconds (a number only, as DynamoDB's time to live reads
/// it), read back into the range a [`Timestamp`] keeps.
struct TtlSeconds(Timestamp);

impl Attr for TtlSeconds {
    fn to_av(&self) -> AttributeValue {
        TimestampForm::EpochSeconds.to_av(&self.0)
    }
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        let secs = i64::from_av(av)?;
        TimestampForm::EpochSeconds
            .instant_after(secs)
            .map(TtlSeconds)
    }
}

/// A TTL attribute: a [`Timestamp`] stored as epoch seconds (`N`).
#[inline]
pub fn write_ttl(item: &mut Item, name: &str, value: &Option<Timestamp>) {
    if let Some(t) = value {
        item.insert(name.to_string(), TimestampForm::EpochSeconds.to_av(t));
    }
}

impl Attr for Date {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        AttributeValue::S(self.to_string())
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        match av {
            AttributeValue::S(s) => {
                Date::parse(s).ok_or_else(|| invalid(format!("`{s}` is not a YYYY-MM-DD date")))
            }
            _ => Err(wrong("S")),
        }
    }
}

/// A string key attribute value.
#[inline]
pub fn s_key(s: String) -> AttributeValue {
    AttributeValue::S(s)
}

/// Reading an item into an entity.
pub type ItemResult<T> = Result<T, ItemError>;
