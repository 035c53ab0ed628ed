//! A service on SQLite with a simulated root and its empty CRL; raw HTTP/1.1 on sockets.

use std::{sync::OnceLock, time::Duration};

use honnin_core::{Address, ChallengeSettings, Policy, ServiceDomain};
use honnin_jpki::test_utils::{CrlSpec, SimRoot};
use honnin_service::{
    AccessConfig, CardConfig, ChainConfig, DatabaseConfig, HttpConfig, JobsConfig,
    RevocationConfig, Service, ServiceConfig, WriterTuning,
};
use tempfile::TempDir;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

fn root() -> &'static SimRoot {
    static ROOT: OnceLock<SimRoot> = OnceLock::new();
    ROOT.get_or_init(|| SimRoot::new(0))
}

/// A launched service and the folder it keeps its files in.
pub(crate) struct Running {
    pub(crate) service: Service,
    _dir: TempDir,
}

/// Launches the whole service (SQLite, the simulated root's CRL, no chain) with `http`'s
/// connection settings on a free port.
pub(crate) async fn launch(http: HttpConfig) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let roots = dir.path().join("roots");
    std::fs::create_dir_all(&roots).unwrap();
    std::fs::write(roots.join("root.pem"), root().pem()).unwrap();
    let crl = dir.path().join("auth.crl");
    std::fs::write(&crl, root().crl(&CrlSpec::default())).unwrap();
    let config = ServiceConfig {
        dev: false,
        http: HttpConfig { listen: "127.0.0.1:0".parse().unwrap(), ..http },
        limits: honnin_api::Limits::default(),
        database: DatabaseConfig::new(format!(
            "sqlite://{}/db/honnin.db?mode=rwc",
            dir.path().display()
        )),
        card: CardConfig {
            trust_anchors: roots,
            revocation: RevocationConfig::Crl(vec![crl.display().to_string()]),
            revocation_cache: Duration::ZERO,
            revocation_allow_unknown: false,
            signing: None,
        },
        pepper: Some(honnin_core::Pepper::from_hex(&"ab".repeat(32)).unwrap()),
        policy: Policy::default(),
        challenges: ChallengeSettings::new(
            ServiceDomain::new("honnin.test").unwrap(),
            31337,
            Address::repeat_byte(0x42),
        ),
        chain: ChainConfig {
            chain_id: 31337,
            registry: Address::repeat_byte(0x42),
            rpc_url: None,
            attester_key: None,
            writer: WriterTuning::default(),
        },
        access: AccessConfig::default(),
        jobs: JobsConfig::default(),
        webhooks: honnin_service::WebhookConfig::default(),
        page: honnin_service::PageConfig::default(),
        scopes: Vec::new(),
    };
    Running { service: Service::launch(config).await.unwrap(), _dir: dir }
}

/// Connects to the service.
pub(crate) async fn connect(running: &Running) -> TcpStream {
    TcpStream::connect(running.service.local_addr()).await.unwrap()
}

/// A complete GET request (kept alive).
pub(crate) fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: honnin.test\r\n\r\n")
}

/// Reads one response: its head (status line and headers, lower-cased) and its body.
pub(crate) async fn read_response(stream: &mut TcpStream) -> (String, String) {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "the connection closed before a response: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .map_or(0, |n| n.trim().parse().unwrap());
    while bytes.len() < head_end + length {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the connection closed inside a body");
        bytes.extend_from_slice(&buf[..n]);
    }
    (head, String::from_utf8_lossy(&bytes[head_end..head_end + length]).into_owned())
}

/// Sends `request` and reads its response.
pub(crate) async fn exchange(stream: &mut TcpStream, request: &str) -> (String, String) {
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(stream).await
}

/// Waits (at most `limit`) until the server closes `stream`; true when it did.
pub(crate) async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, closed).await.is_ok()
}
