//! A stand-in for a Slack incoming webhook on 127.0.0.1: records every request body and
//! answers from a script (`200`, `429` with `Retry-After`, `500`, …), then with the last
//! answer forever. Minimal HTTP/1.1, enough for reqwest (keep-alive, Content-Length bodies).

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: &'static str,
}

impl Answer {
    pub fn ok() -> Answer {
        Answer {
            status: 200,
            retry_after: None,
            body: "ok",
        }
    }
    pub fn rate_limited(seconds: u64) -> Answer {
        Answer {
            status: 429,
            retry_after: Some(seconds),
            body: "rate_limited",
        }
    }
    pub fn server_error() -> Answer {
        Answer {
            status: 500,
            retry_after: None,
            body: "internal_error",
        }
    }
    pub fn bad_request() -> Answer {
        Answer {
            status: 400,
            retry_after: None,
            body: "invalid_blocks",
        }
    }
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub body: String,
    pub at: Instant,
}

pub struct SlackStub {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SlackStub {
    /// Starts the stub; `path` is the secret part of the webhook URL.
    pub async fn start(script: Vec<Answer>, path: &str) -> SlackStub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}{path}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new((script, 0usize)));
        let log = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = log.clone();
                let script = script.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut reader = BufReader::new(read);
                    loop {
                        let mut request_line = String::new();
                        if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
                        let mut length = 0usize;
                        loop {
                            let mut header = String::new();
                            if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let header = header.trim_end();
                            if header.is_empty() {
                                break;
                            }
                            if let Some((name, value)) = header.split_once(':')
                                && name.eq_ignore_ascii_case("content-length")
                            {
                                length = value.trim().parse().unwrap_or(0);
                            }
                        }
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        log.lock().unwrap().push(Received {
                            path,
                            body: String::from_utf8_lossy(&body).into_owned(),
                            at: Instant::now(),
                        });
                        let answer = {
                            let mut s = script.lock().unwrap();
                            let i = s.1.min(s.0.len().saturating_sub(1));
                            s.1 += 1;
                            s.0.get(i).cloned().unwrap_or_else(Answer::ok)
                        };
                        let retry = answer
                            .retry_after
                            .map(|s| format!("retry-after: {s}\r\n"))
                            .unwrap_or_default();
                        let response = format!(
                            "HTTP/1.1 {} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{retry}\r\n{}",
                            answer.status,
                            answer.body.len(),
                            answer.body
                        );
                        if write.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SlackStub { url, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.received()
            .iter()
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    }
}
