//! The built `api` and `stream` binaries, run as Lambda runs them: a process that reads
//! its invocations from the Lambda Runtime API. This test serves that API itself (the
//! documented HTTP interface: `GET .../invocation/next`, `POST .../response`), hands each
//! binary one event, and reads back what it answered, with DynamoDB Local behind it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use dyngen_example_lambda::{Company, User, cold_start};
use dyngen_runtime::local::{DynamoDbLocal, unique_table_name};
use serde_json::{Value, json};

fn local() -> &'static DynamoDbLocal {
    DynamoDbLocal::shared().unwrap_or_else(|e| panic!("DynamoDB Local is required: {e}"))
}

/// One HTTP request: its request line and body.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((line.trim_end().to_string(), body))
}

/// Serves the Runtime API for one invocation of `event`; sends what the function posted
/// as its response (or error) on `answer`. Later `next` calls wait, as on Lambda.
fn runtime_api(event: Value) -> (String, mpsc::Receiver<(String, Value)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut handed_out = false;
        for stream in listener.incoming().flatten() {
            let tx = tx.clone();
            let event = event.clone();
            let first = !handed_out;
            handed_out = true;
            std::thread::spawn(move || serve(stream, event, first, tx));
        }
    });
    (addr, rx)
}

fn serve(stream: TcpStream, event: Value, mut hand_out: bool, tx: mpsc::Sender<(String, Value)>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some((line, body)) = read_request(&mut reader) {
        let (status, headers, reply) = if line.contains("/invocation/next") {
            if !hand_out {
                // No second invocation: hold the call open, as Lambda does between events.
                std::thread::sleep(Duration::from_secs(600));
                return;
            }
            hand_out = false;
            let headers = "Lambda-Runtime-Aws-Request-Id: req-1\r\nLambda-Runtime-Deadline-Ms: 32503680000000\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:test\r\n";
            ("200 OK", headers, event.to_string())
        } else {
            let posted = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let _ = tx.send((line.clone(), posted));
            ("202 Accepted", "", "{}".to_string())
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// Runs a function binary against the served Runtime API and returns what it posted.
fn invoke(binary: &str, table: &str, event: Value) -> (String, Value) {
    let (api, answers) = runtime_api(event);
    let mut child: Child = Command::new(binary)
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
        .env("AWS_ENDPOINT_URL_DYNAMODB", local().endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "dyngenlocal")
        .env("AWS_SECRET_ACCESS_KEY", "dyngenlocal")
        .env("TABLE_NAME", table)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let answer = answers.recv_timeout(Duration::from_secs(120));
    let _ = child.kill();
    let _ = child.wait();
    answer.unwrap_or_else(|e| panic!("{binary} posted no answer: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_functions_start_cold_migrate_and_answer_one_invocation() {
    let table = unique_table_name("lambda-bin");
    // The `api` binary's cold start creates the table; its invocation finds nobody yet.
    let (path, answer) = invoke(
        env!("CARGO_BIN_EXE_api"),
        &table,
        json!({ "pattern": "usersOfCompany", "company": "acme" }),
    );
    assert!(
        path.contains("/invocation/req-1/response"),
        "{path}: {answer}"
    );
    assert_eq!(answer, json!({ "users": [], "cursor": null }));

    // Data written through the library, read through the binary.
    let app = cold_start(local().client(), Some(&table)).await.unwrap();
    app.db
        .company()
        .create(&Company::new("acme"))
        .await
        .unwrap();
    app.db
        .user()
        .create(&User::new("ann@acme.test", "acme", "Ann"))
        .await
        .unwrap();
    let (_, answer) = invoke(
        env!("CARGO_BIN_EXE_api"),
        &table,
        json!({ "pattern": "userByEmail", "email": "ann@acme.test" }),
    );
    assert_eq!(answer["users"][0]["name"], "Ann", "{answer}");
    assert_eq!(answer["users"][0]["companyName"], "acme", "{answer}");

    // The `stream` binary, handed the stream's records as Lambda would deliver them.
    let event = local().stream_event(&table).await.unwrap();
    let (path, report) = invoke(
        env!("CARGO_BIN_EXE_stream"),
        &table,
        serde_json::to_value(&event).unwrap(),
    );
    assert!(path.contains("/response"), "{path}: {report}");
    assert_eq!(report["counted"], 1, "{report}");
    let acme = app
        .db
        .company()
        .get(&Company::new("acme").key())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acme.user_count, 1);

    // A request the function cannot read is reported to Lambda as an error.
    let (path, error) = invoke(
        env!("CARGO_BIN_EXE_api"),
        &table,
        json!({ "pattern": "dropTable" }),
    );
    assert!(path.contains("/invocation/req-1/error"), "{path}: {error}");
}
