//! Request expressions: the placeholders of attribute names and values one request uses,
//! and how a key is shown in messages. Shared by every module that builds a request.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::item::{Item, key_text};
use crate::table::TableDesign;

/// Shows a key for messages: `(pk, sk)`.
pub fn describe_key(design: &TableDesign, key: &Item) -> String {
    key_text(key, design.partition_key, design.sort_key)
}

/// Placeholder names and values for one expression; every attribute name is aliased,
/// so reserved words (`name`, `type`, `status`) never break a request.
#[derive(Default, Clone)]
pub struct Expr {
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
    /// Attribute name → its placeholder, so a repeated name is found in constant time.
    by_attr: HashMap<String, String>,
}

impl Expr {
    /// The placeholder of an attribute name (`#n0`, …), the same one each time.
    pub fn name(&mut self, attr: &str) -> String {
        if let Some(k) = self.by_attr.get(attr) {
            return k.clone();
        }
        let k = format!("#n{}", self.names.len());
        self.names.insert(k.clone(), attr.to_string());
        self.by_attr.insert(attr.to_string(), k.clone());
        k
    }
    /// A new placeholder for a value (`:v0`, …).
    pub fn value(&mut self, v: AttributeValue) -> String {
        let k = format!(":v{}", self.values.len());
        self.values.insert(k.clone(), v);
        k
    }
    /// The maps for a request, moved out (DynamoDB rejects empty ones, so those are `None`).
    #[allow(clippy::type_complexity)]
    pub(crate) fn into_maps(
        self,
    ) -> (
        Option<HashMap<String, String>>,
        Option<HashMap<String, AttributeValue>>,
    ) {
        (
            (!self.names.is_empty()).then_some(self.names),
            (!self.values.is_empty()).then_some(self.values),
        )
    }
}
