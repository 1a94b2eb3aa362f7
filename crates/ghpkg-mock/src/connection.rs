//! The emulator's TCP connections: at most `max_connections` served at once, each closed after
//! `idle_timeout` without activity (as GitHub closes idle keep-alive connections), and each one a
//! handler can cut — before the answer (the `drop` and `lost` faults) or partway through it
//! (`truncate` of an answer without a body).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// A TCP listener that serves at most `max_connections` connections at once, and whose
/// connections close when idle and can be cut from inside a handler.
pub(crate) struct AbortableListener {
    listener: TcpListener,
    slots: Arc<Semaphore>,
    open: OpenConnections,
    idle_timeout: Duration,
}

impl AbortableListener {
    /// Serves at most `max_connections` at once; accepting waits while none is free (further
    /// clients wait in the kernel's backlog). `open` counts the connections being served.
    pub fn new(
        listener: TcpListener,
        max_connections: usize,
        open: OpenConnections,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            listener,
            slots: Arc::new(Semaphore::new(max_connections)),
            open,
            idle_timeout,
        }
    }
}

/// How many connections are being served; shared by the listener and whoever reports it.
#[derive(Clone, Debug, Default)]
pub(crate) struct OpenConnections(Arc<AtomicUsize>);

impl OpenConnections {
    /// The number now.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// One connection's claim on the limit: its semaphore permit and its place in the count, both
/// given back when the stream is dropped.
struct ConnectionSlot {
    _permit: OwnedSemaphorePermit,
    open: OpenConnections,
}

impl ConnectionSlot {
    fn new(permit: OwnedSemaphorePermit, open: &OpenConnections) -> Self {
        open.0.fetch_add(1, Ordering::SeqCst);
        Self {
            _permit: permit,
            open: open.clone(),
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.open.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Listener for AbortableListener {
    type Io = AbortableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The semaphore is never closed, so acquiring only ever waits.
        let Ok(permit) = Arc::clone(&self.slots).acquire_owned().await else {
            return std::future::pending().await;
        };
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let slot = ConnectionSlot::new(permit, &self.open);
                    return (AbortableStream::new(stream, slot, self.idle_timeout), peer);
                }
                // Out of file descriptors and the like: wait instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// What a connection and the handlers running on it share.
#[derive(Debug)]
struct ConnectionState {
    /// Set: every read and write fails, which makes hyper close the connection.
    aborted: AtomicBool,
    /// Bytes that may still be written; `usize::MAX` is no limit.
    write_budget: AtomicUsize,
    /// Requests whose handler is running: the connection is not idle while there are any.
    requests_in_flight: AtomicUsize,
}

/// A TCP stream that holds a connection slot, times out when idle, and fails every read and
/// write once aborted or past its write budget.
pub(crate) struct AbortableStream {
    inner: TcpStream,
    state: Arc<ConnectionState>,
    idle: IdleTimer,
    /// Frees the connection's slot when hyper drops the stream.
    _slot: ConnectionSlot,
}

impl AbortableStream {
    fn new(inner: TcpStream, slot: ConnectionSlot, idle_timeout: Duration) -> Self {
        Self {
            inner,
            state: Arc::new(ConnectionState {
                aborted: AtomicBool::new(false),
                write_budget: AtomicUsize::new(usize::MAX),
                requests_in_flight: AtomicUsize::new(0),
            }),
            idle: IdleTimer::new(idle_timeout),
            _slot: slot,
        }
    }

    fn check_aborted(&self) -> io::Result<()> {
        if self.state.aborted.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection dropped by fault injection",
            ))
        } else {
            Ok(())
        }
    }

    /// Turns a pending read or write into a time-out error once the connection has been idle
    /// too long.
    fn pending_or_idle<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let busy = self.state.requests_in_flight.load(Ordering::SeqCst) > 0;
        if self.idle.expired(cx, busy) {
            Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "idle connection closed",
            )))
        } else {
            Poll::Pending
        }
    }
}

