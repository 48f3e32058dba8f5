//! The intermediate representation: a resolved, checked, ordered model of the schema.
//!
//! Emitters read only this. Every name an emitter prints (Rust identifiers, DynamoDB
//! attribute names, index names) is decided here by the lowering pass through
//! [`crate::naming`], and every collection is in declaration order, so output is
//! deterministic. No YAML types, no spans.

/// The whole schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Name of the schema file as the user gave it (for headers; never absolute).
    pub source_name: String,
    pub table: Table,
    pub entities: Vec<Entity>,
    pub patterns: Vec<Pattern>,
    pub relationships: Vec<Relationship>,
    /// Sorted by name.
    pub consumers: Vec<Consumer>,
    /// Derive serde's traits on entities, keys and enums.
    pub serde: bool,
    /// Generate `TableChange` for the table's stream.
    pub streams: bool,
    /// The `TableChange` variant for items of no entity: `Other`, unless an entity has
    /// that name (decided in the naming pass).
    pub other_change: String,
}

/// An application with its own IAM policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub name: String,
    pub doc: Option<String>,
    /// Positions in [`Schema::patterns`].
    pub patterns: Vec<usize>,
    /// (entity, operations), operations sorted and deduplicated.
    pub entity_ops: Vec<(usize, Vec<crate::ast::EntityOp>)>,
    /// Attribute → IAM policy variable its partition keys are restricted to.
    pub leading_keys: Option<Vec<(String, String)>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub partition_key: String,
    /// `None`: a partition key only.
    pub sort_key: Option<String>,
    pub entity_type_attribute: String,
    pub billing: Billing,
    pub ttl_attribute: Option<String>,
    pub stream: Option<crate::ast::StreamView>,
    pub point_in_time_recovery: bool,
    pub deletion_protection: bool,
    /// Integers beyond ±(2^53 − 1) are refused before any request.
    pub safe_integers: bool,
    /// String values in keys are escaped unless an entity or placeholder says otherwise.
    pub escape: bool,
    /// Global secondary indexes in declaration order.
    pub indexes: Vec<Index>,
}

impl Table {
    /// Partition and sort key attribute names of an index.
    pub fn key_attributes(&self, index: IndexRef) -> (&str, Option<&str>) {
        match index {
            IndexRef::Primary => (&self.partition_key, self.sort_key.as_deref()),
            IndexRef::Gsi(i) => {
                let ix = &self.indexes[i];
                (&ix.partition_key, ix.sort_key.as_deref())
            }
        }
    }

    /// Whether queries on `index` may read consistently: the table and local indexes.
    pub fn consistent_reads(&self, index: IndexRef) -> bool {
        match index {
            IndexRef::Primary => true,
            IndexRef::Gsi(i) => self.indexes[i].local,
        }
    }

    /// `primary` for the table's own key, else the GSI's name.
    pub fn index_name(&self, index: IndexRef) -> &str {
        match index {
            IndexRef::Primary => "primary",
            IndexRef::Gsi(i) => &self.indexes[i].name,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    OnDemand,
    Provisioned { read: u32, write: u32 },
}

/// Which index a key or pattern uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexRef {
    Primary,
    /// Position in [`Table::indexes`].
    Gsi(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub name: String,
    /// A local secondary index: `partition_key` is the table's.
    pub local: bool,
    /// The partition key; of a multi-attribute key, its first attribute.
    pub partition_key: String,
    /// The sort key; of a multi-attribute key, its last attribute.
    pub sort_key: Option<String>,
    pub projection: Projection,
    /// A multi-attribute key: the entities' own attributes, each stored once.
    pub composite: Option<Composite>,
}

/// The attributes of a multi-attribute index key, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composite {
    pub partition: Vec<String>,
    pub sort: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// Name as written in the schema.
    pub name: String,
    /// The value of the entity-type attribute on its items (`type_value`, or the name).
    pub type_value: String,
    /// Rust type name (UpperCamelCase, escaped).
    pub type_ident: String,
    /// Rust module / function-prefix name (snake_case, escaped).
    pub snake_ident: String,
    pub doc: Option<String>,
    pub attributes: Vec<Attribute>,
    /// One key per index the entity lives in; the primary key comes first.
    pub keys: Vec<EntityKey>,
    /// Attribute names of the maintained timestamps, if any.
    pub created_at: Option<usize>,
    pub updated_at: Option<usize>,
    /// Position in `attributes` of the optimistic-locking version attribute.
    pub version: Option<usize>,
    /// Position in `attributes` of the TTL attribute.
    pub ttl: Option<usize>,
    /// The update builder's setters, named by [`crate::names`].
    pub setters: Vec<Setter>,
    /// Unique constraints, attribute-level ones first, then the entity's list.
    pub uniques: Vec<Unique>,
}

/// Attributes whose values, together, belong to at most one item of the entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unique {
    /// The attributes' names joined by `+`: the name in guard keys and errors.
    pub name: String,
    /// Positions in the entity's `attributes`.
    pub attrs: Vec<usize>,
}

