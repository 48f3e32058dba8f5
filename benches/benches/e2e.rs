//! End to end against DynamoDB Local: put, get and query through the generated repository
//! versus the same SDK calls written by hand (with the hand-written conversion), measured
//! interleaved; and the number of BatchWriteItem calls for 1,000 items.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::types::AttributeValue;
use dyngen_bench::baselines::{self, Order as Hand};
use dyngen_bench::generated::{Db, OrderKey};
use dyngen_bench::median;
use dyngen_bench::{hand, order};
use dyngen_runtime::local::{DynamoDbLocal, unique_table_name};

const OPS: usize = 300;
const ROUNDS: usize = 7;

#[derive(Debug, Clone, Default)]
struct CountBatchWrites(Arc<AtomicUsize>);

impl Intercept for CountBatchWrites {
    fn name(&self) -> &'static str {
        "count-batch-writes"
    }
    fn read_before_execution(
        &self,
        cx: &BeforeSerializationInterceptorContextRef<'_>,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if cx
            .input()
            .downcast_ref::<aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput>()
            .is_some()
        {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() {
    let local = DynamoDbLocal::shared().unwrap_or_else(|e| panic!("{e}"));
    let counter = CountBatchWrites::default();
    let client = local.client_with(|b| b.interceptor(counter.clone()));
    let table = unique_table_name("bench");
    let db = Db::new(client.clone()).with_table_name(&table);
    db.create_table().await.unwrap();

    // Batch write: 1,000 items in requests of 25.
    let mut batch = db.batch_write();
    for i in 0..1000 {
        batch = batch.put(&order("batch", i));
    }
    let start = Instant::now();
    batch.send().await.unwrap();
    println!(
        "batch write of 1,000 items: {} BatchWriteItem calls (target <= 40), {:.0} ms",
        counter.0.load(Ordering::SeqCst),
        start.elapsed().as_secs_f64() * 1000.0
    );

    // Seed a partition for the queries.
    let mut batch = db.batch_write();
    for i in 0..20 {
        batch = batch.put(&order("q", i));
    }
    batch.send().await.unwrap();

    let mut gen_put = Vec::new();
    let mut hand_put = Vec::new();
    let mut gen_get = Vec::new();
    let mut hand_get = Vec::new();
    let mut gen_query = Vec::new();
    let mut hand_query = Vec::new();
    // One warm-up round (the server's JIT), then measured rounds; within a round the two
    // variants alternate which goes first.
    for round in 0..=ROUNDS {
        let (gc, hc) = (format!("g{round}"), format!("h{round}"));
        let gen_first = round % 2 == 0;
        let mut times = [0.0f64; 6];
        for pass in 0..2 {
            let generated = (pass == 0) == gen_first;
            let slot = usize::from(!generated);
            let t = Instant::now();
            if generated {
                for i in 0..OPS {
                    db.order().create(&order(&gc, i)).await.unwrap();
                }
            } else {
                for i in 0..OPS {
                    let item = baselines::to_item(&hand(&order(&hc, i)));
                    client
                        .put_item()
                        .table_name(&table)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", "pk")
                        .send()
                        .await
                        .unwrap();
                }
            }
            times[slot] = t.elapsed().as_secs_f64();
            let t = Instant::now();
            if generated {
                for i in 0..OPS {
                    let o = db
                        .order()
                        .get(&OrderKey {
                            customer: gc.clone(),
                            id: format!("o{i:06}"),
                        })
                        .await
                        .unwrap()
                        .unwrap();
                    std::hint::black_box(o);
                }
            } else {
                for i in 0..OPS {
                    let out = client
                        .get_item()
                        .table_name(&table)
                        .key("pk", AttributeValue::S(format!("customer#{hc}")))
                        .key("sk", AttributeValue::S(format!("order#o{i:06}")))
                        .send()
                        .await
                        .unwrap();
                    std::hint::black_box(baselines::from_item_owned(out.item.unwrap()).unwrap());
                }
            }
            times[2 + slot] = t.elapsed().as_secs_f64();
            let t = Instant::now();
            if generated {
                for _ in 0..OPS / 4 {
                    let page = db.orders_of_customer("q").send().await.unwrap();
                    assert_eq!(page.items.len(), 20);
                }
            } else {
                for _ in 0..OPS / 4 {
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
            times[4 + slot] = t.elapsed().as_secs_f64();
        }
        if round == 0 {
            continue;
        }
        gen_put.push(times[0]);
        hand_put.push(times[1]);
        gen_get.push(times[2]);
        hand_get.push(times[3]);
        gen_query.push(times[4]);
        hand_query.push(times[5]);
    }
    println!(
        "end to end against DynamoDB Local (median of {ROUNDS} rounds, {OPS} puts and gets, {} queries of 20 items per round):",
        OPS / 4
    );
    for (name, g, h, n) in [
        ("put", gen_put, hand_put, OPS),
        ("get", gen_get, hand_get, OPS),
        ("query", gen_query, hand_query, OPS / 4),
    ] {
        let (g, h) = (median(g), median(h));
        println!(
            "  {name:<5} generated {:>7.0} ops/s, hand-written {:>7.0} ops/s, overhead {:+.1}% (target <= 3%)",
            n as f64 / g,
            n as f64 / h,
            (g / h - 1.0) * 100.0
        );
    }
}
