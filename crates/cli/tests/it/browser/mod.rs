//! The person's page in real headless Chromium (Debian's `/usr/bin/chromium`, driven by the
//! pinned playwright-core of `tests/browser/`) against a real `honnin dev`: an EIP-6963 test
//! wallet and the virtual JPKI card through pcscd take the page to "verified" with the optional
//! age step (the card's birth date makes its holder 19 today: over 18, not over 20), and the
//! registry agrees (asked here with `cast`: `isVerified`, `hasClaims`); then a refusal in
//! Japanese with its advice, the status page with the claims, self-revocation, erasure, an age
//! claim refused while the verification stands, and no request leaving the honnin origin.
//!
//! The card signs in the verify flow through `honnin card bridge` (started here on a free
//! port, trusting only the page's origin, on the vpcd reader): the page finds it, the person
//! ticks the age step and presses the button, and this test answers the bridge's terminal (`y`,
//! the PIN, then the signing password) after checking it names the page's origin, shows the
//! exact message and says what the signing certificate holds. The later flows use the page's
//! manual fallback: this test runs the exact commands the page shows (`honnin card sign …
//! --json`, and for the age step `honnin card sign --key signing … --json`, with `--pin-stdin`
//! added) and pastes their output. A page on another origin is refused by the bridge. Without
//! the PC/SC stack (no `HONNIN_PCSC`, not CI) the simulated card signs, through the manual
//! fallback only, and the test says so.
//!
//! Needs `/usr/bin/chromium`, node and `tests/browser/node_modules` (`scripts/install-tools`).
//! Under `scripts/test` (`HONNIN_BROWSER=1`) or CI a missing piece fails the test; elsewhere it
//! says SKIPPED. Screenshots of each step: `target/browser-screenshots/`.

// What the browser did, and a simulated card standing in, are said on stderr.
#![allow(clippy::print_stderr)]

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use base64::Engine as _;
use honnin_card::test_utils::{VirtualCard, pcsc_stack};
use honnin_jpki::test_utils::{CardSpec, SimCard, SimRoot};
use serde_json::{Value, json};

use crate::card::{Dev, PIN, cast, dev_on};

mod bridge;
mod script;
use bridge::Bridge;
use script::Script;

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

/// `target/browser-screenshots`, emptied.
fn screenshot_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_honnin"));
    let target = bin.parent().and_then(Path::parent).expect("the binary is in target/<profile>");
    let dir = target.join("browser-screenshots");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Chromium, node and the pinned driver are there; or SKIPPED (false) where they may be absent.
fn prerequisites(test: &str) -> bool {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).is_file() {
        missing.push(CHROMIUM.to_owned());
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node".to_owned());
    }
    let driver = browser_dir().join("node_modules/playwright-core/package.json");
    if !driver.is_file() {
        missing.push(driver.display().to_string());
    }
    if missing.is_empty() {
        return true;
    }
    let expected = std::env::var_os("HONNIN_BROWSER").is_some_and(|v| v == "1")
        || std::env::var_os("CI").is_some();
    assert!(!expected, "{test}: missing {missing:?}: scripts/install-tools installs them");
    eprintln!("SKIPPED {test}: missing {missing:?}; run scripts/install-tools (or scripts/test)");
    false
}

/// The virtual card's signing password.
const PASSWORD: &str = "HONNIN2026";

/// Where the card's signature comes from.
enum Card {
    /// The virtual card on pcscd's vpcd reader, signing through `honnin card sign`.
    Vpcd,
    /// No PC/SC stack: the simulated card (its user-authentication and signing certificates)
    /// signs the message the page's command writes.
    Simulated(Box<(SimCard, SimCard)>),
}

/// What the page's manual commands printed.
struct Signed {
    /// `honnin card sign --json`.
    json: String,
    /// `honnin card sign --key signing --json`, for the age step.
    signing_json: Option<String>,
}