/// One method of an entity's update builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setter {
    pub kind: SetterKind,
    /// Position in the entity's `attributes`.
    pub attr: usize,
    /// The method's Rust name.
    pub ident: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetterKind {
    /// Sets the value (and rewrites the index keys built from it).
    Set,
    /// Removes an optional value.
    Remove,
    /// Adds to a number atomically.
    Add,
    /// Appends to a list.
    Append,
    /// Adds members to a set.
    AddTo,
    /// Removes members from a set.
    RemoveFrom,
    /// Names the stored value of an input of a key built from `updatedAt` that the primary
    /// key does not give: every update rewrites that key, so it needs the value.
    With,
}

impl SetterKind {
    /// The method-name prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            SetterKind::Set => "set",
            SetterKind::Remove => "remove",
            SetterKind::Add => "add",
            SetterKind::Append => "append",
            SetterKind::AddTo => "add_to",
            SetterKind::RemoveFrom => "remove_from",
            SetterKind::With => "with",
        }
    }
}

/// The `Db` methods of a many-to-many relationship with one item per direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkMethods {
    pub link: String,
    pub unlink: String,
}

/// Who sets an attribute's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrRole {
    /// The application.
    Data,
    /// Set by dyngen when the item is created.
    CreatedAt,
    /// Set by dyngen on every write.
    UpdatedAt,
    /// Incremented by dyngen on every write; checked for optimistic locking.
    Version,
    /// The table's TTL attribute: epoch seconds.
    Ttl,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// DynamoDB attribute name.
    pub name: String,
    /// Rust field ident (snake_case, raw or renamed when it is a keyword).
    pub field_ident: String,
    pub ty: Type,
    pub optional: bool,
    pub default: Option<Literal>,
    pub doc: Option<String>,
    pub role: AttrRole,
    /// How a timestamp is written (`stored_as`); `Rfc3339` for every other type.
    pub stored_as: crate::ast::StoredAs,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    String,
    Integer,
    Float,
    Bool,
    Timestamp,
    Date,
    Enum(EnumType),
    List(Box<Type>),
    StringSet,
    NumberSet,
    Map(Box<Type>),
}

impl Type {
    /// Whether a value of this type can be rendered into a key template.
    pub fn is_key_compatible(&self) -> bool {
        matches!(
            self,
            Type::String
                | Type::Integer
                | Type::Bool
                | Type::Timestamp
                | Type::Date
                | Type::Enum(_)
        )
    }

    /// Whether a sort key made only of this type may be compared as a string prefix.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Integer | Type::Float)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    /// Rust type name, e.g. `UserRole`.
    pub type_ident: String,
    pub variants: Vec<EnumVariant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumVariant {
    /// Stored value.
    pub value: String,
    pub ident: String,
}

/// A constant from the schema (a default or a fixed input), already checked against its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    String(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    /// An enum variant, by position.
    Enum(usize),
    /// An empty list, set or map.
    Empty,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EntityKey {
    pub index: IndexRef,
    pub pk: Template,
    pub sk: Option<Template>,
    /// The entity appears in this (secondary) index only when every optional attribute
    /// its templates use is present.
    pub sparse: bool,
    /// A key on a multi-attribute index: each placeholder is a key attribute of its own,
    /// compared by value (the templates only list them).
    pub composite: bool,
}

impl EntityKey {
    /// The placeholders of the partition then the sort template.
    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.pk
            .placeholders()
            .chain(self.sk.iter().flat_map(Template::placeholders))
    }

    /// The placeholders in first-use order, each once: the inputs of the key.
    pub fn distinct_placeholders(&self) -> Vec<Placeholder> {
        let mut out: Vec<Placeholder> = Vec::new();
        for ph in self.placeholders() {
            if !out.contains(ph) {
                out.push(ph.clone());
            }
        }
        out
    }

    /// Whether a template of this key uses the attribute.
    pub fn uses(&self, attr: usize) -> bool {
        self.placeholders().any(|p| p.attr == attr)
    }
}

