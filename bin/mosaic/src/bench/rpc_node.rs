//! The nodes under load in `mosaic bench rpc` and the JSON-RPC client that
//! talks to them: a `mosaic node --dev` started from this executable, or an
//! anvil started from its binary, each on a loopback port of a temporary
//! directory (or any node already running, given its URL). A started node is
//! killed when its [`NodeProcess`] is dropped.

use eyre::{Context, Result, bail, eyre};
use mosaic_rpc::compat::client::HttpClient;
use serde_json::{Value, json};
use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// JSON-RPC over one kept-alive HTTP/1.1 connection.
#[derive(Debug)]
pub(super) struct JsonRpc {
    http: HttpClient,
    next_id: u64,
}

impl JsonRpc {
    /// A client of `addr` (connects on first use).
    pub(super) const fn new(addr: SocketAddr) -> Self {
        Self { http: HttpClient::new(addr), next_id: 1 }
    }

    /// One call; a JSON-RPC error becomes an error.
    pub(super) fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        let answer: Value = serde_json::from_str(&self.http.post(&body)?)
            .with_context(|| format!("{method}: response is not JSON"))?;
        match answer.get("error") {
            Some(error) => bail!("{method}: {error}"),
            None => answer.get("result").cloned().ok_or_else(|| eyre!("{method}: no result in {answer}")),
        }
    }

    /// One batch of calls; returns each call's result or error message, in
    /// the order of `calls`.
    pub(super) fn batch(&mut self, calls: &[(&str, Value)]) -> Result<Vec<Result<Value, String>>> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let first = self.next_id;
        self.next_id += calls.len() as u64;
        let body: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(i, (method, params))| {
                json!({"jsonrpc": "2.0", "id": first + i as u64, "method": method, "params": params})
            })
            .collect();
        let answer: Value = serde_json::from_str(&self.http.post(&Value::Array(body).to_string())?)
            .context("batch response is not JSON")?;
        let Value::Array(items) = answer else { bail!("batch answered with {answer}") };
        let mut out: Vec<Result<Value, String>> = vec![Err("no answer".into()); calls.len()];
        for item in items {
            let slot = item
                .get("id")
                .and_then(Value::as_u64)
                .and_then(|id| id.checked_sub(first))
                .and_then(|i| out.get_mut(i as usize))
                .ok_or_else(|| eyre!("batch answer with an unknown id: {item}"))?;
            *slot = match (item.get("result"), item.get("error")) {
                (_, Some(error)) => {
                    Err(error.get("message").and_then(Value::as_str).unwrap_or("error").to_string())
                }
                (Some(result), None) => Ok(result.clone()),
                (None, None) => Err(format!("malformed answer {item}")),
            };
        }
        Ok(out)
    }
}

/// Parses a `0x` quantity.
pub(super) fn quantity(value: &Value) -> Result<u64> {
    let text = value.as_str().ok_or_else(|| eyre!("expected a hex quantity, got {value}"))?;
    u64::from_str_radix(text.trim_start_matches("0x"), 16).with_context(|| format!("bad quantity {text}"))
}

/// A node under load: its address, and the process if this run started it.
#[derive(Debug)]
pub(super) struct NodeProcess {
    /// HTTP JSON-RPC address.
    pub(super) addr: SocketAddr,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl NodeProcess {
    /// A node that is already running at `url` (`http://host:port`).
    pub(super) fn running(url: &str) -> Result<Self> {
        let hostport = url.trim_start_matches("http://").trim_end_matches('/');
        let addr = std::net::ToSocketAddrs::to_socket_addrs(hostport)
            .with_context(|| format!("resolving {url}"))?
            .next()
            .ok_or_else(|| eyre!("{url} resolves to no address"))?;
        Ok(Self { addr, child: None, _dir: None })
    }

    /// Starts `mosaic node --dev` (this executable) on a fresh datadir and
    /// OS-chosen loopback ports; `extra` are more arguments.
    pub(super) fn start_mosaic(extra: &[String]) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("node.log");
        let exe = std::env::current_exe().context("locating the mosaic executable")?;
        let mut cmd = Command::new(exe);
        cmd.args(["node", "--dev", "--http.port", "0", "--ws.port", "0", "--datadir"])
            .arg(dir.path().join("data"))
            .args(extra);
        let child = spawn_logged(cmd, &log)?;
        let mut node =
            Self { addr: SocketAddr::from(([127, 0, 0, 1], 0)), child: Some(child), _dir: Some(dir) };
        let deadline = Instant::now() + Duration::from_secs(60);
        node.addr = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let printed = text.lines().find_map(|l| l.strip_prefix("HTTP JSON-RPC on http://"));
            if let Some(addr) = printed.and_then(|a| a.trim().parse().ok()) {
                break addr;
            }
            node.check_alive(&log)?;
            if Instant::now() > deadline {
                bail!("mosaic node printed no address in 60 s:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ok(node)
    }

    /// Starts anvil from `bin` on a free loopback port (default settings:
    /// automine, the test mnemonic's accounts), logs off.
    pub(super) fn start_anvil(bin: &Path, extra: &[String]) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("anvil.log");
        // anvil prints its address only when not silent: pick the port here.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut cmd = Command::new(bin);
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string(), "--silent"]).args(extra);
        let child = spawn_logged(cmd, &log).with_context(|| format!("starting {}", bin.display()))?;
        let mut node =
            Self { addr: SocketAddr::from(([127, 0, 0, 1], port)), child: Some(child), _dir: Some(dir) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while JsonRpc::new(node.addr).call("eth_chainId", json!([])).is_err() {
            node.check_alive(&log)?;
            if Instant::now() > deadline {
                bail!("anvil did not answer in 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(node)
    }

    fn check_alive(&mut self, log: &Path) -> Result<()> {
        if let Some(child) = &mut self.child
            && let Some(status) = child.try_wait()?
        {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            bail!("node exited with {status}:\n{text}");
        }
        Ok(())
    }
}

fn spawn_logged(mut cmd: Command, log: &Path) -> Result<Child> {
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    Ok(cmd.stdin(Stdio::null()).stdout(out).stderr(err).spawn()?)
}

/// The anvil binary: `explicit`, else the one `scripts/bench-rpc.sh`
/// installs under `bench/node_modules`, else `anvil` on the `PATH`.
pub(super) fn find_anvil(explicit: Option<&Path>) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    let installed = Path::new("bench/node_modules/@foundry-rs");
    let found = std::fs::read_dir(installed).ok().and_then(|dir| {
        dir.flatten().map(|entry| entry.path().join("bin/anvil")).find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| PathBuf::from("anvil"))
}
