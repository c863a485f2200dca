//! Request bodies: what kind a request may carry, and reading one (only
//! once its request is authorised) within a size limit, a time limit and a
//! byte budget shared by all requests.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use tokio::sync::{Semaphore, SemaphorePermit};

/// The largest body accepted. Kraken bodies are under 4 KiB (a stream
/// with many outputs is the largest); 64 KiB leaves room for whitespace,
/// comments and long names while keeping a request's cost small.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Bytes of bodies being read or handled at once, across all requests:
/// 128 bodies of the largest size.
pub const BODY_BUDGET_BYTES: usize = 128 * MAX_BODY_BYTES;

/// How long a request waits for room in the budget before it is answered
/// 503.
pub const BUDGET_WAIT: Duration = Duration::from_secs(2);

/// A body must arrive whole within this time of its request's admission:
/// 64 KiB at 64 kbit/s. It ends before the connection layer's own limit
/// for strangers ([`crate::server::STRANGER_BODY_TIMEOUT`], counted from
/// the request's head), so a slow client gets this 408 answer rather than
/// a body cut off under it.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(8);

/// At most this much of a refused request's body is read and thrown away
/// (see [`drain`]).
pub const DRAIN_BYTES: u64 = 1 << 20;

/// A refused body is drained for at most this long.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body's media type is not an XML one, or it has none.
    #[error(
        "a request body must be XML, sent as Content-Type application/xml or text/xml \
         (this one is {})",
        .0.as_deref().map_or("without a Content-Type".to_owned(), |t| format!("{t:?}"))
    )]
    NotXml(Option<String>),
    /// The body is, or announced itself as, larger than the limit.
    #[error("the body is larger than {limit} bytes, the most a Kraken request needs")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Too many bodies are in flight; the request may well be fine.
    #[error("too many request bodies in flight; try again shortly")]
    Busy,
    /// The body did not arrive in time.
    #[error("the body did not arrive within {} s", .0.as_secs())]
    TooSlow(Duration),
    /// The connection failed while the body was arriving.
    #[error("the body was cut off: {0}")]
    CutOff(String),
}

/// What a request announces about its body, before any of it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyShape {
    /// Whether there is a body at all (any `Content-Length` above zero, or
    /// a chunked one).
    pub present: bool,
    /// Its announced length, when known in advance.
    pub length: Option<u64>,
}

impl BodyShape {
    pub fn of(body: &Body) -> BodyShape {
        BodyShape {
            present: !body.is_end_stream(),
            length: body.size_hint().exact(),
        }
    }

    /// Refuses, from the headers alone, a body that is not XML (415) or
    /// announces more than `limit` bytes (413). A request without a body
    /// needs no `Content-Type`.
    ///
    /// # Errors
    ///
    /// [`BodyError::NotXml`], [`BodyError::TooLarge`].
    pub fn check(&self, content_type: Option<&str>, limit: usize) -> Result<(), BodyError> {
        if !self.present {
            return Ok(());
        }
        if !content_type.is_some_and(is_xml) {
            return Err(BodyError::NotXml(content_type.map(str::to_owned)));
        }
        if self.length.is_some_and(|n| n > limit as u64) {
            return Err(BodyError::TooLarge { limit });
        }
        Ok(())
    }
}

/// `application/xml` or `text/xml`, in any letter case, with any
/// parameters (`; charset=utf-8`).
pub fn is_xml(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case("application/xml")
        || media_type.eq_ignore_ascii_case("text/xml")
}

/// A body read whole, holding its share of the budget until dropped.
#[derive(Debug)]
pub struct ReadBody<'a> {
    pub bytes: Vec<u8>,
    _share: SemaphorePermit<'a>,
}

/// The limits one read works within.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub budget_wait: Duration,
    pub timeout: Duration,
}

/// The limits in force.
pub const BODY_LIMITS: BodyLimits = BodyLimits {
    max_bytes: MAX_BODY_BYTES,
    budget_wait: BUDGET_WAIT,
    timeout: BODY_TIMEOUT,
};

