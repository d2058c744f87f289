//! A local Lambda Runtime API: what Lambda's service side is to a function's `bootstrap`, so
//! the deployed binaries can run here as Lambda runs them. The bootstrap is started with
//! `AWS_LAMBDA_RUNTIME_API` pointing here; it asks for the next invocation
//! (`GET /2018-06-01/runtime/invocation/next`, held until [`RuntimeApi::invoke`] queues one)
//! and posts its answer (`…/{id}/response`, buffered or streamed with chunked encoding) or its
//! error (`…/{id}/error`, `…/init/error`). Standard library only, one thread per connection.
//!
//! It records when the first `next` request arrived: the function's init time
//! ([`RuntimeApi::first_poll`]), which the cold-start benchmark reports.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What a function answered to one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `POST …/response`: the body (for a streamed answer, the prelude, eight NUL bytes and
    /// the body, as sent) and whether it was streamed.
    Response {
        /// The bytes posted.
        body: Vec<u8>,
        /// Sent with `Lambda-Runtime-Function-Response-Mode: streaming`.
        streamed: bool,
    },
    /// `POST …/error`: the error document.
    Error(String),
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, String)>,
    answers: HashMap<String, Answer>,
    init_error: Option<String>,
    first_poll: Option<Instant>,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// The Runtime API on 127.0.0.1 (a free port). It runs until the process ends.
pub struct RuntimeApi {
    shared: Shared,
    addr: String,
}

impl RuntimeApi {
    /// Starts serving.
    pub fn start() -> io::Result<RuntimeApi> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?.to_string();
        let shared: Shared = Arc::default();
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &s);
                });
            }
        });
        Ok(RuntimeApi { shared, addr })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:PORT`).
    pub fn address(&self) -> &str {
        &self.addr
    }

    /// Queues an invocation of `event` (JSON) under request id `id`.
    pub fn invoke(&self, id: &str, event: &str) {
        let (m, cv) = &*self.shared;
        lock(m).queue.push_back((id.to_owned(), event.to_owned()));
        cv.notify_all();
    }

    /// Waits up to `timeout` for the answer to invocation `id`.
    pub fn answer(&self, id: &str, timeout: Duration) -> Option<Answer> {
        self.wait(timeout, |s| s.answers.get(id).cloned())
    }

    /// Waits up to `timeout` for the function's first `next` request: when it came.
    pub fn first_poll(&self, timeout: Duration) -> Option<Instant> {
        self.wait(timeout, |s| s.first_poll)
    }

    /// The init error the function reported, if any.
    pub fn init_error(&self) -> Option<String> {
        lock(&self.shared.0).init_error.clone()
    }

    fn wait<T>(&self, timeout: Duration, mut get: impl FnMut(&State) -> Option<T>) -> Option<T> {
        let (m, cv) = &*self.shared;
        let end = Instant::now() + timeout;
        let mut state = lock(m);
        loop {
            if let Some(v) = get(&state) {
                return Some(v);
            }
            let left = end.checked_duration_since(Instant::now())?;
            state = cv
                .wait_timeout(state, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One request: method, path, headers (lower-case names), body.
struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    while let Some(req) = read_request(&mut input)? {
        let (status, body, id) = handle(&req, shared);
        let mut head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        );
        if let Some(id) = id {
            head.push_str(&format!(
                "lambda-runtime-aws-request-id: {id}\r\n\
                 lambda-runtime-deadline-ms: {}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:logdesk\r\n\
                 lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n",
                deadline_ms()
            ));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        out.write_all(body.as_bytes())?;
        out.flush()?;
    }
    Ok(())
}

fn deadline_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 900_000)
        .unwrap_or(0)
}

/// The status, body and (for `next`) the request id of the answer to `req`.
fn handle(req: &Request, shared: &Shared) -> (&'static str, String, Option<String>) {
    let (m, cv) = &**shared;
    let path = req.path.strip_prefix("/2018-06-01/runtime/").unwrap_or("");
    match (req.method.as_str(), path) {
        ("GET", "invocation/next") => {
            let mut state = lock(m);
            state.first_poll.get_or_insert_with(Instant::now);
            cv.notify_all();
            loop {
                if let Some((id, event)) = state.queue.pop_front() {
                    return ("200 OK", event, Some(id));
                }
                state = cv.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        }
        ("POST", "init/error") => {
            lock(m).init_error = Some(String::from_utf8_lossy(&req.body).into_owned());
            cv.notify_all();
            ("202 Accepted", "{}".to_owned(), None)
        }
        ("POST", p) if p.starts_with("invocation/") => {
            let rest = &p["invocation/".len()..];
            let answer = match rest.rsplit_once('/') {
                Some((id, "response")) => Some((
                    id,
                    Answer::Response {
                        body: req.body.clone(),
                        streamed: req
                            .headers
                            .get("lambda-runtime-function-response-mode")
                            .is_some_and(|v| v == "streaming"),
                    },
                )),
                Some((id, "error")) => Some((
                    id,
                    Answer::Error(String::from_utf8_lossy(&req.body).into_owned()),
                )),
                _ => None,
            };
            match answer {
                Some((id, a)) => {
                    lock(m).answers.insert(id.to_owned(), a);
                    cv.notify_all();
                    ("202 Accepted", "{}".to_owned(), None)
                }
                None => ("404 Not Found", "{}".to_owned(), None),
            }
        }
        _ => ("404 Not Found", "{}".to_owned(), None),
    }
}

/// Reads one request (`None` at the end of the connection); bodies by `content-length` or
/// chunked.
fn read_request(input: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = HashMap::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        read_chunked(input)?
    } else {
        let n: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; n];
        input.read_exact(&mut body)?;
        body
    };
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
    }))
}

fn read_chunked(input: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        input.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        if size == 0 {
            // Trailers (an error of a streamed answer) up to the blank line.
            loop {
                line.clear();
                if input.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        input.read_exact(&mut body[start..])?;
        line.clear();
        input.read_line(&mut line)?;
    }
}
