//! Least privilege, proven: every DynamoDB call the generated code makes is recorded (an
//! SDK interceptor that only observes), and the generated policies must allow each one and
//! nothing that none of them used. Also: every emitted `.tf` file parses with HashiCorp's
//! HCL parser (`@cdktf/hcl2json`, run under Node.js) and matches the JSON policies.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Recorder, policy_pairs};
use dyngen_app_tests::example::*;
use dyngen_app_tests::{migrate_v1 as v1, migrate_v2 as v2, migrate_v3 as v3};
use dyngen_runtime::{Date, Timestamp};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn recording_client(rec: &Recorder) -> aws_sdk_dynamodb::Client {
    let rec = rec.clone();
    common::local().client_with(move |b| b.interceptor(rec))
}

fn pairs(v: &[(&str, Option<&str>)]) -> BTreeSet<(String, Option<String>)> {
    v.iter()
        .map(|(a, i)| (a.to_string(), i.map(str::to_string)))
        .collect()
}

/// Runs every operation the generated repository of the example schema offers.
async fn whole_api(db: &Db) {
    let t0 = Timestamp::UNIX_EPOCH;
    let acme = Company {
        name: "acme".into(),
        industry: None,
        plan: CompanyPlan::Free,
        created_at: t0,
        updated_at: t0,
        version: 0,
    };
    let acme = db.company().create(&acme).await.unwrap();
    let u = |email: &str| User {
        email: email.into(),
        company_name: "acme".into(),
        name: "n".into(),
        dob: Some(Date::new(1990, 1, 2).unwrap()),
        newsletter_subscribed: true,
        role: UserRole::Member,
        tags: Default::default(),
        login_count: 0,
        created_at: t0,
        updated_at: t0,
        version: 0,
    };
    let alice = db.user().create(&u("alice@x")).await.unwrap();
    db.user().put(&alice).await.unwrap();
    db.user().get(&alice.key()).await.unwrap();
    db.user().get_consistent(&alice.key()).await.unwrap();
    db.user()
        .update(&alice.key())
        .add_login_count(1)
        .send()
        .await
        .unwrap();
    db.user().batch_get(&[alice.key()]).await.unwrap();
    db.batch_write()
        .put(&u("bob@x"))
        .delete(&UserKey {
            company_name: "acme".into(),
            email: "carol@x".into(),
        })
        .send()
        .await
        .unwrap();
    let member = CompanyMember {
        company_name: "acme".into(),
        email: "alice@x".into(),
        joined_at: Timestamp::now(),
        role: CompanyMemberRole::Member,
    };
    let back = UserCompany {
        email: "alice@x".into(),
        company_name: "acme".into(),
        joined_at: member.joined_at,
    };
    db.link_membership(
        member.company_name.clone(),
        member.email.clone(),
        back.joined_at,
        member.role,
    )
    .await
    .unwrap();
    let update = db.company().update(&acme.key()).set_industry("x".into());
    db.transaction()
        .update(update)
        .condition_check(&alice.key(), true)
        .send()
        .await
        .unwrap();
    db.unlink_membership("acme".into(), "alice@x".into())
        .await
        .unwrap();
    db.user().delete(&alice.key()).await.unwrap();
    db.users_of_company("acme").all().await.unwrap();
    db.user_by_email("alice@x").all().await.unwrap();
    db.company_with_users("acme").all().await.unwrap();
    db.members_of_company("acme").all().await.unwrap();
    db.companies_of_user("alice@x").all().await.unwrap();
    db.newsletter_subscribers().all().await.unwrap();
    db.users_born_in(1990).all().await.unwrap();
    db.users_born_between(
        1990,
        Date::new(1990, 1, 1).unwrap(),
        Date::new(1990, 12, 31).unwrap(),
    )
    .all()
    .await
    .unwrap();
    db.pending_invitations("acme").all().await.unwrap();
}

