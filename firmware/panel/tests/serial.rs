//! `SerialPanel` speaking the line protocol both ways over a unix socket
//! pair: the test holds the device's end. Short real timeouts, no threads.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use makara_panel::{Key, Panel, SerialPanel};

const SHORT: Duration = Duration::from_millis(20);

/// A panel on one end of a socket pair; the device is the other end.
fn pair() -> (SerialPanel<UnixStream>, UnixStream) {
    let (appliance, device) = UnixStream::pair().unwrap();
    device.set_read_timeout(Some(SHORT)).unwrap();
    (SerialPanel::new(appliance), device)
}

/// What the appliance has sent the device so far.
fn received(device: &mut UnixStream) -> String {
    let mut bytes = Vec::new();
    let mut buf = [0; 1024];
    loop {
        match device.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    String::from_utf8(bytes).unwrap()
}

fn rows(top: &str, bottom: &str) -> [String; 2] {
    [top.into(), bottom.into()]
}

#[test]
fn shows_rows_and_then_only_what_changed() {
    let (mut panel, mut device) = pair();
    panel
        .show(&rows("makara   0 live", "IP 10.0.2.15"))
        .unwrap();
    assert_eq!(
        received(&mut device),
        "LCD 0 makara   0 live     \nLCD 1 IP 10.0.2.15        \n"
    );
    panel
        .show(&rows("makara   0 live", "IP 10.0.2.15"))
        .unwrap();
    assert_eq!(received(&mut device), "");
    panel
        .show(&rows("makara   1 live", "IP 10.0.2.15"))
        .unwrap();
    assert_eq!(received(&mut device), "LCD 0 makara   1 live     \n");
    // Text that fits the row the same way is the same row.
    panel
        .show(&rows("makara   1 live      ", "IP 10.0.2.15"))
        .unwrap();
    assert_eq!(received(&mut device), "");
}

#[test]
fn keys_in_pieces_and_hello_redraws() {
    let (mut panel, mut device) = pair();
    assert!(!panel.present());
    assert_eq!(panel.next_key(SHORT).unwrap(), None);
    panel.show(&rows("one", "two")).unwrap();
    received(&mut device);

    device
        .write_all(b"HELLO panel 1.0\r\nKEY up\r\nKEY do")
        .unwrap();
    assert_eq!(panel.next_key(SHORT).unwrap(), Some(Key::Up));
    assert!(panel.present());
    assert_eq!(
        received(&mut device),
        "LCD 0 one                 \nLCD 1 two                 \n"
    );
    // Half a line is not a key yet.
    assert_eq!(panel.next_key(SHORT).unwrap(), None);
    device.write_all(b"wn\nkey ENTER\n").unwrap();
    assert_eq!(panel.next_key(SHORT).unwrap(), Some(Key::Down));
    assert_eq!(panel.next_key(Duration::ZERO).unwrap(), Some(Key::Enter));
    assert_eq!(panel.next_key(Duration::ZERO).unwrap(), None);
}

#[test]
fn bad_lines_are_counted_and_skipped() {
    let (mut panel, mut device) = pair();
    let mut junk = vec![b'x'; 1000];
    junk.extend_from_slice(b"\nKEY select\n\xff\nLCD 0 hi\nKEY left\n");
    device.write_all(&junk).unwrap();
    assert_eq!(panel.next_key(SHORT).unwrap(), Some(Key::Left));
    assert_eq!(panel.bad_lines(), 4);
    assert_eq!(received(&mut device), "");
}

#[test]
fn a_talking_device_cannot_hold_the_caller() {
    let (mut panel, mut device) = pair();
    device.write_all(&b"KEY nope\n".repeat(1000)).unwrap();
    // Past its time, next_key reads once more and returns.
    assert_eq!(panel.next_key(Duration::ZERO).unwrap(), None);
    // It read a little of the flood and left the rest.
    let bad = panel.bad_lines();
    assert!((1..100).contains(&bad), "{bad}");
}

#[test]
fn a_closed_line_is_an_error() {
    let (mut panel, device) = pair();
    drop(device);
    let error = panel.next_key(SHORT).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
}
