#![allow(dead_code)]
//! A TCP proxy between the SDK and DynamoDB Local that loses requests and answers: a
//! network fault, not a mock. It reads just enough HTTP/1.1 to fault one request at a time
//! on a kept-alive connection; each request draws its fate from a seeded generator:
//!
//! - dropped before it is forwarded (DynamoDB never sees it; the client sees the
//!   connection close);
//! - forwarded, answered, and the answer dropped (the write is applied; the client sees
//!   the connection close);
//! - forwarded, and the connection reset halfway through the answer;
//! - delayed before it is forwarded;
//! - passed through.
//!
//! It also records which operation each request called (its `X-Amz-Target`), can add a
//! fixed latency to every request, and can report an index as still building: a stall
//! DynamoDB Local cannot be made to produce, so DescribeTable's answer is rewritten (the
//! one stand-in here, and the only thing it changes).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::common::Rng;

/// How often each fault happens, per thousand requests.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub drop_before: usize,
    pub drop_answer: usize,
    pub reset_answer: usize,
    pub delay: usize,
    /// After this many requests, every answer is dropped (the request forwarded): a
    /// connection that never recovers.
    pub lose_all_after: Option<usize>,
    /// Added to every request before it is forwarded: a slow network.
    pub latency: Duration,
    /// DescribeTable answers report this index as CREATING (backfilling) whatever its
    /// real status: an index build that never ends.
    pub stall_index: Option<String>,
}

impl Faults {
    /// No fault until `n` requests have passed, then every answer lost.
    pub fn lose_all_after(n: usize) -> Faults {
        Faults {
            lose_all_after: Some(n),
            ..Faults::default()
        }
    }
}

/// How many requests met each fate.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicUsize,
    pub passed: AtomicUsize,
    pub dropped_before: AtomicUsize,
    pub dropped_answer: AtomicUsize,
    pub reset_answer: AtomicUsize,
    pub delayed: AtomicUsize,
    /// Every request: when it came, its operation (`DescribeTable`, `UpdateItem`, ...)
    /// and its body.
    pub calls: Mutex<Vec<(Instant, String, String)>>,
}

impl Stats {
    /// The requests that called one of `operations`, by the time they came.
    pub fn calls_to(&self, operations: &[&str]) -> Vec<Instant> {
        let calls = self.calls.lock().unwrap();
        let wanted = calls
            .iter()
            .filter(|(_, op, _)| operations.contains(&op.as_str()));
        wanted.map(|(at, _, _)| *at).collect()
    }

    /// How many requests called `operation` with `text` in their body.
    pub fn calls_matching(&self, operation: &str, text: &str) -> usize {
        let calls = self.calls.lock().unwrap();
        calls
            .iter()
            .filter(|(_, op, body)| op == operation && body.contains(text))
            .count()
    }

    pub fn faults(&self) -> usize {
        self.dropped_before.load(Ordering::SeqCst)
            + self.dropped_answer.load(Ordering::SeqCst)
            + self.reset_answer.load(Ordering::SeqCst)
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |a: &AtomicUsize| a.load(Ordering::SeqCst);
        write!(
            f,
            "passed {}, dropped before forwarding {}, answer dropped {}, answer reset {}, delayed {}",
            n(&self.passed),
            n(&self.dropped_before),
            n(&self.dropped_answer),
            n(&self.reset_answer),
            n(&self.delayed)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Pass,
    DropBefore,
    DropAnswer,
    ResetAnswer,
    Delay,
}

/// A running proxy: its endpoint URL and what it did.
pub struct FaultProxy {
    pub url: String,
    pub stats: Arc<Stats>,
}

struct Shared {
    upstream: String,
    faults: Faults,
    rng: Mutex<Rng>,
    stats: Arc<Stats>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://host:port`) on a free local port.
    pub async fn start(upstream: &str, faults: Faults, seed: u64) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stats = Arc::new(Stats::default());
        let shared = Arc::new(Shared {
            upstream: upstream.trim_start_matches("http://").to_string(),
            faults,
            rng: Mutex::new(Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)),
            stats: stats.clone(),
        });
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    // A connection ends with an error when a fault closes it: expected.
                    let _ = serve(client, &shared).await;
                });
            }
        });
        FaultProxy { url, stats }
    }
}

impl Shared {
    fn draw(&self) -> Fate {
        let f = &self.faults;
        let seen = self.stats.requests.fetch_add(1, Ordering::SeqCst);
        if f.lose_all_after.is_some_and(|n| seen >= n) {
            return Fate::DropAnswer;
        }
        let mut roll = self.rng.lock().unwrap().below(1000);
        for (share, fate) in [
            (f.drop_before, Fate::DropBefore),
            (f.drop_answer, Fate::DropAnswer),
            (f.reset_answer, Fate::ResetAnswer),
            (f.delay, Fate::Delay),
        ] {
            if roll < share {
                return fate;
            }
            roll -= share;
        }
        Fate::Pass
    }

