//! The local front door, `logdesk-api serve`: the router over HTTP/1.1 on a TCP listener, safe
//! to leave running. `axum::serve` sets no header-read timeout and takes every connection, so
//! slow clients could hold connections for minutes and any number of them at once; here
//!
//! - a request's headers must arrive within [`ServeLimits::header_read_timeout`] (also the
//!   longest an idle keep-alive connection waits for its next request), else the connection
//!   is closed;
//! - at most [`ServeLimits::max_connections`] connections are served at once: past it the
//!   listener stops accepting (new connections wait in the kernel's backlog) until one ends.
//!
//! The command binds 127.0.0.1 unless told otherwise: the API has no auth by default.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// What one server allows its clients.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Longest time to receive a request's headers (and to wait on an idle connection).
    pub header_read_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 64,
        }
    }
}

/// Serves `app` on `listener` within `limits` until the listener fails.
pub async fn serve(listener: TcpListener, app: Router, limits: ServeLimits) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        // Taken before accepting: at the limit, connections wait in the backlog.
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return Ok(());
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) if transient(&e) => {
                // Out of file descriptors or a connection reset before accept: go on.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(permit);
        });
    }
}

/// Accept errors that concern one connection or a passing shortage, not the listener.
fn transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || e.raw_os_error().is_some_and(|c| c == 23 || c == 24) // ENFILE, EMFILE
}
