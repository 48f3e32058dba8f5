//! The `api` function: `{"pattern": "usersOfCompany", "company": "acme"}` or
//! `{"pattern": "userByEmail", "email": "ann@acme.test"}` in, users out.

use dyngen_example_lambda::{Request, Response, cold_start_from_env};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Once per cold start: the client, and the migrations (a no-op once applied).
    let app = cold_start_from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Request>| async move {
        let response: Response = app.serve(event.payload).await?;
        Ok::<_, Error>(response)
    }))
    .await
}