#[tokio::test]
async fn the_app_policy_allows_exactly_what_the_generated_code_calls() {
    let table = common::table("iam");
    let setup = Db::new(common::client()).with_table_name(&table);
    setup
        .migrate(&dyngen_runtime::migrate::Options {
            poll: Duration::from_millis(100),
            ..Default::default()
        })
        .await
        .unwrap();

    let rec = Recorder::default();
    let db = Db::new(recording_client(&rec)).with_table_name(&table);
    whole_api(&db).await;
    let recorded = rec.actions();
    let allowed = policy_pairs(&root().join("generated/iam/app.json"));
    assert_eq!(
        recorded, allowed,
        "recorded calls (left) and the app policy (right) must be the same set"
    );
    assert!(
        !allowed.iter().any(|(a, _)| a == "Scan"),
        "the app never scans"
    );

    // Each consumer's policy allows what its declared operations and patterns call.
    let rec = Recorder::default();
    let mailer = Db::new(recording_client(&rec)).with_table_name(&table);
    mailer.newsletter_subscribers().all().await.unwrap();
    assert_eq!(
        rec.actions(),
        policy_pairs(&root().join("generated/iam/consumer_mailer.json"))
    );
    let rec = Recorder::default();
    let auth = Db::new(recording_client(&rec)).with_table_name(&table);
    if let Some(user) = auth.user_by_email("nobody@x").all().await.unwrap().first() {
        auth.user()
            .update(&user.key())
            .add_login_count(1)
            .send()
            .await
            .unwrap();
    }
    let auth_policy = policy_pairs(&root().join("generated/iam/consumer_auth.json"));
    assert!(rec.actions().is_subset(&auth_policy));
    assert_eq!(
        auth_policy,
        pairs(&[("Query", Some("gsi1")), ("UpdateItem", None)])
    );
}

#[tokio::test]
async fn the_migration_policy_allows_exactly_what_the_runner_calls() {
    let table = common::table("iam-mig");
    let rec = Recorder::default();
    let client = recording_client(&rec);
    let fast = dyngen_runtime::migrate::Options {
        poll: Duration::from_millis(100),
        ..Default::default()
    };
    v1::Db::new(client.clone())
        .with_table_name(&table)
        .migrate(&fast)
        .await
        .unwrap();
    let db = v1::Db::new(common::client()).with_table_name(&table);
    db.person()
        .create(&v1::Person {
            id: "p".into(),
            team: "t".into(),
            name: "n".into(),
            born: Some(dyngen_runtime::Date::new(2000, 1, 1).unwrap()),
        })
        .await
        .unwrap();
    let opts = dyngen_runtime::migrate::Options {
        poll: Duration::from_millis(100),
        ..Default::default()
    };
    let report = v2::Db::new(client.clone())
        .with_table_name(&table)
        .migrate(&opts)
        .await
        .unwrap();
    assert_eq!(report.backfilled, 1);
    // v3: settings steps (a stream, deletion protection) and a code step.
    let step = dyngen_runtime::migrate::CodeStep::each(|mut p: v3::Person| async move {
        p.first_name = Some(p.name.clone());
        Ok(dyngen_runtime::migrate::Change::Put(p))
    });
    let report = v3::Db::new(client)
        .with_table_name(&table)
        .migrate(&opts.clone().code_step("split_names", step))
        .await
        .unwrap();
    assert_eq!(report.changed_by_code, 1);

    let recorded = rec.actions();
    let allowed =
        policy_pairs(&root().join("tests/fixtures/valid/migrate_v3/expected/iam/migrations.json"));
    assert_eq!(
        recorded, allowed,
        "recorded calls (left) and the migrations policy (right)"
    );
}

/// The stream policy allows exactly what a reader of the stream calls (the calls Lambda's
/// event source mapping makes: list, describe, iterate, read).
#[tokio::test]
async fn the_stream_policy_allows_exactly_what_a_stream_reader_calls() {
    use dyngen_app_tests::streams;
    let table = common::table("iam-stream");
    let db = streams::Db::new(common::client()).with_table_name(&table);
    db.migrate(&Default::default()).await.unwrap();
    db.other().create(&streams::Other::new("o")).await.unwrap();
    let rec = Recorder::default();
    let event = common::local()
        .stream_event_with(&table, |b| b.interceptor(rec.clone()))
        .await
        .unwrap();
    assert!(!event.records.is_empty());
    let allowed =
        policy_pairs(&root().join("tests/fixtures/valid/streams/expected/iam/stream.json"));
    assert_eq!(
        rec.actions(),
        allowed,
        "recorded (left) and the stream policy (right)"
    );
    // A table without a stream gets no stream policy.
    assert!(!root().join("generated/iam/stream.json").exists());
}

