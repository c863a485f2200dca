//! The ring across threads: capture on one, consumers on others.

use std::convert::Infallible;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use makara_framering::{Fanout, FramePool, SlotMemory, Written};
use makara_media::{MonotonicNs, PixelFormat, VideoFormat};

const TIMEOUT: Duration = Duration::from_secs(30);

fn format() -> VideoFormat {
    VideoFormat::new(64, 32, PixelFormat::Yuyv, 60, 1).unwrap()
}

/// Runs `test` on its own thread and fails if it has not finished in
/// `TIMEOUT`, so a deadlock fails the test instead of hanging it.
fn within_timeout(test: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let runner = thread::spawn(move || {
        test();
        let _ = done.send(());
    });
    match finished.recv_timeout(TIMEOUT) {
        Ok(()) => runner.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = runner.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("no result in {TIMEOUT:?}: deadlock?"),
    }
}

#[test]
fn a_frame_read_on_two_threads_returns_after_both_let_go() {
    within_timeout(|| {
        let released = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&released);
        let memory: Vec<Box<dyn SlotMemory>> = (0..8)
            .map(|_| Box::new(vec![0u8; format().frame_len()]) as Box<dyn SlotMemory>)
            .collect();
        let hook = Box::new(move |slot| {
            let name = thread::current().name().map(str::to_string);
            log.lock().unwrap().push((slot, name));
        });
        let driver = FramePool::with_memory(format(), memory, hook).unwrap();
        let pool = Arc::clone(driver.pool());
        let fanout = Fanout::new(Arc::clone(&pool));

        let (got_tx, got) = mpsc::channel();
        let mut lets_go = Vec::new();
        let mut readers = Vec::new();
        for name in ["reader-a", "reader-b"] {
            let consumer = fanout.subscribe(name, 2).unwrap();
            let got_tx = got_tx.clone();
            let (let_go, wait) = mpsc::channel::<()>();
            lets_go.push(let_go);
            let reader = thread::Builder::new().name(name.to_string());
            readers.push(
                reader
                    .spawn(move || {
                        let frame = consumer.recv(TIMEOUT).unwrap().unwrap();
                        got_tx.send(frame.slot()).unwrap();
                        wait.recv().unwrap();
                        drop(frame);
                    })
                    .unwrap(),
            );
        }

        let slot = driver.take(5).unwrap();
        fanout.publish(slot.freeze(MonotonicNs(0), 0));
        assert_eq!([got.recv().unwrap(), got.recv().unwrap()], [5, 5]);
        assert_eq!(pool.stats().lent, 7);

        let mut readers = readers.into_iter();
        lets_go[0].send(()).unwrap();
        readers.next().unwrap().join().unwrap();
        assert_eq!(pool.stats().lent, 7, "reader-b still holds the slot");
        assert!(released.lock().unwrap().is_empty());

        lets_go[1].send(()).unwrap();
        readers.next().unwrap().join().unwrap();
        assert_eq!(pool.stats().lent, 8);
        assert_eq!(
            *released.lock().unwrap(),
            [(5, Some("reader-b".to_string()))],
            "released once, by the last reader"
        );
    });
}

#[test]
fn a_waiting_consumer_wakes_on_publish_and_on_close() {
    within_timeout(|| {
        let fanout = Fanout::new(FramePool::new(format(), 4));
        let consumer = fanout.subscribe("encoder", 2).unwrap();
        assert!(consumer.recv(Duration::from_millis(5)).unwrap().is_none());

        let reader = thread::spawn(move || {
            let first = consumer.recv(TIMEOUT).unwrap().map(|f| f.sequence());
            let start = Instant::now();
            let end = consumer.recv(TIMEOUT);
            (first, end.map(|f| f.is_some()), start.elapsed())
        });
        let _ = fanout.write_with(MonotonicNs(0), 7, |_| Ok::<(), Infallible>(()));
        thread::sleep(Duration::from_millis(20));
        drop(fanout);
        let (first, end, waited) = reader.join().unwrap();
        assert_eq!(first, Some(7));
        assert!(end.is_err(), "closed, not timed out");
        assert!(waited < TIMEOUT);
    });
}

struct Reader {
    name: &'static str,
    depth: usize,
    work: Duration,
}

