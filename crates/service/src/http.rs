//! The HTTP server: an accept loop over hyper's HTTP/1.1 connections with what `axum::serve`
//! lacks.
//!
//! - **A cap on open connections** ([`HttpConfig::max_connections`]): at the cap the loop
//!   stops accepting; new connections wait in the kernel's listen backlog until one closes.
//! - **A header-read timeout** ([`HttpConfig::header_read_timeout`]): a connection whose first
//!   request's headers are not complete that long after it was accepted, or a kept-alive one
//!   whose next request's headers are not complete that long after the request's first byte,
//!   is closed (slowloris).
//! - **A keep-alive timeout** ([`HttpConfig::keep_alive_timeout`]): a kept-alive connection
//!   idle that long between two requests is closed.
//! - **`Connection: close` whenever the server will close**: on a response to a request whose
//!   body was not read to its end (hyper cannot reuse that connection), and on every response
//!   once shutdown began (hyper adds it when keep-alive is off).
//! - **Graceful shutdown**: stop accepting, close idle connections, let in-flight requests
//!   finish for [`HttpConfig::shutdown_timeout`], then drop what is left.
//!
//! Each request carries the peer address as axum's `ConnectInfo<SocketAddr>` (rate limits and
//! the audit log's client address read it).

use std::{
    convert::Infallible,
    future::Future,
    io,
    net::SocketAddr,
    panic::AssertUnwindSafe,
    pin::{Pin, pin},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, ready},
};

use axum::{
    Router,
    extract::ConnectInfo,
    http::{HeaderValue, Request, header::CONNECTION},
    response::IntoResponse as _,
};
use futures::FutureExt as _;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Notify, OwnedSemaphorePermit, Semaphore, watch},
    task::{JoinHandle, JoinSet},
    time::Instant,
};
use tower::ServiceExt as _;

use crate::{Error, Result, config::HttpConfig};

const TARGET: &str = "honnin::http";

/// Pause after a failed `accept` (out of file descriptors, say) before the next one.
const ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);

/// Binds `listen` (port 0: a free port).
pub async fn bind(listen: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(listen).await.map_err(|source| Error::Listen { address: listen, source })
}

/// A running server (from [`spawn`]).
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets in-flight requests finish (up to the shutdown timeout) and waits
    /// until every connection is closed.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.task.await.map_err(|_| Error::Panicked)
    }
}

/// Serves `router` on `listener` in a task until [`ServerHandle::stop`] (or the handle is
/// dropped).
pub fn spawn(listener: TcpListener, router: Router, config: HttpConfig) -> Result<ServerHandle> {
    let local_addr =
        listener.local_addr().map_err(|source| Error::Listen { address: config.listen, source })?;
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(serve(listener, router, config, async move {
        raised(&mut stopped).await;
    }));
    Ok(ServerHandle { local_addr, stop, task })
}

/// Serves `router` on `listener` until `shutdown` resolves, then shuts down gracefully (see
/// the [module docs](self)); returns when every connection is closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: HttpConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let (closing, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    // Warn once each time the cap is reached, not for every connection accepted at it.
    let mut at_cap = false;
    loop {
        while connections.try_join_next().is_some() {}
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                at_cap = false;
                permit
            }
            Err(_) => {
                if !at_cap {
                    tracing::warn!(
                        target: TARGET,
                        max_connections = config.max_connections,
                        "connection cap reached: new connections wait until one closes"
                    );
                }
                at_cap = true;
                tokio::select! {
                    () = &mut shutdown => break,
                    permit = permits.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                }
            }
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(target: TARGET, %error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        connections.spawn(connection(
            stream,
            peer,
            router.clone(),
            config,
            closing_rx.clone(),
            permit,
        ));
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(config.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            target: TARGET,
            connections = connections.len(),
            "shutdown timeout: dropping requests still in flight"
        );
        connections.shutdown().await;
    }
}

