//! The spanned syntax tree: a direct mirror of `schema.yaml`.
//!
//! Nothing here is checked beyond what serde checks (shape, unknown and duplicate keys,
//! value types). Every value a later diagnostic may point at is wrapped in [`Sp`], so the
//! validator can name its line and column. Maps keep their declaration order
//! ([`OrderedMap`]) because the order of entities and patterns is the order of the output.

use std::fmt;
use std::marker::PhantomData;

use schemars::JsonSchema;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

/// A value together with where it stands in the schema file.
pub type Sp<T> = Spanned<T>;

/// The first pass: only the version, so a future format can be told apart before the body
/// is decoded with the rules of version 1.
#[derive(Debug, serde::Deserialize)]
pub struct VersionProbe {
    pub version: Option<Sp<serde_json::Value>>,
}

/// `schema.yaml`, version 1.
#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "dyngen schema",
    description = "A DynamoDB single-table design for dyngen."
)]
pub struct SchemaFile {
    /// Format version of this file; must be 1.
    #[schemars(with = "u32", range(min = 1, max = 1))]
    pub version: Sp<u32>,
    /// The one DynamoDB table every entity lives in.
    #[schemars(with = "Table")]
    pub table: Sp<Table>,
    /// Item types stored in the table, by name (UpperCamelCase recommended).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Entity>")]
    pub entities: OrderedMap<Sp<String>, Sp<Entity>>,
    /// Named reads the application performs; each becomes one method.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, AccessPattern>")]
    pub access_patterns: OrderedMap<Sp<String>, Sp<AccessPattern>>,
    /// One-to-many and many-to-many relationships between entities.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Relationship>")]
    pub relationships: OrderedMap<Sp<String>, Sp<Relationship>>,
    /// Applications that use the table (one per Lambda function or service), each with
    /// its own IAM policy: the patterns that name it, plus the entity operations listed here.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Consumer>")]
    pub consumers: OrderedMap<Sp<String>, Sp<Consumer>>,
    /// The level of each lint for the whole schema: `allow`, `warn` (default) or `deny`
    /// (an error), e.g. `key_prefix_collision: allow`.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, LintLevel>")]
    pub lints: OrderedMap<Sp<String>, Sp<LintLevel>>,
    /// Options of the generated Rust.
    #[serde(default)]
    #[schemars(with = "Option<RustOptions>")]
    pub rust: Option<Sp<RustOptions>>,
}

/// Options of the generated Rust.
#[derive(Debug, Default, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RustOptions {
    /// Derive `serde::Serialize` and `Deserialize` on entities, their keys and enums, with
    /// the field names of the schema (the runtime re-exports serde; timestamps and dates
    /// are RFC 3339 and ISO strings).
    #[serde(default)]
    pub serde: bool,
    /// Generate `TableChange`, the table's DynamoDB Streams records decoded into its
    /// entities (needs `table.stream` and the runtime's `streams` feature).
    #[serde(default)]
    pub streams: bool,
}

/// What a lint does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LintLevel {
    Allow,
    Warn,
    Deny,
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    #[serde(default)]
    pub doc: Option<String>,
    /// Operations on entities, e.g. `User: [get, create, update]`.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Vec<EntityOp>>")]
    pub entities: OrderedMap<Sp<String>, Vec<Sp<EntityOp>>>,
    /// Restricts every request to partitions whose key is built from these values: an
    /// attribute used in partition-key templates → an IAM policy variable, e.g.
    /// `{companyName: "${aws:PrincipalTag/company}"}` (a `dynamodb:LeadingKeys` condition,
    /// always on, in the Terraform and JSON policies).
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, String>>")]
    pub leading_keys: Option<Sp<OrderedMap<Sp<String>, Sp<String>>>>,
}

