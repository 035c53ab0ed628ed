//! The bridge over a real loopback socket, with the virtual card in memory and a scripted
//! terminal: the Host and Origin guard, CORS and private-network preflights, discovery, a
//! signature the verifier accepts, one request at a time, a "no", a wrong PIN, no card,
//! malformed requests, and a clean stop.

use std::{
    io::{Read as _, Write as _},
    net::TcpStream,
    sync::Arc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use base64::Engine as _;
use honnin_card::{
    bridge::{Bridge, Config},
    test_utils::{MEMORY_READER, MemoryCards, ScriptedTerminal, TerminalHandle},
};
use honnin_jpki::{Policy, Verifier};
use serde_json::Value;

use crate::{PIN, card};

const PAGE: &str = "http://127.0.0.1:8080";
const MESSAGE: &str =
    "honnin.localhost wants you to prove you hold your My Number card.\nNonce: 42\n";

/// A bridge serving on a thread of its own until dropped.
struct Running {
    port: u16,
    terminal: TerminalHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

fn start(cards: MemoryCards) -> Running {
    let (terminal, handle) = ScriptedTerminal::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let result = runtime.block_on(async move {
            let config = Config { listen: "127.0.0.1:0".parse().unwrap(), ..Config::default() };
            let bridge = Bridge::bind(&config, cards, terminal).await?;
            port_tx.send(bridge.local_addr().port()).unwrap();
            bridge
                .serve(async move {
                    let _ = stopped.await;
                })
                .await
        });
        runtime.shutdown_background();
        result
    });
    let port = port_rx.recv_timeout(Duration::from_secs(10)).expect("the bridge listens");
    Running { port, terminal: handle, stop: Some(stop), thread: Some(thread) }
}

impl Running {
    fn stop(mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        self.thread.take().unwrap().join().unwrap().unwrap();
        started.elapsed()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An answer: status, head, body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("JSON: {}", self.body))
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nconnection: close\r\n");
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        text.push_str(&format!("host: 127.0.0.1:{port}\r\n"));
    }
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(text.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Answer { status, head: head.to_owned(), body: body.to_owned() }
}

fn sign(port: u16, message: &str) -> Answer {
    let body = serde_json::json!({ "message": message }).to_string();
    request(
        port,
        "POST",
        "/v1/sign",
        &[("origin", PAGE), ("content-type", "application/json")],
        &body,
    )
}

#[test]
fn a_foreign_origin_is_refused_without_cors_headers() {
    let (_, shared) = card();
    let bridge = start(MemoryCards::with(&shared));
    for (method, path) in [("GET", "/v1/bridge"), ("POST", "/v1/sign"), ("OPTIONS", "/v1/sign")] {
        let answer = request(bridge.port, method, path, &[("origin", "http://evil.example")], "");
        assert_eq!(answer.status, 403, "{method} {path}");
        assert_eq!(answer.json()["code"], "origin_not_trusted");
        assert_eq!(answer.header("content-type").as_deref(), Some("application/problem+json"));
        assert!(answer.header("access-control-allow-origin").is_none(), "{}", answer.head);
    }
    // A trusted host name on another port is another origin.
    let answer =
        request(bridge.port, "GET", "/v1/bridge", &[("origin", "http://127.0.0.1:9999")], "");
    assert_eq!(answer.status, 403);
    assert!(shared.lock().seen().is_empty(), "the card was not touched");
    assert!(bridge.terminal.shown().is_empty(), "nothing reached the terminal");
}

