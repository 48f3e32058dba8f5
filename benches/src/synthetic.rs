//! Synthetic schemas for the generation and compile-cost benchmarks: `n` entities, each
//! with keys on the table and two overloaded GSIs, and three access patterns.

/// A schema with `n` entities (3 access patterns and 2 GSIs each).
pub fn schema(n: usize) -> String {
    with_patterns(n, true)
}

/// The same entities, with or without their access patterns (to count lines per pattern).
pub fn with_patterns(n: usize, patterns: bool) -> String {
    let mut s = String::from(
        "version: 1\ntable:\n  name: synthetic\n  partition_key: pk\n  sort_key: sk\n  indexes:\n    gsi1: { partition_key: gsi1pk, sort_key: gsi1sk }\n    gsi2: { partition_key: gsi2pk, sort_key: gsi2sk }\nentities:\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "  Entity{i}:\n    attributes:\n      id: string\n      owner: string\n      title: string\n      note: {{ type: string, optional: true }}\n      done: bool\n      score: integer\n      tags: {{ type: list, items: string }}\n      at: timestamp\n    keys:\n      primary: {{ pk: \"e{i}#{{id}}\", sk: \"e{i}#\" }}\n      gsi1: {{ pk: \"owner#{{owner}}\", sk: \"e{i}#{{id}}\" }}\n      gsi2: {{ pk: \"e{i}score#{{score}}\", sk: \"{{at}}#{{id}}\" }}\n"
        ));
    }
    if !patterns {
        return s;
    }
    s.push_str("access_patterns:\n");
    for i in 0..n {
        s.push_str(&format!(
            "  byId{i}: {{ entity: Entity{i}, inputs: [id] }}\n  ofOwner{i}: {{ entity: Entity{i}, index: gsi1, inputs: [owner] }}\n  byScore{i}: {{ entity: Entity{i}, index: gsi2, inputs: [score], sort: between }}\n"
        ));
    }
    s
}
