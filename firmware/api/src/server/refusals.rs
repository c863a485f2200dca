//! Kraken bodies for the refusals hyper writes itself.
//!
//! When a request head is too large (431) or its URI too long (414), hyper
//! answers before any service sees the request, with an empty body, and
//! closes the connection. [`KrakenRefusals`] sits between hyper and the
//! connection and replaces exactly those answers by the same status with
//! a Kraken error document.
//!
//! It recognises them by where and what they are: the first bytes written
//! after a completed flush start a new response (hyper writes a response,
//! then flushes; with `writev(false)` a response head arrives in one
//! write), and hyper's own refusal is a 414 or 431 head with
//! `content-length: 0`. Our own 414 and 431 answers carry a body, and a
//! body never starts with a status line, so nothing else is touched.
//!
//! A refused client is usually still sending its oversized head. Closing
//! a socket with unread bytes makes the kernel reset the connection, and
//! the reset can overtake the answer; so after a replaced refusal the
//! shutdown reads and drops what still arrives, up to [`LINGER_BYTES`] or
//! [`LINGER_TIME`], before the connection is closed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::limits;

/// The most a refused client may still send before it is cut off.
pub const LINGER_BYTES: usize = 256 * 1024;
/// The longest a refused client is waited for before it is cut off.
pub const LINGER_TIME: Duration = Duration::from_secs(2);

/// An IO stream whose hyper-written 414 and 431 answers get Kraken bodies.
#[derive(Debug)]
pub struct KrakenRefusals<T> {
    inner: T,
    /// The next byte written starts a response.
    at_response_start: bool,
    /// A replacement answer still to be written, and how much of it is.
    replacement: Option<(Vec<u8>, usize)>,
    /// Whether a refusal was replaced: its shutdown lingers.
    replaced: bool,
    /// Set once the write side is shut down after a replaced refusal.
    linger: Option<Linger>,
}

/// What is left of the lingering close of a refused connection.
#[derive(Debug)]
struct Linger {
    bytes_left: usize,
    ends: Pin<Box<Sleep>>,
}

impl Linger {
    fn new() -> Linger {
        Linger {
            bytes_left: LINGER_BYTES,
            ends: Box::pin(tokio::time::sleep(LINGER_TIME)),
        }
    }

    /// Reads and drops input until the peer closes, or a bound is reached.
    fn poll_drain<T: AsyncRead + Unpin>(&mut self, io: &mut T, cx: &mut Context<'_>) -> Poll<()> {
        let mut scratch = [0u8; 4096];
        while self.bytes_left > 0 {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut *io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    self.bytes_left = self.bytes_left.saturating_sub(buf.filled().len());
                }
                Poll::Ready(_) => return Poll::Ready(()),
                Poll::Pending => return self.ends.as_mut().poll(cx),
            }
        }
        Poll::Ready(())
    }
}

impl<T> KrakenRefusals<T> {
    pub fn new(inner: T) -> KrakenRefusals<T> {
        KrakenRefusals {
            inner,
            at_response_start: true,
            replacement: None,
            replaced: false,
            linger: None,
        }
    }
}

impl<T: AsyncWrite + Unpin> KrakenRefusals<T> {
    /// Writes what is left of a replacement answer.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.replacement {
            if *written == bytes.len() {
                self.replacement = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for KrakenRefusals<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for KrakenRefusals<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_replacement(cx))?;
        if this.at_response_start && !buf.is_empty() {
            if let Some(answer) = kraken_answer_for(buf) {
                this.at_response_start = false;
                this.replacement = Some((answer, 0));
                this.replaced = true;
                // hyper's bytes are taken whole; ours go out now or on the
                // flush that follows.
                if let Poll::Ready(Err(e)) = this.poll_replacement(cx) {
                    return Poll::Ready(Err(e));
                }
                return Poll::Ready(Ok(buf.len()));
            }
        }
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        if n > 0 {
            this.at_response_start = false;
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_replacement(cx))?;
        ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
        this.at_response_start = true;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_replacement(cx))?;
        if this.linger.is_none() {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            if !this.replaced {
                return Poll::Ready(Ok(()));
            }
            this.linger = Some(Linger::new());
        }
        if let Some(linger) = &mut this.linger {
            ready!(linger.poll_drain(&mut this.inner, cx));
        }
        Poll::Ready(Ok(()))
    }
}

/// The Kraken answer replacing `written`, if it is hyper's empty 414 or 431.
fn kraken_answer_for(written: &[u8]) -> Option<Vec<u8>> {
    let error = match written.get(..13)? {
        b"HTTP/1.1 414 " => limits::uri_too_long(),
        b"HTTP/1.1 431 " => limits::head_too_large(),
        _ => return None,
    };
    let head_end = written.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = written[..head_end + 2].to_ascii_lowercase();
    if !head.windows(21).any(|w| w == b"\r\ncontent-length: 0\r\n") {
        return None;
    }
    let status = StatusCode::from_u16(error.status()).ok()?;
    let body = error.to_xml();
    let answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        status.as_str(),
        status.canonical_reason().unwrap_or(""),
        body.len(),
    );
    Some(answer.into_bytes())
}

#[cfg(test)]
mod tests;