/// A key template such as `company#{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub source: String,
    pub parts: Vec<Part>,
}

impl Template {
    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.parts.iter().filter_map(|p| match p {
            Part::Placeholder(ph) => Some(ph),
            Part::Literal(_) => None,
        })
    }

    pub fn is_constant(&self) -> bool {
        self.placeholders().next().is_none()
    }

    /// The literal text before the first placeholder.
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Literal(l)) => l,
            _ => "",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    Placeholder(Placeholder),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// Position in the entity's `attributes`.
    pub attr: usize,
    pub format: PlaceholderFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceholderFormat {
    /// The attribute's value, escaped.
    Value,
    /// The four-digit year of a date or timestamp.
    Year,
    /// An integer zero-padded to this many digits (`{number:07}`), so that string order
    /// is number order.
    Padded(u8),
    /// A string or enum value as it is, not escaped (`{email:raw}`, or `escape: false`);
    /// a value holding the delimiter is refused before the request.
    Raw,
}

/// A key attribute holds one DynamoDB type for every entity: `N` where a template is a
/// single integer placeholder, `S` otherwise.
pub fn template_is_numeric(t: &Template, attrs: &[Attribute]) -> bool {
    matches!(t.parts.as_slice(), [Part::Placeholder(p)] if p.format == PlaceholderFormat::Value && attrs[p.attr].ty == Type::Integer)
}

/// Whether `template`, for the key attribute `key_attr`, is the attribute of that name,
/// whole (`{GameTitle}` for the index key `GameTitle`): an attribute key.
pub fn is_attribute_key(template: &Template, attrs: &[Attribute], key_attr: &str) -> bool {
    matches!(template.parts.as_slice(), [Part::Placeholder(ph)]
        if ph.format.is_plain() && attrs[ph.attr].name == key_attr)
}

