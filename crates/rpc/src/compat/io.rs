//! The `.io` test format of the rpc-compat suite: `>> REQUEST` and
//! `<< RESPONSE` lines, `//` comments, one JSON value per line.

use super::{CompatError as Error, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One request and the response it must get.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request as sent (the line after `>> `).
    pub request: String,
    /// The expected response.
    pub response: Value,
}

/// A test: its name (`METHOD/FILE` without `.io`) and its exchanges.
#[derive(Debug, Clone)]
pub struct IoTest {
    /// `METHOD/TEST`.
    pub name: String,
    /// Requests in order.
    pub exchanges: Vec<Exchange>,
    /// The header says `speconly:`: hive checks such responses against the
    /// specification's schema only, not for equality.
    pub speconly: bool,
}

/// Parses one `.io` file.
pub fn parse(name: String, text: &str) -> Result<IoTest> {
    let mut exchanges = Vec::new();
    let mut pending: Option<String> = None;
    let mut speconly = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix("//") {
            speconly |=
                exchanges.is_empty() && pending.is_none() && comment.trim_start().starts_with("speconly:");
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if let Some(request) = line.strip_prefix(">>") {
            if pending.is_some() {
                return Err(Error::Format(format!(
                    "{name}: line {}: request without a response before it",
                    n + 1
                )));
            }
            pending = Some(request.trim().to_owned());
        } else if let Some(response) = line.strip_prefix("<<") {
            let request = pending
                .take()
                .ok_or_else(|| Error::Format(format!("{name}: line {}: response without request", n + 1)))?;
            let response = serde_json::from_str(response.trim())
                .map_err(|e| Error::Format(format!("{name}: line {}: response is not JSON: {e}", n + 1)))?;
            exchanges.push(Exchange { request, response });
        } else {
            return Err(Error::Format(format!("{name}: line {}: expected `>>`, `<<` or `//`", n + 1)));
        }
    }
    if pending.is_some() {
        return Err(Error::Format(format!("{name}: last request has no response")));
    }
    Ok(IoTest { name, exchanges, speconly })
}

/// Every `.io` file under `dir`, sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<IoTest>> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "io"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let rel = path.strip_prefix(dir).unwrap_or(path).with_extension("");
            let name = rel.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Format(format!("{}: {e}", path.display())))?;
            parse(name, &text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests_and_responses() {
        let text =
            "// comment\n>> {\"id\":1}\n<< {\"id\":1,\"result\":\"0x1\"}\n\n>> {\"id\":2}\n<< {\"id\":2}\n";
        let test = parse("m/t".into(), text).unwrap();
        assert_eq!(test.exchanges.len(), 2);
        assert_eq!(test.exchanges[0].request, "{\"id\":1}");
        assert_eq!(test.exchanges[0].response["result"], "0x1");
        assert!(parse("m/t".into(), ">> {}\n>> {}\n").is_err());
        assert!(parse("m/t".into(), "<< {}\n").is_err());
        assert!(parse("m/t".into(), ">> {}\n").is_err());
        assert!(!test.speconly);
        let spec = parse("m/t".into(), "// about\n// speconly: schema only\n>> {}\n<< {}\n").unwrap();
        assert!(spec.speconly);
    }
}
