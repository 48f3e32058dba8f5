//! The migration runner: applies pending migrations in order, under a lease lock held in
//! the table, and records each one in a ledger item. `Db::migrate` and `dyngen migrate`
//! both call [`run`].

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::backfill::backfill;
use super::common::{Keys, MigrateError, Options, Report, now_millis, sdk, seq};
use super::lease::Lease;
use super::model::{Migration, Step, TableDef};
use super::tables::{create_index, create_table, delete_index};

fn table_def(migrations: &[Migration]) -> Result<&TableDef, MigrateError> {
    match migrations.first().and_then(|m| m.steps.first()) {
        Some(Step::CreateTable(t)) => Ok(t),
        _ => Err(MigrateError::Invalid(
            "the first migration must create the table".into(),
        )),
    }
}

/// The applied migrations recorded in the table: name → checksum. Empty if the table
/// does not exist.
async fn applied(
    client: &Client,
    table: &str,
    keys: &Keys,
) -> Result<Option<Vec<(String, String)>>, MigrateError> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let partition = Keys::value(&keys.pk, "#dyngen#migrations", -1);
        let res = client
            .query()
            .table_name(table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", &keys.pk.name)
            .expression_attribute_values(":pk", partition)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await;
        let page = match res {
            Ok(p) => p,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(sdk(e)),
        };
        for item in page.items() {
            let name = item
                .get("migration")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            let checksum = item
                .get("checksum")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            out.push((name, checksum));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(Some(out));
        }
    }
}

/// Checks the ledger against the code; returns the migrations still to apply.
fn pending<'a>(
    migrations: &'a [Migration],
    applied: &[(String, String)],
) -> Result<Vec<&'a Migration>, MigrateError> {
    let mut errors = Vec::new();
    for (name, checksum) in applied {
        match migrations.iter().find(|m| &m.name == name) {
            None => errors.push(MigrateError::Missing { name: name.clone() }),
            Some(m) if &m.checksum != checksum => errors.push(MigrateError::Edited {
                name: name.clone(),
                applied: checksum.clone(),
                now: m.checksum.clone(),
            }),
            Some(_) => {}
        }
    }
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    Ok(migrations
        .iter()
        .filter(|m| !applied.iter().any(|(n, _)| n == &m.name))
        .collect())
}

/// The names of the migrations a run would apply, without changing anything.
pub async fn plan(
    client: &Client,
    table: &str,
    migrations: &[Migration],
) -> Result<Vec<String>, MigrateError> {
    let def = table_def(migrations)?;
    let keys = Keys {
        pk: def.partition_key.clone(),
        sk: def.sort_key.clone(),
    };
    let done = applied(client, table, &keys).await?.unwrap_or_default();
    Ok(pending(migrations, &done)?
        .into_iter()
        .map(|m| m.name.clone())
        .collect())
}

/// Applies every pending migration, in order, under a lock held in the table. Cheap when
/// nothing is pending (one consistent Query), so it can run at every cold start.
pub async fn run(
    client: &Client,
    table: &str,
    migrations: &[Migration],
    options: &Options,
) -> Result<Report, MigrateError> {
    let def = table_def(migrations)?;
    let keys = Keys {
        pk: def.partition_key.clone(),
        sk: def.sort_key.clone(),
    };
    let mut report = Report::default();
    let done = match applied(client, table, &keys).await? {
        Some(done) => done,
        None => {
            report.created_table = create_table(client, table, def, options).await?;
            Vec::new()
        }
    };
    if pending(migrations, &done)?.is_empty() {
        report.already_applied = done.len();
        return Ok(report);
    }
    let lease = Lease::acquire(client, table, &keys, options).await?;
    let result = apply_pending(
        client,
        table,
        &keys,
        migrations,
        options,
        &lease,
        &mut report,
    )
    .await;
    let released = lease.release(client, table, &keys).await;
    result?;
    released?;
    Ok(report)
}

async fn apply_pending(
    client: &Client,
    table: &str,
    keys: &Keys,
    migrations: &[Migration],
    options: &Options,
    lease: &Lease,
    report: &mut Report,
) -> Result<(), MigrateError> {
    // Read again under the lock: another runner may have applied some meanwhile.
    let done = applied(client, table, keys).await?.unwrap_or_default();
    let todo = pending(migrations, &done)?;
    report.already_applied = done.len();
    for m in todo {
        for step in &m.steps {
            lease.renew(client, table, keys, options).await?;
            match step {
                Step::CreateTable(def) => {
                    report.created_table |= create_table(client, table, def, options).await?;
                }
                Step::CreateIndex(ix) => create_index(client, table, ix, options).await?,
                Step::DeleteIndex { name } => delete_index(client, table, name, options).await?,
                Step::Backfill(b) => {
                    report.backfilled += backfill(client, table, keys, m, b, options, lease).await?
                }
            }
        }
        record(client, table, keys, m).await?;
        report.applied.push(m.name.clone());
    }
    Ok(())
}

async fn record(
    client: &Client,
    table: &str,
    keys: &Keys,
    m: &Migration,
) -> Result<(), MigrateError> {
    let mut item = keys.ledger(seq(&m.name), &m.name);
    item.insert("migration".into(), AttributeValue::S(m.name.clone()));
    item.insert("checksum".into(), AttributeValue::S(m.checksum.clone()));
    item.insert(
        "appliedAt".into(),
        AttributeValue::N(now_millis().to_string()),
    );
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", &keys.pk.name)
        .send()
        .await
        .map_err(sdk)?;
    Ok(())
}