impl PlaceholderFormat {
    /// The value itself, escaped or raw (not a year or a padding).
    pub fn is_plain(self) -> bool {
        matches!(self, PlaceholderFormat::Value | PlaceholderFormat::Raw)
    }
    /// How a template writes it after the attribute's name: ``, `:year`, `:07`.
    pub fn suffix(self) -> String {
        match self {
            PlaceholderFormat::Value => String::new(),
            PlaceholderFormat::Year => ":year".into(),
            PlaceholderFormat::Padded(w) => format!(":{w:02}"),
            PlaceholderFormat::Raw => ":raw".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub name: String,
    /// Rust method ident (snake_case).
    pub method_ident: String,
    /// Rust type prefix for the pattern's own types (UpperCamelCase).
    pub type_ident: String,
    pub doc: Option<String>,
    /// Positions in [`Schema::entities`]; more than one for an item collection.
    pub entities: Vec<usize>,
    pub index: IndexRef,
    /// The caller's parameters, in order, named after the first entity's attributes.
    pub inputs: Vec<Input>,
    /// Placeholders the pattern fixes.
    pub fixed: Vec<(Placeholder, Literal)>,
    pub sort: SortCondition,
    pub descending: bool,
    pub limit: Option<u32>,
    /// Attribute names to read; `None` reads everything.
    pub projection: Option<Vec<String>>,
    pub filters: Vec<Filter>,
    /// Sorted, deduplicated.
    pub consumers: Vec<String>,
    /// Parameters bounding the sort key (`x`, or `x_from` and `x_to`), named by
    /// [`crate::names`].
    pub range_params: Vec<String>,
    /// The TTL attribute, when the pattern skips items whose time to live has passed.
    pub skip_expired: Option<String>,
}

/// A template input of a pattern: a placeholder of the first entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub placeholder: Placeholder,
    /// Rust parameter ident.
    pub param_ident: String,
}

/// The sort-key condition of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortCondition {
    /// The index has no sort key, or the pattern reads the whole partition.
    None,
    /// Every sort-key placeholder is given.
    Equals,
    /// The sort key starts with the template rendered up to the first missing placeholder.
    BeginsWith,
    /// The caller bounds the first missing placeholder (`range`).
    Compare { op: CompareOp, range: Placeholder },
    /// An item collection's condition with literal bounds (`values`: one, or two for
    /// `between`).
    Literal { op: LiteralOp, values: Vec<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralOp {
    BeginsWith,
    Between,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl LiteralOp {
    /// The key condition on `#sk`, with the values `:sk` (or `:lo` and `:hi`).
    pub fn condition(self) -> &'static str {
        match self {
            LiteralOp::BeginsWith => "begins_with(#sk, :sk)",
            LiteralOp::Between => "#sk BETWEEN :lo AND :hi",
            LiteralOp::Lt => "#sk < :sk",
            LiteralOp::Lte => "#sk <= :sk",
            LiteralOp::Gt => "#sk > :sk",
            LiteralOp::Gte => "#sk >= :sk",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Between,
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Position in the first entity's attributes.
    pub attr: usize,
    pub op: FilterOp,
    /// `None`: the caller gives the value (unless the operator takes none).
    pub value: Option<Literal>,
    /// Rust parameter ident when the caller gives the value.
    pub param_ident: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl FilterOp {
    pub fn takes_value(self) -> bool {
        !matches!(self, FilterOp::Exists | FilterOp::NotExists)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    pub name: String,
    pub kind: RelationshipKind,
    pub from: usize,
    pub to: usize,
    pub through: Vec<usize>,
    pub pattern: Option<usize>,
    /// `link_`/`unlink_` methods, named by [`crate::names`].
    pub methods: Option<LinkMethods>,
    /// With `check_ends`: the end items `link_` requires, `from` then `to`.
    pub end_checks: Vec<EndCheck>,
}

/// An end of a relationship whose existence `link_` checks: its primary key built from
/// the relationship items' attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndCheck {
    pub end: usize,
    /// Each distinct placeholder of the end's primary key, with the relationship item
    /// (entity) and its attribute that gives the value.
    pub inputs: Vec<(Placeholder, usize, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationshipKind {
    OneToMany,
    ManyToMany,
}

impl Schema {
    pub fn index_name(&self, index: IndexRef) -> &str {
        self.table.index_name(index)
    }

    /// Partition and sort key attribute names of an index.
    pub fn key_attributes(&self, index: IndexRef) -> (&str, Option<&str>) {
        self.table.key_attributes(index)
    }

    /// The key attributes an entity's key writes as keys: not a local index's partition
    /// key (the table's, written by the primary key), nor an attribute key (the entity's
    /// own attribute, written as such).
    pub fn written_key_attributes(
        &self,
        entity: &Entity,
        key: &EntityKey,
    ) -> (Option<&str>, Option<&str>) {
        let (pk, sk) = self.key_attributes(key.index);
        if matches!(key.index, IndexRef::Gsi(i) if self.table.indexes[i].composite.is_some()) {
            // The key is the entity's own attributes: nothing derived to write.
            return (None, None);
        }
        let local = matches!(key.index, IndexRef::Gsi(i) if self.table.indexes[i].local);
        let pk = Some(pk).filter(|pk| !local && !entity.attribute_key(pk, &key.pk));
        let sk = sk.filter(|sk| !key.sk.as_ref().is_some_and(|t| entity.attribute_key(sk, t)));
        (pk, sk)
    }

    /// The key attributes the entity's writes compute for `key`, each with its template
    /// ([`Schema::written_key_attributes`]).
    pub fn written_keys<'s, 'k>(
        &'s self,
        entity: &Entity,
        key: &'k EntityKey,
    ) -> Vec<(&'s str, &'k Template)> {
        let (pk, sk) = self.written_key_attributes(entity, key);
        pk.map(|a| (a, &key.pk))
            .into_iter()
            .chain(sk.zip(key.sk.as_ref()))
            .collect()
    }

    /// The keys whose written templates use `attr`: those a setter of `attr` rewrites
    /// (and a remover removes). An attribute key is the attribute itself, never rewritten.
    pub fn keys_writing<'e>(
        &self,
        entity: &'e Entity,
        attr: usize,
    ) -> impl Iterator<Item = &'e EntityKey> {
        entity.keys_using(attr).filter(move |k| {
            self.written_keys(entity, k)
                .iter()
                .any(|(_, t)| t.placeholders().any(|p| p.attr == attr))
        })
    }

    /// The attributes that the written templates of `keys` use besides `own`, which an
    /// update of `own` must be given: neither the primary key (the update's own key) nor
    /// the update time (stamped by the update) gives them. Only written templates count:
    /// an attribute key is the attribute itself, never rewritten.
    pub fn key_inputs_besides(
        &self,
        entity: &Entity,
        own: usize,
        keys: &[&EntityKey],
    ) -> Vec<usize> {
        let primary = entity.primary_key().distinct_placeholders();
        let mut out: Vec<usize> = Vec::new();
        for k in keys {
            for (_, t) in self.written_keys(entity, k) {
                for ph in t.placeholders() {
                    let stamped = Some(ph.attr) == entity.updated_at;
                    if ph.attr != own
                        && !stamped
                        && !primary.contains(ph)
                        && !out.contains(&ph.attr)
                    {
                        out.push(ph.attr);
                    }
                }
            }
        }
        out
    }

    /// The inputs of the keys built from `updatedAt` that the primary key does not give:
    /// every update rewrites those keys, so it takes each one (checked against the stored
    /// item) or sets it.
    pub fn restamp_inputs(&self, entity: &Entity) -> Vec<usize> {
        let Some(u) = entity.updated_at else {
            return Vec::new();
        };
        let keys: Vec<&EntityKey> = self.keys_writing(entity, u).collect();
        self.key_inputs_besides(entity, u, &keys)
    }

    /// Every attribute name that belongs to some key (table or index).
    /// Whether `index` has a multi-attribute key (its keys are the entities' attributes,
    /// compared attribute by attribute, never as text).
    pub fn is_composite(&self, index: IndexRef) -> bool {
        matches!(index, IndexRef::Gsi(i) if self.table.indexes[i].composite.is_some())
    }

    pub fn all_key_attributes(&self) -> Vec<&str> {
        let mut out = vec![self.table.partition_key.as_str()];
        out.extend(self.table.sort_key.as_deref());
        for ix in &self.table.indexes {
            match &ix.composite {
                Some(c) => out.extend(c.partition.iter().chain(&c.sort).map(String::as_str)),
                None => {
                    out.push(&ix.partition_key);
                    out.extend(ix.sort_key.as_deref());
                }
            }
        }
        out
    }
}

impl Entity {
    pub fn key_for(&self, index: IndexRef) -> Option<&EntityKey> {
        self.keys.iter().find(|k| k.index == index)
    }

    /// The Rust name of a placeholder used as a parameter or key field: the field name,
    /// or `<field>_year` for the `:year` format.
    pub fn placeholder_ident(&self, ph: &Placeholder) -> String {
        let attr = &self.attributes[ph.attr];
        match ph.format {
            PlaceholderFormat::Value | PlaceholderFormat::Raw | PlaceholderFormat::Padded(_) => {
                attr.field_ident.clone()
            }
            PlaceholderFormat::Year => crate::naming::snake_ident(&format!(
                "{}_year",
                crate::naming::bare(&attr.field_ident)
            ))
            .unwrap_or_else(|| "year".to_string()),
        }
    }

    /// Whether `template`, for the key attribute `key_attr`, is the entity's attribute of
    /// that name, whole (`{GameTitle}` for the index key `GameTitle`): an attribute key,
    /// stored once, as the attribute's own value, not as an escaped copy.
    pub fn attribute_key(&self, key_attr: &str, template: &Template) -> bool {
        is_attribute_key(template, &self.attributes, key_attr)
    }

    /// The widths an attribute is zero-padded to in the entity's key templates.
    pub fn padded_widths(&self, attr: usize) -> std::collections::BTreeSet<u8> {
        self.keys
            .iter()
            .flat_map(|k| k.placeholders())
            .filter_map(|ph| match ph.format {
                PlaceholderFormat::Padded(w) if ph.attr == attr => Some(w),
                _ => None,
            })
            .collect()
    }

    /// The keys whose templates use the attribute.
    /// The keys a write must rebuild when `attr` changes. A multi-attribute key is the
    /// attributes themselves, so it is never among them.
    pub fn keys_using(&self, attr: usize) -> impl Iterator<Item = &EntityKey> {
        self.keys
            .iter()
            .filter(move |k| !k.composite && k.uses(attr))
    }

    /// The placeholder of a primary partition key that is a number (`pk: "{id}"` over an
    /// integer): it holds 0 and above, since dyngen keeps its own items under negative
    /// partition keys of such a table.
    pub fn numeric_partition_key(&self) -> Option<&Placeholder> {
        let pk = &self.lowered_primary_key()?.pk;
        template_is_numeric(pk, &self.attributes)
            .then(|| pk.placeholders().next())
            .flatten()
    }

    pub fn primary_key(&self) -> &EntityKey {
        // The lowering pass refuses an entity without a primary key.
        &self.keys[0]
    }

    /// The primary key while validating, when an entity's keys may have been refused.
    pub fn lowered_primary_key(&self) -> Option<&EntityKey> {
        self.keys.first().filter(|k| k.index == IndexRef::Primary)
    }
}
