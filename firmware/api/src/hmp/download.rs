//! Sending a recording's transport stream file, whole or a byte range of
//! it (RFC 9110 §14: one range; a request for several gets the whole file,
//! which the RFC allows).

use std::io::SeekFrom;
use std::path::Path;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::error::HmpError;

/// Bytes read from the file at a time.
const CHUNK: usize = 64 * 1024;

/// A byte range to send, inclusive at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Whole,
    Part(ByteRange),
    /// No byte of the range lies in the file: 416.
    Unsatisfiable,
}

/// Reads a `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`). Anything
/// this cannot read, or several ranges, means the whole file.
pub fn wanted(range: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |t: &str| t.trim().parse::<u64>().ok();
    let range = match (first.trim().is_empty(), number(first), number(last)) {
        // The last n bytes.
        (true, _, Some(n)) => {
            if n == 0 || len == 0 {
                return Wanted::Unsatisfiable;
            }
            ByteRange {
                first: len.saturating_sub(n),
                last: len - 1,
            }
        }
        (false, Some(a), None) if last.trim().is_empty() => ByteRange {
            first: a,
            last: len.saturating_sub(1),
        },
        (false, Some(a), Some(b)) if a <= b => ByteRange {
            first: a,
            last: b.min(len.saturating_sub(1)),
        },
        _ => return Wanted::Whole,
    };
    if range.first >= len {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part(range)
}

/// The file at `path` (named `file_name` for the client) as the answer to
/// a request with `range`.
pub async fn send(path: &Path, file_name: &str, range: Option<&str>) -> Result<Response, HmpError> {
    let mut file = tokio::fs::File::open(path).await.map_err(|e| {
        HmpError::internal(format!("The recording's file could not be opened: {e}"))
    })?;
    let len = file
        .metadata()
        .await
        .map_err(|e| HmpError::internal(format!("The recording's file could not be read: {e}")))?
        .len();
    let (status, span) = match wanted(range, len) {
        Wanted::Whole => (StatusCode::OK, None),
        Wanted::Part(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
        Wanted::Unsatisfiable => return Ok(unsatisfiable(len)),
    };
    let (start, count) = span.map_or((0, len), |r| (r.first, r.last - r.first + 1));
    file.seek(SeekFrom::Start(start))
        .await
        .map_err(|e| HmpError::internal(format!("The recording's file could not be read: {e}")))?;
    let mut response = Response::new(Body::from_stream(chunks(file, count)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp2t"));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(r) = span {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {}-{}/{len}", r.first, r.last)) {
            headers.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(response)
}

/// `count` bytes of `file` from where it stands, a chunk at a time.
fn chunks(
    file: tokio::fs::File,
    count: u64,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send {
    futures_util::stream::try_unfold((file, count), |(mut file, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let mut buf = vec![0; CHUNK.min(left as usize)];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            // The file shrank under us: end early rather than hang.
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the recording's file ended early",
            ));
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), (file, left - n as u64))))
    })
}

fn unsatisfiable(len: u64) -> Response {
    let e = HmpError::range_not_satisfiable(len);
    let mut response = super::respond::error(&e);
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(first: u64, last: u64) -> Wanted {
        Wanted::Part(ByteRange { first, last })
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-9"), 100), part(0, 9));
        assert_eq!(wanted(Some("bytes=90-"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=-10"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=-1000"), 100), part(0, 99));
        assert_eq!(wanted(Some("bytes=50-1000"), 100), part(50, 99));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
    }

    #[test]
    fn what_cannot_be_read_means_the_whole_file() {
        for r in [
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=5-2",
            "bytes=x-",
            "bytes=",
            "bytes=-",
        ] {
            assert_eq!(wanted(Some(r), 100), Wanted::Whole, "{r}");
        }
    }
}
