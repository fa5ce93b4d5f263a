//! Deep JSON comparison with a readable list of differences.

use serde_json::Value;

/// The paths where `got` differs from `want` (empty when equal), each as
/// `path: want X, got Y`. At most `limit` entries.
pub fn json_diff(want: &Value, got: &Value, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    walk("$", want, got, &mut out, limit);
    out
}

fn walk(path: &str, want: &Value, got: &Value, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit {
        return;
    }
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => walk(&format!("{path}.{k}"), wv, gv, out, limit),
                    None => out.push(format!("{path}.{k}: missing (want {})", short(wv))),
                }
            }
            for (k, gv) in g {
                if !w.contains_key(k) && out.len() < limit {
                    out.push(format!("{path}.{k}: unexpected {}", short(gv)));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                out.push(format!("{path}: want {} items, got {}", w.len(), g.len()));
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                walk(&format!("{path}[{i}]"), wv, gv, out, limit);
            }
        }
        // Numbers compare by value, as Go's `encoding/json` reads them
        // (`0` and `0.0` are equal).
        (Value::Number(w), Value::Number(g)) if w.as_f64() == g.as_f64() => {}
        _ if want == got => {}
        _ => out.push(format!("{path}: want {}, got {}", short(want), short(got))),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 { format!("{}…", &s[..s.floor_char_boundary(117)]) } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_every_kind_of_difference() {
        let want = json!({"a": 1, "b": [1, 2], "c": {"d": "x"}});
        assert!(json_diff(&want, &want, 10).is_empty());
        assert!(json_diff(&json!({"r": [0]}), &json!({"r": [0.0]}), 10).is_empty());
        let got = json!({"a": 2, "b": [1], "c": {"e": "x"}});
        let diff = json_diff(&want, &got, 10);
        assert_eq!(
            diff,
            [
                "$.a: want 1, got 2",
                "$.b: want 2 items, got 1",
                "$.c.d: missing (want \"x\")",
                "$.c.e: unexpected \"x\""
            ]
        );
    }
}
