use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// A connection that records what is written and has nothing to read.
#[derive(Debug, Default)]
struct Recorder {
    written: Vec<u8>,
}

impl AsyncRead for Recorder {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().written.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

const HYPER_431: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
content-length: 0\r\ndate: Sat, 05 Dec 2026 05:16:28 GMT\r\n\r\n";
const HYPER_414: &[u8] = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\n\
content-length: 0\r\ndate: Sat, 05 Dec 2026 05:16:28 GMT\r\n\r\n";

/// Writes each of `responses` as hyper does (one write, then a flush) and
/// returns what reached the connection.
async fn through(responses: &[&[u8]]) -> String {
    let mut io = KrakenRefusals::new(Recorder::default());
    for r in responses {
        io.write_all(r).await.unwrap();
        io.flush().await.unwrap();
    }
    io.shutdown().await.unwrap();
    String::from_utf8(io.inner.written).unwrap()
}

fn body_of(response: &str) -> &str {
    response.split_once("\r\n\r\n").unwrap().1
}

#[tokio::test]
async fn hyper_431_gets_a_kraken_body() {
    let out = through(&[HYPER_431]).await;
    assert!(
        out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{out}"
    );
    let body = body_of(&out);
    assert!(body.contains("<code>1013</code>"), "{out}");
    assert!(
        out.contains(&format!("content-length: {}\r\n", body.len())),
        "{out}"
    );
    assert!(out.contains("content-type: application/xml\r\n"), "{out}");
}

#[tokio::test]
async fn hyper_414_gets_a_kraken_body() {
    let out = through(&[HYPER_414]).await;
    assert!(out.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{out}");
    assert!(body_of(&out).contains("<code>1008</code>"), "{out}");
}

#[tokio::test]
async fn our_own_answers_pass_untouched() {
    let ours = "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 5\r\n\r\nhello";
    let ok = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
    assert_eq!(
        through(&[ours.as_bytes(), ok.as_bytes()]).await,
        format!("{ours}{ok}")
    );
}

#[tokio::test]
async fn only_the_start_of_a_response_is_looked_at() {
    // A body that happens to look like a refusal, written after its head
    // without a flush between, is data.
    let head = b"HTTP/1.1 200 OK\r\ncontent-length: 90\r\n\r\n";
    let mut io = KrakenRefusals::new(Recorder::default());
    io.write_all(head).await.unwrap();
    io.write_all(HYPER_431).await.unwrap();
    io.flush().await.unwrap();
    let mut expected = head.to_vec();
    expected.extend_from_slice(HYPER_431);
    assert_eq!(io.inner.written, expected);
}

#[tokio::test]
async fn a_refusal_after_an_answer_is_replaced_too() {
    let ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    let out = through(&[ok.as_bytes(), HYPER_431]).await;
    let rest = out.strip_prefix(ok).unwrap();
    assert!(rest.starts_with("HTTP/1.1 431 "), "{out}");
    assert!(rest.contains("<code>1013</code>"), "{out}");
}

#[tokio::test]
async fn a_refused_client_still_sending_gets_the_answer() {
    let (server, mut client) = tokio::io::duplex(16 * 1024);
    let peer = tokio::spawn(async move {
        // The rest of an oversized head, larger than the pipe holds.
        client.write_all(&[b'a'; 100 * 1024]).await.unwrap();
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        String::from_utf8(answer).unwrap()
    });
    let mut io = KrakenRefusals::new(server);
    io.write_all(HYPER_431).await.unwrap();
    io.flush().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), io.shutdown())
        .await
        .expect("the lingering close ends")
        .unwrap();
    drop(io);
    let answer = peer.await.unwrap();
    assert!(answer.contains("<code>1013</code>"), "{answer}");
}
