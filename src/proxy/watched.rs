//! `Watched`: a client stream that remembers whether the client has sent bytes since gomitm
//! last wrote to it. When the header read timeout closes a connection, that tells a client
//! that stalled halfway through a request head (worth a flow) from an idle keep-alive
//! connection (normal). Bytes pass through untouched.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct Watched<IO> {
    inner: IO,
    unanswered: Arc<AtomicBool>,
}

impl<IO> Watched<IO> {
    /// The stream, and a flag that is true while the client's last bytes are unanswered.
    pub fn new(inner: IO) -> (Self, Arc<AtomicBool>) {
        let unanswered = Arc::new(AtomicBool::new(false));
        let watched = Watched {
            inner,
            unanswered: unanswered.clone(),
        };
        (watched, unanswered)
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.unanswered.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.unanswered.store(false, Ordering::Relaxed);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.unanswered.store(false, Ordering::Relaxed);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_set_the_flag_and_writes_clear_it() {
        let (client, server) = tokio::io::duplex(64);
        let (mut watched, unanswered) = Watched::new(server);
        let mut client = client;
        assert!(!unanswered.load(Ordering::Relaxed));
        client.write_all(b"GET / HT").await.unwrap();
        let mut buf = [0u8; 16];
        let n = watched.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"GET / HT");
        assert!(unanswered.load(Ordering::Relaxed));
        watched.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        assert!(!unanswered.load(Ordering::Relaxed));
        drop(client);
        assert_eq!(watched.read(&mut buf).await.unwrap(), 0);
        assert!(!unanswered.load(Ordering::Relaxed), "EOF is not a byte");
    }
}
