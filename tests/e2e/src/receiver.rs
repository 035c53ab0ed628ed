//! A dApp's webhook endpoint: a real HTTP server on 127.0.0.1 (a free port, or one given)
//! that records every request it gets (headers and body) and answers as told: a status, or
//! nothing at all (the request hangs until the client gives up or goes away).

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context as _, Result, bail};
use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// With this status.
    Status(u16),
    /// Never: the request is recorded and left hanging.
    Hang,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its headers (names lowercase).
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: Vec<u8>,
}

impl Received {
    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
struct Shared {
    answer: Mutex<Answer>,
    received: Mutex<Vec<Received>>,
    count: watch::Sender<usize>,
}

/// A running receiver (stopped on drop).
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let received = Received {
        headers: headers
            .iter()
            .map(|(n, v)| {
                (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())
            })
            .collect(),
        body: body.to_vec(),
    };
    let n = {
        let mut all = shared.received.lock().expect("receiver lock");
        all.push(received);
        all.len()
    };
    shared.count.send_replace(n);
    let answer = *shared.answer.lock().expect("receiver lock");
    match answer {
        Answer::Status(status) => StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        Answer::Hang => std::future::pending().await,
    }
}

impl Receiver {
    /// Starts a receiver on a free port of 127.0.0.1.
    pub async fn start(answer: Answer) -> Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), answer).await
    }

    /// Starts a receiver on `addr` (a port a stopped receiver used: the endpoint is back up).
    pub async fn start_on(addr: SocketAddr, answer: Answer) -> Result<Self> {
        let listener = TcpListener::bind(addr).await.context("bind the receiver")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            answer: Mutex::new(answer),
            received: Mutex::new(Vec::new()),
            count: watch::channel(0).0,
        });
        let app = Router::new().route("/hooks", post(receive)).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// A free port of 127.0.0.1 with nothing listening on it (yet).
    pub async fn unused_addr() -> Result<SocketAddr> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        Ok(listener.local_addr()?)
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL (`http://127.0.0.1:PORT/hooks`).
    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.addr)
    }

    /// Changes how it answers from now on.
    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().expect("receiver lock") = answer;
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("receiver lock").clone()
    }

    /// Waits until at least `n` requests arrived, at most `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Result<Vec<Received>> {
        let mut count = self.shared.count.subscribe();
        match tokio::time::timeout(timeout, count.wait_for(|c| *c >= n)).await {
            Ok(Ok(_)) => Ok(self.received()),
            _ => bail!("the receiver got {} of {n} requests in {timeout:?}", self.received().len()),
        }
    }

    /// Stops listening (connections in progress are dropped).
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
