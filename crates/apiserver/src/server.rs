//! The network edge: binds the listener, terminates TLS (rustls) or serves plain HTTP, and runs one
//! hyper connection per client (HTTP/1.1 or HTTP/2) over the axum router, with graceful shutdown:
//! on shutdown the listener closes, watch streams end (they observe the same cancellation token) and
//! in-flight requests finish. An HTTP/2 connection over TLS gathers the frames of its streams for
//! one scheduler turn and writes them together (`CoalescedWrites`: one event for 100 watches of
//! one connection is one TLS record and one `writev`, not 100).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Binds `addr`, with a clear error for a busy port.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, crate::StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| crate::StartError::Bind { addr, source })
}

/// Accepts connections until `shutdown` is cancelled, then waits (up to 10 s) for open connections.
pub async fn run(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: axum::Router,
    shutdown: CancellationToken,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let _ = tcp.set_nodelay(true);
        // The client's address for mounted routers (login rate limits per address).
        let svc = TowerToHyperService::new(tower::util::MapRequest::new(
            router.clone(),
            move |mut req: http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        ));
        let builder = builder.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            match acceptor {
                Some(acceptor) => {
                    let tls =
                        match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
                            .await
                        {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => return,
                        };
                    // HTTP/2 multiplexes many responses (watches) over one connection: batch
                    // their frames into one TLS write instead of one write per stream.
                    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                    let io = TokioIo::new(CoalescedWrites::new(tls, h2));
                    let conn = builder.serve_connection_with_upgrades(io, svc);
                    if let Err(e) = watcher.watch(conn.into_owned()).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                None => {
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tcp), svc);
                    if let Err(e) = watcher.watch(conn.into_owned()).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close within 10s of shutdown");
    }
}

/// An HTTP/2 connection's writes, gathered and sent one scheduler turn late, so that the frames of
/// many streams go out in one TLS record and one `writev`.
///
/// Why: over HTTP/2 each response (a watch) is produced by its own task. When an event reaches the
/// 100 watches of one connection, each watch's task queues its DATA frame and wakes the connection
/// task, which tokio runs next: without this, it encrypts and writes every frame on its own (100
/// TLS records and syscalls for one event, as many as over HTTP/1.1). Here writes are copied into
/// a buffer and a flush yields once (the task is woken at once and queued behind the tasks already
/// runnable) before it writes: meanwhile the other watches queue their frames, and the connection
/// writes them all together. The cost is one extra poll of the connection task per write.
///
/// It reports no vectored writes, so h2 copies frames below 1 KiB into its own 16 KiB buffer
/// instead of handing each one over (and flushing) separately.
///
/// Only for HTTP/2: an HTTP/1.1 connection carries one response at a time, there is nothing to wait
/// for; disabled, it passes everything through.
pub(crate) struct CoalescedWrites<IO> {
    io: IO,
    enabled: bool,
    /// Bytes written by the protocol and not yet handed to `io`; `sent` of them already were.
    out: Vec<u8>,
    sent: usize,
    /// The pending flush already yielded once (reset when it completes).
    held: bool,
}

/// Buffered bytes beyond which a write first hands them to the connection (h2 itself flushes
/// every 16 KiB).
const COALESCE_LIMIT: usize = 64 * 1024;

impl<IO: AsyncWrite + Unpin> CoalescedWrites<IO> {
    pub(crate) fn new(io: IO, enabled: bool) -> Self {
        CoalescedWrites {
            io,
            enabled,
            out: Vec::new(),
            sent: 0,
            held: false,
        }
    }

    /// Hands every buffered byte to `io`.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.out.len() {
            let n =
                std::task::ready!(Pin::new(&mut self.io).poll_write(cx, &self.out[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.out.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for CoalescedWrites<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for CoalescedWrites<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if !self.enabled {
            return Pin::new(&mut self.io).poll_write(cx, buf);
        }
        if self.out.len() >= COALESCE_LIMIT {
            std::task::ready!(self.poll_drain(cx))?;
        }
        self.out.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if !self.enabled {
            return Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        }
        let buf = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, buf)
    }

    fn is_write_vectored(&self) -> bool {
        !self.enabled && self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.out.is_empty() {
            if !self.held {
                self.held = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            std::task::ready!(self.poll_drain(cx))?;
        }
        std::task::ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        self.held = false;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn coalesced_writes_go_out_together_after_one_yield_in_order_and_complete() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut w = CoalescedWrites::new(a, true);
        assert!(
            !w.is_write_vectored(),
            "h2 must copy small frames into its buffer"
        );
        // Writes are only buffered: nothing reaches the peer before the flush.
        w.write_all(b"frame-1;").await.unwrap();
        w.write_all(b"frame-2;").await.unwrap();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut probe = [0u8; 1];
        let mut probe = ReadBuf::new(&mut probe);
        assert!(
            Pin::new(&mut b).poll_read(&mut cx, &mut probe).is_pending(),
            "nothing is written before a flush"
        );
        // The first poll of a flush yields (and wakes the task), the second writes.
        assert!(Pin::new(&mut w).poll_flush(&mut cx).is_pending());
        w.write_all(b"frame-3;").await.unwrap();
        assert!(Pin::new(&mut w).poll_flush(&mut cx).is_ready());
        let mut got = vec![0u8; 24];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"frame-1;frame-2;frame-3;");
        // More than the buffer limit in one go arrives whole.
        let big: Vec<u8> = (0..3 * COALESCE_LIMIT).map(|i| (i % 251) as u8).collect();
        let reader = tokio::spawn(async move {
            let mut got = vec![0u8; 3 * COALESCE_LIMIT];
            b.read_exact(&mut got).await.unwrap();
            got
        });
        for chunk in big.chunks(1000) {
            w.write_all(chunk).await.unwrap();
        }
        w.flush().await.unwrap();
        assert_eq!(reader.await.unwrap(), big);
    }

    #[tokio::test]
    async fn disabled_coalescing_writes_through_at_once() {
        let (a, mut b) = tokio::io::duplex(1 << 16);
        let mut w = CoalescedWrites::new(a, false);
        w.write_all(b"now").await.unwrap();
        let mut got = [0u8; 3];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"now");
    }
}
