//! The migration runner: applies pending migrations in order, under a lease lock held in
//! the table, and records each one in a ledger item. `Db::migrate` and `dyngen migrate`
//! both call [`run`].

use aws_sdk_dynamodb::Client;

use super::code::CodeKind;
use super::common::{Counts, Keys, MigrateError, Options, Report, seq};
use super::lease::{Held, Lease};
use super::ledger::{applied, record};
use super::model::{Migration, Step, TableDef};
use super::segments::{Pass, help, lead, open_pass};
use super::settings::apply_setting;
use super::tables::{create_index, create_table, create_table_held, delete_index};
use super::work::Work;

pub(super) fn table_def(migrations: &[Migration]) -> Result<&TableDef, MigrateError> {
    match migrations.first().and_then(|m| m.steps.first()) {
        Some(Step::CreateTable(t)) => Ok(t),
        _ => Err(MigrateError::Invalid(
            "the first migration must create the table".into(),
        )),
    }
}

/// What the ledger means for this code: the migrations still to apply, and those newer
/// code applied (unknown here, every one after this code's last).
pub(super) struct Pending<'a> {
    pub(super) todo: Vec<&'a Migration>,
    pub(super) newer: Vec<String>,
}

/// Checks the ledger against the code. An applied migration must be unchanged; one this
/// code does not have is newer code's when it sorts after all of this code's migrations
/// (allowed unless `strict`), and a diverged history otherwise.
pub(super) fn pending<'a>(
    migrations: &'a [Migration],
    applied: &[(String, String)],
    strict: bool,
) -> Result<Pending<'a>, MigrateError> {
    let last = migrations.iter().map(|m| seq(&m.name)).max().unwrap_or(0);
    let mut newer = Vec::new();
    for (name, checksum) in applied {
        match migrations.iter().find(|m| &m.name == name) {
            None if !strict && seq(name) > last => newer.push(name.clone()),
            None => return Err(MigrateError::Missing { name: name.clone() }),
            Some(m) if &m.checksum != checksum => {
                return Err(MigrateError::Edited {
                    name: name.clone(),
                    applied: checksum.clone(),
                    now: m.checksum.clone(),
                });
            }
            Some(_) => {}
        }
    }
    let todo: Vec<&Migration> = migrations
        .iter()
        .filter(|m| !applied.iter().any(|(n, _)| n == &m.name))
        .collect();
    // Newer code applied its migrations after all of ours; one of ours still missing
    // means the histories diverged.
    if let (Some(first_newer), Some(m)) = (newer.first(), todo.first()) {
        return Err(MigrateError::Missing {
            name: format!("{first_newer} (applied before this code's {})", m.name),
        });
    }
    Ok(Pending { todo, newer })
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
    Ok(pending(migrations, &done, false)?
        .todo
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
    let first = pending(migrations, &done, options.strict)?;
    if first.todo.is_empty() {
        report.already_applied = done.len() - first.newer.len();
        report.newer_applied = first.newer;
        return Ok(report);
    }
    check_code_steps(&first.todo, options)?;
    let lease = acquire_helping(client, table, &keys, migrations, options, &mut report).await?;
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
    let Pending { todo, newer } = pending(migrations, &done, options.strict)?;
    report.already_applied = done.len() - newer.len();
    report.newer_applied = newer;
    let held = Held { lease, keys };
    for m in todo {
        for (i, step) in m.steps.iter().enumerate() {
            lease.renew(client, table, keys, options).await?;
            match step {
                Step::CreateTable(def) => {
                    report.created_table |=
                        create_table_held(client, table, def, options, Some(&held)).await?;
                }
                Step::CreateIndex(ix) => {
                    create_index(client, table, ix, options, Some(&held)).await?
                }
                Step::DeleteIndex { name } => {
                    delete_index(client, table, name, options, Some(&held)).await?
                }
                Step::Backfill(b) => {
                    let pass = Pass::first(m, i, options.segments);
                    report.backfilled += lead(
                        client,
                        table,
                        keys,
                        pass,
                        &Work::Backfill(b),
                        options,
                        lease,
                    )
                    .await?
                    .changed
                }
                Step::Code { name } => {
                    report.changed_by_code +=
                        run_code_step(client, table, keys, m, i, name, options, lease).await?
                }
                Step::AddUnique(_) | Step::DropUnique(_) => {
                    let work = work_for_step(m, step, options).ok_or_else(|| {
                        MigrateError::Invalid(format!("{}: step {i} has no work", m.name))
                    })?;
                    let pass = Pass::first(m, i, options.segments);
                    report.guards += lead(client, table, keys, pass, &work, options, lease)
                        .await?
                        .changed
                }
                setting => {
                    apply_setting(client, table, setting, options, Some(&held)).await?;
                }
            }
        }
        record(client, table, keys, m, lease).await?;
        report.applied.push(m.name.clone());
    }
    Ok(())
}

