//! `dyngen migrate --plan`: what a run would do to the live table, and how that table
//! differs from the schema's migrations, printed for a person, a tool or a GitHub
//! workflow. Pure functions of the runner's [`Plan`] and the migration files.

use dyngen::diag::{Format, github_data, github_property};
use dyngen::migrations::Migration as Loaded;
use dyngen_runtime::migrate::{Difference, Plan};

/// The plain-words summary a migration file starts with (`# What it does, in order:`).
pub fn summary(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("# What it does"))
        .skip(1)
        .take_while(|l| l.starts_with("#   "))
        .map(|l| l.trim_start_matches('#').trim().to_string())
        .collect()
}

/// A pending migration with its file and its summary.
struct Pending<'a> {
    name: &'a str,
    file: String,
    steps: Vec<String>,
}

fn pending<'a>(plan: &'a Plan, loaded: &[Loaded]) -> Vec<Pending<'a>> {
    plan.pending
        .iter()
        .map(|name| {
            let m = loaded.iter().find(|m| &m.parsed.migration == name);
            Pending {
                name,
                file: format!("migrations/{name}.yaml"),
                steps: m.map(|m| summary(&m.text)).unwrap_or_default(),
            }
        })
        .collect()
}

fn cause(d: &Difference) -> &'static str {
    if d.pending {
        "a pending migration changes it"
    } else {
        "drift: changed outside the migrations"
    }
}

/// The plan in `format` (`short` prints as `human`).
pub fn render(plan: &Plan, loaded: &[Loaded], format: Format) -> String {
    match format {
        Format::Human | Format::Short => human(plan, loaded),
        Format::Json => json(plan, loaded),
        Format::Github => github(plan, loaded),
    }
}

fn verdict(plan: &Plan) -> String {
    let drift = plan.differences.iter().filter(|d| !d.pending).count();
    if plan.is_clean() {
        return "up to date: nothing to apply, no drift".into();
    }
    format!(
        "{} migration(s) to apply, {} difference(s) from the schema ({drift} of them drift)",
        plan.pending.len(),
        plan.differences.len()
    )
}

fn human(plan: &Plan, loaded: &[Loaded]) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    if plan.exists {
        line(format!(
            "table `{}`: {} migration(s) applied",
            plan.table,
            plan.applied.len()
        ));
    } else {
        line(format!("table `{}` does not exist", plan.table));
    }
    if !plan.newer_applied.is_empty() {
        line(format!(
            "applied by newer code, left alone: {}",
            plan.newer_applied.join(", ")
        ));
    }
    for p in pending(plan, loaded) {
        line(format!("would apply {} ({}):", p.name, p.file));
        for s in &p.steps {
            line(format!("  {s}"));
        }
    }
    if !plan.differences.is_empty() {
        line("differences between the live table and the schema (live -> schema):".into());
        for d in &plan.differences {
            line(format!(
                "  {}: {} -> {} ({})",
                d.what,
                d.live,
                d.schema,
                cause(d)
            ));
        }
    }
    if !plan.busy.is_empty() {
        line(format!("not ACTIVE now: {}", plan.busy.join(", ")));
    }
    for (what, reason) in &plan.unknown {
        line(format!("not read: {what} ({reason})"));
    }
    line(verdict(plan));
    out
}

fn json(plan: &Plan, loaded: &[Loaded]) -> String {
    let pending: Vec<serde_json::Value> = pending(plan, loaded)
        .into_iter()
        .map(|p| serde_json::json!({ "migration": p.name, "file": p.file, "steps": p.steps }))
        .collect();
    let differences: Vec<serde_json::Value> = (plan.differences.iter())
        .map(|d| {
            serde_json::json!({
                "what": d.what, "live": d.live, "schema": d.schema, "pending": d.pending,
            })
        })
        .collect();
    let unknown: Vec<serde_json::Value> = (plan.unknown.iter())
        .map(|(what, reason)| serde_json::json!({ "what": what, "reason": reason }))
        .collect();
    let value = serde_json::json!({
        "table": plan.table,
        "exists": plan.exists,
        "applied": plan.applied,
        "newer_applied": plan.newer_applied,
        "pending": pending,
        "differences": differences,
        "busy": plan.busy,
        "unknown": unknown,
        "up_to_date": plan.is_clean(),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// Workflow commands: a notice per pending migration (on its file), a notice per pending
/// difference, a warning per drift, and the verdict.
fn github(plan: &Plan, loaded: &[Loaded]) -> String {
    let mut out = String::new();
    let title = "dyngen migrate --plan";
    for p in pending(plan, loaded) {
        let message = format!(
            "{}: would apply {}: {}",
            plan.table,
            p.name,
            p.steps.join("; ")
        );
        out.push_str(&format!(
            "::notice file={},title={}::{}\n",
            github_property(&p.file),
            github_property(title),
            github_data(&message)
        ));
    }
    for d in &plan.differences {
        let level = if d.pending { "notice" } else { "warning" };
        let message = format!(
            "{}: {}: live {}, schema {} ({})",
            plan.table,
            d.what,
            d.live,
            d.schema,
            cause(d)
        );
        out.push_str(&format!(
            "::{level} title={}::{}\n",
            github_property(title),
            github_data(&message)
        ));
    }
    out.push_str(&format!(
        "::notice title={}::{}\n",
        github_property(title),
        github_data(&format!("{}: {}", plan.table, verdict(plan)))
    ));
    out
}
