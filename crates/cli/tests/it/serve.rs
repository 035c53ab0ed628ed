//! `honnin serve` and `honnin migrate` as processes: configuration errors, migrations, a real
//! server on a free port, graceful shutdown on SIGTERM.

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use honnin_jpki::test_utils::{CrlSpec, SimRoot};

fn honnin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_honnin"));
    // Start from a clean slate: no HONNIN_* setting leaks in from the environment.
    for (key, _) in std::env::vars() {
        if key.starts_with("HONNIN_") {
            command.env_remove(key);
        }
    }
    command
}

#[test]
fn migrate_creates_the_sqlite_database_and_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/nested/honnin.db");
    let out = honnin()
        .arg("migrate")
        .env("HONNIN_DATABASE_URL", format!("sqlite://{}?mode=rwc", db.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(db.exists());
    // Running it again is a no-op.
    let again = honnin()
        .arg("migrate")
        .env("HONNIN_DATABASE_URL", format!("sqlite://{}?mode=rwc", db.display()))
        .output()
        .unwrap();
    assert!(again.status.success());
}

#[test]
fn serve_names_the_missing_setting_and_refuses_dev_only_values() {
    let out = honnin().arg("serve").output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing setting `trust_anchors`"), "{stderr}");
    assert!(stderr.contains("HONNIN_TRUST_ANCHORS"), "{stderr}");

    let out = honnin()
        .args(["serve", "--trust-anchors", "roots", "--revocation", "none"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`revocation`") && stderr.contains("dev mode"), "{stderr}");

    let out = honnin()
        .args(["serve", "--trust-anchors", "roots", "--revocation", "ocsp:http://ocsp.example"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing setting `pepper`"));
}

/// A running `honnin serve`, killed on drop if still running.
pub(crate) struct Server {
    pub(crate) child: Child,
    address: SocketAddr,
    logs: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `honnin serve` with `env` on a free port and waits for its "listening" line.
pub(crate) fn start(env: &[(&str, String)]) -> Server {
    let mut child = honnin()
        .arg("serve")
        .env("HONNIN_LISTEN", "127.0.0.1:0")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take();
    let (tx, logs) = mpsc::channel();
    let mut server = Server { child, address: SocketAddr::from(([0, 0, 0, 0], 0)), logs };
    let stderr = stderr.unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        let line = server.logs.recv_timeout(Duration::from_secs(60)).expect("server did not start");
        if line.contains("listening") {
            let address = line.split("address=").nth(1).unwrap().split_whitespace().next().unwrap();
            server.address = address.parse().unwrap();
            return server;
        }
        assert!(!line.contains("ERROR"), "{line}");
    }
}

/// One HTTP/1.1 request; returns the status line and the body.
fn http(address: SocketAddr, method: &str, path: &str, body: &str) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.lines().next().unwrap_or("").to_owned();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

pub(crate) fn write_root(dir: &Path, root: &SimRoot) -> String {
    let roots = dir.join("roots");
    std::fs::create_dir_all(&roots).unwrap();
    std::fs::write(roots.join("root.pem"), root.pem()).unwrap();
    roots.display().to_string()
}

fn stop(mut server: Server) -> Vec<String> {
    let status = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status();
    assert!(status.unwrap().success());
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    // Everything it wrote: the reader thread ends (and the channel closes) at end of stderr.
    let mut logs = Vec::new();
    while let Ok(line) = server.logs.recv_timeout(Duration::from_secs(10)) {
        logs.push(line);
    }
    logs
}

#[test]
fn serves_with_production_settings_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let root = SimRoot::new(0);
    let crl = dir.path().join("auth.crl");
    std::fs::write(&crl, root.crl(&CrlSpec::default())).unwrap();
    let server = start(&[
        ("HONNIN_TRUST_ANCHORS", write_root(dir.path(), &root)),
        ("HONNIN_REVOCATION", format!("crl:{}", crl.display())),
        ("HONNIN_PEPPER", "ab".repeat(32)),
        ("HONNIN_DOMAIN", "kyc.example.jp".into()),
        ("HONNIN_CHAIN_ID", "11155111".into()),
        ("HONNIN_REGISTRY", "0x5FbDB2315678afecb367f032d93F642f64180aa3".into()),
        ("HONNIN_DATABASE_URL", format!("sqlite://{}/db/honnin.db?mode=rwc", dir.path().display())),
    ]);
    let (status, _) = http(server.address, "GET", "/ready", "");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let (status, body) = http(
        server.address,
        "POST",
        "/v1/challenges",
        r#"{"wallet":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","audience":"app.example"}"#,
    );
    assert!(status.starts_with("HTTP/1.1 201"), "{status} {body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("kyc.example.jp asks you to"), "{message}");
    assert!(message.contains("Chain ID: 11155111"));
    assert!(message.contains("Registry: 0x5FbDB2315678afecb367f032d93F642f64180aa3"));
    assert!(message.contains("Audience: app.example"));
    let logs = stop(server);
    assert!(logs.iter().any(|l| l.contains("stopped")), "{logs:?}");
    assert!(!logs.iter().any(|l| l.contains(&"ab".repeat(32))), "the pepper was logged");
}

#[test]
fn dev_mode_without_revocation_says_so_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let root = SimRoot::new(0);
    let server = start(&[
        ("HONNIN_DEV", "true".into()),
        ("HONNIN_TRUST_ANCHORS", write_root(dir.path(), &root)),
        ("HONNIN_REVOCATION", "none".into()),
        ("HONNIN_DATABASE_URL", format!("sqlite://{}/honnin.db?mode=rwc", dir.path().display())),
    ]);
    let (status, body) = http(server.address, "GET", "/health", "");
    assert!(status.starts_with("HTTP/1.1 200"), "{status} {body}");
    stop(server);
    // The warnings come before "listening"; they were consumed by `start`, so check a fresh run.
    let out = honnin()
        .arg("serve")
        .env("HONNIN_DEV", "true")
        .env("HONNIN_LISTEN", "127.0.0.1:0")
        .env("HONNIN_TRUST_ANCHORS", dir.path().join("missing"))
        .env("HONNIN_REVOCATION", "none")
        .env("HONNIN_DATABASE_URL", format!("sqlite://{}/honnin.db?mode=rwc", dir.path().display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DEV MODE"), "{stderr}");
    assert!(stderr.contains("trust anchors"), "{stderr}");
}

/// `honnin deploy` then `honnin serve` against a real anvil: a simulated card and a real EOA go
/// through the whole flow over HTTP, and the chain writer the service started makes the
/// attestation `active` with its transaction hash and block.
#[test]
fn serve_attests_on_chain_through_its_chain_writer() {
    use base64::Engine as _;
    use honnin_core::wallet::eip191_hash;
    use honnin_jpki::test_utils::CardSpec;

    let anvil = honnin_chain::test_utils::spawn_anvil().unwrap();
    let attester_key = format!("0x{}", hex::encode(anvil.keys()[1].to_bytes()));
    let deployed = honnin()
        .args(["deploy", "--rpc-url", &anvil.endpoint(), "--json"])
        .env("HONNIN_DEPLOYER_KEY", &attester_key)
        .output()
        .unwrap();
    assert!(deployed.status.success(), "{}", String::from_utf8_lossy(&deployed.stderr));
    let deployed: serde_json::Value = serde_json::from_slice(&deployed.stdout).unwrap();
    let registry = deployed["registry"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let root = SimRoot::new(0);
    let crl = dir.path().join("auth.crl");
    std::fs::write(&crl, root.crl(&CrlSpec::default())).unwrap();
    let server = start(&[
        ("HONNIN_TRUST_ANCHORS", write_root(dir.path(), &root)),
        ("HONNIN_REVOCATION", format!("crl:{}", crl.display())),
        ("HONNIN_PEPPER", "cd".repeat(32)),
        ("HONNIN_DOMAIN", "kyc.example.jp".into()),
        ("HONNIN_CHAIN_ID", "31337".into()),
        ("HONNIN_REGISTRY", registry.clone()),
        ("HONNIN_RPC_URL", anvil.endpoint()),
        ("HONNIN_ATTESTER_KEY", attester_key.clone()),
        ("HONNIN_DATABASE_URL", format!("sqlite://{}/honnin.db?mode=rwc", dir.path().display())),
    ]);

    let wallet_key = k256::ecdsa::SigningKey::from_bytes(&[0x33; 32].into()).unwrap();
    let wallet = honnin_core::Address::from_private_key(&wallet_key).to_checksum(None);
    let (status, body) =
        http(server.address, "POST", "/v1/challenges", &format!(r#"{{"wallet":"{wallet}"}}"#));
    assert!(status.starts_with("HTTP/1.1 201"), "{status} {body}");
    let challenge: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = challenge["message"].as_str().unwrap();
    let card = root.issue(&CardSpec::default());
    let (signature, recid) =
        wallet_key.sign_prehash_recoverable(eip191_hash(message).as_slice()).unwrap();
    let mut wallet_signature = signature.to_bytes().to_vec();
    wallet_signature.push(27 + recid.to_byte());
    let b64 = base64::engine::general_purpose::STANDARD;
    let request = serde_json::json!({
        "challenge_id": challenge["id"],
        "certificate": b64.encode(card.der()),
        "card_signature": b64.encode(card.sign(message.as_bytes())),
        "wallet_signature": format!("0x{}", hex::encode(&wallet_signature)),
    });
    let (status, body) = http(server.address, "POST", "/v1/attestations", &request.to_string());
    assert!(status.starts_with("HTTP/1.1 202"), "{status} {body}");

    // The writer picks it up within its idle poll; anvil mines at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let view = loop {
        let (_, body) = http(server.address, "GET", &format!("/v1/attestations/{wallet}"), "");
        let view: serde_json::Value = serde_json::from_str(&body).unwrap();
        if view["status"] == "active" || std::time::Instant::now() > deadline {
            break view;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(view["status"], "active", "{view}");
    assert!(view["tx_hash"].as_str().is_some_and(|h| h.len() == 66), "{view}");
    assert!(view["block_number"].as_u64().is_some_and(|b| b > 0), "{view}");

    let (_, metrics) = http(server.address, "GET", "/metrics", "");
    assert!(metrics.contains("honnin_chain_items_total"), "writer metrics are served");
    let logs = stop(server);
    assert!(!logs.iter().any(|l| l.contains(&attester_key[2..])), "the attester key was logged");
}
