//! A request body that must arrive in time.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, SizeHint};
use thiserror::Error;
use tokio::time::Sleep;

/// A body whose last byte must arrive within a time limit of its headers:
/// a client that trickles a body holds a connection slot for no more.
#[derive(Debug)]
pub struct Deadline<B> {
    inner: B,
    limit: Duration,
    expires: Pin<Box<Sleep>>,
}

#[derive(Debug, Error)]
pub enum BodyError {
    #[error("the request body did not arrive within {} s", .0.as_secs())]
    TooSlow(Duration),
    #[error("the request body could not be read: {0}")]
    Read(Box<dyn StdError + Send + Sync>),
}

impl<B> Deadline<B> {
    pub fn new(inner: B, limit: Duration) -> Deadline<B> {
        Deadline {
            inner,
            limit,
            expires: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

impl<B> Body for Deadline<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(|e| BodyError::Read(e.into()))));
        }
        match this.expires.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::TooSlow(this.limit)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;

    /// A body whose client never sends another byte.
    struct Silent;

    impl Body for Silent {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_silent_body_fails_at_its_deadline() {
        let limit = Duration::from_millis(50);
        let body = axum::body::Body::new(Deadline::new(Silent, limit));
        let started = std::time::Instant::now();
        let read = tokio::time::timeout(Duration::from_secs(5), axum::body::to_bytes(body, 1024))
            .await
            .expect("the deadline ends the read");
        assert!(read.is_err());
        assert!(started.elapsed() >= limit);
    }

    #[tokio::test]
    async fn a_body_in_time_is_read_whole() {
        let inner = axum::body::Body::from("<input/>");
        let body = axum::body::Body::new(Deadline::new(inner, Duration::from_secs(5)));
        let bytes = axum::body::to_bytes(body, 1024).await.unwrap();
        assert_eq!(&bytes[..], b"<input/>");
    }
}
