//! The invariant every stored item of the write-model design must keep, checked on what a
//! Scan returns: each key attribute (the table's and every index's) is exactly what the
//! entity's templates give for the item's stored attributes, and an index key is absent
//! exactly when the item is not in that (sparse) index.

use aws_sdk_dynamodb::types::AttributeValue;
use dyngen_app_tests::write_model::*;
use dyngen_runtime::{Entity, Item};

/// Every item of the table, by a paginated Scan.
pub async fn scan(db: &Db) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = db
            .client()
            .scan()
            .table_name(db.table_name())
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .expect("scan");
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// The stored item's key attributes against its entity's templates; `Err` says which
/// attribute of which item is wrong.
pub fn check_keys(item: &Item) -> Result<(), String> {
    let ty = match item.get(DESIGN.entity_type_attribute) {
        Some(AttributeValue::S(t)) => t.as_str(),
        other => return Err(format!("item without an entity type ({other:?}): {item:?}")),
    };
    match ty {
        "Repo" => keys_match::<Repo>(item),
        "Task" => keys_match::<Task>(item),
        "Team" => keys_match::<Team>(item),
        "Account" => keys_match::<Account>(item),
        "TeamMember" => keys_match::<TeamMember>(item),
        "MemberTeam" => keys_match::<MemberTeam>(item),
        "Session" => keys_match::<Session>(item),
        "Ticket" => keys_match::<Ticket>(item),
        // Unique guards: checked against the model (`tickets.rs`).
        "#dyngen#unique" => Ok(()),
        other => Err(format!("unknown entity type {other}")),
    }
}

fn keys_match<E: Entity>(item: &Item) -> Result<(), String> {
    let value = E::from_item(item).map_err(|e| format!("does not decode: {e}"))?;
    let expected = value.to_item();
    let rendered = |attr: &str| {
        (expected.get(attr)).filter(|v| !matches!(v, AttributeValue::S(s) if s.is_empty()))
    };
    // The table's own key attributes are each checked alone (a table may lack a sort key).
    let primary = [[DESIGN.partition_key], [DESIGN.sort_key]];
    let primary = primary.iter().map(|k| k.as_slice());
    for index in primary.chain(E::INDEX_KEYS.iter().copied()) {
        // An index key that renders empty (or not at all) is not written, and neither is
        // any other attribute of that index's key: the item is not in that index.
        let in_index = index.iter().all(|attr| rendered(attr).is_some());
        for attr in index {
            let want = rendered(attr).filter(|_| in_index);
            let got = item.get(*attr);
            if want != got {
                return Err(format!(
                    "{} item: `{attr}` is {got:?}, its templates give {want:?}; item: {item:?}",
                    E::ENTITY_TYPE
                ));
            }
        }
    }
    Ok(())
}

/// Every item of the table keeps the key invariant.
pub async fn check_table(db: &Db) -> Result<Vec<Item>, String> {
    let items = scan(db).await;
    for item in &items {
        check_keys(item)?;
    }
    Ok(items)
}
