//! `honnin card …` as a process through real pcscd + vpcd against the virtual JPKI card, and
//! end to end: `honnin dev` + `honnin card attest` with a `cast wallet sign` signature reach
//! `active` and `isVerified = true` on anvil.
//!
//! Needs pcscd with vsmartcard-vpcd: scripts/test starts it and sets HONNIN_PCSC=1. Without
//! it these tests say SKIPPED (under CI they fail).

use std::{
    io::{BufRead as _, BufReader, Write as _},
    path::Path,
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    time::Duration,
};

use alloy::signers::local::PrivateKeySigner;
use base64::Engine as _;
use honnin_card::test_utils::{SharedCard, VirtualCard, pcsc_stack};
use honnin_jpki::test_utils::{CardSpec, SimRoot};
use serde_json::{Value, json};

use crate::lifecycle::honnin;

pub(crate) const PIN: &str = "4821";

fn virtual_card(root: &SimRoot) -> VirtualCard {
    VirtualCard::new(root.issue(&CardSpec::default()), PIN)
}

/// Runs `honnin card ARGS --json` with `stdin` and logs at `log`.
#[track_caller]
fn card(args: &[&str], stdin: &str, log: &str) -> (i32, Value, String) {
    let mut child = honnin()
        .arg("card")
        .args(args)
        .arg("--json")
        .env("HONNIN_LOG", log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    parse(&out)
}

#[track_caller]
fn parse(out: &Output) -> (i32, Value, String) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let value: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("one JSON object on stdout: {stdout}\nstderr: {stderr}"));
    (out.status.code().unwrap(), value, stderr)
}

/// Every form the PIN could leak in: its digits, their hex, a Debug-printed byte array. The log
/// lines' own timestamps (`2026-12-03T07:26:10.482129Z`) are left out first: their digits hold
/// a 4-digit PIN by chance on some runs.
pub(crate) fn leaks(haystack: &str, pin: &str) -> bool {
    let hex: String = pin.bytes().map(|b| format!("{b:02x}")).collect();
    let spaced: String = pin.bytes().map(|b| format!("{b:02X} ")).collect();
    let debug = format!("{:?}", pin.as_bytes());
    let haystack = without_timestamps(haystack);
    let haystack = haystack.as_str();
    let lower = haystack.to_lowercase();
    haystack.contains(pin)
        || lower.contains(&hex)
        || haystack.contains(spaced.trim_end())
        || haystack.contains(&debug[1..debug.len() - 1])
}

