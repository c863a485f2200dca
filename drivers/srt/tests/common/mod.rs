//! What the SRT tests share: loopback addresses with free ports, test
//! payloads, a sender/receiver pair over a link, and a guard that kills a
//! child process however the test ends.

#![allow(dead_code)] // each test file uses its own part

use std::net::{SocketAddr, UdpSocket};
use std::process::Child;
use std::sync::mpsc::RecvTimeoutError;
use std::thread;
use std::time::{Duration, Instant};

use makara_srt::{SrtSocket, PAYLOAD_SIZE};

/// A loopback address whose UDP port was free a moment ago.
pub fn free_addr() -> SocketAddr {
    let probe = UdpSocket::bind("127.0.0.1:0").expect("bind a probe socket");
    probe.local_addr().unwrap()
}

/// `count` messages of 1316 bytes, each different (its index and a
/// pattern), so a lost, repeated or reordered message shows.
pub fn messages(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut m = vec![0u8; PAYLOAD_SIZE];
            m[..4].copy_from_slice(&(i as u32).to_be_bytes());
            for (j, b) in m.iter_mut().enumerate().skip(4) {
                *b = (i * 31 + j * 7) as u8;
            }
            m
        })
        .collect()
}

/// Sends `msgs` paced about 1 ms apart (a live stream, not a flood).
pub fn send_paced(socket: &mut SrtSocket, msgs: &[Vec<u8>]) {
    for m in msgs {
        socket.send(m).expect("send");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Receives until `count` messages came or `within` passed.
pub fn receive(socket: &mut SrtSocket, count: usize, within: Duration) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 1500];
    while got.len() < count && Instant::now() < deadline {
        match socket.recv(&mut buf, Duration::from_millis(200)) {
            Ok(Some(n)) => got.push(buf[..n].to_vec()),
            Ok(None) => {}
            Err(e) => panic!("receive failed after {} messages: {e}", got.len()),
        }
    }
    got
}

/// A child process killed (and reaped) when the guard drops, so a failing
/// test leaves none behind.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// Waits at most `within` for the child to exit by itself; its exit
    /// status, or None if it is still running.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `f` on a thread and fails the test if it takes longer than
/// `limit`, so no test can hang.
pub fn bounded<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => {
            handle.join().expect("test thread");
            value
        }
        // The thread ended without a value: it panicked.
        Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the thread sends before it ends"),
        },
        Err(RecvTimeoutError::Timeout) => panic!("test did not finish within {limit:?}"),
    }
}