#[test]
fn a_foreign_host_is_refused_dns_rebinding() {
    let (_, shared) = card();
    let bridge = start(MemoryCards::with(&shared));
    let port = bridge.port;
    for host in
        [format!("evil.example:{port}"), "127.0.0.1".to_owned(), format!("127.0.0.1:{}", port + 1)]
    {
        let answer = request(port, "GET", "/v1/bridge", &[("host", &host), ("origin", PAGE)], "");
        assert_eq!(answer.status, 403, "{host}");
        let problem = answer.json();
        assert_eq!(problem["code"], "host_not_allowed");
        assert_eq!(problem["status"], 403);
        assert!(problem["detail_ja"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(answer.header("access-control-allow-origin").is_none());
    }
    let answer = request(port, "GET", "/v1/bridge", &[("host", &format!("localhost:{port}"))], "");
    assert_eq!(answer.status, 200, "localhost:PORT is the bridge");
}

#[test]
fn preflights_answer_cors_and_private_network() {
    let (_, shared) = card();
    let bridge = start(MemoryCards::with(&shared));
    let asked = [
        ("origin", PAGE),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
        ("access-control-request-private-network", "true"),
    ];
    let answer = request(bridge.port, "OPTIONS", "/v1/sign", &asked, "");
    assert_eq!(answer.status, 204);
    assert_eq!(answer.header("access-control-allow-origin").as_deref(), Some(PAGE));
    assert_eq!(answer.header("access-control-allow-methods").as_deref(), Some("GET, POST"));
    assert_eq!(answer.header("access-control-allow-headers").as_deref(), Some("content-type"));
    assert_eq!(answer.header("access-control-allow-private-network").as_deref(), Some("true"));
    assert_eq!(answer.header("vary").as_deref(), Some("Origin"));
    // Not asked: not answered.
    let answer = request(bridge.port, "OPTIONS", "/v1/bridge", &asked[..3], "");
    assert_eq!(answer.status, 204);
    assert!(answer.header("access-control-allow-private-network").is_none());
}

#[test]
fn discovery_says_where_the_card_is() {
    let (_, shared) = card();
    let cards = MemoryCards::with(&shared);
    let bridge = start(cards.clone());
    let answer = request(bridge.port, "GET", "/v1/bridge", &[("origin", PAGE)], "");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin").as_deref(), Some(PAGE));
    let found = answer.json();
    assert_eq!(found["bridge"], "honnin");
    assert_eq!(found["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(found["reader"], MEMORY_READER);
    assert_eq!(found["card"], true);
    cards.remove();
    let found = request(bridge.port, "GET", "/v1/bridge", &[], "").json();
    assert_eq!(found["card"], false);
    let missing = request(bridge.port, "GET", "/v1/nothing", &[("origin", PAGE)], "");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["code"], "not_found");
}

#[test]
fn signs_the_exact_message_after_y_and_the_pin_on_the_terminal() {
    let (root, shared) = card();
    let bridge = start(MemoryCards::with(&shared));
    bridge.terminal.answer("y");
    bridge.terminal.answer(PIN);
    let answer = sign(bridge.port, MESSAGE);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("access-control-allow-origin").as_deref(), Some(PAGE));
    let signed = answer.json();
    assert_eq!(signed["ok"], true);
    let b64 = base64::engine::general_purpose::STANDARD;
    let certificate = b64.decode(signed["certificate"].as_str().unwrap()).unwrap();
    let signature = b64.decode(signed["signature"].as_str().unwrap()).unwrap();
    Verifier::new(Arc::new(root.anchors()), Policy::default())
        .verify_card(&certificate, MESSAGE.as_bytes(), &signature, time::OffsetDateTime::now_utc())
        .unwrap();
    let shown = bridge.terminal.shown();
    assert!(shown.contains(&format!("{PAGE} asks")), "{shown}");
    assert!(shown.contains("    | Nonce: 42"), "the exact message: {shown}");
    assert!(shown.contains("3 tries left"), "{shown}");
    assert!(!shown.contains(PIN), "the PIN is not echoed: {shown}");
    assert_eq!(shared.lock().verifies(), 1);
    assert!(bridge.stop() < Duration::from_secs(3), "stops promptly");
}

#[test]
fn a_second_request_meanwhile_is_busy_and_a_no_is_declined() {
    let (_, shared) = card();
    let bridge = start(MemoryCards::with(&shared));
    let port = bridge.port;
    let first = std::thread::spawn(move || sign(port, MESSAGE));
    // The first request waits for the person's answer.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !bridge.terminal.shown().contains("Type y") {
        assert!(Instant::now() < deadline, "the first request reached the terminal");
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    let second = sign(port, MESSAGE);
    assert_eq!(second.status, 409);
    assert_eq!(second.json()["code"], "busy");
    assert_eq!(second.header("access-control-allow-origin").as_deref(), Some(PAGE));
    assert!(started.elapsed() < Duration::from_secs(2), "busy at once");
    bridge.terminal.answer("n");
    let first = first.join().unwrap();
    assert_eq!(first.status, 403, "{}", first.body);
    assert_eq!(first.json()["code"], "declined");
    assert_eq!(shared.lock().verifies(), 0, "nothing was sent after a no");
    // Free again.
    bridge.terminal.answer("y");
    bridge.terminal.answer(PIN);
    assert_eq!(sign(port, MESSAGE).status, 200);
}

#[test]
fn a_wrong_pin_answers_the_tries_left_and_is_not_retried() {
    let (_, shared) = card();
    let bridge = start(MemoryCards::with(&shared));
    bridge.terminal.answer("y");
    bridge.terminal.answer("0000");
    let answer = sign(bridge.port, MESSAGE);
    assert_eq!(answer.status, 422);
    let problem = answer.json();
    assert_eq!(problem["code"], "wrong_pin");
    assert_eq!(problem["pin_tries_left"], 2);
    assert_eq!(problem["type"], "https://honnin.dev/problems/wrong_pin");
    assert!(problem["detail_ja"].as_str().unwrap().contains("あと 2 回"));
    assert_eq!(shared.lock().verifies(), 1, "one VERIFY, no retry");
    // A PIN that is not 4 digits costs nothing.
    bridge.terminal.answer("y");
    bridge.terminal.answer("12345");
    assert_eq!(sign(bridge.port, MESSAGE).json()["code"], "pin_format");
    assert_eq!(shared.lock().tries_left(), 2);
    // At one try left the terminal asks; anything but yes sends nothing.
    shared.lock().reset();
    bridge.terminal.answer("y");
    bridge.terminal.answer("0000");
    assert_eq!(sign(bridge.port, MESSAGE).json()["pin_tries_left"], 1);
    bridge.terminal.answer("y");
    bridge.terminal.answer("no");
    assert_eq!(sign(bridge.port, MESSAGE).json()["code"], "last_try_not_confirmed");
    assert_eq!(shared.lock().verifies(), 2);
    assert!(bridge.terminal.shown().contains("Only ONE PIN try is left"));
}

#[test]
fn no_card_answers_the_card_code_at_once() {
    let bridge = start(MemoryCards::default());
    let answer = sign(bridge.port, MESSAGE);
    assert_eq!(answer.status, 503);
    let problem = answer.json();
    assert_eq!(problem["code"], "no_card");
    assert!(problem["detail"].as_str().unwrap().contains("My Number card"));
    assert!(problem["detail_ja"].as_str().unwrap().contains("マイナンバーカード"));
}

#[test]
fn malformed_requests_are_refused_before_the_terminal() {
    let (_, shared) = card();
    let bridge = start(MemoryCards::with(&shared));
    let json = ("content-type", "application/json");
    let cases: [(&[(&str, &str)], String); 5] = [
        (&[("content-type", "text/plain")], serde_json::json!({ "message": "hi" }).to_string()),
        (&[json], "not json".into()),
        (&[json], serde_json::json!({ "message": "" }).to_string()),
        (&[json], serde_json::json!({ "message": "a\u{1b}[2Khidden" }).to_string()),
        (&[json], serde_json::json!({ "message": "x".repeat(5000) }).to_string()),
    ];
    for (headers, body) in cases {
        let answer = request(bridge.port, "POST", "/v1/sign", headers, &body);
        assert_eq!(answer.status, 400, "{body:.60}");
        assert_eq!(answer.json()["code"], "malformed_request");
    }
    assert!(bridge.terminal.shown().is_empty());
    assert!(shared.lock().seen().is_empty());
}

#[test]
fn refuses_a_non_loopback_address_and_bad_origins() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        for (listen, origins) in [
            ("0.0.0.0:0", vec![PAGE.to_owned()]),
            ("127.0.0.1:0", vec!["127.0.0.1:8080".to_owned()]),
            ("127.0.0.1:0", vec![]),
        ] {
            let config = Config { listen: listen.parse().unwrap(), trusted_origins: origins };
            let (terminal, _) = ScriptedTerminal::new();
            let error = Bridge::bind(&config, MemoryCards::default(), terminal).await.unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{listen}");
        }
    });
}

#[test]
fn a_stop_while_a_request_waits_at_the_terminal_ends_within_the_grace() {
    let (_, shared) = card();
    let bridge = start(MemoryCards::with(&shared));
    let port = bridge.port;
    let waiting = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let body = serde_json::json!({ "message": MESSAGE }).to_string();
        let text = format!(
            "POST /v1/sign HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(text.as_bytes()).unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !bridge.terminal.shown().contains("Type y") {
        assert!(Instant::now() < deadline, "the request reached the terminal");
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = bridge.stop();
    assert!(took < Duration::from_secs(5), "stopped after {took:?}");
    waiting.join().unwrap();
    assert_eq!(shared.lock().verifies(), 0);
}
