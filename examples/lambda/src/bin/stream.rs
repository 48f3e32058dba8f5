//! The `stream` function, subscribed to the table's stream: keeps each company's
//! `userCount` as users are written and deleted.

use dyngen_example_lambda::{StreamReport, cold_start_from_env};
use dyngen_runtime::stream::Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Once per cold start: the client, and the migrations (a no-op once applied).
    let app = cold_start_from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        let report: StreamReport = app.on_stream(&event.payload).await?;
        Ok::<_, Error>(report)
    }))
    .await
}
