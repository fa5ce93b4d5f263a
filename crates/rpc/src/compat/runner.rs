//! Replays the suite against a node: every test in name order on one
//! connection, each request posted and its whole response compared with the
//! expected one. A test whose method is out of scope ([`is_out_of_scope`]) is
//! skipped, but its in-scope requests are still sent, since later tests see
//! their effects (a `testing_buildBlockV1` test submits the transaction that
//! `txpool_content` later lists). A `speconly` test that differs only passes
//! if the response has the same shape (success or the same error code, and
//! the same JSON type of result), hive's stand-in for a schema check.

use super::{client::HttpClient, diff::json_diff, io::IoTest};
use serde_json::Value;
use std::{fmt, net::SocketAddr, path::Path};

/// Methods not served yet: their tests are skipped.
const OUT_OF_SCOPE: [&str; 2] = ["eth_simulateV1", "testing_"];

/// Whether a method is outside what the node serves.
pub fn is_out_of_scope(method: &str) -> bool {
    OUT_OF_SCOPE.iter().any(|prefix| method.starts_with(prefix))
}

/// Counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompatSummary {
    /// Tests whose every response matched.
    pub passed: usize,
    /// Tests with a mismatch or a transport failure.
    pub failed: usize,
    /// Tests of out-of-scope methods.
    pub skipped: usize,
    /// Of the passed tests, `speconly` ones that matched by shape only.
    pub shape_only: usize,
    /// Names of the failed tests.
    pub failures: Vec<String>,
}

impl fmt::Display for CompatSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed, {} skipped", self.passed, self.failed, self.skipped)
    }
}

fn json_kind(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// Whether `got` has the shape of `want`.
fn same_shape(want: &Value, got: &Value) -> bool {
    match (want.get("result"), got.get("result"), want.get("error"), got.get("error")) {
        (Some(w), Some(g), _, _) => json_kind(w) == json_kind(g),
        (_, _, Some(w), Some(g)) => w.get("code") == g.get("code"),
        _ => false,
    }
}

fn method_of(request: &str) -> String {
    serde_json::from_str::<Value>(request)
        .ok()
        .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default()
}

enum Outcome {
    Pass,
    ShapeOnly(Vec<String>),
    Fail(Vec<String>),
}

fn run_one(client: &mut HttpClient, test: &IoTest) -> Outcome {
    let mut shape_only = Vec::new();
    for (i, exchange) in test.exchanges.iter().enumerate() {
        let body = match client.post(&exchange.request) {
            Ok(body) => body,
            Err(e) => return Outcome::Fail(vec![format!("request {i}: {e}")]),
        };
        let got: Value = match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(e) => return Outcome::Fail(vec![format!("request {i}: response is not JSON ({e}): {body}")]),
        };
        let diff = json_diff(&exchange.response, &got, 20);
        if diff.is_empty() {
            continue;
        }
        let mut lines =
            vec![format!("request {i}: {}", exchange.request.chars().take(200).collect::<String>())];
        lines.extend(diff);
        if test.speconly && same_shape(&exchange.response, &got) {
            shape_only.extend(lines);
            continue;
        }
        return Outcome::Fail(lines);
    }
    if shape_only.is_empty() { Outcome::Pass } else { Outcome::ShapeOnly(shape_only) }
}

/// Replays every `.io` test under `dir` (those whose name contains `filter`
/// when given) against the node at `http`, printing `FAIL METHOD/TEST` and a
/// diff for each failure (and `SHAPE METHOD/TEST` with the diff for a
/// `speconly` test that passes by shape only).
pub fn run_compat_suite(dir: &Path, http: SocketAddr, filter: Option<&str>) -> CompatSummary {
    let mut summary = CompatSummary::default();
    let tests = match super::io::load_dir(dir) {
        Ok(tests) => tests,
        Err(e) => {
            println!("FAIL loading {}: {e}", dir.display());
            summary.failed += 1;
            summary.failures.push(dir.display().to_string());
            return summary;
        }
    };
    let mut client = HttpClient::new(http);
    for test in tests.iter().filter(|t| filter.is_none_or(|f| t.name.contains(f))) {
        let method = test.name.split('/').next().unwrap_or_default();
        if is_out_of_scope(method) {
            summary.skipped += 1;
            for exchange in &test.exchanges {
                if !is_out_of_scope(&method_of(&exchange.request)) {
                    let _ = client.post(&exchange.request);
                }
            }
            continue;
        }
        match run_one(&mut client, test) {
            Outcome::Pass => summary.passed += 1,
            Outcome::ShapeOnly(lines) => {
                println!("SHAPE {} (speconly: passes by shape; differs from geth's answer)", test.name);
                for line in lines {
                    println!("    {line}");
                }
                summary.passed += 1;
                summary.shape_only += 1;
            }
            Outcome::Fail(lines) => {
                println!("FAIL {}", test.name);
                for line in lines {
                    println!("    {line}");
                }
                summary.failed += 1;
                summary.failures.push(test.name.clone());
            }
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        let ok = json!({"result": {"a": 1}});
        assert!(same_shape(&ok, &json!({"result": {"b": 2}})));
        assert!(!same_shape(&ok, &json!({"result": "0x1"})));
        assert!(!same_shape(&ok, &json!({"error": {"code": 3}})));
        assert!(same_shape(&json!({"error": {"code": 3, "message": "a"}}), &json!({"error": {"code": 3}})));
        assert!(is_out_of_scope("eth_simulateV1"));
        assert!(!is_out_of_scope("debug_traceTransaction"));
        assert!(!is_out_of_scope("debug_getRawBlock"));
    }
}
