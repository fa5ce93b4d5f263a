//! Reading the three inputs (files or one JSON object on stdin) and writing
//! the outputs (files, or one JSON object on stdout / stderr).

use super::json::{kind, parse_hex};
use alloy_consensus::TxEnvelope;
use alloy_rlp::Decodable;
use eyre::{WrapErr, eyre};
use serde_json::{Map, Value};
use std::{
    io::Read,
    path::{Path, PathBuf},
};

const STDIN: &str = "stdin";

/// One JSON input and where it came from, for error messages.
pub(super) struct Input {
    pub(super) name: String,
    pub(super) value: Value,
}

impl Input {
    /// An error about this input, naming it.
    pub(super) fn error(&self, message: String) -> eyre::Report {
        eyre!("{}: {message}", self.name)
    }
}

/// The transactions as given.
pub(super) enum TxInput {
    /// geth RPC-style objects, parsed one by one (a bad one is rejected).
    Json(Vec<Value>),
    /// A decoded RLP list.
    Rlp(Vec<TxEnvelope>),
}

/// The parsed inputs.
pub(super) struct Inputs {
    pub(super) alloc: Input,
    pub(super) env: Input,
    pub(super) txs: TxInput,
}

impl Inputs {
    /// Reads the inputs; any of them may be `stdin`, which then holds one
    /// object `{"alloc", "env", "txs"}`.
    pub(super) fn load(alloc: &str, env: &str, txs: &str) -> eyre::Result<Self> {
        let stdin = if [alloc, env, txs].contains(&STDIN) { Some(read_stdin()?) } else { None };
        let from_stdin = |key: &str| -> eyre::Result<Input> {
            let obj = stdin.as_ref().ok_or_else(|| eyre!("stdin was not read"))?;
            let value =
                obj.get(key).cloned().ok_or_else(|| eyre!("stdin: the input object has no `{key}`"))?;
            Ok(Input { name: format!("stdin ({key})"), value })
        };
        let alloc = if alloc == STDIN { from_stdin("alloc")? } else { read_json(alloc)? };
        let env = if env == STDIN { from_stdin("env")? } else { read_json(env)? };
        let txs = if txs == STDIN {
            let obj = stdin.as_ref().ok_or_else(|| eyre!("stdin was not read"))?;
            match (obj.get("txs").filter(|v| !v.is_null()), obj.get("txsRlp")) {
                (Some(v), _) => tx_input(&Input { name: "stdin (txs)".into(), value: v.clone() })?,
                (None, Some(v)) => tx_input(&Input { name: "stdin (txsRlp)".into(), value: v.clone() })?,
                (None, None) => TxInput::Json(Vec::new()),
            }
        } else if txs.ends_with(".rlp") {
            let text = std::fs::read_to_string(txs).wrap_err_with(|| format!("{txs}: cannot read"))?;
            let trimmed = text.trim();
            let hex = if trimmed.starts_with('"') {
                serde_json::from_str::<String>(trimmed)
                    .map_err(|e| eyre!("{txs}: expected a JSON string of hex RLP: {e}"))?
            } else {
                trimmed.to_string()
            };
            TxInput::Rlp(decode_rlp(&hex).map_err(|e| eyre!("{txs}: {e}"))?)
        } else {
            tx_input(&read_json(txs)?)?
        };
        Ok(Self { alloc, env, txs })
    }
}

fn read_stdin() -> eyre::Result<Map<String, Value>> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).wrap_err("stdin: cannot read")?;
    match serde_json::from_str::<Value>(&text).map_err(|e| eyre!("stdin: invalid JSON: {e}"))? {
        Value::Object(obj) => Ok(obj),
        other => {
            Err(eyre!("stdin: expected an object {{\"alloc\", \"env\", \"txs\"}}, got {}", kind(&other)))
        }
    }
}

fn read_json(path: &str) -> eyre::Result<Input> {
    let text = std::fs::read_to_string(path).wrap_err_with(|| format!("{path}: cannot read"))?;
    let value = serde_json::from_str(&text).map_err(|e| eyre!("{path}: invalid JSON: {e}"))?;
    Ok(Input { name: path.to_string(), value })
}

fn tx_input(input: &Input) -> eyre::Result<TxInput> {
    match &input.value {
        Value::Array(list) => Ok(TxInput::Json(list.clone())),
        Value::Null => Ok(TxInput::Json(Vec::new())),
        Value::String(hex) => Ok(TxInput::Rlp(decode_rlp(hex).map_err(|e| input.error(e))?)),
        other => Err(input
            .error(format!("expected an array of transactions or a hex RLP string, got {}", kind(other)))),
    }
}

/// Decodes a hex RLP list of transactions (typed ones as byte strings).
fn decode_rlp(hex: &str) -> Result<Vec<TxEnvelope>, String> {
    let raw = parse_hex(hex)?;
    let mut slice = raw.as_slice();
    let txs =
        Vec::<TxEnvelope>::decode(&mut slice).map_err(|e| format!("invalid RLP transaction list: {e}"))?;
    if !slice.is_empty() {
        return Err(format!("{} bytes after the RLP transaction list", slice.len()));
    }
    Ok(txs)
}

/// Where the outputs go: files under a base folder, or collected into one
/// object per standard stream.
pub(super) struct Outputs {
    basedir: Option<PathBuf>,
    stdout: Map<String, Value>,
    stderr: Map<String, Value>,
}

impl Outputs {
    /// Creates the base folder if needed.
    pub(super) fn new(basedir: Option<&Path>) -> eyre::Result<Self> {
        if let Some(dir) = basedir {
            std::fs::create_dir_all(dir)
                .wrap_err_with(|| format!("{}: cannot create folder", dir.display()))?;
        }
        Ok(Self { basedir: basedir.map(Path::to_path_buf), stdout: Map::new(), stderr: Map::new() })
    }

    /// Writes `value` to `dest` (a file name, `stdout` or `stderr`).
    pub(super) fn add(&mut self, name: &str, dest: &str, value: Value) -> eyre::Result<()> {
        match dest {
            "stdout" => {
                self.stdout.insert(name.into(), value);
            }
            "stderr" => {
                self.stderr.insert(name.into(), value);
            }
            file => {
                let path = self.basedir.as_ref().map_or_else(|| PathBuf::from(file), |d| d.join(file));
                let mut text = serde_json::to_string_pretty(&value)?;
                text.push('\n');
                std::fs::write(&path, text).wrap_err_with(|| format!("{}: cannot write", path.display()))?;
            }
        }
        Ok(())
    }

    /// Prints what was collected for stdout and stderr.
    pub(super) fn flush(self) -> eyre::Result<()> {
        if !self.stdout.is_empty() {
            println!("{}", serde_json::to_string_pretty(&Value::Object(self.stdout))?);
        }
        if !self.stderr.is_empty() {
            eprintln!("{}", serde_json::to_string_pretty(&Value::Object(self.stderr))?);
        }
        Ok(())
    }
}