impl AsyncRead for AbortableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check_aborted()?;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.idle.touch();
                Poll::Ready(result)
            }
            Poll::Pending => this.pending_or_idle(cx),
        }
    }
}

impl AsyncWrite for AbortableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check_aborted()?;
        let budget = this.state.write_budget.load(Ordering::SeqCst);
        if budget == 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "answer cut short by fault injection",
            )));
        }
        let allowed = &buf[..buf.len().min(budget)];
        match Pin::new(&mut this.inner).poll_write(cx, allowed) {
            Poll::Ready(Ok(written)) => {
                if budget != usize::MAX {
                    this.state.write_budget.fetch_sub(written, Ordering::SeqCst);
                }
                this.idle.touch();
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => this.pending_or_idle(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.state.write_budget.load(Ordering::SeqCst) != usize::MAX {
            // A limited budget is counted one buffer at a time.
            let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
            return Pin::new(this).poll_write(cx, first);
        }
        this.check_aborted()?;
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => {
                this.idle.touch();
                Poll::Ready(result)
            }
            Poll::Pending => this.pending_or_idle(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check_aborted()?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Measures a connection's idleness: activity only records the time; the timer is re-armed when
/// it fires early.
struct IdleTimer {
    timeout: Duration,
    last_activity: Instant,
    sleep: Pin<Box<Sleep>>,
}

impl IdleTimer {
    fn new(timeout: Duration) -> Self {
        let now = Instant::now();
        Self {
            timeout,
            last_activity: now,
            sleep: Box::pin(tokio::time::sleep_until(deadline(now, timeout))),
        }
    }

    /// Records a read or write.
    fn touch(&mut self) {
        self.last_activity = Instant::now();
    }

    /// Whether `timeout` has passed since the last activity, registering `cx` to be woken when
    /// it will have. A `busy` connection (a handler is running) counts as active.
    fn expired(&mut self, cx: &mut Context<'_>, busy: bool) -> bool {
        loop {
            if self.sleep.as_mut().poll(cx).is_pending() {
                return false;
            }
            let now = Instant::now();
            if busy {
                self.last_activity = now;
            }
            let due = deadline(self.last_activity, self.timeout);
            if due <= now {
                return true;
            }
            self.sleep.as_mut().reset(due);
        }
    }
}

/// `from + timeout`, or a date decades away when that overflows (`Duration::MAX`).
fn deadline(from: Instant, timeout: Duration) -> Instant {
    from.checked_add(timeout)
        .unwrap_or_else(|| from + Duration::from_secs(30 * 365 * 24 * 3600))
}

/// What a handler knows about its connection: the peer, and the switches that cut it.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionHandle {
    pub peer: SocketAddr,
    state: Arc<ConnectionState>,
}

impl ConnectionHandle {
    /// Makes the connection fail before the answer is written: the client sees it closed.
    pub fn abort(&self) {
        self.state.aborted.store(true, Ordering::SeqCst);
    }

    /// Lets only the next `bytes` bytes of the answer out, then breaks the connection.
    pub fn cut_after(&self, bytes: usize) {
        self.state.write_budget.store(bytes, Ordering::SeqCst);
    }

    /// Marks a request in progress until the guard is dropped, so that a slow handler does not
    /// make its connection look idle.
    pub fn begin_request(&self) -> RequestInFlight {
        self.state.requests_in_flight.fetch_add(1, Ordering::SeqCst);
        RequestInFlight(Arc::clone(&self.state))
    }
}

/// A request being handled on a connection; see [`ConnectionHandle::begin_request`].
pub(crate) struct RequestInFlight(Arc<ConnectionState>);

impl Drop for RequestInFlight {
    fn drop(&mut self) {
        self.0.requests_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Connected<IncomingStream<'_, AbortableListener>> for ConnectionHandle {
    fn connect_info(stream: IncomingStream<'_, AbortableListener>) -> Self {
        Self {
            peer: *stream.remote_addr(),
            state: Arc::clone(&stream.io().state),
        }
    }
}
