//! Terraform: the table read through `data "aws_dynamodb_table"`, and one
//! `aws_iam_policy_document` per policy, formatted as `terraform fmt` would.

use super::EmitError;
use super::templates::{hcl_inner, hcl_str, render};
use crate::iam::{Policy, Resource, Statement};
use crate::ir::Schema;

pub const PATH: &str = "terraform/dyngen.tf";

pub fn emit(schema: &Schema, policies: &[Policy]) -> Result<String, EmitError> {
    let blocks: Vec<String> = policies.iter().map(policy_blocks).collect();
    let header = super::rust::header(schema, "#");
    render(
        "terraform.tf.j2",
        minijinja::context! { header => header, table_name => schema.table.name.clone(), policies => blocks },
    )
}

fn resource(r: &Resource) -> String {
    match r {
        Resource::Table => "data.aws_dynamodb_table.this.arn".to_string(),
        // The one interpolation dyngen writes itself; the index name is escaped.
        Resource::Index(name) => format!(
            "\"${{data.aws_dynamodb_table.this.arn}}/index/{}\"",
            hcl_inner(name)
        ),
        Resource::Stream => "\"${data.aws_dynamodb_table.this.arn}/stream/*\"".to_string(),
    }
}

/// Attribute lines with their `=` aligned, as `terraform fmt` aligns consecutive ones.
fn aligned(indent: usize, attrs: &[(&str, String)]) -> String {
    let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    attrs
        .iter()
        .map(|(k, v)| format!("{}{k:<width$} = {v}\n", " ".repeat(indent)))
        .collect()
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn statement_block(s: &Statement) -> String {
    let actions: Vec<String> = s
        .actions
        .iter()
        .map(|a| hcl_str(&format!("dynamodb:{a}")))
        .collect();
    let resources: Vec<String> = s.resources.iter().map(resource).collect();
    let mut out = String::from("  statement {\n");
    out.push_str(&aligned(
        4,
        &[
            ("sid", hcl_str(&s.sid)),
            ("effect", hcl_str("Allow")),
            ("actions", list(&actions)),
            ("resources", list(&resources)),
        ],
    ));
    if let Some(prefixes) = &s.leading_keys {
        let values: Vec<String> = prefixes.iter().map(|p| hcl_str(p)).collect();
        let fields = [
            ("test", hcl_str("ForAllValues:StringLike")),
            ("variable", hcl_str("dynamodb:LeadingKeys")),
            ("values", list(&values)),
        ];
        if s.enforced {
            // The consumer's own restriction: always on.
            out.push_str("\n    condition {\n");
            out.push_str(&aligned(6, &fields));
            out.push_str("    }\n");
        } else {
            out.push_str("\n    dynamic \"condition\" {\n");
            out.push_str(&aligned(
                6,
                &[(
                    "for_each",
                    "var.restrict_leading_keys ? [1] : []".to_string(),
                )],
            ));
            out.push_str("      content {\n");
            out.push_str(&aligned(8, &fields));
            out.push_str("      }\n    }\n");
        }
    }
    out.push_str("  }\n");
    out
}

fn policy_blocks(p: &Policy) -> String {
    let mut out = format!("# {}\n", p.description.replace('\n', " "));
    out.push_str(&format!(
        "data \"aws_iam_policy_document\" {} {{\n",
        hcl_str(&p.name)
    ));
    let body: Vec<String> = p.statements.iter().map(statement_block).collect();
    out.push_str(&body.join("\n"));
    out.push_str("}\n\n");
    out.push_str(&format!(
        "output {} {{\n",
        hcl_str(&format!("{}_policy_json", p.name))
    ));
    out.push_str(&aligned(
        2,
        &[
            (
                "description",
                hcl_str(&format!(
                    "The `{}` policy as JSON, for aws_iam_policy or aws_iam_role_policy.",
                    p.name
                )),
            ),
            (
                "value",
                format!("data.aws_iam_policy_document.{}.json", p.name),
            ),
        ],
    ));
    out.push('}');
    out
}