    fn count(&self, fate: Fate) {
        let s = &self.stats;
        let counter = match fate {
            Fate::Pass => &s.passed,
            Fate::DropBefore => &s.dropped_before,
            Fate::DropAnswer => &s.dropped_answer,
            Fate::ResetAnswer => &s.reset_answer,
            Fate::Delay => &s.delayed,
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// Proxies one client connection, request by request, until a fault or either side
/// closes it.
async fn serve(mut client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut server = TcpStream::connect(&shared.upstream).await?;
    let (mut from_client, mut from_server) = (Vec::new(), Vec::new());
    loop {
        let Some(request) = read_message(&mut client, &mut from_client).await? else {
            return Ok(());
        };
        let operation = operation_of(&request);
        let body = String::from_utf8_lossy(&request).into_owned();
        let call = (Instant::now(), operation.clone(), body);
        shared.stats.calls.lock().unwrap().push(call);
        let fate = shared.draw();
        shared.count(fate);
        tokio::time::sleep(shared.faults.latency).await;
        match fate {
            Fate::DropBefore => return Ok(()),
            Fate::Delay => {
                let ms = shared.rng.lock().unwrap().below(200) as u64 + 20;
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            _ => {}
        }
        server.write_all(&request).await?;
        let Some(mut answer) = read_message(&mut server, &mut from_server).await? else {
            return Ok(());
        };
        if let Some(index) = &shared.faults.stall_index
            && operation == "DescribeTable"
        {
            answer = still_building(&answer, index);
        }
        match fate {
            Fate::DropAnswer => return Ok(()),
            Fate::ResetAnswer => {
                client.write_all(&answer[..answer.len() / 2]).await?;
                // Linger 0: the close is a reset, not an orderly end of stream.
                client.set_zero_linger()?;
                return Ok(());
            }
            _ => client.write_all(&answer).await?,
        }
    }
}

/// The operation a request calls, from its `X-Amz-Target` header (`DynamoDB_20120810.Scan`).
fn operation_of(request: &[u8]) -> String {
    let head_end = find(request, b"\r\n\r\n").unwrap_or(request.len());
    let head = String::from_utf8_lossy(&request[..head_end]);
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("x-amz-target")
                .then(|| value.trim().rsplit('.').next().unwrap_or("").to_string())
        })
        .unwrap_or_default()
}

/// A DescribeTable answer with `index` reported as CREATING and backfilling. The body is
/// re-serialized, its length set again, and its CRC32 header (now wrong) dropped.
fn still_building(answer: &[u8], index: &str) -> Vec<u8> {
    let head_end = find(answer, b"\r\n\r\n").expect("an HTTP answer") + 4;
    let head = String::from_utf8_lossy(&answer[..head_end]).to_string();
    assert!(
        !head.to_ascii_lowercase().contains("chunked"),
        "a chunked DescribeTable answer: {head}"
    );
    let mut body: serde_json::Value =
        serde_json::from_slice(&answer[head_end..]).expect("DescribeTable answers JSON");
    if let Some(indexes) = body["Table"]["GlobalSecondaryIndexes"].as_array_mut() {
        for ix in indexes.iter_mut().filter(|ix| ix["IndexName"] == index) {
            ix["IndexStatus"] = "CREATING".into();
            ix["Backfilling"] = true.into();
        }
    }
    let body = serde_json::to_vec(&body).unwrap();
    let mut out = String::new();
    for line in head.trim_end().split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("x-amz-crc32:") {
            continue;
        }
        if lower.starts_with("content-length:") {
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        } else {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// Reads one HTTP/1.1 message (head and body, by `Content-Length` or chunked) from
/// `stream`, keeping bytes past it in `buf`. `None` at a clean end of stream.
async fn read_message(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Vec<u8>>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if !fill(stream, buf).await? {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let end = if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        chunked_end(stream, buf, head_end).await?
    } else {
        let len: usize = header("content-length:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            if !fill(stream, buf).await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        head_end + len
    };
    let rest = buf.split_off(end);
    Ok(Some(std::mem::replace(buf, rest)))
}

/// Where a chunked body that starts at `at` ends (after its last, empty chunk).
async fn chunked_end(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    mut at: usize,
) -> std::io::Result<usize> {
    loop {
        let line_end = loop {
            if let Some(i) = find(&buf[at..], b"\r\n") {
                break at + i;
            }
            if !fill(stream, buf).await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        };
        let size_text = String::from_utf8_lossy(&buf[at..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        // The chunk, its CRLF; the last chunk is followed by an empty trailer line.
        let end = line_end + 2 + size + 2;
        while buf.len() < end {
            if !fill(stream, buf).await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        if size == 0 {
            return Ok(end);
        }
        at = end;
    }
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