/// `@cdktf/hcl2json` (HashiCorp's HCL parser compiled to WebAssembly), installed once
/// into the target directory.
fn hcl2json() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../hcl2json");
    let module = dir.join("node_modules/@cdktf/hcl2json");
    if !module.is_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("npm")
            .args(["install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix"])
            .arg(&dir)
            .arg("@cdktf/hcl2json@0.21.0")
            .output()
            .unwrap_or_else(|e| panic!("npm is needed to fetch HashiCorp's HCL parser (Debian: apt-get install nodejs npm): {e}"));
        assert!(
            out.status.success(),
            "npm install @cdktf/hcl2json failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    module
}

fn parse_hcl(module: &Path, file: &Path) -> serde_json::Value {
    let script = "const [m, f] = process.argv.slice(1); require(m).parse(f, require('fs').readFileSync(f, 'utf8')).then(j => process.stdout.write(JSON.stringify(j)), e => { console.error(String(e)); process.exit(1); });";
    let out = Command::new("node")
        .arg("-e")
        .arg(script)
        .arg(module)
        .arg(file)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{} does not parse: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_terraform_file_parses_with_hashicorps_parser_and_matches_the_json_policies() {
    let module = hcl2json();
    let mut dirs = vec![root().join("generated")];
    for f in [
        "hostile",
        "minimal",
        "operators",
        "migrate_v1",
        "migrate_v2",
        "migrate_v3",
        "streams",
    ] {
        dirs.push(root().join("tests/fixtures/valid").join(f).join("expected"));
    }
    for dir in dirs {
        let tf = dir.join("terraform/dyngen.tf");
        let parsed = parse_hcl(&module, &tf);
        assert!(
            parsed["data"]["aws_dynamodb_table"]["this"].is_array(),
            "{}: no data.aws_dynamodb_table.this",
            tf.display()
        );
        assert!(
            parsed["resource"].is_null(),
            "{}: Terraform must not own the table or its indexes",
            tf.display()
        );
        let documents = parsed["data"]["aws_iam_policy_document"]
            .as_object()
            .unwrap();
        for (name, doc) in documents {
            // The same (action, index) pairs as the JSON policy of the same name.
            let mut from_hcl = BTreeSet::new();
            for st in doc[0]["statement"].as_array().unwrap() {
                for a in st["actions"].as_array().unwrap() {
                    for r in st["resources"].as_array().unwrap() {
                        from_hcl.insert((
                            a.as_str()
                                .unwrap()
                                .trim_start_matches("dynamodb:")
                                .to_string(),
                            common::resource_part(r.as_str().unwrap()),
                        ));
                    }
                }
            }
            assert_eq!(
                from_hcl,
                policy_pairs(&dir.join(format!("iam/{name}.json"))),
                "{}: {name}",
                tf.display()
            );
            assert!(
                parsed["output"][format!("{name}_policy_json")].is_array(),
                "{name} has an output"
            );
        }
    }
}

/// Records the partition key of every item a request touches or queries (the values
/// `dynamodb:LeadingKeys` is evaluated on), by IAM action.
#[derive(Debug, Clone, Default)]
struct LeadingKeys(std::sync::Arc<std::sync::Mutex<Vec<(&'static str, String)>>>);

impl aws_sdk_dynamodb::config::Intercept for LeadingKeys {
    fn name(&self) -> &'static str {
        "dyngen-test-leading-keys"
    }
    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<
            '_,
        >,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        use aws_sdk_dynamodb::operation as op;
        type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;
        let input = context.input();
        let pk = |item: Option<&Item>| {
            item.and_then(|i| i.get("pk"))
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_else(|| "<no pk>".into())
        };
        let mut seen = self.0.lock().unwrap();
        if let Some(i) = input.downcast_ref::<op::get_item::GetItemInput>() {
            seen.push(("GetItem", pk(i.key())));
        } else if let Some(i) = input.downcast_ref::<op::put_item::PutItemInput>() {
            seen.push(("PutItem", pk(i.item())));
        } else if let Some(i) = input.downcast_ref::<op::update_item::UpdateItemInput>() {
            seen.push(("UpdateItem", pk(i.key())));
        } else if let Some(i) = input.downcast_ref::<op::delete_item::DeleteItemInput>() {
            seen.push(("DeleteItem", pk(i.key())));
        } else if let Some(q) = input.downcast_ref::<op::query::QueryInput>() {
            seen.push((
                "Query",
                pk(q.expression_attribute_values()
                    .map(|v| {
                        v.iter()
                            .filter(|(k, _)| k.as_str() == ":pk")
                            .map(|(_, v)| ("pk".to_string(), v.clone()))
                            .collect::<Item>()
                    })
                    .as_ref()),
            ));
        } else {
            seen.push(("Other", String::new()));
        }
        Ok(())
    }
}

/// IAM's `StringLike`: `*` any run of characters, `?` one character.
fn string_like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[test]
fn string_like_matches_as_iam_does() {
    assert!(string_like("company#*", "company#acme"));
    assert!(string_like("a?c", "abc"));
    assert!(!string_like("company#acme", "company#acme2"));
    assert!(!string_like("company#*", "user#x"));
}

#[tokio::test]
async fn a_conditioned_policy_matches_every_request_of_its_consumer_and_no_other_tenant() {
    let table = common::table("iam-lk");
    let setup = Db::new(common::client()).with_table_name(&table);
    setup
        .migrate(&dyngen_runtime::migrate::Options {
            poll: Duration::from_millis(100),
            ..Default::default()
        })
        .await
        .unwrap();
    whole_api(&setup).await;

    // Everything the company_admin consumer's code does, as the `acme` tenant.
    let keys = LeadingKeys::default();
    let rec = Recorder::default();
    let (k, r) = (keys.clone(), rec.clone());
    let client = common::local().client_with(move |b| b.interceptor(k).interceptor(r));
    let admin = Db::new(client).with_table_name(&table);
    let users = admin.users_of_company("acme").all().await.unwrap();
    assert!(!users.is_empty());
    admin.user().get(&users[0].key()).await.unwrap();
    admin
        .user()
        .update(&users[0].key())
        .set_name("renamed".into())
        .send()
        .await
        .unwrap();
    admin.members_of_company("acme").all().await.unwrap();
    let member = CompanyMember {
        company_name: "acme".into(),
        email: "new@x".into(),
        joined_at: Timestamp::UNIX_EPOCH,
        role: CompanyMemberRole::Member,
    };
    admin.company_member().create(&member).await.unwrap();
    admin.company_member().delete(&member.key()).await.unwrap();

    let path = root().join("generated/iam/consumer_company_admin.json");
    assert!(rec.actions().is_subset(&policy_pairs(&path)));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let conditioned = |action: &str| -> Vec<String> {
        let statement = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["Action"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a == &format!("dynamodb:{action}"))
            })
            .unwrap_or_else(|| panic!("no statement allows {action}"));
        statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            .as_array()
            .unwrap_or_else(|| panic!("{action} is not conditioned"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let seen = keys.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 6, "{seen:?}");
    for (action, pk) in &seen {
        let patterns = conditioned(action);
        let as_tenant = |tenant: &str| {
            patterns
                .iter()
                .map(|p| p.replace("${aws:PrincipalTag/company}", tenant))
                .any(|p| string_like(&p, pk))
        };
        assert!(
            as_tenant("acme"),
            "{action} on {pk} is denied to acme: {patterns:?}"
        );
        assert!(
            !as_tenant("globex"),
            "{action} on {pk} is allowed to globex: {patterns:?}"
        );
    }
}
