//! `honnin card bridge` as a process, through real pcscd + vpcd against the virtual JPKI card:
//! a trusted page's request is shown on the bridge's terminal, `y` and the PIN are answered on
//! its standard input, the signature verifies; a foreign origin is refused; SIGTERM stops it.
//! With age evidence: the signing certificate's notice, the PIN then the signing password, both
//! signatures verify; a wrong signing password answers its tries left.
//!
//! Needs pcscd with vsmartcard-vpcd (scripts/test: HONNIN_PCSC=1); SKIPPED without it.

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpStream,
    process::{Child, ChildStdin, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use base64::Engine as _;
use honnin_card::test_utils::{VirtualCard, pcsc_stack};
use honnin_jpki::{
    Policy, SigningVerifier, Verifier,
    test_utils::{CardSpec, SimRoot},
};
use serde_json::Value;

use crate::lifecycle::honnin;

const PIN: &str = "4821";
const PASSWORD: &str = "HONNIN2026";
const PAGE: &str = "http://127.0.0.1:18080";

/// One HTTP/1.1 request on a fresh connection: the status, the raw head and the body.
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nconnection: close\r\n");
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        text.push_str(&format!("host: 127.0.0.1:{port}\r\n"));
    }
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(text.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// A running bridge, SIGKILLed on drop if the test failed before stopping it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn bridge_signs_for_a_trusted_page_with_the_pin_typed_on_its_terminal() {
    let Some(stack) = pcsc_stack("card bridge") else { return };
    let root = SimRoot::new(0);
    let shared = VirtualCard::new(root.issue(&CardSpec::default()), PIN).shared();
    let inserted = stack.insert(&shared);

    let stderr_path = tempfile::NamedTempFile::new().unwrap();
    let mut child = honnin()
        .args(["card", "bridge", "--listen", "127.0.0.1:0", "--trust-origin", PAGE])
        .args(["--reader", stack.reader()])
        .env("HONNIN_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr_path.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let bridge = Running(child);
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    assert!(banner.starts_with("bridge: listening on http://127.0.0.1:"), "{banner}");
    assert!(banner.trim_end().ends_with(&format!("trusting {PAGE}")), "{banner}");
    let port: u16 = banner["bridge: listening on http://127.0.0.1:".len()..]
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let (status, head, body) = request(port, "GET", "/v1/bridge", &[("origin", PAGE)], "");
    assert_eq!(status, 200, "{body}");
    assert!(head.contains(&format!("access-control-allow-origin: {PAGE}")), "{head}");
    let found: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(found["bridge"], "honnin");
    assert_eq!(found["card"], true, "{found}");
    assert_eq!(found["reader"], stack.reader());

    let (status, head, body) =
        request(port, "GET", "/v1/bridge", &[("origin", "http://evil.example")], "");
    assert_eq!(status, 403);
    assert!(body.contains("\"origin_not_trusted\""), "{body}");
    assert!(!head.contains("access-control-allow-origin"), "{head}");

    // The person answers y and the PIN on the bridge's terminal.
    stdin.write_all(format!("y\n{PIN}\n").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let message = "honnin.localhost wants you to prove you hold your My Number card.\nNonce: 7\n";
    let body = serde_json::json!({ "message": message }).to_string();
    let (status, head, answer) = request(
        port,
        "POST",
        "/v1/sign",
        &[("origin", PAGE), ("content-type", "application/json")],
        &body,
    );
    assert_eq!(status, 200, "{answer}");
    assert!(head.contains(&format!("access-control-allow-origin: {PAGE}")), "{head}");
    let signed: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(signed["ok"], true);
    let b64 = base64::engine::general_purpose::STANDARD;
    let certificate = b64.decode(signed["certificate"].as_str().unwrap()).unwrap();
    let signature = b64.decode(signed["signature"].as_str().unwrap()).unwrap();
    Verifier::new(Arc::new(root.anchors()), Policy::default())
        .verify_card(&certificate, message.as_bytes(), &signature, time::OffsetDateTime::now_utc())
        .unwrap();
    drop(inserted);

    // SIGTERM stops it cleanly.
    let mut bridge = bridge;
    Command::new("kill").args(["-TERM", &bridge.0.id().to_string()]).status().unwrap();
    let started = Instant::now();
    let code = loop {
        if let Some(status) = bridge.0.try_wait().unwrap() {
            break status.code();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let terminal = std::fs::read_to_string(stderr_path.path()).unwrap();
    assert!(terminal.contains(&format!("{PAGE} asks")), "the origin is shown: {terminal}");
    assert!(terminal.contains("    | Nonce: 7"), "the exact message is shown: {terminal}");
    assert!(terminal.contains("3 tries left"), "{terminal}");
    assert!(terminal.contains("apdu"), "TRACE logs were captured: {terminal}");
    let everything = format!("{banner}{rest}{terminal}");
    assert!(!crate::card::leaks(&everything, PIN), "the PIN leaked: {everything}");
}

/// Starts `honnin card bridge` on `reader` trusting [`PAGE`], its stderr (the terminal's
/// narration, TRACE logs) into `stderr`: the bridge, its stdin and its port.
fn start_bridge(reader: &str, stderr: &tempfile::NamedTempFile) -> (Running, ChildStdin, u16) {
    let mut child = honnin()
        .args(["card", "bridge", "--listen", "127.0.0.1:0", "--trust-origin", PAGE])
        .args(["--reader", reader])
        .env("HONNIN_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr.reopen().unwrap())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    let port = banner
        .strip_prefix("bridge: listening on http://127.0.0.1:")
        .and_then(|rest| rest.split(',').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("{banner}"));
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (Running(child), stdin, port)
}

#[test]
fn bridge_gives_age_evidence_with_the_signing_password_typed_on_its_terminal() {
    let Some(stack) = pcsc_stack("card bridge age evidence") else { return };
    let root = SimRoot::new(0);
    let sign_root = SimRoot::signing(6);
    let birth = time::macros::date!(2001 - 04 - 01);
    let shared = VirtualCard::new(root.issue(&CardSpec::default()), PIN)
        .with_signing(sign_root.issue(&CardSpec::signing(birth)), PASSWORD)
        .shared();
    let inserted = stack.insert(&shared);
    let stderr = tempfile::NamedTempFile::new().unwrap();
    let (bridge, mut stdin, port) = start_bridge(stack.reader(), &stderr);
    let (_, _, body) = request(port, "GET", "/v1/bridge", &[("origin", PAGE)], "");
    assert!(body.contains("\"age\":true"), "{body}");

    let message = "honnin.localhost wants you to prove you hold your My Number card.\nNonce: 8\n";
    let body = serde_json::json!({ "message": message, "age": true }).to_string();
    let post = |body: &str| {
        request(
            port,
            "POST",
            "/v1/sign",
            &[("origin", PAGE), ("content-type", "application/json")],
            body,
        )
    };
    stdin.write_all(format!("y\n{PIN}\n{PASSWORD}\n").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let (status, _, answer) = post(&body);
    assert_eq!(status, 200, "{answer}");
    let signed: Value = serde_json::from_str(&answer).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let field = |name: &str| b64.decode(signed[name].as_str().unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc();
    Verifier::new(Arc::new(root.anchors()), Policy::default())
        .verify_card(&field("certificate"), message.as_bytes(), &field("signature"), now)
        .unwrap();
    let verified = SigningVerifier::new(sign_root.anchors())
        .verify_signing(
            &field("signing_certificate"),
            message.as_bytes(),
            &field("signing_signature"),
            now,
        )
        .unwrap();
    assert!(verified.birth_date().has_reached(20, now).unwrap());
    assert_eq!(shared.lock().verifies(), 2);

    // A wrong signing password: its own code and tries left; nothing retried.
    stdin.write_all(format!("y\n{PIN}\nWRONG1\n").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let (status, _, answer) = post(&body);
    assert_eq!(status, 422, "{answer}");
    let problem: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(problem["code"], "wrong_signing_password", "{problem}");
    assert_eq!(problem["signing_password_tries_left"], 4, "{problem}");
    assert_eq!(shared.lock().signing_tries_left(), Some(4));
    assert_eq!(shared.lock().verifies(), 4);
    drop(inserted);
    drop(bridge);

    let terminal = std::fs::read_to_string(stderr.path()).unwrap();
    assert!(terminal.contains(&format!("{PAGE} asks for a card signature with age evidence")));
    assert!(terminal.contains("It holds your name, address, date of birth and sex"), "{terminal}");
    assert!(terminal.contains("氏名・住所・生年月日・性別"), "{terminal}");
    assert!(terminal.contains("signing password: 5 tries left"), "{terminal}");
    assert!(terminal.contains("wrong signing password: 4 tries left"), "{terminal}");
    assert!(terminal.contains("apdu"), "TRACE logs were captured: {terminal}");
    // No secret and no birth date in the terminal or the logs; the scans see planted ones.
    for secret in [PIN, PASSWORD, "WRONG1"] {
        assert!(!crate::card::leaks(&terminal, secret), "{secret} leaked: {terminal}");
        assert!(crate::card::leaks(&format!("{terminal}{secret}"), secret));
    }
    let birth_text = honnin_jpki::test_utils::birth_date_text(birth);
    for date in [&birth_text[1..], "2001-04-01"] {
        assert!(!terminal.contains(date), "the birth date leaked: {terminal}");
    }
}

/// The local flags (`echo`, `-echo`, …) of the terminal `pid`'s standard input is, per `stty`.
fn tty_flags(pid: u32) -> Vec<String> {
    let tty = std::fs::read_link(format!("/proc/{pid}/fd/0")).unwrap();
    let out = Command::new("stty").arg("-F").arg(&tty).arg("-a").output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect()
}

#[test]
fn on_a_terminal_the_pin_and_the_signing_password_are_not_echoed() {
    let Some(stack) = pcsc_stack("card bridge on a terminal") else { return };
    let root = SimRoot::new(0);
    let sign_root = SimRoot::signing(6);
    let shared = VirtualCard::new(root.issue(&CardSpec::default()), PIN)
        .with_signing(
            sign_root.issue(&CardSpec::signing(time::macros::date!(1990 - 01 - 02))),
            PASSWORD,
        )
        .shared();
    let _inserted = stack.insert(&shared);
    // `script` runs the bridge on a pseudo-terminal: what is typed reaches it there, and what
    // the terminal shows (the bridge's output and the echo of what was typed) comes back here.
    let bridge = format!(
        "{} card bridge --listen 127.0.0.1:0 --trust-origin {PAGE} --reader '{}'",
        env!("CARGO_BIN_EXE_honnin"),
        stack.reader()
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &bridge, "/dev/null"])
        .env("HONNIN_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut keys = child.stdin.take().unwrap();
    let screen = Arc::new(std::sync::Mutex::new(String::new()));
    let mut out = child.stdout.take().unwrap();
    let sink = Arc::clone(&screen);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = out.read(&mut buf) {
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let script = Running(child);
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !screen.lock().unwrap().contains(needle) {
            assert!(Instant::now() < deadline, "{needle:?} not shown: {}", screen.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for("trusting");
    let port: u16 = {
        let text = screen.lock().unwrap().clone();
        let rest = text.split("listening on http://127.0.0.1:").nth(1).unwrap();
        rest.split(',').next().unwrap().parse().unwrap()
    };
    // The bridge is script's child; its standard input is the pseudo-terminal.
    let children =
        std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", script.0.id())).unwrap();
    let pid: u32 = children.split_whitespace().next().unwrap().parse().unwrap();
    assert!(tty_flags(pid).iter().any(|f| f == "echo"), "the terminal echoes by default");

    let message = "honnin.localhost wants you to prove you hold your My Number card.\nNonce: 9\n";
    let body = serde_json::json!({ "message": message, "age": true }).to_string();
    let asked = std::thread::spawn(move || {
        request(
            port,
            "POST",
            "/v1/sign",
            &[("origin", PAGE), ("content-type", "application/json")],
            &body,
        )
    });
    let mut type_line = |line: &str| {
        keys.write_all(format!("{line}\r").as_bytes()).unwrap();
        keys.flush().unwrap();
    };
    wait_for("Type y to continue");
    type_line("y");
    // Each secret is typed once the terminal's echo is off (asked of the terminal itself).
    for (prompt, secret) in
        [("利用者証明用暗証番号 (4桁)", PIN), ("署名用パスワード (英大文字と数字", PASSWORD)]
    {
        wait_for(prompt);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !tty_flags(pid).iter().any(|f| f == "-echo") {
            assert!(Instant::now() < deadline, "echo is still on at {prompt:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
        type_line(secret);
    }
    let (status, _, answer) = asked.join().unwrap();
    assert_eq!(status, 200, "{answer}");
    wait_for("signed for");
    assert!(tty_flags(pid).iter().any(|f| f == "echo"), "echo is back on after the password");
    let shown = screen.lock().unwrap().clone();
    // The `y` was echoed (so the scan sees what is typed); the PIN and the password were not.
    assert!(shown.lines().any(|line| line.trim() == "y"), "{shown}");
    assert!(!crate::card::leaks(&shown, PIN), "the PIN was echoed: {shown}");
    assert!(!crate::card::leaks(&shown, PASSWORD), "the password was echoed: {shown}");
    drop(script);
}
