//! The two functions' logic, apart from the Lambda runtime so that tests call it directly.
//!
//! A cold start builds one [`App`]: the client, and the migrations applied (once: the
//! ledger in the table makes later cold starts a read of it). Each invocation then uses
//! that `App`.

#[rustfmt::skip]
mod db {
    include!(concat!(env!("OUT_DIR"), "/dyngen/rust/dyngen.rs"));
}

pub use db::{Company, CompanyKey, Db, TableChange, User};
use dyngen_runtime::stream::{Change, Event};
use dyngen_runtime::{Cursor, Error};
use serde::{Deserialize, Serialize};

/// What one function instance keeps between invocations.
pub struct App {
    pub db: Db,
}

/// Runs the migrations and returns the function's state; called once per cold start.
/// `table`: the table's name (`TABLE_NAME` in the functions), or the schema's.
pub async fn cold_start(
    client: dyngen_runtime::aws_sdk_dynamodb::Client,
    table: Option<&str>,
) -> Result<App, dyngen_runtime::migrate::MigrateError> {
    let mut db = Db::new(client);
    if let Some(name) = table {
        db = db.with_table_name(name);
    }
    db.migrate(&Default::default()).await?;
    Ok(App { db })
}

/// A request to the `api` function: which access pattern, and its inputs.
#[derive(Debug, Deserialize)]
#[serde(tag = "pattern", rename_all = "camelCase")]
pub enum Request {
    /// A page of a company's users; `cursor` continues from the page before.
    UsersOfCompany {
        company: String,
        #[serde(default)]
        limit: Option<i32>,
        #[serde(default)]
        cursor: Option<String>,
    },
    /// The user with this email, if any.
    UserByEmail { email: String },
}

/// The `api` function's answer: users with the schema's field names, and the cursor of
/// the next page when there is one.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Response {
    pub users: Vec<User>,
    pub cursor: Option<String>,
}

impl App {
    /// Serves one `api` request.
    pub async fn serve(&self, request: Request) -> Result<Response, Error> {
        match request {
            Request::UsersOfCompany {
                company,
                limit,
                cursor,
            } => {
                let mut query = self.db.users_of_company(&company);
                if let Some(n) = limit {
                    query = query.limit(n);
                }
                if let Some(c) = cursor {
                    query = query.cursor(Cursor::from_string(c));
                }
                let page = query.send().await?;
                Ok(Response {
                    users: page.items,
                    cursor: page.cursor.map(|c| c.as_str().to_string()),
                })
            }
            Request::UserByEmail { email } => {
                let page = self.db.user_by_email(&email).all().await?;
                Ok(Response {
                    users: page,
                    cursor: None,
                })
            }
        }
    }

    /// Handles one batch of stream records: each user written or deleted moves its
    /// company's `userCount` by one. Lambda delivers a record at least once, so a batch
    /// that fails is retried whole; a count can then move twice, which a production
    /// function would guard against (e.g. with a ledger of sequence numbers).
    pub async fn on_stream(
        &self,
        event: &Event,
    ) -> Result<StreamReport, Box<dyn std::error::Error + Send + Sync>> {
        let mut report = StreamReport::default();
        for change in TableChange::from_event(event) {
            let (company, delta) = match change? {
                TableChange::User(Change::Inserted { new }) => (new.company_name, 1),
                TableChange::User(Change::Removed { old, .. }) => (old.company_name, -1),
                _ => {
                    report.ignored += 1;
                    continue;
                }
            };
            let key = CompanyKey { name: company };
            match self
                .db
                .company()
                .update(&key)
                .add_user_count(delta)
                .send()
                .await
            {
                Ok(_) => report.counted += 1,
                // A user of a company that was never created: nothing to count.
                Err(Error::NotFound { .. }) => report.without_company += 1,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(report)
    }
}

/// What one stream batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct StreamReport {
    /// Users whose company's count moved.
    pub counted: usize,
    /// Users whose company does not exist.
    pub without_company: usize,
    /// Records of other changes (companies, user edits, dyngen's own items).
    pub ignored: usize,
}

/// A deployed function's cold start: the client from the Lambda environment, and the
/// table `TABLE_NAME` names (the schema's when it is unset).
pub async fn cold_start_from_env() -> Result<App, dyngen_runtime::migrate::MigrateError> {
    let config = aws_config::load_from_env().await;
    let client = dyngen_runtime::aws_sdk_dynamodb::Client::new(&config);
    let table = std::env::var("TABLE_NAME").ok().filter(|s| !s.is_empty());
    cold_start(client, table.as_deref()).await
}
