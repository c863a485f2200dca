//! How much sending costs, datagram by datagram against `send_batch`.
//!
//! `cargo run --release -p makara-output --example send_batch [DATAGRAMS] [RUNS]`
//! sends DATAGRAMS datagrams of 1316 bytes (7 TS packets) to a loopback
//! socket that never reads (the kernel drops what overflows it), RUNS times
//! for each way of sending, and prints the median CPU time the sending
//! thread used per datagram (from /proc/thread-self/schedstat, which counts
//! the loopback delivery done on the sender's behalf too) and the number of
//! system calls. Batches of 2 to 49 datagrams stand for a sender that wakes
//! every 2 ms at 10 Mbit/s (about 2 datagrams) up to one that wakes rarely.

use std::net::UdpSocket;

use makara_config::OutputRequest;
use makara_output::{UdpSender, UdpSettings};

const DATAGRAM: usize = 1316;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let datagrams = args.next().unwrap_or(Ok(10_000)).expect("DATAGRAMS");
    let runs = args.next().unwrap_or(Ok(9)).expect("RUNS");
    let sink = UdpSocket::bind("127.0.0.1:0").expect("a loopback socket");
    let url = format!("udp://{}", sink.local_addr().expect("its address"));
    let output = OutputRequest {
        url: Some(url),
        ..OutputRequest::default()
    }
    .validate()
    .expect("a valid output");
    let sender =
        UdpSender::open(UdpSettings::from_output(&output).expect("settings")).expect("a sender");
    let payload = vec![0x47u8; DATAGRAM];
    println!("{datagrams} datagrams of {DATAGRAM} bytes, median of {runs} runs");
    println!("{:>10} {:>12} {:>14}", "batch", "ns/datagram", "syscalls");
    for batch in [1, 2, 4, 8, 16, 49] {
        let slices = vec![&payload[..]; batch];
        let mut costs: Vec<u64> = (0..runs)
            .map(|_| {
                let before = thread_cpu_ns();
                for _ in 0..datagrams / batch {
                    if batch == 1 {
                        sender.send(&payload).expect("send");
                    } else {
                        sender.send_batch(&slices).expect("send_batch");
                    }
                }
                (thread_cpu_ns() - before) / (datagrams / batch * batch) as u64
            })
            .collect();
        costs.sort_unstable();
        let calls = datagrams / batch;
        println!("{batch:>10} {:>12} {calls:>14}", costs[runs / 2]);
    }
}

/// CPU time of this thread so far: the first field of its schedstat.
fn thread_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let first = stat.split_whitespace().next().expect("a first field");
    first.parse().expect("nanoseconds")
}