/// `text` with every tracing timestamp (`YYYY-MM-DDThh:mm:ss.ffffffZ`, a word of its own) cut.
fn without_timestamps(text: &str) -> String {
    let is_timestamp = |word: &str| {
        let b = word.as_bytes();
        b.len() >= 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && word.ends_with('Z')
            && word.bytes().all(|c| c.is_ascii_digit() || b"-T:.Z".contains(&c))
    };
    let mut out = String::with_capacity(text.len());
    for piece in text.split_inclusive(char::is_whitespace) {
        if !is_timestamp(piece.trim_end()) {
            out.push_str(piece);
        }
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

#[test]
fn status_certificate_and_a_signature_the_verifier_accepts() {
    let Some(stack) = pcsc_stack("card status/certificate/sign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = SimRoot::new(0);
    std::fs::create_dir(dir.path().join("anchors")).unwrap();
    write(dir.path(), "anchors/root.pem", root.pem().as_bytes());
    let shared = virtual_card(&root).shared();
    let inserted = stack.insert(&shared);

    let (code, status, _) = card(&["status"], "", "warn");
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["card_present"], true);
    assert_eq!(status["kind"], "plastic_card");
    assert_eq!(status["pin_tries_left"], 3);
    assert_eq!(status["signing_password_tries_left"], Value::Null, "no signing key");
    assert!(status["readers"].as_array().unwrap().iter().any(|r| r["name"] == stack.reader()));

    let cert = dir.path().join("card.der").display().to_string();
    let (code, summary, _) = card(&["certificate", "--out", &cert], "", "warn");
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["key_algorithm"], "rsa-2048", "{summary}");
    assert!(summary.get("subject_id").is_none(), "the subject id only on request");
    let (_, shown, _) = card(&["certificate", "--show-subject"], "", "warn");
    assert_eq!(shown["subject_id"], CardSpec::default().subject_id);

    let message = write(dir.path(), "message.txt", b"exactly these bytes\n");
    let sig = dir.path().join("sig.bin").display().to_string();
    let (code, signed, stderr) = card(
        &["sign", "--message", &message, "--out", &sig, "--pin-stdin"],
        &format!("{PIN}\n"),
        "trace",
    );
    assert_eq!(code, 0, "{signed} {stderr}");
    assert!(stderr.contains("3 tries left"), "tries shown first: {stderr}");
    assert!(signed["signature"].as_str().is_some() && signed["certificate"].as_str().is_some());
    // The PIN is in no TRACE log line, no output. The scan finds it where it is planted.
    assert!(stderr.contains("apdu"), "TRACE logs were captured: {stderr}");
    let everything = format!("{stderr}{signed}");
    assert!(!leaks(&everything, PIN), "{everything}");
    let planted = format!("{everything} verify 00 20 00 80 04 34 38 32 31");
    assert!(leaks(&planted, PIN), "the scan finds a planted PIN");
    assert!(leaks(&format!("{everything}[52, 56, 50, 49]"), PIN));
    assert!(leaks(&format!("{everything}{PIN}"), PIN));
    // A log line's timestamp holding the PIN's digits is not a leak; the PIN after it is.
    assert!(!leaks(&format!("2026-12-03T07:26:10.{PIN}29Z TRACE apdu"), PIN));
    assert!(leaks(&format!("2026-12-03T07:26:10.482129Z TRACE pin={PIN}"), PIN));
    drop(inserted);

    // What the card read and signed is accepted by `honnin jpki verify`.
    let out = honnin()
        .args(["jpki", "verify", "--anchors"])
        .arg(dir.path().join("anchors"))
        .args(["--cert", &cert, "--message", &message, "--signature", &sig])
        .output()
        .unwrap();
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["ok"], true, "{verdict}");
    assert!(out.status.success());
}

