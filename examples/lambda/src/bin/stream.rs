//! The `stream` function, subscribed to the table's stream: keeps each company's
//! `userCount` as users are written and deleted.

use dyngen_example_lambda::{StreamReport, cold_start, table_name_from_env};
use dyngen_runtime::stream::Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_from_env().await;
    let client = dyngen_runtime::aws_sdk_dynamodb::Client::new(&config);
    let app = cold_start(client, table_name_from_env().as_deref()).await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        let report: StreamReport = app.on_stream(&event.payload).await?;
        Ok::<_, Error>(report)
    }))
    .await
}
