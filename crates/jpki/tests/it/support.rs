//! Shared fixtures.

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicUsize, Ordering},
};

use honnin_jpki::{
    Policy, Refusal, VerifiedCard, Verifier,
    test_utils::{CardSpec, SimCard, SimRoot},
};
use time::OffsetDateTime;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// Key pool slots, so tests that need different keys get them.
pub(crate) const ROOT_SLOT: usize = 0;
pub(crate) const CARD_SLOT: usize = 1;
pub(crate) const OTHER_ROOT_SLOT: usize = 2;
pub(crate) const RESPONDER_SLOT: usize = 3;
pub(crate) const STRANGER_SLOT: usize = 4;

pub(crate) const MESSAGE: &[u8] =
    b"honnin.example wants you to prove you hold your card.\nNonce: 9f1c\n";

/// The shared simulated root (slot 0).
pub(crate) fn root() -> &'static SimRoot {
    static ROOT: OnceLock<SimRoot> = OnceLock::new();
    ROOT.get_or_init(|| SimRoot::new(ROOT_SLOT))
}

pub(crate) fn verifier(root: &SimRoot) -> Verifier {
    Verifier::new(root.anchors(), Policy::default())
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Issues a card from the shared root per `spec`.
pub(crate) fn card(spec: CardSpec) -> SimCard {
    root().issue(&spec)
}

/// Verifies `card`'s signature over [`MESSAGE`] now, with the shared root.
pub(crate) fn verify(card: &SimCard, signature: &[u8]) -> Result<VerifiedCard, Refusal> {
    verifier(root()).verify_card(card.der(), MESSAGE, signature, now())
}

#[track_caller]
pub(crate) fn assert_refused<T: std::fmt::Debug>(result: Result<T, Refusal>, code: &str) {
    match result {
        Ok(v) => panic!("expected refusal {code}, got acceptance: {v:?}"),
        Err(refusal) => assert_eq!(refusal.code(), code, "refusal was: {refusal}"),
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 (port 0): reads one request per connection and answers
/// 200 with what `respond` makes of the request head and body. Stops when dropped.
pub(crate) struct HttpServer {
    pub(crate) url: String,
    pub(crate) requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) async fn http_server(
    respond: impl Fn(&str, &[u8]) -> Vec<u8> + Send + Sync + 'static,
) -> HttpServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let respond = Arc::new(respond);
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let respond = respond.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, content_length) = loop {
                    let n = stream.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "client closed before the request was complete");
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + content_length {
                    let n = stream.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                let body = respond(&head, &buf[head_end..head_end + content_length]);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await.unwrap();
                stream.write_all(&body).await.unwrap();
                stream.shutdown().await.ok();
            });
        }
    });
    HttpServer { url, requests, task }
}

/// An OCSP responder: checks the request is an OCSP POST, answers with `respond(body)`.
pub(crate) async fn ocsp_responder(
    respond: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static,
) -> HttpServer {
    http_server(move |head, body| {
        assert!(head.starts_with("post "), "{head}");
        assert!(head.contains("content-type: application/ocsp-request"), "{head}");
        respond(body)
    })
    .await
}
