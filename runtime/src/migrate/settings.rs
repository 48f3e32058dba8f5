//! Table settings: TTL, billing mode, stream, point-in-time recovery and deletion
//! protection. Every function reads the live table first and changes only what differs, so
//! a step that crashed half-way, or runs against a table changed by hand, converges.

use aws_sdk_dynamodb::Client;

use super::common::{MigrateError, Options, describe, sdk, throughput};
use super::lease::Held;
use super::model::{Capacity, Step, StreamView, TableDef};
use super::poll::forget;
use super::wait::wait_active_held;

/// The settings the first migration lists, on a table it created or found: what it turns
/// on is made so, and what it leaves out is left as found (it never disables anything).
pub(super) async fn reconcile_created(
    client: &Client,
    table: &str,
    def: &TableDef,
    options: &Options,
    held: Option<&Held<'_>>,
) -> Result<(), MigrateError> {
    if let Some(ttl) = &def.ttl_attribute {
        ensure_ttl(client, table, Some(ttl), false).await?;
    }
    set_billing(client, table, def.capacity, options, held).await?;
    if def.stream.is_some() {
        set_stream(client, table, def.stream, options, held).await?;
    }
    if def.point_in_time_recovery {
        set_point_in_time_recovery(client, table, true).await?;
    }
    if def.deletion_protection {
        set_deletion_protection(client, table, true, options, held).await?;
    }
    Ok(())
}

/// Applies one settings step; `false` when `step` is not a settings step.
pub(super) async fn apply_setting(
    client: &Client,
    table: &str,
    step: &Step,
    options: &Options,
    held: Option<&Held<'_>>,
) -> Result<bool, MigrateError> {
    match step {
        Step::SetTtl { attribute } => ensure_ttl(client, table, attribute.as_deref(), true).await?,
        Step::SetBilling { capacity, .. } => {
            set_billing(client, table, *capacity, options, held).await?
        }
        Step::SetStream { view_type } => {
            set_stream(client, table, *view_type, options, held).await?
        }
        Step::SetPointInTimeRecovery { enabled } => {
            set_point_in_time_recovery(client, table, *enabled).await?
        }
        Step::SetDeletionProtection { enabled } => {
            set_deletion_protection(client, table, *enabled, options, held).await?
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// TTL on `attribute` (or off). A table whose TTL is on another attribute is refused
/// unless `switch` (a `set_ttl` step): then TTL is disabled and enabled on the new
/// attribute; DynamoDB may refuse the second call for up to an hour, and the step, not
/// recorded, completes on a later run.
pub(super) async fn ensure_ttl(
    client: &Client,
    table: &str,
    attribute: Option<&str>,
    switch: bool,
) -> Result<(), MigrateError> {
    use ::aws_sdk_dynamodb::types::TimeToLiveStatus;
    let described = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(sdk)?;
    let current = described.time_to_live_description();
    let on = match current.and_then(|d| d.time_to_live_status()) {
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) => {
            current.and_then(|d| d.attribute_name())
        }
        _ => None,
    };
    if on == attribute {
        return Ok(());
    }
    if let Some(old) = on {
        if attribute.is_some() && !switch {
            return Err(MigrateError::Invalid(format!(
                "table {table} has TTL on `{old}`, the migrations on `{}`; add a `set_ttl` migration (dyngen generate scaffolds one when the schema's ttl_attribute changes)",
                attribute.unwrap_or_default()
            )));
        }
        update_ttl(client, table, old, false).await?;
    }
    match attribute {
        Some(a) => update_ttl(client, table, a, true).await,
        None => Ok(()),
    }
}

async fn update_ttl(
    client: &Client,
    table: &str,
    attribute: &str,
    enabled: bool,
) -> Result<(), MigrateError> {
    let spec = ::aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
        .enabled(enabled)
        .attribute_name(attribute)
        .build()
        .map_err(sdk)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(sdk)?;
    forget(client, table);
    Ok(())
}

/// On-demand (`capacity` absent) or provisioned with `capacity` for the table and each of
/// its indexes.
async fn set_billing(
    client: &Client,
    table: &str,
    capacity: Option<Capacity>,
    options: &Options,
    held: Option<&Held<'_>>,
) -> Result<(), MigrateError> {
    use ::aws_sdk_dynamodb::types::{
        BillingMode, GlobalSecondaryIndexUpdate, UpdateGlobalSecondaryIndexAction,
    };
    wait_active_held(client, table, options, held).await?;
    let t = describe(client, table, options).await?;
    let mode = t.billing_mode_summary().and_then(|b| b.billing_mode());
    let live = t.provisioned_throughput().map(|p| {
        (
            p.read_capacity_units().unwrap_or(0),
            p.write_capacity_units().unwrap_or(0),
        )
    });
    let req = match capacity {
        None if mode != Some(&BillingMode::Provisioned) => return Ok(()),
        None => client
            .update_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest),
        Some(c) => {
            let want = (i64::from(c.read), i64::from(c.write));
            if mode == Some(&BillingMode::Provisioned) && live == Some(want) {
                return Ok(());
            }
            let mut req = client
                .update_table()
                .table_name(table)
                .billing_mode(BillingMode::Provisioned)
                .provisioned_throughput(throughput(want)?);
            for g in t.global_secondary_indexes() {
                let action = UpdateGlobalSecondaryIndexAction::builder()
                    .index_name(g.index_name().unwrap_or_default())
                    .provisioned_throughput(throughput(want)?)
                    .build()
                    .map_err(sdk)?;
                req = req.global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder().update(action).build(),
                );
            }
            req
        }
    };
    req.send().await.map_err(sdk)?;
    forget(client, table);
    wait_active_held(client, table, options, held).await
}