/// An operation of an entity's repository, as far as IAM is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityOp {
    Get,
    Create,
    Put,
    Update,
    Delete,
    BatchGet,
    BatchWrite,
    ConditionCheck,
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// Default table name; the generated code lets the caller override it at run time.
    #[schemars(with = "String")]
    pub name: Sp<String>,
    /// Partition key attribute name (a string attribute, e.g. `pk`).
    #[schemars(with = "String")]
    pub partition_key: Sp<String>,
    /// Sort key attribute name (a string attribute, e.g. `sk`). Absent: the table has a
    /// partition key only, and each item is one partition.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub sort_key: Option<Sp<String>>,
    /// Attribute written on every item naming its entity. Default `_type`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub entity_type_attribute: Option<Sp<String>>,
    /// `on_demand` (default) or `provisioned`.
    #[serde(default)]
    #[schemars(with = "Option<BillingMode>")]
    pub billing_mode: Option<Sp<BillingMode>>,
    /// Read and write capacity units; required with `billing_mode: provisioned`.
    #[serde(default)]
    #[schemars(with = "Option<Capacity>")]
    pub capacity: Option<Sp<Capacity>>,
    /// Attribute DynamoDB's time to live reads (epoch seconds).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub ttl_attribute: Option<Sp<String>>,
    /// The table's DynamoDB stream: which images its records carry. Absent: no stream.
    #[serde(default)]
    #[schemars(with = "Option<StreamView>")]
    pub stream: Option<Sp<StreamView>>,
    /// Continuous backups with point-in-time recovery. Default off.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub point_in_time_recovery: Option<Sp<bool>>,
    /// Refuse DeleteTable while on. Default off.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub deletion_protection: Option<Sp<bool>>,
    /// Refuse, before any request, integers JavaScript cannot hold exactly (beyond
    /// ±(2^53 − 1)): for a table Node.js services read too.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub safe_integers: Option<Sp<bool>>,
    /// Escape `#` and `%` in string values of keys (`%23`, `%25`). Default on; off stores
    /// values as they are, as another writer of a shared table does, and refuses values
    /// holding `#` before the request. Entities may override it.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub escape: Option<Sp<bool>>,
    /// Global secondary indexes, by index name.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Index>")]
    pub indexes: OrderedMap<Sp<String>, Sp<Index>>,
}

/// A sort-key condition with literal bounds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LiteralSort {
    BeginsWith(String),
    Between(Vec<String>),
    Lt(String),
    Lte(String),
    Gt(String),
    Gte(String),
}

/// The images a stream record carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StreamView {
    NewAndOldImages,
    NewImage,
    OldImage,
    KeysOnly,
}

