use std::convert::Infallible;
use std::task::{Context, Poll};

use hyper::body::{Bytes, Frame};

use super::*;

/// A chunked body: `chunks` pieces of `size` bytes, then (if `stall`)
/// nothing ever again instead of the end.
struct Drip {
    chunks: usize,
    size: usize,
    stall: bool,
}

impl HttpBody for Drip {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.chunks > 0 {
            self.chunks -= 1;
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; self.size])))));
        }
        if self.stall {
            // The test's timeout wakes the reader.
            Poll::Pending
        } else {
            Poll::Ready(None)
        }
    }
}

fn drip(chunks: usize, size: usize, stall: bool) -> Body {
    Body::new(Drip {
        chunks,
        size,
        stall,
    })
}

const QUICK: BodyLimits = BodyLimits {
    max_bytes: 1000,
    budget_wait: Duration::from_millis(50),
    timeout: Duration::from_millis(100),
};

#[test]
fn only_xml_bodies_are_accepted_and_no_body_needs_no_type() {
    let body = BodyShape {
        present: true,
        length: Some(10),
    };
    for ok in [
        "application/xml",
        "text/xml",
        "Application/XML; charset=UTF-8",
    ] {
        assert_eq!(body.check(Some(ok), 100), Ok(()), "{ok}");
    }
    for refused in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xmlx",
        "",
    ] {
        assert_eq!(
            body.check(Some(refused), 100),
            Err(BodyError::NotXml(Some(refused.to_owned()))),
            "{refused}"
        );
    }
    assert_eq!(body.check(None, 100), Err(BodyError::NotXml(None)));
    let none = BodyShape::of(&Body::empty());
    assert!(!none.present);
    assert_eq!(none.check(None, 100), Ok(()));
    assert_eq!(none.check(Some("text/plain"), 100), Ok(()));
}

#[test]
fn an_announced_length_over_the_limit_is_refused_unread() {
    let shape = BodyShape::of(&Body::from(vec![b'<'; 101]));
    assert_eq!(shape.length, Some(101));
    assert_eq!(
        shape.check(Some("application/xml"), 100),
        Err(BodyError::TooLarge { limit: 100 })
    );
    let chunked = BodyShape::of(&drip(1, 10, false));
    assert_eq!(
        chunked,
        BodyShape {
            present: true,
            length: None
        }
    );
}

#[test]
fn messages_name_the_type_and_the_limit() {
    assert_eq!(
        BodyError::NotXml(Some("text/plain".into())).to_string(),
        "a request body must be XML, sent as Content-Type application/xml or text/xml (this one is \"text/plain\")"
    );
    assert!(BodyError::NotXml(None)
        .to_string()
        .ends_with("(this one is without a Content-Type)"));
    assert_eq!(
        BodyError::TooLarge { limit: 65536 }.to_string(),
        "the body is larger than 65536 bytes, the most a Kraken request needs"
    );
}

#[tokio::test]
async fn a_body_takes_its_length_from_the_budget_until_dropped() {
    let budget = BodyBudget::new(1000);
    let read = budget.read(Body::from("<a/>"), &QUICK).await;
    let read = read.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.bytes, b"<a/>");
    assert_eq!(budget.available(), 996);
    drop(read);
    assert_eq!(budget.available(), 1000);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_cut_short() {
    let budget = BodyBudget::new(10_000);
    let result = budget.read(drip(11, 100, false), &QUICK).await;
    assert_eq!(
        result.map(|b| b.bytes.len()),
        Err(BodyError::TooLarge { limit: 1000 })
    );
    assert_eq!(budget.available(), 10_000);
    let exactly = budget.read(drip(10, 100, false), &QUICK).await;
    assert_eq!(exactly.map(|b| b.bytes.len()), Ok(1000));
}

#[tokio::test]
async fn a_slow_body_times_out() {
    let budget = BodyBudget::new(10_000);
    let result = budget.read(drip(2, 100, true), &QUICK).await;
    assert_eq!(
        result.map(|b| b.bytes.len()),
        Err(BodyError::TooSlow(QUICK.timeout))
    );
    assert_eq!(budget.available(), 10_000);
}

#[tokio::test]
async fn a_full_budget_answers_busy_after_a_short_wait() {
    let budget = BodyBudget::new(1000);
    let held = budget.read(Body::from(vec![b'<'; 800]), &QUICK).await;
    assert!(held.is_ok());
    let waiting = budget.read(Body::from(vec![b'<'; 300]), &QUICK).await;
    assert_eq!(waiting.map(|b| b.bytes.len()), Err(BodyError::Busy));
    // A chunked body reserves the whole limit.
    let chunked = budget.read(drip(1, 10, false), &QUICK).await;
    assert_eq!(chunked.map(|b| b.bytes.len()), Err(BodyError::Busy));
    drop(held);
    let later = budget.read(Body::from(vec![b'<'; 300]), &QUICK).await;
    assert_eq!(later.map(|b| b.bytes.len()), Ok(300));
}

#[tokio::test]
async fn an_empty_body_needs_no_room() {
    let budget = BodyBudget::new(1000);
    let held = budget.read(Body::from(vec![b'<'; 1000]), &QUICK).await;
    assert!(held.is_ok());
    let empty = budget.read(Body::empty(), &QUICK).await;
    assert_eq!(empty.map(|b| b.bytes.len()), Ok(0));
}

#[tokio::test]
async fn discarding_stops_at_its_limit() {
    assert!(discard(drip(10, 100, false), 1000).await);
    assert!(!discard(drip(11, 100, false), 1000).await);
}

#[test]
fn the_body_timeout_ends_before_the_connection_layers() {
    assert!(BODY_TIMEOUT + Duration::from_secs(1) <= crate::server::STRANGER_BODY_TIMEOUT);
    assert!(BODY_TIMEOUT + Duration::from_secs(1) <= crate::server::PROVEN_BODY_TIMEOUT);
}