/// A stream with `view` (or none). DynamoDB changes a stream's view type only by disabling
/// the stream and enabling a new one, so that is what happens (consumers of the old stream
/// see it end).
async fn set_stream(
    client: &Client,
    table: &str,
    view: Option<StreamView>,
    options: &Options,
    held: Option<&Held<'_>>,
) -> Result<(), MigrateError> {
    wait_active_held(client, table, options, held).await?;
    let t = describe(client, table, options).await?;
    let live = t
        .stream_specification()
        .filter(|s| s.stream_enabled())
        .and_then(|s| s.stream_view_type())
        .map(|v| v.as_str().to_string());
    let want = view.map(|v| v.as_dynamodb().to_string());
    if live == want {
        return Ok(());
    }
    if live.is_some() {
        update_stream(client, table, None).await?;
        wait_active_held(client, table, options, held).await?;
    }
    if let Some(v) = view {
        update_stream(client, table, Some(v)).await?;
    }
    wait_active_held(client, table, options, held).await
}

async fn update_stream(
    client: &Client,
    table: &str,
    view: Option<StreamView>,
) -> Result<(), MigrateError> {
    use ::aws_sdk_dynamodb::types::{StreamSpecification, StreamViewType};
    let spec = StreamSpecification::builder()
        .stream_enabled(view.is_some())
        .set_stream_view_type(view.map(|v| StreamViewType::from(v.as_dynamodb())))
        .build()
        .map_err(sdk)?;
    client
        .update_table()
        .table_name(table)
        .stream_specification(spec)
        .send()
        .await
        .map_err(sdk)?;
    forget(client, table);
    Ok(())
}

async fn set_point_in_time_recovery(
    client: &Client,
    table: &str,
    enabled: bool,
) -> Result<(), MigrateError> {
    use ::aws_sdk_dynamodb::types::{PointInTimeRecoverySpecification, PointInTimeRecoveryStatus};
    let out = client
        .describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .map_err(sdk)?;
    let live = out
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled);
    if live == enabled {
        return Ok(());
    }
    let spec = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(enabled)
        .build()
        .map_err(sdk)?;
    client
        .update_continuous_backups()
        .table_name(table)
        .point_in_time_recovery_specification(spec)
        .send()
        .await
        .map_err(sdk)?;
    Ok(())
}

async fn set_deletion_protection(
    client: &Client,
    table: &str,
    enabled: bool,
    options: &Options,
    held: Option<&Held<'_>>,
) -> Result<(), MigrateError> {
    wait_active_held(client, table, options, held).await?;
    let t = describe(client, table, options).await?;
    if t.deletion_protection_enabled().unwrap_or(false) == enabled {
        return Ok(());
    }
    client
        .update_table()
        .table_name(table)
        .deletion_protection_enabled(enabled)
        .send()
        .await
        .map_err(sdk)?;
    forget(client, table);
    wait_active_held(client, table, options, held).await
}
