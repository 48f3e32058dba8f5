//! One kind of request, `N` times, through the generated repository or the same SDK call
//! written by hand: the program `benches/run.sh` runs under cachegrind to count the
//! client's instructions per request (DynamoDB Local is another process, not counted).
//!
//! `request_cost <generated|raw> <get|create|put|update|query> <N>`; N = 0 measures the fixed
//! cost (start-up, table, seed items), which the script subtracts.

use aws_sdk_dynamodb::types::AttributeValue;
use dyngen_bench::baselines::{self, Order as Hand};
use dyngen_bench::generated::{Db, Order, OrderKey};
use dyngen_bench::{hand, order};
use dyngen_runtime::local::{DynamoDbLocal, unique_table_name};

/// Items seeded for `get` and `put`, whatever N is.
const SEED: usize = 200;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (variant, op) = (args[1].as_str(), args[2].as_str());
    let n: usize = args[3].parse().expect("a count");
    let local = DynamoDbLocal::shared().unwrap_or_else(|e| panic!("{e}"));
    let client = local.client();
    let table = unique_table_name("cost");
    let db = Db::new(client.clone()).with_table_name(&table);
    db.create_table().await.unwrap();
    // Items to read: a partition of 20 for queries, and the items `get` and `put` use.
    let mut batch = db.batch_write();
    for i in 0..20 {
        batch = batch.put(&order("q", i));
    }
    // The same fixed work for every N, so a run with N = 0 measures it exactly.
    assert!(n <= SEED, "at most {SEED} requests");
    for i in 0..SEED {
        batch = batch.put(&order("g", i));
    }
    batch.send().await.unwrap();
    let stored: Vec<Order> = if op == "put" {
        let mut v = Vec::with_capacity(SEED);
        for i in 0..SEED {
            let key = OrderKey {
                customer: "g".into(),
                id: format!("o{i:06}"),
            };
            v.push(db.order().get_consistent(&key).await.unwrap().unwrap());
        }
        v
    } else {
        Vec::new()
    };
    match (variant, op) {
        ("generated", "get") => {
            for i in 0..n {
                let key = OrderKey {
                    customer: "g".into(),
                    id: format!("o{i:06}"),
                };
                std::hint::black_box(db.order().get(&key).await.unwrap().unwrap());
            }
        }
        ("raw", "get") => {
            for i in 0..n {
                let out = client
                    .get_item()
                    .table_name(&table)
                    .key("pk", AttributeValue::S("customer#g".into()))
                    .key("sk", AttributeValue::S(format!("order#o{i:06}")))
                    .send()
                    .await
                    .unwrap();
                std::hint::black_box(baselines::from_item_owned(out.item.unwrap()).unwrap());
            }
        }
        ("generated", "create") => {
            for i in 0..n {
                std::hint::black_box(db.order().create(&order("c", i)).await.unwrap());
            }
        }
        ("raw", "create") => {
            for i in 0..n {
                client
                    .put_item()
                    .table_name(&table)
                    .set_item(Some(baselines::to_item_escaping(&hand(&order("c", i)))))
                    .condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", "pk")
                    .send()
                    .await
                    .unwrap();
            }
        }
        ("generated", "put") => {
            for o in &stored[..n] {
                std::hint::black_box(db.order().put(o).await.unwrap());
            }
        }
        ("raw", "put") => {
            // A whole-item replace: what a hand-written upsert without maintained
            // attributes does.
            for o in &stored[..n] {
                client
                    .put_item()
                    .table_name(&table)
                    .set_item(Some(baselines::to_item_escaping(&hand(o))))
                    .send()
                    .await
                    .unwrap();
            }
        }
        ("generated", "update") => {
            for i in 0..n {
                let key = OrderKey {
                    customer: "g".into(),
                    id: format!("o{i:06}"),
                };
                let u = db.order().update(&key).set_status(format!("s{i}"));
                std::hint::black_box(u.send().await.unwrap());
            }
        }
        ("raw", "update") => {
            // The same UpdateItem by hand: the attribute and the index key built from it,
            // on an existing item, returning the item as stored.
            for i in 0..n {
                let out = client
                    .update_item()
                    .table_name(&table)
                    .key("pk", AttributeValue::S("customer#g".into()))
                    .key("sk", AttributeValue::S(format!("order#o{i:06}")))
                    .update_expression("SET #s = :s, #g = :g")
                    .condition_expression("attribute_exists(#pk)")
                    .expression_attribute_names("#s", "status")
                    .expression_attribute_names("#g", "gsi1pk")
                    .expression_attribute_names("#pk", "pk")
                    .expression_attribute_values(":s", AttributeValue::S(format!("s{i}")))
                    .expression_attribute_values(":g", AttributeValue::S(format!("status#s{i}")))
                    .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
                    .send()
                    .await
                    .unwrap();
                std::hint::black_box(baselines::from_item_owned(out.attributes.unwrap()).unwrap());
            }
        }
        ("generated", "query") => {
            for _ in 0..n {
                let page = db.orders_of_customer("q").send().await.unwrap();
                assert_eq!(page.items.len(), 20);
            }
        }
        ("raw", "query") => {
            for _ in 0..n {
                let out = client
                    .query()
                    .table_name(&table)
                    .key_condition_expression("#pk = :pk")
                    .expression_attribute_names("#pk", "pk")
                    .expression_attribute_values(":pk", AttributeValue::S("customer#q".into()))
                    .send()
                    .await
                    .unwrap();
                let items: Vec<Hand> = out
                    .items
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|i| {
                        i.get("_type")
                            .and_then(|t| t.as_s().ok())
                            .is_some_and(|t| t == "Order")
                    })
                    .map(|i| baselines::from_item_owned(i).unwrap())
                    .collect();
                assert_eq!(items.len(), 20);
            }
        }
        other => panic!("unknown variant and operation: {other:?}"),
    }
}