impl Card {
    /// Runs the page's manual-fallback command in a fresh folder, as a person would paste it
    /// into a terminal (`--pin-stdin` added: the PIN comes from this test, not a terminal), and
    /// returns what it printed. The message file it writes must hold exactly `message` (the
    /// one the page showed) or, where the page shows only the command, be for `purpose`. With
    /// `signing_command` (the age step) that one runs next in the same folder, the signing
    /// password on its stdin; `stale`: over another message first written to the message file
    /// (a person pasting the output of an older signature).
    fn sign(
        &self,
        command: &str,
        message: Option<&str>,
        purpose: &str,
        signing_command: Option<&str>,
        stale: bool,
    ) -> Signed {
        // The message (with its line breaks) quoted into a file, then the card tool.
        let (write, sign) = command.rsplit_once('\n').expect("two commands");
        assert!(sign.starts_with("honnin card sign ") && sign.ends_with(" --json"), "{sign:?}");
        let dir = tempfile::tempdir().unwrap();
        let bin = Path::new(env!("CARGO_BIN_EXE_honnin")).parent().unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        let run = |script: &str, stdin: &str| {
            let mut child = Command::new("sh")
                .args(["-c", script])
                .current_dir(dir.path())
                .env("PATH", &path)
                .env("HONNIN_LOG", "warn")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8(out.stdout).unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{script}\nstdout: {stdout}\nstderr: {stderr}");
            stdout
        };
        run(write, "");
        let written = std::fs::read_to_string(dir.path().join("honnin-message.txt")).unwrap();
        if let Some(message) = message {
            assert_eq!(written, message, "the page's command writes exactly the message shown");
        }
        assert!(written.contains(&format!("\nPurpose: {purpose}\n")), "{written}");
        let json = match self {
            Self::Vpcd => run(&format!("{sign} --pin-stdin"), &format!("{PIN}\n")),
            Self::Simulated(cards) => simulated(&cards.0, "auth", written.as_bytes()),
        };
        let signing_json = signing_command.map(|signing| {
            assert!(
                signing.starts_with("honnin card sign --key signing ")
                    && signing.ends_with(" --json")
                    && signing.contains("--message honnin-message.txt"),
                "{signing:?}"
            );
            let message = if stale {
                let other = written.replace("Purpose: attest", "Purpose: attest (an older one)");
                std::fs::write(dir.path().join("honnin-message.txt"), &other).unwrap();
                other
            } else {
                written.clone()
            };
            match self {
                Self::Vpcd => run(&format!("{signing} --pin-stdin"), &format!("{PASSWORD}\n")),
                Self::Simulated(cards) => simulated(&cards.1, "signing", message.as_bytes()),
            }
        });
        Signed { json, signing_json }
    }
}

/// `honnin card sign --json`'s output for the simulated `card`'s signature of `message`.
fn simulated(card: &SimCard, key: &str, message: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let value = json!({
        "ok": true,
        "certificate": b64.encode(card.der()),
        "signature": b64.encode(card.sign(message)),
        "key": key,
    });
    serde_json::to_string_pretty(&value).unwrap()
}

/// `hasClaims(wallet, bits)` on the dev registry, for each of `bits`: `{"2": true, …}`.
fn has_claims(dev: &Dev, wallet: &str, bits: &[u64]) -> Value {
    let answers = bits.iter().map(|bits| {
        let answer = cast(&[
            "call",
            &dev.registry,
            "hasClaims(address,uint32)(bool)",
            wallet,
            &bits.to_string(),
            "--rpc-url",
            &dev.rpc,
        ]);
        (bits.to_string(), Value::Bool(answer == "true"))
    });
    Value::Object(answers.collect())
}