#[test]
fn pin_mistakes_each_get_a_clear_error_and_exit_code() {
    let Some(stack) = pcsc_stack("card PIN errors") else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = SimRoot::new(0);
    let message = write(dir.path(), "message.txt", b"m");
    let sig = dir.path().join("sig.bin").display().to_string();
    let sign = |stdin: &str, extra: &[&str]| {
        let mut args =
            vec!["sign", "--message", &message, "--out", &sig, "--pin-stdin", "--wait", "5"];
        args.extend_from_slice(extra);
        card(&args, stdin, "warn")
    };

    // Not 4 digits: refused locally, no try spent.
    let shared = virtual_card(&root).shared();
    let inserted = stack.insert(&shared);
    let (code, value, _) = sign("123\n", &[]);
    assert_eq!((code, value["error"].as_str()), (2, Some("pin_format")), "{value}");
    assert_eq!(shared.lock().verifies(), 0);

    // A wrong PIN: the tries left, exactly one spent, no retry.
    let (code, value, stderr) = sign("9999\n", &[]);
    assert_eq!((code, value["error"].as_str()), (6, Some("wrong_pin")), "{value}");
    assert_eq!(value["pin_tries_left"], 2);
    assert!(value["message_ja"].as_str().unwrap().contains("あと 2 回"));
    assert_eq!(shared.lock().tries_left(), 2);
    assert_eq!(shared.lock().verifies(), 1);
    assert!(!leaks(&format!("{stderr}{value}"), "9999"));
    drop(inserted);

    // One try left: nothing is sent without confirmation; with it, it goes through.
    let shared = virtual_card(&root).with_tries_left(1).shared();
    let inserted = stack.insert(&shared);
    let (code, value, stderr) = sign(&format!("{PIN}\n"), &[]);
    assert_eq!((code, value["error"].as_str()), (2, Some("last_try_not_confirmed")), "{value}");
    assert!(stderr.contains("1 tries left") || stderr.contains("残り 1 回"), "{stderr}");
    assert_eq!(shared.lock().verifies(), 0);
    assert_eq!(shared.lock().tries_left(), 1);
    let (code, value, _) = sign(&format!("{PIN}\n"), &["--confirm-last-try"]);
    assert_eq!(code, 0, "{value}");
    assert_eq!(shared.lock().tries_left(), 3);
    drop(inserted);

    // Locked: refused before any VERIFY.
    let shared = virtual_card(&root).with_tries_left(0).shared();
    let inserted = stack.insert(&shared);
    let (code, value, _) = sign(&format!("{PIN}\n"), &["--confirm-last-try"]);
    assert_eq!((code, value["error"].as_str()), (7, Some("pin_locked")), "{value}");
    assert_eq!(shared.lock().verifies(), 0);
    let (code, status, _) = card(&["status"], "", "warn");
    assert_eq!(
        (code, &status["pin_locked"], &status["pin_tries_left"]),
        (0, &Value::Bool(true), &Value::from(0))
    );
    drop(inserted);

    // A PIN given as a flag is not an option (and clap does not echo it).
    let out = honnin()
        .args(["card", "sign", "--message", &message, "--out", &sig, "--pin", "4821"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn no_card_a_foreign_card_and_a_card_pulled_mid_signature() {
    let Some(stack) = pcsc_stack("card reader errors") else { return };
    let dir = tempfile::tempdir().unwrap();
    let message = write(dir.path(), "message.txt", b"m");
    let sig = dir.path().join("sig.bin").display().to_string();
    let sign_args = ["sign", "--message", &message, "--out", &sig, "--pin-stdin", "--wait", "1"];

    let (code, value, _) = card(&sign_args, &format!("{PIN}\n"), "warn");
    assert_eq!((code, value["error"].as_str()), (4, Some("no_card")), "{value}");
    let (code, value, _) = card(&["status"], "", "warn");
    assert_eq!((code, value["card_present"].as_bool()), (4, Some(false)), "{value}");

    let foreign = VirtualCard::foreign().shared();
    let inserted = stack.insert(&foreign);
    let (code, value, _) = card(&sign_args, &format!("{PIN}\n"), "warn");
    assert_eq!((code, value["error"].as_str()), (5, Some("not_jpki")), "{value}");
    drop(inserted);

    let root = SimRoot::new(0);
    let shared = virtual_card(&root).pull_on_sign().shared();
    let inserted = stack.insert(&shared);
    let (code, value, _) = card(&sign_args, &format!("{PIN}\n"), "warn");
    assert_eq!((code, value["error"].as_str()), (8, Some("card_removed")), "{value}");
    assert!(inserted.is_gone());
}

/// Runs `script` in a private mount namespace whose /run/pcscd is empty: no pcscd, or (with
/// `pcscd` true) a private pcscd with no reader configured. Root only (`unshare`).
fn isolated(script: &str, pcscd: bool, conf: &Path) -> (i32, Value, String) {
    let start = if pcscd {
        format!(
            "pcscd -f -x -c {} >/dev/null 2>&1 & pid=$!; trap 'kill $pid; wait $pid' EXIT; \
             while [ ! -S /run/pcscd/pcscd.comm ]; do sleep 0.05; done; ",
            conf.display()
        )
    } else {
        String::new()
    };
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        // The mount first, on its own: `mount && pcscd … &` would put the mount in the
        // background with pcscd, and the wait below could see the host's socket before it.
        .arg(format!("mount -t tmpfs tmpfs /run/pcscd || exit 97; {start}{script}"))
        .env("HONNIN_BIN", env!("CARGO_BIN_EXE_honnin"))
        .output()
        .unwrap();
    parse(&out)
}

#[test]
fn no_pcscd_and_no_reader_are_clear_errors() {
    let Some(_stack) = pcsc_stack("card no reader") else { return };
    let conf = tempfile::tempdir().unwrap();
    let status = "\"$HONNIN_BIN\" card status --json";
    let (code, value, stderr) = isolated(status, false, conf.path());
    assert_eq!((code, value["error"].as_str()), (3, Some("no_service")), "{value} {stderr}");
    let (code, value, stderr) = isolated(status, true, conf.path());
    assert_eq!((code, value["error"].as_str()), (3, Some("no_reader")), "{value} {stderr}");
    assert!(value["message_ja"].as_str().unwrap().contains("カードリーダー"));
}

/// `honnin dev` running (killed by PID with SIGINT on drop, so it stops its anvil).
pub(crate) struct Dev {
    child: Child,
    pub(crate) api: String,
    pub(crate) rpc: String,
    pub(crate) registry: String,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

/// Starts `honnin dev --no-revocation` on a free port with its data in `data` and waits for the
/// banner.
pub(crate) fn dev(data: &Path) -> Dev {
    dev_on(data, "127.0.0.1:0", &[])
}

/// [`dev`] listening on `listen`, with `env` set (e.g. a `HONNIN_PAGE_*` setting).
pub(crate) fn dev_on(data: &Path, listen: &str, env: &[(&str, &str)]) -> Dev {
    let mut child = honnin()
        .args(["dev", "--no-revocation", "--listen", listen, "--data"])
        .arg(data)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut dev = Dev { child, api: String::new(), rpc: String::new(), registry: String::new() };
    while dev.api.is_empty() || dev.registry.is_empty() || dev.rpc.is_empty() {
        let line = rx.recv_timeout(Duration::from_secs(120)).expect("honnin dev banner");
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            ["==>", "anvil", "(pid", _, "at", rpc, ..] => dev.rpc = rpc.to_owned(),
            ["registry", registry] => dev.registry = registry.to_owned(),
            ["API", api, ..] => dev.api = api.to_owned(),
            _ => {}
        }
    }
    std::thread::spawn(move || for _ in rx {});
    dev
}

/// Runs the pinned `cast` (from the tools folder) and returns its trimmed stdout.
pub(crate) fn cast(args: &[&str]) -> String {
    let cast = honnin_chain::tools::locate(honnin_chain::tools::Tool::Cast).unwrap();
    let out = Command::new(cast).args(args).output().unwrap();
    assert!(out.status.success(), "cast {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn dev_and_card_attest_reach_active_and_is_verified_on_anvil() {
    let Some(stack) = pcsc_stack("card attest end to end") else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The virtual card's root joins the dev trust folder (dev adds its own root.pem there).
    let root = SimRoot::new(3);
    std::fs::create_dir_all(data.join("trust")).unwrap();
    std::fs::write(data.join("trust/virtual-card-root.pem"), root.pem()).unwrap();
    let dev = dev(&data);
    assert!(dev.rpc.starts_with("http://") && dev.registry.starts_with("0x"), "{}", dev.rpc);
    let shared: SharedCard = VirtualCard::new(
        root.issue(&CardSpec { serial: vec![0x42, 0x12, 0x12], ..CardSpec::default() }),
        PIN,
    )
    .shared();
    let inserted = stack.insert(&shared);

    let wallet = PrivateKeySigner::random();
    let address = wallet.address().to_checksum(None);
    let key = format!("0x{}", hex::encode(wallet.to_bytes()));
    let message_file = dir.path().join("challenge.txt").display().to_string();
    let out = honnin()
        .args([
            "card",
            "challenge",
            "--api",
            &dev.api,
            "--wallet",
            &address,
            "--json",
            "--message-out",
            &message_file,
        ])
        .output()
        .unwrap();
    let (code, challenge, stderr) = parse(&out);
    assert_eq!(code, 0, "{challenge} {stderr}");
    let message = std::fs::read_to_string(&message_file).unwrap();
    assert_eq!(challenge["message"], message.as_str());
    // The wallet signs with an independent tool.
    let wallet_signature = cast(&["wallet", "sign", "--private-key", &key, &message]);

    let (code, attested, stderr) = card(
        &[
            "attest",
            "--api",
            &dev.api,
            "--wallet",
            &address,
            "--challenge",
            challenge["id"].as_str().unwrap(),
            "--message",
            &message_file,
            "--wallet-signature",
            &wallet_signature,
            "--pin-stdin",
            "--rpc-url",
            &dev.rpc,
            "--registry",
            &dev.registry,
        ],
        &format!("{PIN}\n"),
        "warn",
    );
    assert_eq!(code, 0, "{attested}\n{stderr}");
    assert_eq!(attested["status"], "active", "{attested}");
    assert_eq!(attested["is_verified"], true);
    assert!(stderr.contains("active after"), "a progress line: {stderr}");
    assert_eq!(
        cast(&[
            "call",
            &dev.registry,
            "isVerified(address)(bool)",
            &address,
            "--rpc-url",
            &dev.rpc
        ]),
        "true"
    );
    assert!(!shared.lock().is_verified(), "the card was reset after the signature");

    // The same card, another wallet, in the scope `kyc-drop` (honnin dev registers it): the
    // message names the scope, the record is that scope's only, and it is revoked there.
    let scoped = PrivateKeySigner::random();
    let scoped_address = scoped.address().to_checksum(None);
    let scoped_key = format!("0x{}", hex::encode(scoped.to_bytes()));
    let scope_id = honnin_core::ScopeName::new("kyc-drop").unwrap().id().to_string();
    let scoped_call = |signature: &str, wallet: &str| {
        let mut args = vec!["call", &dev.registry, signature, wallet];
        if signature.contains("bytes32") {
            args.push(&scope_id);
        }
        cast(&[&args[..], &["--rpc-url", &dev.rpc]].concat())
    };
    let challenge_in_scope = |purpose: &str, file: &Path| {
        let out = honnin()
            .args(["card", "challenge", "--api", &dev.api, "--wallet", &scoped_address])
            .args(["--purpose", purpose, "--scope", "kyc-drop", "--json", "--message-out"])
            .arg(file)
            .output()
            .unwrap();
        let (code, challenge, stderr) = parse(&out);
        assert_eq!(code, 0, "{challenge} {stderr}");
        assert_eq!(challenge["scope_id"], scope_id.as_str(), "{challenge}");
        let message = std::fs::read_to_string(file).unwrap();
        assert!(message.contains(&format!("\nScope: kyc-drop ({scope_id})\n")), "{message}");
        let signature = cast(&["wallet", "sign", "--private-key", &scoped_key, &message]);
        (challenge["id"].as_str().unwrap().to_owned(), signature)
    };
    let file = dir.path().join("scoped.txt");
    let (id, signature) = challenge_in_scope("attest", &file);
    let file_arg = file.display().to_string();
    let scoped_args = ["--api", &dev.api, "--wallet", &scoped_address, "--scope", "kyc-drop"];
    let chain_args = ["--rpc-url", &dev.rpc, "--registry", &dev.registry];
    let (code, attested, stderr) = card(
        &[
            &["attest"][..],
            &scoped_args,
            &["--challenge", &id, "--message", &file_arg, "--wallet-signature", &signature],
            &["--pin-stdin"],
            &chain_args,
        ]
        .concat(),
        &format!("{PIN}\n"),
        "warn",
    );
    assert_eq!(code, 0, "{attested}\n{stderr}");
    assert_eq!(
        (&attested["status"], &attested["scope"], &attested["scope_id"], &attested["is_verified"]),
        (&json!("active"), &json!("kyc-drop"), &json!(scope_id), &json!(true)),
        "{attested}"
    );
    assert!(
        stderr.contains(&format!("isVerified({scoped_address}, {scope_id} (kyc-drop)) = true"))
    );
    assert_eq!(scoped_call("isVerified(address,bytes32)(bool)", &scoped_address), "true");
    assert_eq!(scoped_call("isVerified(address)(bool)", &scoped_address), "false", "scope only");
    let (id, signature) = challenge_in_scope("revoke", &file);
    let (code, revoked, stderr) = card(
        &[
            &["revoke"][..],
            &scoped_args,
            &["--challenge", &id, "--message", &file_arg, "--wallet-signature", &signature],
            &chain_args,
        ]
        .concat(),
        "",
        "warn",
    );
    assert_eq!(code, 0, "{revoked}\n{stderr}");
    assert_eq!((&revoked["status"], &revoked["is_verified"]), (&json!("revoked"), &json!(false)));
    assert_eq!(scoped_call("isVerified(address,bytes32)(bool)", &scoped_address), "false");
    assert_eq!(scoped_call("isVerified(address)(bool)", &address), "true", "the global one stands");
    let out = honnin()
        .args(["card", "challenge", "--api", &dev.api, "--wallet", &scoped_address])
        .args(["--scope", "Not A Name"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "a bad scope name is a usage error: {stderr}");
    assert!(stderr.contains("--scope"), "{stderr}");

    // Revoke, the wallet's signature pasted once the message is shown.
    let revoke_message = dir.path().join("revoke.txt");
    let mut child = honnin()
        .args(["card", "revoke", "--api", &dev.api, "--wallet", &address, "--json"])
        .args(["--rpc-url", &dev.rpc, "--registry", &dev.registry, "--message-out"])
        .arg(&revoke_message)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("paste the signature") {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no paste prompt: {seen}");
        seen.push_str(&line);
    }
    let message = std::fs::read_to_string(&revoke_message).unwrap();
    assert!(message.contains("Purpose: revoke"), "{message}");
    let signature = cast(&["wallet", "sign", "--private-key", &key, &message]);
    writeln!(child.stdin.take().unwrap(), "{signature}").unwrap();
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let (code, revoked, _) = parse(&child.wait_with_output().unwrap());
    assert_eq!(code, 0, "{revoked}");
    assert_eq!(
        (revoked["status"].as_str(), revoked["reason"].as_str()),
        (Some("revoked"), Some("holder"))
    );
    assert_eq!(revoked["is_verified"], false, "the on-chain revoke landed");

    // Erase: the card proves it is the person; honnin forgets them.
    let (code, erased, stderr) = card(
        &["erase", "--api", &dev.api, "--wallet", &address, "--pin-stdin"],
        &format!("{PIN}\n"),
        "warn",
    );
    assert_eq!(code, 0, "{erased}\n{stderr}");
    assert_eq!(erased["erased"], true);
    drop(inserted);
}

#[test]
fn the_pin_is_not_in_the_command_line_or_the_environment() {
    let Some(stack) = pcsc_stack("card PIN not in argv") else { return };
    let dir = tempfile::tempdir().unwrap();
    let message = write(dir.path(), "message.txt", b"m");
    let sig = dir.path().join("sig.bin").display().to_string();
    let shared = virtual_card(&SimRoot::new(0)).shared();
    let _inserted = stack.insert(&shared);
    let mut child = honnin()
        .args(["card", "sign", "--message", &message, "--out", &sig, "--pin-stdin", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("tries left") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0);
    }
    // It is about to read the PIN: what the process shows the system holds none.
    let proc = Path::new("/proc").join(child.id().to_string());
    let cmdline =
        String::from_utf8_lossy(&std::fs::read(proc.join("cmdline")).unwrap()).replace('\0', " ");
    let environ =
        String::from_utf8_lossy(&std::fs::read(proc.join("environ")).unwrap()).replace('\0', " ");
    assert!(cmdline.contains("--pin-stdin"), "{cmdline}");
    assert!(!leaks(&cmdline, PIN) && !leaks(&environ, PIN));
    assert!(leaks(&format!("{cmdline} --pin {PIN}"), PIN), "the scan finds a planted PIN");
    writeln!(child.stdin.take().unwrap(), "{PIN}").unwrap();
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let (code, value, _) = parse(&child.wait_with_output().unwrap());
    assert_eq!(code, 0, "{value}");
}

#[test]
fn card_attest_with_age_claims_reaches_has_claims_on_anvil() {
    let Some(stack) = pcsc_stack("card attest --age end to end") else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The virtual card's roots join dev's trust folders (dev adds its own root.pem to each).
    let root = SimRoot::new(3);
    let sign_root = SimRoot::signing(6);
    std::fs::create_dir_all(data.join("trust")).unwrap();
    std::fs::create_dir_all(data.join("signing-trust")).unwrap();
    std::fs::write(data.join("trust/virtual-card-root.pem"), root.pem()).unwrap();
    std::fs::write(data.join("signing-trust/virtual-card-root.pem"), sign_root.pem()).unwrap();
    let dev = dev(&data);
    // 19 today (Japan time): adult, not yet 20.
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap())
        .date();
    let birth = honnin_jpki::test_utils::years_before(today, 19);
    let password = "HONNIN2026";
    let shared: SharedCard = VirtualCard::new(
        root.issue(&CardSpec { serial: vec![0x42, 0x12, 0x13], ..CardSpec::default() }),
        PIN,
    )
    .with_signing(
        sign_root.issue(&CardSpec { serial: vec![0x42, 0x12, 0x14], ..CardSpec::signing(birth) }),
        password,
    )
    .shared();
    let inserted = stack.insert(&shared);

    let wallet = PrivateKeySigner::random();
    let address = wallet.address().to_checksum(None);
    let key = format!("0x{}", hex::encode(wallet.to_bytes()));
    let message_file = dir.path().join("challenge.txt").display().to_string();
    let out = honnin()
        .args(["card", "challenge", "--api", &dev.api, "--wallet", &address, "--json"])
        .args(["--message-out", &message_file])
        .output()
        .unwrap();
    let (code, challenge, stderr) = parse(&out);
    assert_eq!(code, 0, "{challenge} {stderr}");
    let message = std::fs::read_to_string(&message_file).unwrap();
    let wallet_signature = cast(&["wallet", "sign", "--private-key", &key, &message]);

    // A malformed password is refused locally: no try spent, nothing sent.
    let attest = |stdin: &str| {
        card(
            &[
                "attest",
                "--age",
                "--api",
                &dev.api,
                "--wallet",
                &address,
                "--challenge",
                challenge["id"].as_str().unwrap(),
                "--message",
                &message_file,
                "--wallet-signature",
                &wallet_signature,
                "--pin-stdin",
                "--rpc-url",
                &dev.rpc,
                "--registry",
                &dev.registry,
            ],
            stdin,
            "trace",
        )
    };
    let (code, status, _) = card(&["status"], "", "warn");
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["signing_password_tries_left"], 5, "{status}");
    assert_eq!(status["signing_password_locked"], false, "{status}");

    let (code, refused, _) = attest(&format!("{PIN}\nshort\n"));
    assert_eq!((code, refused["error"].as_str()), (2, Some("password_format")), "{refused}");
    assert_eq!(shared.lock().signing_tries_left(), Some(5));

    let (code, attested, stderr) = attest(&format!("{PIN}\n{password}\n"));
    assert_eq!(code, 0, "{attested}\n{stderr}");
    assert_eq!(attested["status"], "active", "{attested}");
    assert_eq!(attested["claims"], 0b011, "{attested}");
    assert_eq!(attested["claims_refused"], serde_json::json!([]));
    assert!(stderr.contains("signing password: 5 tries left"), "tries shown first: {stderr}");
    assert!(!leaks(&stderr, password), "the password reached the logs");
    let birth_text = honnin_jpki::test_utils::birth_date_text(birth);
    assert!(!stderr.contains(&birth_text[1..]), "the birth date reached the logs");
    assert!(!stderr.contains(&birth.to_string()), "the birth date reached the logs");
    let has = |bits: &str| {
        cast(&[
            "call",
            &dev.registry,
            "hasClaims(address,uint32)(bool)",
            &address,
            bits,
            "--rpc-url",
            &dev.rpc,
        ])
    };
    assert_eq!(has("2"), "true", "age over 18 on chain");
    assert_eq!(has("4"), "false", "not yet 20");
    assert_eq!(has("3"), "true");
    drop(inserted);
}

#[test]
fn sign_with_the_signing_key_and_its_password_errors() {
    let Some(stack) = pcsc_stack("card sign --key signing") else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = SimRoot::new(0);
    let sign_root = SimRoot::signing(6);
    let password = "HONNIN2026";
    let birth = time::macros::date!(1999 - 12 - 31);
    let with_signing = |tries: u8| {
        virtual_card(&root)
            .with_signing(sign_root.issue(&CardSpec::signing(birth)), password)
            .with_signing_tries_left(tries)
            .shared()
    };
    let message = write(dir.path(), "message.txt", b"exactly these bytes\n");
    let sig = dir.path().join("sig.bin").display().to_string();
    let sign = |stdin: &str, extra: &[&str]| {
        let mut args = vec![
            "sign",
            "--key",
            "signing",
            "--message",
            &message,
            "--out",
            &sig,
            "--pin-stdin",
            "--wait",
            "5",
        ];
        args.extend_from_slice(extra);
        card(&args, stdin, "trace")
    };

    let shared = with_signing(5);
    let inserted = stack.insert(&shared);
    let (code, signed, stderr) = sign(&format!("{password}\n"), &[]);
    assert_eq!(code, 0, "{signed} {stderr}");
    assert_eq!(signed["key"], "signing", "{signed}");
    assert!(stderr.contains("signing password: 5 tries left"), "tries shown first: {stderr}");
    assert!(stderr.contains("holds your name, address, date of birth and sex"), "{stderr}");
    let b64 = base64::engine::general_purpose::STANDARD;
    let certificate = b64.decode(signed["certificate"].as_str().unwrap()).unwrap();
    let signature = std::fs::read(&sig).unwrap();
    assert_eq!(b64.encode(&signature), signed["signature"].as_str().unwrap());
    let now = time::OffsetDateTime::now_utc();
    let verified = honnin_jpki::SigningVerifier::new(sign_root.anchors())
        .verify_signing(&certificate, b"exactly these bytes\n", &signature, now)
        .unwrap();
    assert!(verified.birth_date().has_reached(20, now).unwrap());
    assert!(!leaks(&format!("{stderr}{signed}"), password), "the password leaked");
    assert!(stderr.contains("apdu"), "TRACE logs were captured");
    // The default key is still the user-authentication key.
    let (code, auth, _) = card(
        &["sign", "--message", &message, "--out", &sig, "--pin-stdin"],
        &format!("{PIN}\n"),
        "warn",
    );
    assert_eq!((code, auth["key"].as_str()), (0, Some("auth")), "{auth}");
    assert_ne!(auth["certificate"], signed["certificate"]);

    // A PIN is not a signing password: refused locally.
    let (code, value, _) = sign(&format!("{PIN}\n"), &[]);
    assert_eq!((code, value["error"].as_str()), (2, Some("password_format")), "{value}");
    // A wrong one: its own code, the tries left, one spent, no retry.
    let (code, value, _) = sign("WRONG1\n", &[]);
    assert_eq!((code, value["error"].as_str()), (6, Some("wrong_signing_password")), "{value}");
    assert_eq!(value["signing_password_tries_left"], 4, "{value}");
    assert!(value["message_ja"].as_str().unwrap().contains("署名用パスワードが違います"));
    assert_eq!(shared.lock().signing_tries_left(), Some(4));
    assert_eq!(shared.lock().tries_left(), 3, "the PIN is another counter");
    drop(inserted);

    // One try left: nothing sent without confirmation.
    let shared = with_signing(1);
    let inserted = stack.insert(&shared);
    let (code, value, _) = sign(&format!("{password}\n"), &[]);
    assert_eq!((code, value["error"].as_str()), (2, Some("last_try_not_confirmed")), "{value}");
    assert_eq!(shared.lock().verifies(), 0);
    drop(inserted);

    // Locked: refused before any VERIFY, and status says so.
    let shared = with_signing(0);
    let inserted = stack.insert(&shared);
    let (code, value, _) = sign(&format!("{password}\n"), &["--confirm-last-try"]);
    assert_eq!((code, value["error"].as_str()), (7, Some("signing_password_locked")), "{value}");
    assert!(value["message"].as_str().unwrap().contains("city office"), "{value}");
    assert_eq!(shared.lock().verifies(), 0);
    let (code, status, _) = card(&["status"], "", "warn");
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["signing_password_locked"], true, "{status}");
    assert_eq!(status["pin_locked"], false, "{status}");
    drop(inserted);

    // No signing key on the card.
    let shared = virtual_card(&root).shared();
    let inserted = stack.insert(&shared);
    let (code, value, _) = sign(&format!("{password}\n"), &[]);
    assert_eq!((code, value["error"].as_str()), (5, Some("no_signing_certificate")), "{value}");
    assert_eq!(shared.lock().verifies(), 0);
    drop(inserted);
}
