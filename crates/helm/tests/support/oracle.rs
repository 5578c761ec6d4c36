//! Client of the test-only Helm oracle (`oracle/render.py`): one python process per client, one JSON
//! request and answer per line. Shared by the oracle tests and the benchmark.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

pub struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

const SETUP_HINT: &str =
    "the Helm oracle needs python3 and PyPI helm-python-sdk==0.2.2: run scripts/setup";

impl Oracle {
    /// Starts the oracle; panics with a message pointing at `scripts/setup` when it cannot run.
    pub fn start() -> Oracle {
        Self::try_start().unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn try_start() -> Result<Oracle, String> {
        let script = PathBuf::from("oracle/render.py");
        let probe = Command::new("python3")
            .args(["-c", "import helm_python"])
            .output()
            .map_err(|e| format!("cannot run python3 ({e}); {SETUP_HINT}"))?;
        if !probe.status.success() {
            return Err(format!(
                "python3 cannot import helm_python ({}); {SETUP_HINT}",
                String::from_utf8_lossy(&probe.stderr).trim()
            ));
        }
        let mut child = Command::new("python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}; {SETUP_HINT}", script.display()))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(Oracle {
            child,
            stdin,
            stdout,
        })
    }

    /// Sends one request and waits for its answer.
    pub fn call(&mut self, req: &Value) -> Value {
        let line = serde_json::to_string(req).expect("request is JSON");
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|_| self.stdin.flush())
            .unwrap_or_else(|e| panic!("oracle died ({e}); {SETUP_HINT}"));
        let mut answer = String::new();
        self.stdout
            .read_line(&mut answer)
            .unwrap_or_else(|e| panic!("oracle died ({e}); {SETUP_HINT}"));
        let v: Value = serde_json::from_str(&answer)
            .unwrap_or_else(|e| panic!("oracle answered {answer:?} ({e}); {SETUP_HINT}"));
        if v["stage"] == "import" {
            panic!("{}", v["message"]);
        }
        v
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Numbers handed to Helm through JSON are float64 in Go: give ours the same.
pub fn as_go_json(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::Number::from_f64(n.as_f64().unwrap_or(0.0))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Value::Array(a) => Value::Array(a.iter().map(as_go_json).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), as_go_json(v))).collect())
        }
        other => other.clone(),
    }
}