/// Refuses to start when a pending migration names a code step this application did not
/// register (before anything is changed).
fn check_code_steps(todo: &[&Migration], options: &Options) -> Result<(), MigrateError> {
    for m in todo {
        for step in &m.steps {
            if let Step::Code { name } = step
                && !options.code.contains_key(name)
            {
                return Err(MigrateError::Invalid(format!(
                    "migration {} runs the code step `{name}`, which this application does not register: add `.code_step(\"{name}\", CodeStep::each(...))` to the migration options (the `dyngen migrate` command cannot run code steps; the application's `migrate` does)",
                    m.name
                )));
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn run_code_step(
    client: &Client,
    table: &str,
    keys: &Keys,
    m: &Migration,
    step: usize,
    name: &str,
    options: &Options,
    lease: &Lease,
) -> Result<u64, MigrateError> {
    let missing = || MigrateError::Invalid(format!("code step `{name}` is not registered"));
    match &options.code.get(name).ok_or_else(missing)?.kind {
        CodeKind::EachItem(each) => {
            let pass = Pass::first(m, step, options.segments);
            let work = Work::Code {
                step: each,
                migration: &m.name,
            };
            Ok(lead(client, table, keys, pass, &work, options, lease)
                .await?
                .changed)
        }
        CodeKind::Once(f) => {
            f(client.clone(), table.to_string())
                .await
                .map_err(|e| MigrateError::Step {
                    migration: m.name.clone(),
                    key: String::new(),
                    message: e.to_string(),
                })?;
            Ok(0)
        }
    }
}

/// Takes the lock; while another runner holds it, works on that runner's scan pass when
/// this code has the same migration (a backfill shared by every starting instance). What
/// this runner changed meanwhile is added to `report`.
async fn acquire_helping(
    client: &Client,
    table: &str,
    keys: &Keys,
    migrations: &[Migration],
    options: &Options,
    report: &mut Report,
) -> Result<Lease, MigrateError> {
    let started = ::std::time::Instant::now();
    let mut attempt = 0u32;
    loop {
        attempt = attempt.wrapping_add(1);
        let holder = match Lease::try_acquire(client, table, keys, options, attempt).await? {
            Ok(lease) => return Ok(lease),
            Err(holder) => holder,
        };
        if started.elapsed() > options.lock_wait {
            return Err(MigrateError::LockTimeout { holder });
        }
        if options.help {
            help_holder(client, table, keys, migrations, options, report).await?;
        }
        Lease::between_attempts(client, options).await;
    }
}

/// Works on the scan pass the lock holder opened, when this code has its migration.
async fn help_holder(
    client: &Client,
    table: &str,
    keys: &Keys,
    migrations: &[Migration],
    options: &Options,
    report: &mut Report,
) -> Result<(), MigrateError> {
    let Some(pass) = open_pass(client, table, keys).await? else {
        return Ok(());
    };
    if let Some(work) = work_for(migrations, &pass, options) {
        let changed = help(client, table, keys, &pass, &work, options)
            .await?
            .changed;
        match work {
            Work::Backfill(_) => report.backfilled += changed,
            Work::Code { .. } => report.changed_by_code += changed,
            Work::AddUnique { .. } | Work::DropUnique(_) => report.guards += changed,
        }
    }
    Ok(())
}

/// The work of a pass, if this code has its migration (the same file) and can do it.
fn work_for<'a>(
    migrations: &'a [Migration],
    pass: &Pass,
    options: &'a Options,
) -> Option<Work<'a>> {
    let m = migrations
        .iter()
        .find(|m| m.name == pass.migration && m.checksum == pass.checksum)?;
    work_for_step(m, m.steps.get(pass.step)?, options)
}

/// The scan-pass work of one step of `m`, if it has one this code can do.
fn work_for_step<'a>(m: &'a Migration, step: &'a Step, options: &'a Options) -> Option<Work<'a>> {
    match step {
        Step::Backfill(b) => Some(Work::Backfill(b)),
        Step::AddUnique(def) => Some(Work::AddUnique {
            def,
            migration: &m.name,
        }),
        Step::DropUnique(def) => Some(Work::DropUnique(def)),
        Step::Code { name } => match &options.code.get(name)?.kind {
            CodeKind::EachItem(step) => Some(Work::Code {
                step,
                migration: &m.name,
            }),
            CodeKind::Once(_) => None,
        },
        _ => None,
    }
}