/// `isVerified(wallet)` (or `isVerified(wallet, scope)` with the scope's name) on the dev
/// registry, polled until it is `expect` (at most 30 s: the chain writer sends a revocation
/// after the API has answered).
fn registry(dev: &Dev, wallet: &str, scope: Option<&str>, expect: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    let scope = scope.map(|name| honnin_core::ScopeName::new(name).unwrap().id().to_string());
    let (signature, scope) = match &scope {
        Some(id) => ("isVerified(address,bytes32)(bool)", vec![id.as_str()]),
        None => ("isVerified(address)(bool)", vec![]),
    };
    loop {
        let answer = cast(
            &[&["call", &dev.registry, signature, wallet][..], &scope, &["--rpc-url", &dev.rpc]]
                .concat(),
        ) == "true";
        if answer == expect || Instant::now() > deadline {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[track_caller]
fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in {value:#}"))
}

#[test]
fn the_page_in_headless_chromium_reaches_verified_and_the_registry_agrees() {
    const TEST: &str = "browser: the page in headless Chromium";
    if !prerequisites(TEST) {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The card's roots join the dev trust folders (dev adds its own root.pem to each).
    let root = SimRoot::new(3);
    let sign_root = SimRoot::signing(6);
    std::fs::create_dir_all(data.join("trust")).unwrap();
    std::fs::create_dir_all(data.join("signing-trust")).unwrap();
    std::fs::write(data.join("trust/virtual-card-root.pem"), root.pem()).unwrap();
    std::fs::write(data.join("signing-trust/virtual-card-root.pem"), sign_root.pem()).unwrap();
    let spec = CardSpec { serial: vec![0x42, 0x13, 0x13], ..CardSpec::default() };
    // 19 today (Japan time): over 18, not yet 20.
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap())
        .date();
    let birth = honnin_jpki::test_utils::years_before(today, 19);
    let signing_spec = CardSpec { serial: vec![0x42, 0x13, 0x14], ..CardSpec::signing(birth) };

    let stack = pcsc_stack(TEST);
    let shared = stack.as_ref().map(|_| {
        VirtualCard::new(root.issue(&spec), PIN)
            .with_signing(sign_root.issue(&signing_spec), PASSWORD)
            .shared()
    });
    let _inserted = stack.as_ref().zip(shared.as_ref()).map(|(stack, card)| stack.insert(card));
    let card = if stack.is_some() {
        Card::Vpcd
    } else {
        eprintln!("{TEST}: no PC/SC stack: the SIMULATED card signs instead of the virtual card");
        Card::Simulated(Box::new((root.issue(&spec), sign_root.issue(&signing_spec))))
    };

    // The bridge trusts the page's origin and the page names the bridge, so the page's port is
    // chosen first (a free one) and the bridge started before `honnin dev`.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let origin = format!("http://127.0.0.1:{port}");
    let mut bridge = Bridge::start(&origin, stack.as_ref().map(|stack| stack.reader()));
    let dev =
        dev_on(&data, &format!("127.0.0.1:{port}"), &[("HONNIN_PAGE_BRIDGE_URL", &bridge.url)]);
    assert_eq!(dev.api, origin);
    let shots = screenshot_dir();
    // With the virtual card on pcscd the verify flow signs through the bridge (the later flows
    // through the page's manual command); the simulated card has no reader, so manual only.
    let bridge_signs = matches!(card, Card::Vpcd);
    let config = json!({ "base": dev.api, "shots": shots, "bridge": bridge.url, "bridge_signs": bridge_signs });
    let mut script = Script::start(&config);
    let mut registry_answers = Vec::new();
    let result = script.run(Duration::from_secs(240), |question| match question["kind"].as_str() {
        Some("bridge_sign") => {
            let password = (question["age"] == true).then_some(PASSWORD);
            json!({ "shown": bridge.sign(&origin, text(question, "/message"), PIN, password) })
        }
        Some("card_sign") => {
            let message = question["message"].as_str();
            let purpose = question["purpose"].as_str().unwrap_or("attest");
            let signing = question["signing_command"].as_str();
            let stale = question["stale"] == true;
            let signed = card.sign(text(question, "/command"), message, purpose, signing, stale);
            json!({ "json": signed.json, "signing_json": signed.signing_json })
        }
        Some("registry") => {
            let expect = question["expect"].as_bool().unwrap();
            let wallet = text(question, "/wallet");
            let answer = registry(&dev, wallet, question["scope"].as_str(), expect);
            registry_answers.push(answer);
            let bits: Vec<u64> = question["claims"]
                .as_array()
                .map(|bits| bits.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            json!({ "is_verified": answer, "has_claims": has_claims(&dev, wallet, &bits) })
        }
        _ => json!({ "error": format!("unknown question {question}") }),
    });
    let log = script.log();
    drop(script);
    eprint!("{log}");
    std::fs::write(shots.join("result.json"), format!("{result:#}\n")).unwrap();
    let context = format!("result: {result:#}\nbrowser log:\n{log}");

    // The flow on `/`: verified, in Japanese, with a transaction and its block.
    let verified = &result["verified"];
    assert_eq!(text(verified, "/lang"), "ja", "{context}");
    assert!(text(verified, "/no_number_note").contains("マイナンバー"), "{context}");
    assert!(text(verified, "/message").contains(text(&result, "/wallet")), "{context}");
    assert_eq!(text(verified, "/status"), "active", "{context}");
    assert_eq!(text(verified, "/status_text"), "有効", "{context}");
    let tx = text(verified, "/tx_hash");
    assert!(tx.len() == 66 && tx.starts_with("0x"), "a transaction hash: {context}");
    assert!(text(verified, "/block").parse::<u64>().is_ok_and(|b| b > 0), "{context}");
    assert!(text(verified, "/verified_text").starts_with("確認済み"), "{context}");
    let followed: Vec<&str> =
        verified["followed"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(followed.last(), Some(&"active"), "{context}");
    assert!(followed.iter().all(|s| ["pending", "active"].contains(s)), "{context}");
    // The card step: through the bridge (found by the page, the PIN asked in its terminal and
    // never on the page), or the page's manual command.
    if bridge_signs {
        let through = &verified["bridge"];
        assert!(text(through, "/found").contains("ブリッジが見つかりました"), "{context}");
        assert_eq!(
            text(through, "/waiting"),
            "PIN と署名用パスワードはブリッジのターミナルで入力してください",
            "{context}"
        );
        let terminal = text(through, "/terminal");
        // (A line of its own: the message's hex may hold the PIN's digits by chance.)
        let echoed = terminal.lines().any(|line| line.trim() == PIN || line.contains(PASSWORD));
        assert!(!echoed, "the terminal never echoes the PIN or the password: {terminal}");
        assert!(terminal.contains("signing password: 5 tries left"), "{context}");
    } else {
        assert_eq!(verified["bridge"], Value::Null, "{context}");
    }
    // The registry agrees, asked here (independently of the page) when it said "verified".
    assert_eq!(verified["registry"], true, "{context}");
    // The age step: offered plainly, and the claims the birth date gives (19: over 18 only),
    // on the page and on chain.
    let age = &verified["age_step"];
    assert_eq!(text(age, "/label"), "年齢の確認も行う (18歳以上・20歳以上)", "{context}");
    assert_eq!(text(age, "/legend"), "年齢の確認 (任意)", "{context}");
    assert_eq!(text(age, "/described_by"), "age-help", "{context}");
    let help = text(age, "/help");
    for words in [
        "署名用電子証明書",
        "氏名・住所・生年月日・性別",
        "「18歳以上」「20歳以上」の2つだけ",
        "すぐに破棄",
        "6〜16文字",
        "ブリッジのターミナル",
    ] {
        assert!(help.contains(words), "the age step says {words:?}: {help}");
    }
    assert!(
        text(age, "/signing_command").starts_with("honnin card sign --key signing "),
        "{context}"
    );
    let claims = &verified["claims"];
    assert_eq!(text(claims, "/title"), "年齢の確認", "{context}");
    assert_eq!(
        claims["items"],
        json!([
            { "claim": "age_over_18", "granted": "true", "text": "18歳以上: 確認できました" },
            { "claim": "age_over_20", "granted": "false", "text": "20歳以上: 該当しません (確認した時点の年齢)" },
        ]),
        "{context}"
    );
    assert_eq!(claims["refused"], json!([]), "{context}");
    assert_eq!(claims["refused_shown"], false, "{context}");
    assert_eq!(verified["claims_en"]["items"][0]["text"], "over 18: proved", "{context}");
    assert_eq!(verified["has_claims"], json!({ "2": true, "4": false }), "{context}");

    // Refusals: Japanese first with the advice, English after the switch.
    let refusals = &result["refusals"];
    assert!(text(refusals, "/bad_json/text").contains("honnin card sign --json"), "{context}");
    assert!(
        text(refusals, "/bad_signing/text").contains("honnin card sign --key signing --json"),
        "the first command's output in the age field is caught on the page: {context}"
    );
    assert_eq!(text(refusals, "/ja/code"), "wallet_already_attested", "{context}");
    assert_eq!(text(refusals, "/ja/text"), "このウォレットはすでに本人確認済みです。", "{context}");
    assert_eq!(text(refusals, "/ja/action"), "状態のページで確認してください。", "{context}");
    assert_eq!(text(refusals, "/en/text"), "This wallet is already verified.", "{context}");
    assert_eq!(text(refusals, "/en/action"), "See the status page.", "{context}");

    // /status, then self-revocation: revoked in the page, false on chain.
    let status = &result["status"];
    assert_eq!(text(status, "/before/status"), "active", "{context}");
    assert_eq!(text(status, "/before/reason"), "—", "{context}");
    assert!(!text(status, "/before/expires").is_empty(), "{context}");
    assert_eq!(text(status, "/before/claims"), "本人 (一人につき一件)・18歳以上", "{context}");
    assert_eq!(text(status, "/before/claims_bits"), "3", "{context}");
    assert_eq!(text(status, "/after/status"), "revoked", "{context}");
    assert_eq!(text(status, "/after/status_text"), "失効", "{context}");
    assert_eq!(text(status, "/after/reason_code"), "holder", "{context}");
    assert_eq!(text(status, "/after/reason"), "本人による失効", "{context}");
    assert_eq!(text(status, "/after/live"), "失効の依頼を受け付けました。", "{context}");
    assert!(text(status, "/after/revoke_message/0").contains("Purpose: revoke"), "{context}");
    assert_eq!(status["after"]["registry"], false, "{context}");

    // Erasure, the card signing the page's `erase` command.
    assert_eq!(text(&result, "/erased/live"), "消去しました。", "{context}");
    assert_eq!(result["erased"]["problem"], Value::Null, "{context}");
    // An age claim refused: a signing signature over another message. The page says why, in
    // both languages; the verification stands (active, on chain) without the age bits.
    let claims_refused = &result["claims_refused"];
    assert_eq!(claims_refused["ja"]["items"], json!([]), "{context}");
    assert_eq!(claims_refused["ja"]["refused_shown"], true, "{context}");
    let refused = &claims_refused["ja"]["refused"];
    assert_eq!(refused.as_array().map(Vec::len), Some(1), "one sentence for the code: {context}");
    assert_eq!(text(refused, "/0/code"), "bad_signature", "{context}");
    assert!(
        text(refused, "/0/text").starts_with("18歳以上・20歳以上: 署名用の鍵による署名を"),
        "{context}"
    );
    assert!(text(refused, "/0/text").contains("前の出力を貼り付けていないか"), "{context}");
    assert!(
        text(claims_refused, "/en/refused/0/text").starts_with(
            "over 18・over 20: The signing key's signature is not one over this message."
        ),
        "{context}"
    );
    assert_eq!(text(claims_refused, "/status"), "active", "{context}");
    assert_eq!(claims_refused["registry"], true, "{context}");
    assert_eq!(claims_refused["has_claims"], json!({ "2": false }), "{context}");

    // The scope `kyc-drop`: the page says which dApp, the message names it, the record is
    // that scope's only; /status (through the page's link) keeps the scope and revokes there
    // only; an unregistered scope is refused with its advice.
    let scope = &result["scope"];
    let scope_id = honnin_core::ScopeName::new("kyc-drop").unwrap().id().to_string();
    assert_eq!(scope["line"]["shown"], true, "{context}");
    assert_eq!(text(scope, "/line/name"), "kyc-drop", "{context}");
    assert!(text(scope, "/line/text").contains("この dApp の中だけで有効"), "{context}");
    assert_eq!(text(scope, "/line/status_link"), "/status?scope=kyc-drop", "{context}");
    assert!(
        text(scope, "/line/message").contains(&format!("\nScope: kyc-drop ({scope_id})\n")),
        "{context}"
    );
    assert_eq!(text(scope, "/verified/status"), "active", "{context}");
    assert_eq!(scope["verified"]["registry"], true, "{context}");
    assert_eq!(text(scope, "/before/status"), "active", "{context}");
    assert_eq!(scope["before"]["scope_shown"], true, "{context}");
    assert_eq!(text(scope, "/after/status"), "revoked", "{context}");
    let revoke_message = text(scope, "/after/revoke_message/0");
    assert!(revoke_message.contains("Purpose: revoke"), "{context}");
    assert!(revoke_message.contains("Scope: kyc-drop"), "{context}");
    assert_eq!(scope["after"]["registry"], false, "revoked in the scope: {context}");
    assert_eq!(scope["after"]["global"], true, "the global record stands: {context}");
    assert_eq!(text(scope, "/unknown/code"), "unknown_scope", "{context}");
    assert_eq!(
        text(scope, "/unknown/text"),
        "その dApp (スコープ) はこのサービスに登録されていません。",
        "{context}"
    );
    assert_eq!(registry_answers, [true, false, true, true, false, true], "{context}");
    assert_eq!(
        result["signed"], 6,
        "the wallet signed the four attest challenges and the two revocations"
    );

    // Nothing left the honnin origin; the page did talk to it.
    assert_eq!(result["requests"]["foreign"], json!([]), "{context}");
    assert!(result["requests"]["own"].as_u64().unwrap() > 0, "{context}");
    // The bridge was asked only by the honnin page (its discovery, and the signature when it
    // signed); the foreign page's attempts are counted by that page, not this one.
    let to_bridge = result["requests"]["bridge"].as_u64().unwrap();
    let least = if bridge_signs { 2 } else { 1 };
    assert!(to_bridge >= least, "{context}");
    // No script error, and the failed loads are the refused second attestation (409) and the
    // unregistered scope (422): the page asks for nothing that is not there (not even a
    // favicon).
    let console: Vec<&str> =
        result["console"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(!console.iter().any(|l| l.starts_with("pageerror")), "{context}");
    let failed: Vec<&&str> = console.iter().filter(|l| l.contains("Failed to load")).collect();
    assert!(failed.iter().all(|l| l.contains("409") || l.contains("422")), "{context}");

    // A page on another origin cannot use the bridge: its fetches fail (the bridge answers
    // 403 without CORS headers), and nothing reached the bridge's terminal.
    let foreign = &result["foreign"];
    assert!(text(foreign, "/outcome/get/error").contains("TypeError"), "{context}");
    assert!(text(foreign, "/outcome/sign/error").contains("TypeError"), "{context}");
    assert_eq!(foreign["sent"], json!(["GET /v1/bridge", "POST /v1/sign"]), "{context}");
    assert_eq!(foreign["failed"].as_array().unwrap().len(), 2, "{context}");
    // Why they failed, asked on a raw connection: the bridge refuses that origin (403, no CORS
    // headers) and answers the honnin origin.
    let foreign_origin = text(foreign, "/origin");
    let (status, answer) = bridge.get_as(foreign_origin);
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("origin_not_trusted"), "{answer}");
    assert!(!answer.contains("access-control-allow-origin"), "{answer}");
    let (status, answer) = bridge.get_as(&dev.api);
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(&format!("access-control-allow-origin: {}", dev.api)), "{answer}");
    assert!(answer.contains("\"bridge\":\"honnin\""), "{answer}");
    let terminal = bridge.terminal();
    let asked = terminal.matches("asks for a card signature").count();
    assert_eq!(asked, usize::from(bridge_signs), "only the honnin page's request: {terminal}");
    assert!(!terminal.contains(foreign_origin), "{terminal}");
    drop(bridge);

    // A screenshot of each step, each a non-empty PNG.
    let shot_names = result["shots"].as_array().unwrap();
    assert!(shot_names.len() >= 17, "{context}");
    for name in [
        "01-start",
        "02-connected",
        "03-challenge",
        "04-wallet-signed",
        if bridge_signs { "05-bridge-waiting" } else { "05-card-signed" },
        "06-submitted",
        "07-verified",
        "07-verified-phone",
        "08-bad-paste",
        "09-refusal-ja",
        "10-refusal-en",
        "11-status",
        "12-revoked",
        "13-erased",
        "14-foreign-origin",
        "04-age-step",
        "04-age-step-phone",
        "07-age-claims",
        "08-bad-paste-signing",
        "15-claims-refused",
        "16-scope-verified",
        "17-scope-revoked",
        "18-unknown-scope",
    ] {
        let png = std::fs::read(shots.join(format!("{name}.png"))).unwrap_or_default();
        assert!(png.len() > 1000 && png.starts_with(b"\x89PNG"), "{name}.png in {shots:?}");
    }
    if let Some(card) = &shared {
        // The verify flow, the refused second attestation and the claim refusal each signed
        // with both keys, the erasure and the scoped attestation with one; no secret was ever
        // retried.
        assert_eq!(card.lock().verifies(), 8, "one VERIFY per signature");
        assert_eq!(card.lock().signing_tries_left(), Some(5));
        assert_eq!(card.lock().tries_left(), 3);
    }
    eprintln!(
        "{TEST}: statuses followed {followed:?}, {} requests to the honnin origin, none elsewhere",
        result["requests"]["own"]
    );
    eprintln!(
        "{TEST}: done in {:.1} s, screenshots in {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
}
