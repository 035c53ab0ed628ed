//! `honnin card bridge` as a child process: on a free loopback port, trusting only the page's
//! origin; its terminal (stdout and stderr) read as text, its stdin typed into as a person would.

use std::{
    io::{Read as _, Write as _},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::lifecycle::honnin;

pub(super) struct Bridge {
    child: Child,
    /// The bridge reads the person's answers from it.
    stdin: ChildStdin,
    terminal: Arc<Mutex<String>>,
    /// How much of the terminal the test has read.
    read: usize,
    /// `http://127.0.0.1:PORT`, as the bridge says it listens.
    pub(super) url: String,
}

impl Bridge {
    /// Starts the bridge trusting `origin` only, on `reader` (pcscd's vpcd reader) when given,
    /// and waits for its "listening" line.
    pub(super) fn start(origin: &str, reader: Option<&str>) -> Self {
        let mut child = honnin()
            .args(["card", "bridge", "--listen", "127.0.0.1:0", "--trust-origin", origin])
            .args(reader.map(|reader| ["--reader", reader]).into_iter().flatten())
            .env("HONNIN_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let terminal = Arc::new(Mutex::new(String::new()));
        for mut pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = terminal.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut buf) {
                    sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let mut bridge = Self { child, stdin, terminal, read: 0, url: String::new() };
        let line = bridge.wait_for("bridge: listening on http://", Duration::from_secs(30));
        let url = line.split("listening on ").nth(1).unwrap().split([',', ' ', '\n']).next();
        bridge.url = url.unwrap().to_owned();
        assert!(line.contains(origin), "the bridge trusts the page's origin: {line}");
        bridge
    }

    /// `GET /v1/bridge` on a raw connection with `Origin: origin`: the status and the answer
    /// (head lower-cased, then the body).
    pub(super) fn get_as(&self, origin: &str) -> (u16, String) {
        let host = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        write!(
            stream,
            "GET /v1/bridge HTTP/1.1\r\nhost: {host}\r\norigin: {origin}\r\nconnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, format!("{}\r\n\r\n{body}", head.to_ascii_lowercase()))
    }

    /// Answers a signature request as the person would at the bridge's terminal: checks that
    /// it names `origin` and shows `message` line by line, types `y`, then the PIN, and with
    /// `password` (age evidence) checks the signing certificate's notice first and types the
    /// signing password when asked after the PIN. Returns what the terminal showed for the
    /// request.
    pub(super) fn sign(
        &mut self,
        origin: &str,
        message: &str,
        pin: &str,
        password: Option<&str>,
    ) -> String {
        let timeout = Duration::from_secs(20);
        let mut shown = self.wait_for("asks for a card signature", timeout);
        shown += &self.wait_for("Type y to continue", timeout);
        assert!(shown.contains(&format!("bridge: {origin} asks")), "{shown}");
        let lines: Vec<String> = message.split('\n').map(|line| format!("    | {line}")).collect();
        assert!(shown.contains(&lines.join("\n")), "the exact message: {shown}");
        if password.is_some() {
            assert!(shown.contains("asks for a card signature with age evidence"), "{shown}");
            assert!(shown.contains("name, address, date of birth and sex"), "{shown}");
            assert!(shown.contains("氏名・住所・生年月日・性別"), "{shown}");
        }
        self.type_line("y");
        shown += &self.wait_for("利用者証明用暗証番号", timeout);
        self.type_line(pin);
        if let Some(password) = password {
            shown += &self.wait_for("署名用パスワード (英大文字と数字", timeout);
            self.type_line(password);
        }
        shown += &self.wait_for("signed for", timeout);
        shown
    }

    fn type_line(&mut self, line: &str) {
        self.stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Everything the bridge printed.
    pub(super) fn terminal(&self) -> String {
        self.terminal.lock().unwrap().clone()
    }

    /// Waits until the unread terminal holds `needle`; returns the unread text up to the end of
    /// that line and marks it read.
    #[track_caller]
    fn wait_for(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let text = self.terminal.lock().unwrap();
                if let Some(at) = text[self.read..].find(needle) {
                    let from = self.read;
                    let end = text[from + at..].find('\n').map_or(text.len(), |n| from + at + n);
                    self.read = end;
                    return text[from..end].to_owned();
                }
            }
            assert!(
                Instant::now() < deadline,
                "the bridge did not print {needle:?}; its terminal:\n{}",
                self.terminal()
            );
            assert!(
                matches!(self.child.try_wait(), Ok(None)),
                "the bridge exited; its terminal:\n{}",
                self.terminal()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
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