/// Runs the backfills (and unique-guard claims) of an applied migration again, as a
/// catch-up after a rolling deploy: old code that did not know the new keys may have
/// written items without them, or changed an input and left them stale. Every item's
/// derived keys are recomputed from its stored values and rewritten where they differ,
/// each write conditional on the values read, so a concurrent write wins (the item is
/// read again and judged again) and a deleted item is never written back. Safe to repeat.
/// Returns what this process checked, changed and skipped (with what it did meanwhile
/// for another runner's pass, if it waited for the lock).
pub async fn rerun(
    client: &Client,
    table: &str,
    migrations: &[Migration],
    name: &str,
    options: &Options,
) -> Result<Counts, MigrateError> {
    let def = table_def(migrations)?;
    let keys = Keys {
        pk: def.partition_key.clone(),
        sk: def.sort_key.clone(),
    };
    let m = migrations
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| MigrateError::Invalid(format!("no migration named {name}")))?;
    let done = applied(client, table, &keys).await?.unwrap_or_default();
    if !done.iter().any(|(n, _)| n == name) {
        return Err(MigrateError::Invalid(format!(
            "{name} is not applied yet; run the migrations first"
        )));
    }
    let mut helped = Report::default();
    let lease = acquire_helping(client, table, &keys, migrations, options, &mut helped).await?;
    let mut total = Counts {
        changed: helped.backfilled + helped.guards,
        ..Counts::default()
    };
    let mut result = Ok(());
    for (i, step) in m.steps.iter().enumerate() {
        // Catch-ups: keys and guards for items old code wrote during the rollout.
        let work = match step {
            Step::Backfill(b) => Work::Backfill(b),
            Step::AddUnique(def) => Work::AddUnique {
                def,
                migration: &m.name,
            },
            _ => continue,
        };
        {
            let pass = Pass::rerun(m, i, options.segments);
            match lead(client, table, &keys, pass, &work, options, &lease).await {
                Ok(n) => total += n,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
    }
    let released = lease.release(client, table, &keys).await;
    result?;
    released?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(name: &str) -> Migration {
        Migration {
            name: name.into(),
            checksum: format!("sum-{name}"),
            steps: Vec::new(),
        }
    }

    fn ledger(names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| (n.to_string(), format!("sum-{n}")))
            .collect()
    }

    #[test]
    fn newer_codes_migrations_are_left_alone_unless_strict() {
        let code = [migration("0001_a"), migration("0002_b")];
        let p = pending(&code, &ledger(&["0001_a", "0002_b", "0003_c"]), false).unwrap();
        assert!(p.todo.is_empty());
        assert_eq!(p.newer, ["0003_c"]);
        assert!(matches!(
            pending(&code, &ledger(&["0001_a", "0002_b", "0003_c"]), true),
            Err(MigrateError::Missing { .. })
        ));
    }

    #[test]
    fn a_diverged_history_is_refused() {
        let code = [
            migration("0001_a"),
            migration("0002_b"),
            migration("0003_mine"),
        ];
        // 0003 in the ledger is another branch's, not newer than this code's last.
        let mut theirs = ledger(&["0001_a", "0002_b"]);
        theirs.push(("0003_theirs".into(), "x".into()));
        assert!(matches!(
            pending(&code, &theirs, false),
            Err(MigrateError::Missing { .. })
        ));
        // Newer code applied 0003 while this code's 0002 is still missing.
        let short = [migration("0001_a"), migration("0002_b")];
        assert!(matches!(
            pending(&short, &ledger(&["0001_a", "0003_c"]), false),
            Err(MigrateError::Missing { .. })
        ));
        // Edited is still refused.
        let mut edited = ledger(&["0001_a"]);
        edited[0].1 = "other".into();
        assert!(matches!(
            pending(&short, &edited, false),
            Err(MigrateError::Edited { .. })
        ));
    }
}