/// Serves one connection until it ends, times out or the server closes it.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    config: HttpConfig,
    mut closing: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked { inner: stream, activity: activity.clone() });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let busy = Busy::begin(activity.clone());
            let router = router.clone();
            async move {
                let (mut parts, body) = request.into_parts();
                parts.extensions.insert(ConnectInfo(peer));
                let read = Arc::new(AtomicBool::new(false));
                let body = ReadToEnd::new(body, read.clone());
                let request = Request::from_parts(parts, axum::body::Body::new(body));
                // A handler that panics answers 500 like any internal failure (the cause is
                // logged, never sent), and the connection is closed: its state is unknown.
                let answer = AssertUnwindSafe(router.oneshot(request)).catch_unwind().await;
                let mut response = match answer {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(_) => {
                        let mut response =
                            honnin_api::Error::internal("a request handler panicked")
                                .into_response();
                        let headers = response.headers_mut();
                        headers.insert(CONNECTION, HeaderValue::from_static("close"));
                        response
                    }
                };
                // hyper drops a connection whose request body was left unread: say so.
                if !read.load(Ordering::Acquire) {
                    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(response.map(|inner| BusyBody { inner, _busy: busy }))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The timeouts are this module's (hyper's header timer also runs while a connection idles).
    builder.keep_alive(true).header_read_timeout(None);
    let mut conn = pin!(builder.serve_connection(io, service));
    let mut shutting_down = false;
    loop {
        let deadline = activity.deadline(&config);
        tokio::select! {
            // The connection first: bytes that arrived are read before a deadline is judged.
            biased;
            result = conn.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(target: TARGET, %error, "connection ended with an error");
                }
                return;
            }
            () = activity.changed.notified() => {}
            () = raised(&mut closing), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
            () = until(deadline) => {
                if activity.deadline(&config).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!(target: TARGET, "closing a connection: header-read or keep-alive timeout");
                    return;
                }
            }
        }
    }
}

/// Resolves once `flag` says `true` or its sender is gone (holds no borrow across an await).
async fn raised(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|raised| *raised).await;
}

async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// What a connection is doing, for its timeouts.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request's headers.
    Waiting {
        /// Since the connection was accepted or its last response was sent.
        since: Instant,
        /// When the request's first byte arrived.
        first_byte: Option<Instant>,
        /// Whether no request was served on the connection yet.
        first_request: bool,
    },
    /// Serving `requests` (more than one when pipelined).
    Busy {
        /// Requests in flight.
        requests: usize,
        /// Whether bytes of a next request arrived meanwhile.
        read: bool,
    },
}

/// A connection's phase, shared by its I/O, its service and its watchdog.
#[derive(Debug)]
struct Activity {
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            phase: Mutex::new(Phase::Waiting {
                since: Instant::now(),
                first_byte: None,
                first_request: true,
            }),
            changed: Notify::new(),
        }
    }

    fn update(&self, change: impl FnOnce(&mut Phase)) {
        let mut phase = self.phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        change(&mut phase);
        drop(phase);
        self.changed.notify_one();
    }

    fn read(&self) {
        let mut phase = self.phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &mut *phase {
            Phase::Waiting { first_byte: first_byte @ None, .. } => {
                *first_byte = Some(Instant::now());
                drop(phase);
                self.changed.notify_one();
            }
            Phase::Waiting { first_byte: Some(_), .. } => {}
            Phase::Busy { read, .. } => *read = true,
        }
    }

    /// When the connection is to be closed unless something happens first.
    fn deadline(&self, config: &HttpConfig) -> Option<Instant> {
        let phase = *self.phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match phase {
            Phase::Waiting { since, first_request: true, .. } => {
                Some(since + config.header_read_timeout)
            }
            Phase::Waiting { first_byte: Some(first), first_request: false, .. } => {
                Some(first + config.header_read_timeout)
            }
            Phase::Waiting { since, first_byte: None, first_request: false } => {
                Some(since + config.keep_alive_timeout)
            }
            Phase::Busy { .. } => None,
        }
    }
}

/// A request in flight; dropped with its response body, after hyper sent it.
#[derive(Debug)]
struct Busy(Arc<Activity>);

impl Busy {
    fn begin(activity: Arc<Activity>) -> Self {
        activity.update(|phase| {
            *phase = match *phase {
                Phase::Waiting { .. } => Phase::Busy { requests: 1, read: false },
                Phase::Busy { requests, read } => Phase::Busy { requests: requests + 1, read },
            }
        });
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.update(|phase| {
            if let Phase::Busy { requests, read } = *phase {
                *phase = if requests > 1 {
                    Phase::Busy { requests: requests - 1, read }
                } else {
                    let now = Instant::now();
                    Phase::Waiting {
                        since: now,
                        first_byte: read.then_some(now),
                        first_request: false,
                    }
                };
            }
        });
    }
}

/// The socket, telling [`Activity`] when bytes arrive.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.activity.read();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request body that records whether it was read to its end.
struct ReadToEnd {
    inner: Incoming,
    read: Arc<AtomicBool>,
}

impl ReadToEnd {
    fn new(inner: Incoming, read: Arc<AtomicBool>) -> Self {
        if inner.is_end_stream() {
            read.store(true, Ordering::Release);
        }
        Self { inner, read }
    }
}

impl Body for ReadToEnd {
    type Data = <Incoming as Body>::Data;
    type Error = <Incoming as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if frame.is_none() || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its request [`Busy`] until hyper has sent and dropped it.
struct BusyBody {
    inner: axum::body::Body,
    _busy: Busy,
}

impl Body for BusyBody {
    type Data = <axum::body::Body as Body>::Data;
    type Error = <axum::body::Body as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
