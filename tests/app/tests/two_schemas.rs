//! Two schemas in one crate share the runtime's types: a value read through one is the
//! same type for the other, and both `Db`s wrap the same `dyngen_runtime::Table`.

use dyngen_app_tests::{docs_and_names, example, minimal};

#[test]
fn schemas_share_timestamp_date_error_and_table() {
    // These lines compile only if the types are one and the same.
    let t: example::Timestamp = minimal::Timestamp::from_unix_millis(86_400_000).unwrap();
    let d: docs_and_names::Date = example::Date::new(2024, 2, 29).unwrap();
    let e: Option<minimal::Error> = None::<example::Error>;
    assert_eq!(t.to_string(), "1970-01-02T00:00:00.000Z");
    assert_eq!(d.to_string(), "2024-02-29");
    assert!(e.is_none());
    assert_eq!(
        std::any::TypeId::of::<example::Timestamp>(),
        std::any::TypeId::of::<dyngen_runtime::Timestamp>()
    );
}

#[test]
fn an_enum_bounds_a_sort_key_and_confusable_names_stay_apart() {
    use docs_and_names::{Task, TaskStatus};
    // `sort: gt` on `{status}` takes the enum itself (not a mangled type).
    fn takes_status(
        _: for<'a> fn(
            &'a docs_and_names::Db,
            &str,
            TaskStatus,
        ) -> dyngen_runtime::IndexQuery<'a, Task>,
    ) {
    }
    takes_status(docs_and_names::Db::tasks_after_status);
    let t = Task {
        id: "1".into(),
        owner: "o".into(),
        status: TaskStatus::Doing,
        scope: "latin".into(),
        _u455cope: Some("cyrillic".into()),
        caf_ue9: 1,
        tags: Default::default(),
    };
    let item = t.to_item();
    assert_eq!(item["scope"].as_s().unwrap(), "latin");
    assert_eq!(item["\u{455}cope"].as_s().unwrap(), "cyrillic");
    assert_eq!(item["café"].as_n().unwrap(), "1");
    assert_eq!(Task::from_item(&item).unwrap(), t);
}