/// How a timestamp attribute is written (any form is read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoredAs {
    /// RFC 3339 text in UTC with milliseconds (`S`).
    #[default]
    Rfc3339,
    /// Whole seconds since 1970 (`N`).
    EpochSeconds,
    /// Milliseconds since 1970 (`N`).
    EpochMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillingMode {
    OnDemand,
    Provisioned,
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    pub read: u32,
    pub write: u32,
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// A local secondary index: the table's partition key with another sort key, read with
    /// consistent reads if asked; created with the table only. Default `false` (global).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub local: Option<Sp<bool>>,
    /// Partition key attribute of the index (a string attribute, e.g. `gsi1pk`); a local
    /// index has the table's, and may leave it out.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub partition_key: Option<Sp<String>>,
    /// Sort key attribute of the index, if it has one.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub sort_key: Option<Sp<String>>,
    /// A multi-attribute partition key: up to four of the entities' own attributes, in
    /// order, each stored once with its own type (instead of `partition_key`).
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub partition_keys: Option<Sp<Vec<Sp<String>>>>,
    /// A multi-attribute sort key: up to four attributes, in order (instead of `sort_key`).
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub sort_keys: Option<Sp<Vec<Sp<String>>>>,
    /// `all` (default), `keys_only`, or `{include: [attribute, ...]}`.
    #[serde(default)]
    #[schemars(with = "Option<Projection>")]
    pub projection: Option<Sp<Projection>>,
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Projection {
    All,
    KeysOnly,
    Include(#[schemars(with = "Vec<String>")] Vec<Sp<String>>),
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Documentation copied onto the generated struct.
    #[serde(default)]
    pub doc: Option<String>,
    /// Typed attributes: `name: string` or `name: {type: ..., optional: true, ...}`.
    #[schemars(with = "std::collections::BTreeMap<String, Attribute>")]
    pub attributes: OrderedMap<Sp<String>, Sp<Attribute>>,
    /// Key templates per index: `primary` for the table, or a GSI name.
    #[schemars(with = "std::collections::BTreeMap<String, KeyTemplates>")]
    pub keys: OrderedMap<Sp<String>, Sp<KeyTemplates>>,
    /// Attributes dyngen maintains: set on create, and on every write.
    #[serde(default)]
    #[schemars(with = "Option<Timestamps>")]
    pub timestamps: Option<Sp<Timestamps>>,
    /// Name of a number attribute used for optimistic locking.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub version: Option<Sp<String>>,
    /// Give the entity a typed expiry field stored in the table's `ttl_attribute`.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub ttl: Option<Sp<bool>>,
    /// The value stored in the entity-type attribute (default: the entity's name), for a
    /// table shared with another writer that names the entity differently (`user`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub type_value: Option<Sp<String>>,
    /// Escape `#` and `%` in this entity's key values (default: the table's `escape`);
    /// one placeholder can be stored raw with `{name:raw}`.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub escape: Option<Sp<bool>>,
    /// Unique constraints: each entry is an attribute, or a list of attributes whose values
    /// together belong to at most one item (guard items kept in the same transaction).
    #[serde(default)]
    #[schemars(with = "Vec<UniqueSpec>")]
    pub unique: Vec<Sp<UniqueSpec>>,
    /// Lints this entity allows (e.g. `[key_prefix_collision]`): warnings about it are not
    /// shown.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub allow: Vec<Sp<String>>,
}

/// One unique constraint: an attribute, or a list of attributes unique together.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum UniqueSpec {
    One(String),
    Together(Vec<String>),
}

impl UniqueSpec {
    pub fn attributes(&self) -> Vec<&str> {
        match self {
            UniqueSpec::One(a) => vec![a.as_str()],
            UniqueSpec::Together(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timestamps {
    /// Attribute set once, when the item is created.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub created: Option<Sp<String>>,
    /// Attribute set on every write.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub updated: Option<Sp<String>>,
    /// How both are written: `rfc3339` (default), `epoch_seconds` or `epoch_millis`.
    #[serde(default)]
    #[schemars(with = "Option<StoredAs>")]
    pub stored_as: Option<Sp<StoredAs>>,
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyTemplates {
    /// Partition key template, e.g. `company#{name}`.
    #[schemars(with = "String")]
    pub pk: Sp<String>,
    /// Sort key template, e.g. `user#{email}`. Required for the table's primary key.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub sk: Option<Sp<String>>,
}

/// An attribute: either just its type (`email: string`) or a full description.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum Attribute {
    Short(AttrType),
    Full(Box<AttributeSpec>),
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeSpec {
    #[serde(rename = "type")]
    #[schemars(with = "AttrType")]
    pub ty: Sp<AttrType>,
    /// The attribute may be absent; its field is an `Option`.
    #[serde(default)]
    pub optional: bool,
    /// Value used when the attribute is absent on read and not given on create.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub default: Option<Sp<serde_json::Value>>,
    /// Allowed values of an `enum`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub values: Option<Vec<Sp<String>>>,
    /// Element type of a `list` or value type of a `map` (default `string`).
    #[serde(default)]
    #[schemars(with = "Option<AttrType>")]
    pub items: Option<Sp<AttrType>>,
    /// Documentation copied onto the generated field.
    #[serde(default)]
    pub doc: Option<String>,
    /// No two items of the entity hold the same value (absent values excepted): a guard
    /// item per value, written in the same transaction as the item.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub unique: Option<Sp<bool>>,
    /// How a `timestamp` is written: `rfc3339` (default), `epoch_seconds` or
    /// `epoch_millis`; every form is read.
    #[serde(default)]
    #[schemars(with = "Option<StoredAs>")]
    pub stored_as: Option<Sp<StoredAs>>,
}

impl<'de> Deserialize<'de> for Attribute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AttributeVisitor;
        impl<'de> Visitor<'de> for AttributeVisitor {
            type Value = Attribute;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a type name such as `string`, or a map with `type:`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Attribute, E> {
                let ty = AttrType::deserialize(serde::de::value::StrDeserializer::<E>::new(v))?;
                Ok(Attribute::Short(ty))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Attribute, A::Error> {
                AttributeSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|spec| Attribute::Full(Box::new(spec)))
            }
        }
        deserializer.deserialize_any(AttributeVisitor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttrType {
    String,
    Integer,
    Float,
    Bool,
    Timestamp,
    Date,
    Enum,
    List,
    StringSet,
    NumberSet,
    Map,
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessPattern {
    /// Documentation copied onto the generated method.
    #[serde(default)]
    pub doc: Option<String>,
    /// The entity this pattern returns.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub entity: Option<Sp<String>>,
    /// Several entities sharing a partition: an item collection.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub entities: Option<Vec<Sp<String>>>,
    /// `primary` (default) or a GSI name.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub index: Option<Sp<String>>,
    /// Template placeholders the caller gives, in parameter order (`name`, or `dob:year`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub inputs: Vec<Sp<String>>,
    /// Placeholders fixed by the pattern itself, e.g. `{newsletterSubscribed: true}`.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, serde_json::Value>")]
    pub fixed: OrderedMap<Sp<String>, Sp<serde_json::Value>>,
    /// Sort-key condition; by default `equals` when every sort-key placeholder is given,
    /// `begins_with` otherwise.
    #[serde(default)]
    #[schemars(with = "Option<SortOp>")]
    pub sort: Option<Sp<SortOp>>,
    /// For an item collection: a condition on the shared sort key with literal bounds, so
    /// one entity's items can be read without another's: `{begins_with: "ISSUE#"}`,
    /// `{between: ["#REPO", "ISSUE#~"]}`, `{lt: "STAR#"}` (also `lte`, `gt`, `gte`).
    #[serde(default)]
    #[schemars(with = "Option<LiteralSort>")]
    pub sort_key: Option<Sp<LiteralSort>>,
    /// `asc` (default) or `desc`.
    #[serde(default)]
    #[schemars(with = "Option<Order>")]
    pub order: Option<Sp<Order>>,
    /// Default page size.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub limit: Option<Sp<u32>>,
    /// Attributes to read (a projection); all attributes when absent.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub projection: Option<Vec<Sp<String>>>,
    /// Conditions on non-key attributes, applied after the key condition.
    #[serde(default)]
    #[schemars(with = "Vec<Filter>")]
    pub filter: Vec<Sp<Filter>>,
    /// Applications (Lambda functions, services) that use this pattern, for IAM.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub consumers: Vec<Sp<String>>,
    /// Also return items whose time to live has passed (DynamoDB deletes them only within
    /// days). By default a pattern reading an entity with `ttl: true` skips them, with a
    /// filter: they are still read, and paid for.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub include_expired: Option<Sp<bool>>,
    /// Lints this pattern allows (e.g. `[over_matching_prefix]`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub allow: Vec<Sp<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOp {
    Equals,
    BeginsWith,
    Between,
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    #[schemars(with = "String")]
    pub attribute: Sp<String>,
    #[schemars(with = "FilterOp")]
    pub op: Sp<FilterOp>,
    /// A constant; when absent (and the operator takes a value), the caller gives it.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub value: Option<Sp<serde_json::Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    BeginsWith,
    Contains,
    Exists,
    NotExists,
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Relationship {
    #[schemars(with = "RelationshipKind")]
    pub kind: Sp<RelationshipKind>,
    /// The "one" side, or the first side of a many-to-many.
    #[schemars(with = "String")]
    pub from: Sp<String>,
    /// The "many" side, or the second side of a many-to-many.
    #[schemars(with = "String")]
    pub to: Sp<String>,
    /// Relationship entities of a many-to-many (one, or one per direction).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub through: Vec<Sp<String>>,
    /// The access pattern that lists `to` items for a `from` item.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub pattern: Option<Sp<String>>,
    /// Whether `link_` requires both ends to exist (a condition check on each, in the
    /// same transaction). Off by default: each check costs a write unit.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub check_ends: Option<Sp<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipKind {
    OneToMany,
    ManyToMany,
}

/// A YAML mapping kept in declaration order. Duplicate keys are already rejected by the
/// YAML reader; the validator still checks names that collide after case conversion.
#[derive(Debug)]
pub struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<K, V> OrderedMap<K, V> {
    pub fn iter(&self) -> impl Iterator<Item = &(K, V)> {
        self.0.iter()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for MapVisitor<K, V> {
            type Value = OrderedMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}
