//! `ReadCounted`: a stream that counts the bytes read from it into a shared counter, so that
//! the count survives the stream (a tunnel or upgraded connection cut short by an error or by
//! gomitm stopping still records how far it got). Writes pass through untouched.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct ReadCounted<T> {
    io: T,
    read: Arc<AtomicU64>,
}

impl<T> ReadCounted<T> {
    pub fn new(io: T, read: Arc<AtomicU64>) -> ReadCounted<T> {
        ReadCounted { io, read }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ReadCounted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        if n > 0 {
            self.read.fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ReadCounted<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_are_counted_and_writes_are_not() {
        let (mut peer, ours) = tokio::io::duplex(64);
        let read = Arc::new(AtomicU64::new(0));
        let mut counted = ReadCounted::new(ours, read.clone());
        peer.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(counted.read(&mut buf).await.unwrap(), 5);
        counted.write_all(b"a longer answer").await.unwrap();
        assert_eq!(read.load(Ordering::Relaxed), 5);
        drop(peer);
        assert_eq!(counted.read(&mut buf).await.unwrap(), 0);
        assert_eq!(read.load(Ordering::Relaxed), 5, "EOF is not a byte");
    }
}
