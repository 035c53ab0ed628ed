//! The node script (`tests/browser/page.mjs`) as a child process: its questions answered line
//! by line, its stderr (steps and the page's console) kept for failure messages.

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

use serde_json::Value;

use super::browser_dir;

/// The node script, stopped with SIGTERM on drop (playwright then closes Chromium), SIGKILL
/// after 10 s.
pub(super) struct Script {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Script {
    pub(super) fn start(config: &Value) -> Self {
        let mut child = Command::new("node")
            .arg("page.mjs")
            .arg(config.to_string())
            .current_dir(browser_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self { child, stdin, lines, stderr }
    }

    /// What the script printed on stderr so far: its steps and the page's console.
    pub(super) fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Answers the script's questions with `answer` until its result, within `limit`.
    pub(super) fn run(
        &mut self,
        limit: Duration,
        mut answer: impl FnMut(&Value) -> Value,
    ) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let line =
                match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(line) => line,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        panic!(
                            "the browser script gave no result within {limit:?}; its log:\n{}",
                            self.log()
                        )
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        let exit = self.child.wait();
                        // Let the stderr thread catch up with what the script wrote last.
                        std::thread::sleep(Duration::from_millis(200));
                        panic!(
                            "the browser script exited ({exit:?}) without a result; its log:\n{}",
                            self.log()
                        )
                    }
                };
            let Ok(value) = serde_json::from_str::<Value>(&line) else {
                eprintln!("browser script: {line}");
                continue;
            };
            if let Some(question) = value.get("ask") {
                let reply = answer(question);
                writeln!(self.stdin, "{reply}").unwrap();
            } else if let Some(result) = value.get("result") {
                return result.clone();
            } else {
                panic!("the browser script failed: {value:#}\nits log:\n{}", self.log());
            }
        }
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
