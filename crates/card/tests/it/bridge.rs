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
    test_utils::{MEMORY_READER, MemoryCards, ScriptedTerminal, TerminalHandle, VirtualCard},
};
use honnin_jpki::{Policy, SigningVerifier, Verifier, test_utils::CardSpec};
use serde_json::Value;

use crate::{PASSWORD, PIN, card, card_with_signing};

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
    post(port, &serde_json::json!({ "message": message }).to_string())
}

/// `POST /v1/sign` asking for age evidence too.
fn sign_with_age(port: u16, message: &str) -> Answer {
    post(port, &serde_json::json!({ "message": message, "age": true }).to_string())
}

fn post(port: u16, body: &str) -> Answer {
    request(
        port,
        "POST",
        "/v1/sign",
        &[("origin", PAGE), ("content-type", "application/json")],
        body,
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
    assert_eq!(found["age"], true, "this bridge answers age requests");
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
    assert!(signed.get("signing_certificate").is_none(), "no age evidence unless asked");
    assert!(signed.get("signing_signature").is_none());
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
    let cases: [(&[(&str, &str)], String); 7] = [
        (&[("content-type", "text/plain")], serde_json::json!({ "message": "hi" }).to_string()),
        (&[json], "not json".into()),
        (&[json], serde_json::json!({ "message": "" }).to_string()),
        (&[json], serde_json::json!({ "message": "a\u{1b}[2Khidden" }).to_string()),
        (&[json], serde_json::json!({ "message": "x".repeat(5000) }).to_string()),
        (&[json], serde_json::json!({ "message": "hi", "age": "yes" }).to_string()),
        (&[json], serde_json::json!({ "message": "hi", "pin": PIN }).to_string()),
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

/// The position of `needle` in `haystack`, or a failure naming both.
#[track_caller]
fn at(haystack: &str, needle: &str) -> usize {
    haystack.find(needle).unwrap_or_else(|| panic!("{needle:?} not shown: {haystack}"))
}

#[test]
fn age_evidence_after_the_notice_then_the_pin_then_the_signing_password() {
    let (root, sign_root, shared) = card_with_signing();
    let bridge = start(MemoryCards::with(&shared));
    bridge.terminal.answer("y");
    bridge.terminal.answer(PIN);
    bridge.terminal.answer(PASSWORD);
    let answer = sign_with_age(bridge.port, MESSAGE);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let signed = answer.json();
    let b64 = base64::engine::general_purpose::STANDARD;
    let field = |name: &str| b64.decode(signed[name].as_str().unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc();
    Verifier::new(Arc::new(root.anchors()), Policy::default())
        .verify_card(&field("certificate"), MESSAGE.as_bytes(), &field("signature"), now)
        .unwrap();
    // The same message, signed by the signing key; its certificate carries the birth date.
    let verified = SigningVerifier::new(sign_root.anchors())
        .verify_signing(
            &field("signing_certificate"),
            MESSAGE.as_bytes(),
            &field("signing_signature"),
            now,
        )
        .unwrap();
    assert!(verified.birth_date().has_reached(20, now).unwrap());
    assert_ne!(field("certificate"), field("signing_certificate"));

    let shown = bridge.terminal.shown();
    assert!(shown.contains(&format!("{PAGE} asks for a card signature with age evidence")));
    // Plainly, in both languages, before the person says y.
    let notice = at(&shown, "It holds your name, address, date of birth and sex");
    assert!(shown.contains("氏名・住所・生年月日・性別"), "{shown}");
    assert!(shown.contains("computes only two yes/no answers"), "{shown}");
    assert!(shown.contains("「18歳以上」「20歳以上」の2つだけ"), "{shown}");
    assert!(notice < at(&shown, "Type y"), "{shown}");
    // Tries first, then each secret; the PIN before the password.
    let pin_tries = at(&shown, "PIN: 3 tries left");
    let pin_prompt = at(&shown, "利用者証明用暗証番号 (4桁)");
    let password_tries = at(&shown, "signing password: 5 tries left / 署名用パスワード: 残り 5 回");
    let password_prompt = at(&shown, "Signing password (6-16 characters");
    assert!(pin_tries < pin_prompt && pin_prompt < password_tries, "{shown}");
    assert!(password_tries < password_prompt, "{shown}");
    assert!(!shown.contains(PIN) && !shown.contains(PASSWORD), "no secret echoed: {shown}");
    assert_eq!(shared.lock().verifies(), 2, "one VERIFY for each secret");
    assert_eq!(shared.lock().signing_tries_left(), Some(5));
}

#[test]
fn a_wrong_signing_password_answers_its_tries_left_and_a_malformed_one_sends_nothing() {
    let (_, _, shared) = card_with_signing();
    let bridge = start(MemoryCards::with(&shared));
    bridge.terminal.answer("y");
    bridge.terminal.answer(PIN);
    bridge.terminal.answer("WRONG1");
    let answer = sign_with_age(bridge.port, MESSAGE);
    assert_eq!(answer.status, 422, "{}", answer.body);
    let problem = answer.json();
    assert_eq!(problem["code"], "wrong_signing_password");
    assert_eq!(problem["type"], "https://honnin.dev/problems/wrong_signing_password");
    assert_eq!(problem["signing_password_tries_left"], 4);
    assert!(problem.get("pin_tries_left").is_none(), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("signing password: 4 tries left"));
    assert!(
        problem["detail_ja"].as_str().unwrap().contains("署名用パスワードが違います。あと 4 回")
    );
    assert!(!answer.body.contains("WRONG1"), "the password is not echoed: {}", answer.body);
    assert!(!bridge.terminal.shown().contains("WRONG1"));
    // The PIN verified once, the password sent once: nothing retried.
    assert_eq!(shared.lock().verifies(), 2);
    assert_eq!(shared.lock().signing_tries_left(), Some(4));
    assert_eq!(shared.lock().tries_left(), 3, "the PIN's counter is its own");

    // Not 6-16 of A-Z 0-9: refused before anything is sent, even the PIN.
    for malformed in ["short", "honnin2026", "HONNIN 2026"] {
        bridge.terminal.answer("y");
        bridge.terminal.answer(PIN);
        bridge.terminal.answer(malformed);
        let problem = sign_with_age(bridge.port, MESSAGE).json();
        assert_eq!(problem["code"], "password_format", "{malformed}: {problem}");
    }
    assert_eq!(shared.lock().verifies(), 2, "no VERIFY for a malformed password");
    assert_eq!(shared.lock().signing_tries_left(), Some(4));
    // A right password afterwards: the counter is full again.
    bridge.terminal.answer("y");
    bridge.terminal.answer(PIN);
    bridge.terminal.answer(PASSWORD);
    assert_eq!(sign_with_age(bridge.port, MESSAGE).status, 200);
    assert_eq!(shared.lock().signing_tries_left(), Some(5));
}

/// A card with both keys whose signing password has `tries` tries left.
fn signing_tries(tries: u8) -> honnin_card::test_utils::SharedCard {
    let root = honnin_jpki::test_utils::SimRoot::new(0);
    let sign_root = honnin_jpki::test_utils::SimRoot::signing(5);
    let signing = sign_root.issue(&CardSpec::signing(time::macros::date!(1990 - 01 - 02)));
    VirtualCard::new(root.issue(&CardSpec::default()), PIN)
        .with_signing(signing, PASSWORD)
        .with_signing_tries_left(tries)
        .shared()
}

#[test]
fn a_locked_signing_password_is_refused_before_the_pin_is_asked() {
    let shared = signing_tries(0);
    let bridge = start(MemoryCards::with(&shared));
    bridge.terminal.answer("y");
    let answer = sign_with_age(bridge.port, MESSAGE);
    assert_eq!(answer.status, 422, "{}", answer.body);
    let problem = answer.json();
    assert_eq!(problem["code"], "signing_password_locked");
    assert!(problem["detail"].as_str().unwrap().contains("city office"), "{problem}");
    assert!(problem["detail_ja"].as_str().unwrap().contains("市区町村の窓口"), "{problem}");
    let shown = bridge.terminal.shown();
    assert!(!shown.contains("利用者証明用暗証番号 (4桁)"), "the PIN was not asked: {shown}");
    assert!(shown.contains("signing password is locked"), "{shown}");
    assert_eq!(shared.lock().verifies(), 0);
    // Without age evidence the same card still signs: the PIN is another counter.
    bridge.terminal.answer("y");
    bridge.terminal.answer(PIN);
    assert_eq!(sign(bridge.port, MESSAGE).status, 200);
}

#[test]
fn the_last_signing_password_try_is_spent_only_after_yes() {
    let shared = signing_tries(1);
    let bridge = start(MemoryCards::with(&shared));
    bridge.terminal.answer("y");
    bridge.terminal.answer(PIN);
    bridge.terminal.answer("no");
    let problem = sign_with_age(bridge.port, MESSAGE).json();
    assert_eq!(problem["code"], "last_try_not_confirmed", "{problem}");
    assert_eq!(shared.lock().verifies(), 0, "neither secret was sent");
    let shown = bridge.terminal.shown();
    assert!(shown.contains("Only ONE SIGNING PASSWORD try is left"), "{shown}");
    assert!(shown.contains("署名用パスワードの残りは 1 回です"), "{shown}");
    assert!(at(&shown, "signing password: 1 tries left") < at(&shown, "Only ONE SIGNING"));
    bridge.terminal.answer("y");
    bridge.terminal.answer(PIN);
    bridge.terminal.answer("yes");
    bridge.terminal.answer(PASSWORD);
    let answer = sign_with_age(bridge.port, MESSAGE);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(shared.lock().signing_tries_left(), Some(5));
}

#[test]
fn a_card_without_a_signing_certificate_says_so_before_anything_is_asked() {
    let (_, shared) = card();
    let bridge = start(MemoryCards::with(&shared));
    let answer = sign_with_age(bridge.port, MESSAGE);
    assert_eq!(answer.status, 422, "{}", answer.body);
    let problem = answer.json();
    assert_eq!(problem["code"], "no_signing_certificate");
    assert!(problem["detail_ja"].as_str().unwrap().contains("署名用電子証明書がありません"));
    assert!(!bridge.terminal.shown().contains("Type y"), "nothing asked");
    assert_eq!(shared.lock().verifies(), 0);
}

#[test]
fn what_the_card_signed_prints_no_certificate_in_debug() {
    let (_, _, shared) = card_with_signing();
    let (mut terminal, handle) = ScriptedTerminal::new();
    for line in ["y", PIN, PASSWORD] {
        handle.answer(line);
    }
    let signed = honnin_card::bridge::sign(
        &MemoryCards::with(&shared),
        &mut terminal,
        Some(PAGE),
        MESSAGE,
        true,
    )
    .unwrap();
    let signing = signed.signing.as_ref().unwrap();
    let debug = format!("{signed:?}");
    assert!(debug.contains(&format!("certificate_len: {}", signing.certificate.len())), "{debug}");
    // Neither certificate's bytes, in any form Debug would print them.
    for der in [&signed.certificate[..], &signing.certificate[..]] {
        let bytes = format!("{:?}", &der[..8]);
        assert!(!debug.contains(&bytes[1..bytes.len() - 1]), "{debug}");
    }
    let planted = format!("{debug} {:?}", &signing.certificate[..8]);
    let bytes = format!("{:?}", &signing.certificate[..8]);
    assert!(planted.contains(&bytes[1..bytes.len() - 1]), "the scan finds a planted copy");
}
