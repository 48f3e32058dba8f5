//! Table and index operations of the runner: CreateTable, UpdateTable for one index at a
//! time (waiting is in `wait`).

use aws_sdk_dynamodb::Client;

use super::common::{MigrateError, Options, describe, sdk, throughput};
use super::lease::Held;
use super::model::{IndexDef, KeyAttr, ProjectionDef, TableDef};
use super::poll::forget;
use super::settings::reconcile_created;
use super::wait::{Wait, wait_active_held};

/// `(read, write)` capacity of a provisioned table.
fn provisioned(def: &TableDef) -> Option<(i64, i64)> {
    def.capacity
        .map(|c| (i64::from(c.read), i64::from(c.write)))
}

fn key_schema(
    name: &str,
    kt: ::aws_sdk_dynamodb::types::KeyType,
) -> Result<::aws_sdk_dynamodb::types::KeySchemaElement, MigrateError> {
    ::aws_sdk_dynamodb::types::KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kt)
        .build()
        .map_err(sdk)
}

/// The key schema elements of an index, partition attributes first.
fn index_key_schema(
    ix: &IndexDef,
) -> Result<Vec<::aws_sdk_dynamodb::types::KeySchemaElement>, MigrateError> {
    use ::aws_sdk_dynamodb::types::KeyType;
    ix.key_elements()
        .into_iter()
        .map(|(k, range)| key_schema(&k.name, if range { KeyType::Range } else { KeyType::Hash }))
        .collect()
}

fn attribute_definition(
    k: &KeyAttr,
) -> Result<::aws_sdk_dynamodb::types::AttributeDefinition, MigrateError> {
    use ::aws_sdk_dynamodb::types::ScalarAttributeType;
    ::aws_sdk_dynamodb::types::AttributeDefinition::builder()
        .attribute_name(&k.name)
        .attribute_type(if k.numeric() {
            ScalarAttributeType::N
        } else {
            ScalarAttributeType::S
        })
        .build()
        .map_err(sdk)
}

fn projection(p: &ProjectionDef) -> ::aws_sdk_dynamodb::types::Projection {
    use ::aws_sdk_dynamodb::types::ProjectionType;
    let b = ::aws_sdk_dynamodb::types::Projection::builder();
    match p {
        ProjectionDef::All => b.projection_type(ProjectionType::All).build(),
        ProjectionDef::KeysOnly => b.projection_type(ProjectionType::KeysOnly).build(),
        ProjectionDef::Include(list) => b
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(list.clone()))
            .build(),
    }
}

/// Creates the table with the given indexes unless it exists, and waits until it and
/// every index are ACTIVE; returns whether this call created it. Two runners racing here is
/// fine: the loser sees ResourceInUseException and waits like the winner.
pub async fn create_table(
    client: &Client,
    table: &str,
    def: &TableDef,
    options: &Options,
) -> Result<bool, MigrateError> {
    create_table_held(client, table, def, options, None).await
}

/// The CreateTable request of a table definition: keys, attribute definitions, global
/// and local indexes, billing, stream and deletion protection.
fn create_table_request(
    client: &Client,
    table: &str,
    def: &TableDef,
) -> Result<
    ::aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder,
    MigrateError,
> {
    use ::aws_sdk_dynamodb::types::{BillingMode, GlobalSecondaryIndex, KeyType};
    let mut req = client
        .create_table()
        .table_name(table)
        .key_schema(key_schema(&def.partition_key.name, KeyType::Hash)?);
    if let Some(sk) = &def.sort_key {
        req = req.key_schema(key_schema(&sk.name, KeyType::Range)?);
    }
    let mut defined: Vec<&KeyAttr> = Vec::new();
    for k in ::std::iter::once(&def.partition_key)
        .chain(&def.sort_key)
        .chain(
            def.indexes
                .iter()
                .chain(&def.local_indexes)
                .flat_map(|i| i.key_elements().into_iter().map(|(k, _)| k)),
        )
    {
        if !defined.iter().any(|d| d.name == k.name) {
            defined.push(k);
            req = req.attribute_definitions(attribute_definition(k)?);
        }
    }
    for ix in &def.indexes {
        let mut g = GlobalSecondaryIndex::builder()
            .index_name(&ix.name)
            .set_key_schema(Some(index_key_schema(ix)?))
            .projection(projection(&ix.projection));
        if let Some(c) = provisioned(def) {
            g = g.provisioned_throughput(throughput(c)?);
        }
        req = req.global_secondary_indexes(g.build().map_err(sdk)?);
    }
    for ix in &def.local_indexes {
        let mut l = ::aws_sdk_dynamodb::types::LocalSecondaryIndex::builder()
            .index_name(&ix.name)
            .key_schema(key_schema(&ix.partition_key.name, KeyType::Hash)?)
            .projection(projection(&ix.projection));
        if let Some(sk) = &ix.sort_key {
            l = l.key_schema(key_schema(&sk.name, KeyType::Range)?);
        }
        req = req.local_secondary_indexes(l.build().map_err(sdk)?);
    }
    req = match provisioned(def) {
        Some(c) => req
            .billing_mode(BillingMode::Provisioned)
            .provisioned_throughput(throughput(c)?),
        None => req.billing_mode(BillingMode::PayPerRequest),
    };
    if let Some(view) = def.stream {
        req = req.stream_specification(
            ::aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(::aws_sdk_dynamodb::types::StreamViewType::from(
                    view.as_dynamodb(),
                ))
                .build()
                .map_err(sdk)?,
        );
    }
    if def.deletion_protection {
        req = req.deletion_protection_enabled(true);
    }
    Ok(req)
}

