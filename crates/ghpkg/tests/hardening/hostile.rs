//! A scripted HTTP/1.1 server on loopback that answers whatever a test tells it to: hostile
//! `Link` headers, absurd `Retry-After`s, HTML error pages, redirects, bodies cut short.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The server's own base URL (`http://127.0.0.1:PORT`), for absolute links.
    pub base: String,
}

impl Seen {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// What to answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// Headers besides `content-length` and `connection`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Send only this many bytes of the body (the `Content-Length` promises all), then close.
    pub cut_after: Option<usize>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            cut_after: None,
        }
    }

    /// An answer of `content_type`.
    pub fn text(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
            cut_after: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Cuts the body after `bytes`.
    pub fn cut_after(mut self, bytes: usize) -> Self {
        self.cut_after = Some(bytes);
        self
    }
}

type Script = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

/// The server. Stops when dropped.
pub struct Hostile {
    addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Hostile {
    /// Answers request number `n` (from 0) with `script(request, n)`.
    pub async fn start(script: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (log, script) = (log.clone(), script.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, addr, &log, &*script).await;
                });
            }
        });
        Self { addr, seen, task }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    addr: std::net::SocketAddr,
    log: &Mutex<Vec<Seen>>,
    script: &Script,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut chunk).await?;
        if read == 0 || buffer.len() > 64 * 1024 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let text = String::from_utf8_lossy(&buffer).into_owned();
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line.next().unwrap_or_default().to_string();
    let headers = lines
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect();
    let request = Seen {
        method,
        target,
        headers,
        base: format!("http://{addr}"),
    };
    let index = {
        let mut log = log.lock().unwrap();
        log.push(request.clone());
        log.len() - 1
    };
    let reply = script(&request, index);
    let mut head = format!(
        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    let body = match reply.cut_after {
        Some(cut) => &reply.body[..cut.min(reply.body.len())],
        None => &reply.body[..],
    };
    stream.write_all(body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

/// A GitHub-shaped package version with id `id`.
pub fn version_json(id: u64) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "name": format!("sha256:{id:064x}"),
        "url": format!("https://api.github.com/orgs/acme/packages/container/app/versions/{id}"),
        "package_html_url": "https://github.com/orgs/acme/packages/container/package/app",
        "created_at": "2024-01-02T03:04:05Z",
        "updated_at": "2024-01-02T03:04:05Z",
        "metadata": {"package_type": "container", "container": {"tags": []}},
    })
}

/// A GitHub-shaped container package `acme/app` with `versions` versions.
pub fn package_json(versions: u64) -> String {
    serde_json::json!({
        "id": 1,
        "name": "app",
        "package_type": "container",
        "visibility": "private",
        "url": "https://api.github.com/orgs/acme/packages/container/app",
        "html_url": "https://github.com/orgs/acme/packages/container/package/app",
        "version_count": versions,
        "created_at": "2024-01-02T03:04:05Z",
        "updated_at": "2024-01-02T03:04:05Z",
    })
    .to_string()
}

/// A page of `count` versions starting at id `first`.
pub fn versions_page(first: u64, count: u64) -> String {
    let versions: Vec<_> = (first..first + count).map(version_json).collect();
    serde_json::Value::Array(versions).to_string()
}
