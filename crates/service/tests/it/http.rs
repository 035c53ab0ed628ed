//! The HTTP server's connection hygiene (issue 10 item 4) on real sockets against the whole
//! service: header-read and keep-alive timeouts, the connection cap, `Connection: close`.

use std::time::{Duration, Instant};

use honnin_service::HttpConfig;
use tokio::io::AsyncWriteExt as _;

use crate::support::{closed_within, connect, exchange, get, launch};

/// Slack for a loaded machine: a close is expected no earlier than the timeout (less timer
/// granularity) and no later than this after it.
const SLACK: Duration = Duration::from_secs(5);

/// Slowloris: half-sent headers are closed within the header-read timeout, on a new connection
/// and on a kept-alive one, while `/health` keeps answering on others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_are_closed_within_the_header_read_timeout_while_health_answers() {
    let timeout = Duration::from_secs(1);
    let running = launch(HttpConfig {
        header_read_timeout: timeout,
        keep_alive_timeout: Duration::from_secs(60),
        ..HttpConfig::default()
    })
    .await;

    // A new connection that never finishes its headers.
    let mut slow = connect(&running).await;
    let started = Instant::now();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: honnin.test\r\nX-Slow: ").await.unwrap();
    // A kept-alive connection whose second request stops half-way.
    let mut kept = connect(&running).await;
    let (head, _) = exchange(&mut kept, &get("/health")).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let kept_started = Instant::now();
    kept.write_all(b"GET /health HTTP/1.1\r\nHo").await.unwrap();

    // Meanwhile /health answers on fresh connections.
    for _ in 0..3 {
        let mut other = connect(&running).await;
        let (head, body) = exchange(&mut other, &get("/health")).await;
        assert!(head.starts_with("http/1.1 200"), "{head} {body}");
    }

    assert!(closed_within(&mut slow, timeout + SLACK).await, "the slow client was not closed");
    let elapsed = started.elapsed();
    assert!(elapsed >= timeout - Duration::from_millis(50), "closed too early: {elapsed:?}");
    assert!(closed_within(&mut kept, timeout + SLACK).await, "the kept-alive slow request stayed");
    let elapsed = kept_started.elapsed();
    assert!(elapsed >= timeout - Duration::from_millis(50), "closed too early: {elapsed:?}");

    // And still: the server answers.
    let mut after = connect(&running).await;
    assert!(exchange(&mut after, &get("/health")).await.0.starts_with("http/1.1 200"));
    running.service.stop().await.unwrap();
}

/// A kept-alive connection idle between requests is closed after the keep-alive timeout, not
/// the (longer) header-read timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let keep_alive = Duration::from_secs(1);
    let running = launch(HttpConfig {
        header_read_timeout: Duration::from_secs(60),
        keep_alive_timeout: keep_alive,
        ..HttpConfig::default()
    })
    .await;
    let mut stream = connect(&running).await;
    let (head, _) = exchange(&mut stream, &get("/health")).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("connection: keep-alive") || !head.contains("connection:"), "{head}");
    let idle = Instant::now();
    assert!(closed_within(&mut stream, keep_alive + SLACK).await, "the idle connection stayed");
    assert!(idle.elapsed() >= keep_alive - Duration::from_millis(50), "{:?}", idle.elapsed());
    running.service.stop().await.unwrap();
}

/// At the connection cap a new connection is not served until one of the open ones closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_a_new_connection_waits_until_one_closes() {
    let running = launch(HttpConfig { max_connections: 2, ..HttpConfig::default() }).await;
    // Two connections, each served once and kept alive: the cap is reached.
    let mut first = connect(&running).await;
    let mut second = connect(&running).await;
    for stream in [&mut first, &mut second] {
        assert!(exchange(stream, &get("/health")).await.0.starts_with("http/1.1 200"));
    }
    let mut third = connect(&running).await;
    third.write_all(get("/health").as_bytes()).await.unwrap();
    let waiting =
        tokio::time::timeout(Duration::from_millis(500), crate::support::read_response(&mut third))
            .await;
    assert!(waiting.is_err(), "the third connection was served past the cap");

    drop(first);
    let (head, body) =
        tokio::time::timeout(SLACK, crate::support::read_response(&mut third)).await.unwrap();
    assert!(head.starts_with("http/1.1 200"), "{head} {body}");
    // The second, still open, is served as before.
    assert!(exchange(&mut second, &get("/health")).await.0.starts_with("http/1.1 200"));
    running.service.stop().await.unwrap();
}

/// A request refused before its body was read gets `Connection: close` (the server cannot
/// reuse that connection) and the connection is then closed; a request whose body was read
/// keeps its connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_body_gets_connection_close() {
    let running = launch(HttpConfig::default()).await;
    let body = r#"{"wallet":"0x0000000000000000000000000000000000000001"}"#;
    let post = |content_type: &str| {
        format!(
            "POST /v1/challenges HTTP/1.1\r\nHost: honnin.test\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let mut stream = connect(&running).await;
    let (head, _) = exchange(&mut stream, &post("application/json")).await;
    assert!(head.starts_with("http/1.1 201"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    // The same connection again: refused for its content type, its body never read.
    let (head, _) = exchange(&mut stream, &post("text/plain")).await;
    assert!(head.starts_with("http/1.1 415"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert!(closed_within(&mut stream, SLACK).await, "the server kept the connection");
    running.service.stop().await.unwrap();
}

/// Once shutdown begins, an idle kept-alive connection is closed and the service stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_closes_idle_connections() {
    let running = launch(HttpConfig::default()).await;
    let mut stream = connect(&running).await;
    assert!(exchange(&mut stream, &get("/health")).await.0.starts_with("http/1.1 200"));
    let started = Instant::now();
    tokio::time::timeout(SLACK, running.service.stop()).await.unwrap().unwrap();
    assert!(closed_within(&mut stream, SLACK).await);
    assert!(started.elapsed() < SLACK, "stop waited {:?}", started.elapsed());
}

/// A handler that panics gets a 500 problem (no detail of the panic) with `Connection: close`
/// instead of a dropped connection, and the server goes on answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    use axum::routing::get;
    use tokio::io::AsyncReadExt as _;

    async fn boom() -> &'static str {
        panic!("planted panic 4821")
    }
    let router =
        axum::Router::new().route("/boom", get(boom)).route("/fine", get(|| async { "fine" }));
    let listener = honnin_service::http::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let server = honnin_service::http::spawn(listener, router, HttpConfig::default()).unwrap();
    let addr = server.local_addr();
    let ask = |path: &'static str| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: honnin.test\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        // The server closes after the answer (panic) or the test reads until the body is in.
        let read = tokio::time::timeout(Duration::from_secs(10), async {
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                answer.extend_from_slice(&buf[..n]);
                if answer.ends_with(b"fine") {
                    break;
                }
            }
        })
        .await;
        (String::from_utf8_lossy(&answer).to_ascii_lowercase(), read.is_ok())
    };
    let (answer, closed) = ask("/boom").await;
    assert!(closed, "the connection was left open after the panic: {answer}");
    assert!(answer.starts_with("http/1.1 500"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(answer.contains("content-type: application/problem+json"), "{answer}");
    assert!(answer.contains("\"code\":\"internal\""), "{answer}");
    assert!(!answer.contains("planted") && !answer.contains("4821"), "the panic is not sent");
    for _ in 0..2 {
        let (answer, _) = ask("/fine").await;
        assert!(answer.starts_with("http/1.1 200"), "{answer}");
    }
    server.stop().await.unwrap();
}