/// [`create_table`] under the runner's lease.
pub(super) async fn create_table_held(
    client: &Client,
    table: &str,
    def: &TableDef,
    options: &Options,
    held: Option<&Held<'_>>,
) -> Result<bool, MigrateError> {
    let req = create_table_request(client, table, def)?;
    let sent = req.send().await;
    forget(client, table);
    let created = match sent {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            false
        }
        Err(e) => return Err(sdk(e)),
    };
    wait_active_held(client, table, options, held).await?;
    // Also when the table was found: created beforehand, or a crash came between
    // CreateTable and the settings calls.
    reconcile_created(client, table, def, options, held).await?;
    Ok(created)
}

async fn index_exists(
    client: &Client,
    table: &str,
    name: &str,
    options: &Options,
) -> Result<bool, MigrateError> {
    Ok(describe(client, table, options)
        .await?
        .global_secondary_indexes()
        .iter()
        .any(|g| g.index_name() == Some(name)))
}

/// Whether an UpdateTable failure means "another index operation is under way; retry".
fn busy<E: ::aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> bool {
    matches!(
        e.code(),
        Some("LimitExceededException" | "ResourceInUseException")
    )
}

pub(super) async fn create_index(
    client: &Client,
    table: &str,
    ix: &IndexDef,
    options: &Options,
    held: Option<&Held<'_>>,
) -> Result<(), MigrateError> {
    use ::aws_sdk_dynamodb::types::{CreateGlobalSecondaryIndexAction, GlobalSecondaryIndexUpdate};
    let what = format!("DynamoDB to accept index `{}`", ix.name);
    let mut wait = Wait::new(options, &what);
    loop {
        wait_active_held(client, table, options, held).await?;
        let desc = describe(client, table, options).await?;
        let exists = (desc.global_secondary_indexes().iter())
            .any(|g| g.index_name() == Some(ix.name.as_str()));
        if exists {
            return wait_active_held(client, table, options, held).await;
        }
        // An on-demand table reports zero provisioned capacity (and DynamoDB Local reports
        // no billing mode at all), so capacity is what tells them apart.
        let on_demand = desc.billing_mode_summary().and_then(|b| b.billing_mode())
            == Some(&::aws_sdk_dynamodb::types::BillingMode::PayPerRequest);
        let provisioned = !on_demand
            && desc
                .provisioned_throughput()
                .and_then(|p| p.read_capacity_units())
                .unwrap_or(0)
                > 0;
        let mut action = CreateGlobalSecondaryIndexAction::builder()
            .index_name(&ix.name)
            .set_key_schema(Some(index_key_schema(ix)?))
            .projection(projection(&ix.projection));
        if provisioned {
            let p = desc.provisioned_throughput();
            let c = (
                p.and_then(|p| p.read_capacity_units()).unwrap_or(1).max(1),
                p.and_then(|p| p.write_capacity_units()).unwrap_or(1).max(1),
            );
            action = action.provisioned_throughput(throughput(c)?);
        }
        let mut req = client
            .update_table()
            .table_name(table)
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .create(action.build().map_err(sdk)?)
                    .build(),
            );
        for (k, _) in ix.key_elements() {
            req = req.attribute_definitions(attribute_definition(k)?);
        }
        let sent = req.send().await;
        forget(client, table);
        match sent {
            Ok(_) => return wait_active_held(client, table, options, held).await,
            Err(e) if e.as_service_error().is_some_and(busy) => {
                use ::aws_sdk_dynamodb::error::ProvideErrorMetadata;
                let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
                let status =
                    format!("UpdateTable answered {code} (another index operation is under way)");
                wait.pause(client, table, options, held, &status).await?
            }
            Err(e) => return Err(sdk(e)),
        }
    }
}

pub(super) async fn delete_index(
    client: &Client,
    table: &str,
    name: &str,
    options: &Options,
    held: Option<&Held<'_>>,
) -> Result<(), MigrateError> {
    use ::aws_sdk_dynamodb::types::{DeleteGlobalSecondaryIndexAction, GlobalSecondaryIndexUpdate};
    let what = format!("index `{name}` to be deleted");
    let mut wait = Wait::new(options, &what);
    loop {
        wait_active_held(client, table, options, held).await?;
        if !index_exists(client, table, name, options).await? {
            return Ok(());
        }
        let action = DeleteGlobalSecondaryIndexAction::builder()
            .index_name(name)
            .build()
            .map_err(sdk)?;
        let sent = client
            .update_table()
            .table_name(table)
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder().delete(action).build(),
            )
            .send()
            .await;
        forget(client, table);
        match sent {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(busy) => {}
            Err(e) => return Err(sdk(e)),
        }
        wait.pause(client, table, options, held, "the index still exists")
            .await?;
    }
}