/// The bytes all bodies in flight may take together.
#[derive(Debug)]
pub struct BodyBudget {
    bytes: Semaphore,
    capacity: usize,
}

impl Default for BodyBudget {
    fn default() -> Self {
        BodyBudget::new(BODY_BUDGET_BYTES)
    }
}

impl BodyBudget {
    pub fn new(capacity: usize) -> BodyBudget {
        let capacity = capacity.min(u32::MAX as usize);
        BodyBudget {
            bytes: Semaphore::new(capacity),
            capacity,
        }
    }

    /// Bytes not taken by bodies in flight.
    pub fn available(&self) -> usize {
        self.bytes.available_permits()
    }

    /// Reads `body` whole. Its announced length (or the maximum, for a
    /// chunked body) is taken from the budget first, waiting up to
    /// `limits.budget_wait` for room. A body refused as too large, or for
    /// want of room, is [`drain`]ed.
    ///
    /// # Errors
    ///
    /// [`BodyError::TooLarge`], [`BodyError::Busy`], [`BodyError::TooSlow`]
    /// or [`BodyError::CutOff`].
    pub async fn read(
        &self,
        mut body: Body,
        limits: &BodyLimits,
    ) -> Result<ReadBody<'_>, BodyError> {
        let max_bytes = limits.max_bytes.min(self.capacity);
        let too_large = BodyError::TooLarge {
            limit: limits.max_bytes,
        };
        let share = match body.size_hint().exact() {
            Some(n) if n <= max_bytes as u64 => n as usize,
            Some(_) => {
                drain(body);
                return Err(too_large);
            }
            None => max_bytes,
        };
        let permits = u32::try_from(share).unwrap_or(u32::MAX);
        let room = tokio::time::timeout(limits.budget_wait, self.bytes.acquire_many(permits)).await;
        let share_permit = match room {
            Ok(Ok(permit)) => permit,
            // The budget is never closed; a timeout means no room.
            Ok(Err(_)) | Err(_) => {
                drain(body);
                return Err(BodyError::Busy);
            }
        };
        let collected = tokio::time::timeout(limits.timeout, collect(&mut body, share)).await;
        match collected {
            Ok(Ok(bytes)) => Ok(ReadBody {
                bytes,
                _share: share_permit,
            }),
            Ok(Err(BodyError::TooLarge { .. })) => {
                drain(body);
                Err(too_large)
            }
            Ok(Err(other)) => Err(other),
            Err(_) => Err(BodyError::TooSlow(limits.timeout)),
        }
    }
}

/// Collects a body of at most `limit` bytes.
async fn collect(body: &mut Body, limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut bytes = Vec::with_capacity(limit.min(MAX_BODY_BYTES));
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| BodyError::CutOff(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if bytes.len() + data.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        bytes.extend_from_slice(&data);
    }
    Ok(bytes)
}

/// Reads and throws away what is left of a refused request's body, in the
/// background, up to [`DRAIN_BYTES`] and [`DRAIN_TIME`], keeping none of
/// it. Most clients send their whole body before they read the answer;
/// closing the connection with their data unread would make the kernel
/// reset it, and the client would lose the answer already sent. A body
/// announced larger than that, or one that goes on longer, is simply
/// dropped: the connection then closes after the answer.
pub fn drain(body: Body) {
    if body.is_end_stream() || body.size_hint().lower() > DRAIN_BYTES {
        return;
    }
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DRAIN_TIME, discard(body, DRAIN_BYTES)).await;
    });
}

/// Reads up to `limit` bytes of `body`, keeping none; `true` if it ended.
async fn discard(mut body: Body, limit: u64) -> bool {
    let mut seen = 0u64;
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(frame) = frame else { return false };
        if let Ok(data) = frame.into_data() {
            seen += data.len() as u64;
            if seen > limit {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests;