#[test]
fn stress_three_speeds_and_a_passing_thumbnailer() {
    const FRAMES: u64 = 3000;
    const READERS: [Reader; 3] = [
        Reader {
            name: "fast",
            depth: 2,
            work: Duration::ZERO,
        },
        Reader {
            name: "medium",
            depth: 3,
            work: Duration::from_micros(300),
        },
        Reader {
            name: "slow",
            depth: 4,
            work: Duration::from_millis(2),
        },
    ];
    within_timeout(|| {
        // Just enough slots: each reader's queue and the frame in hand, the
        // thumbnailer's 1 + 1, and the writer's 1. Capture must never run dry.
        let slots = READERS.iter().map(|r| r.depth + 1).sum::<usize>() + 2 + 1;
        let fanout = Arc::new(Fanout::new(FramePool::new(format(), slots)));
        let pool = Arc::clone(fanout.pool());

        let readers: Vec<_> = READERS
            .iter()
            .map(|r| {
                let consumer = fanout.subscribe(r.name, r.depth).unwrap();
                let work = r.work;
                thread::spawn(move || {
                    let mut last = None;
                    let mut received = 0u64;
                    while let Ok(next) = consumer.recv(TIMEOUT) {
                        let Some(frame) = next else { continue };
                        assert!(last < Some(frame.sequence()), "frames arrive in order");
                        last = Some(frame.sequence());
                        check_stamp(&frame);
                        thread::sleep(work);
                        check_stamp(&frame);
                        received += 1;
                    }
                    (received, consumer.counters())
                })
            })
            .collect();

        let thumbnailer = {
            let fanout = Arc::clone(&fanout);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                let consumer = fanout.subscribe("thumbnail", 1).unwrap();
                drop(fanout);
                for _ in 0..5 {
                    if let Some(frame) = consumer.recv(TIMEOUT).unwrap() {
                        check_stamp(&frame);
                    }
                }
                let c = consumer.counters();
                assert_eq!(c.offered, c.received + c.dropped + c.queued as u64);
                assert!(c.received >= 5);
            })
        };

        let mut published = 0;
        for seq in 0..FRAMES {
            let written = fanout.write_with(MonotonicNs(seq * 16_666_667), seq, |buf| {
                let stamp = seq.to_le_bytes();
                let len = buf.len();
                buf[..8].copy_from_slice(&stamp);
                buf[len - 8..].copy_from_slice(&stamp);
                Ok::<(), Infallible>(())
            });
            if written == Ok(Written::Published) {
                published += 1;
            }
            if seq % 4 == 0 {
                thread::sleep(Duration::from_micros(200));
            }
        }
        thumbnailer.join().unwrap();
        let ring = fanout.counters();
        drop(fanout);

        assert_eq!(published, FRAMES);
        assert_eq!(ring.captured, FRAMES);
        assert_eq!(ring.pool_exhausted, 0, "readers could not starve capture");
        assert_eq!(ring.bytes_copied, 0);
        for (reader, handle) in READERS.iter().zip(readers) {
            let (received, c) = handle.join().unwrap();
            assert_eq!(c.name, reader.name);
            assert_eq!(c.received, received);
            assert_eq!(c.queued, 0);
            assert_eq!(c.offered, FRAMES, "{}", reader.name);
            assert_eq!(c.received + c.dropped, FRAMES, "{}", reader.name);
        }
        let slow = &ring.consumers[2];
        assert!(slow.dropped > 0, "the slow reader fell behind: {slow:?}");
        let stats = pool.stats();
        assert_eq!(stats.free, slots, "every slot came back");
        assert_eq!(stats.memory_bytes, slots * format().frame_len());
    });
}

/// The frame still holds what capture wrote for it: its slot was not
/// reused while a reader held it.
fn check_stamp(frame: &makara_framering::Frame) {
    let stamp = frame.sequence().to_le_bytes();
    assert_eq!(frame[..8], stamp);
    assert_eq!(frame[frame.len() - 8..], stamp);
}

/// A stand-in capture device: slots handed back through the release hook
/// join its queue, and the driver takes back only what it dequeues.
#[test]
fn issue_7_a_writer_racing_the_driver_never_gets_its_memory() {
    const SLOTS: usize = 6;
    const FRAMES: u64 = 2000;
    within_timeout(|| {
        let device: Arc<Mutex<std::collections::VecDeque<usize>>> = Arc::default();
        let queue = Arc::clone(&device);
        let memory: Vec<Box<dyn SlotMemory>> = (0..SLOTS)
            .map(|_| Box::new(vec![0u8; format().frame_len()]) as Box<dyn SlotMemory>)
            .collect();
        let hook = Box::new(move |slot| queue.lock().unwrap().push_back(slot));
        let driver = FramePool::with_memory(format(), memory, hook).unwrap();
        let pool = Arc::clone(driver.pool());
        device.lock().unwrap().extend(0..SLOTS);
        let fanout = Arc::new(Fanout::new(Arc::clone(&pool)));

        let consumer = fanout.subscribe("encoder", 2).unwrap();
        let reader = thread::spawn(move || {
            let mut received = 0u64;
            while let Ok(next) = consumer.recv(TIMEOUT) {
                let Some(frame) = next else { continue };
                check_stamp(&frame);
                thread::yield_now();
                check_stamp(&frame);
                received += 1;
            }
            received
        });
        let rogue = {
            let fanout = Arc::clone(&fanout);
            thread::spawn(move || {
                let mut got = 0;
                for _ in 0..FRAMES {
                    let written = fanout.write_with(MonotonicNs(0), u64::MAX, |buf| {
                        buf.fill(0xEE);
                        Ok::<(), Infallible>(())
                    });
                    got += u64::from(written == Ok(Written::Published));
                    got += u64::from(fanout.pool().try_acquire().is_some());
                    thread::yield_now();
                }
                got
            })
        };

        for seq in 0..FRAMES {
            let index = loop {
                if let Some(index) = device.lock().unwrap().pop_front() {
                    break index;
                }
                thread::sleep(Duration::from_micros(50));
            };
            let mut slot = driver
                .take(index)
                .expect("a slot the device filled is the driver's");
            let stamp = seq.to_le_bytes();
            let len = slot.len();
            slot[..8].copy_from_slice(&stamp);
            slot[len - 8..].copy_from_slice(&stamp);
            fanout.publish(slot.freeze(MonotonicNs(seq), seq));
        }
        let rogue_got = rogue.join().unwrap();
        drop(fanout);
        let received = reader.join().unwrap();

        assert_eq!(rogue_got, 0, "a writer got a slot of driver memory");
        assert!(received > 0);
        let stats = pool.stats();
        assert_eq!(
            (stats.free, stats.lent),
            (0, SLOTS),
            "driver memory is never free"
        );
        assert_eq!(
            device.lock().unwrap().len(),
            SLOTS,
            "every slot went back to the device"
        );
    });
}
