//! `logdesk-api serve` with hostile clients: a client that sends half its headers and stalls is
//! cut off by the header-read timeout, and past the connection limit no more connections are
//! served until one ends. Every wait is bounded (a stuck server fails the test, never hangs it).

use std::sync::Arc;
use std::time::Duration;

use logdesk_api::serve::{ServeLimits, serve};
use logdesk_api::source::MemorySource;
use logdesk_api::{AppState, Config, router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest any step may take before the test fails.
const BOUND: Duration = Duration::from_secs(20);

const HEALTH: &[u8] = b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

async fn start(limits: ServeLimits) -> std::net::SocketAddr {
    let config = Config::from_lookup(|_| None).unwrap();
    let app = router(AppState::new(config, Arc::new(MemorySource::new(10))));
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, app, limits));
    addr
}

/// Sends a whole request and reads the answer to the end (the server closes the connection).
async fn health(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(HEALTH).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads until the server closes the connection: `true` when it did (end of stream or reset).
async fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return true,
            Ok(_) => {}
        }
    }
}

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_is_cut_off() {
    let addr = start(ServeLimits {
        header_read_timeout: Duration::from_millis(300),
        max_connections: 4,
    })
    .await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /v1/health HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();
    let cut = tokio::time::timeout(BOUND, closed_by_server(&mut slow)).await;
    assert_eq!(cut, Ok(true), "the stalled connection stays open");
    // A client that sends nothing at all is cut off too.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let cut = tokio::time::timeout(BOUND, closed_by_server(&mut silent)).await;
    assert_eq!(cut, Ok(true));
    // Others are served as usual.
    let answer = tokio::time::timeout(BOUND, health(addr)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn past_the_connection_limit_nothing_more_is_served_until_one_ends() {
    let addr = start(ServeLimits {
        header_read_timeout: Duration::from_secs(60),
        max_connections: 2,
    })
    .await;
    let held: Vec<TcpStream> = vec![
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    ];
    // Both slots are held by silent clients: a third request is not answered...
    let third = tokio::spawn(health(addr));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!third.is_finished(), "answered past the connection limit");
    // ...until one of them goes away.
    drop(held);
    let answer = tokio::time::timeout(BOUND, third).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
