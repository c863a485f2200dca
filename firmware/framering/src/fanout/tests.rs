use std::convert::Infallible;

use makara_media::{MonotonicNs, PixelFormat, VideoFormat};

use super::*;

fn format(pixel_format: PixelFormat) -> VideoFormat {
    VideoFormat::new(16, 8, pixel_format, 30, 1).unwrap()
}

fn fanout(slots: usize) -> Fanout {
    Fanout::new(FramePool::new(format(PixelFormat::Nv12), slots))
}

/// Captures frame `sequence`, its number in the first byte.
fn capture(fanout: &Fanout, sequence: u64) -> Written {
    fanout
        .write_with(MonotonicNs(sequence * 1000), sequence, |buf| {
            buf[0] = sequence as u8;
            Ok::<(), Infallible>(())
        })
        .unwrap()
}

fn drain(consumer: &Consumer) -> Vec<u64> {
    std::iter::from_fn(|| consumer.try_recv().unwrap())
        .map(|f| {
            assert_eq!(f[0], f.sequence() as u8, "the frame holds what was written");
            f.sequence()
        })
        .collect()
}

#[test]
fn a_slow_consumer_loses_its_oldest_frames_and_a_fast_one_gets_all() {
    let fanout = fanout(8);
    let fast = fanout.subscribe("fast", 2).unwrap();
    let slow = fanout.subscribe("slow", 2).unwrap();
    let mut got = Vec::new();
    for seq in 0..10 {
        assert_eq!(capture(&fanout, seq), Written::Published);
        got.extend(drain(&fast));
    }
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    assert_eq!(drain(&slow), vec![8, 9], "the newest frames survive");
    assert_eq!(fast.dropped(), 0);
    assert_eq!(slow.dropped(), 8);

    let counters = fanout.counters();
    assert_eq!(counters.captured, 10);
    assert_eq!(counters.pool_exhausted, 0);
    let slow = &counters.consumers[1];
    assert_eq!(slow.name, "slow");
    assert_eq!((slow.offered, slow.received, slow.dropped), (10, 2, 8));
    assert_eq!(fanout.pool().stats().free, 8);
}

#[test]
fn one_frame_many_readers_one_slot() {
    let fanout = fanout(8);
    let a = fanout.subscribe("a", 2).unwrap();
    let b = fanout.subscribe("b", 2).unwrap();
    let _ = capture(&fanout, 0);
    let fa = a.try_recv().unwrap().unwrap();
    let fb = b.try_recv().unwrap().unwrap();
    assert_eq!(fa.as_ptr(), fb.as_ptr(), "both read the same slot");
    assert_eq!(fanout.pool().stats().free, 7);
    drop(fa);
    assert_eq!(fanout.pool().stats().free, 7);
    drop(fb);
    assert_eq!(fanout.pool().stats().free, 8);
}

#[test]
fn the_ring_copies_nothing_for_any_source_format() {
    for pf in [
        PixelFormat::Yuyv,
        PixelFormat::Uyvy,
        PixelFormat::Nv12,
        PixelFormat::I420,
    ] {
        let fanout = Fanout::new(FramePool::new(format(pf), 8));
        let encoder = fanout.subscribe("encoder", 3).unwrap();
        let mut slot = fanout.pool().try_acquire().unwrap();
        slot.fill(0x10);
        let written = slot.as_ptr();
        fanout.publish(slot.freeze(MonotonicNs(0), 0));
        let frame = encoder.try_recv().unwrap().unwrap();
        assert_eq!(
            frame.as_ptr(),
            written,
            "{pf:?}: the encoder reads the slot capture wrote"
        );
        assert_eq!(frame.len(), format(pf).frame_len());
        assert_eq!(fanout.counters().bytes_copied, 0, "{pf:?}");
        assert_eq!(encoder.counters().bytes_copied, 0, "{pf:?}");
    }
}

#[test]
fn a_copying_stage_reports_its_bytes() {
    let fanout = fanout(8);
    let scaled = fanout.subscribe("scaler", 2).unwrap();
    let direct = fanout.subscribe("direct", 2).unwrap();
    let _ = capture(&fanout, 0);
    let frame = scaled.try_recv().unwrap().unwrap();
    scaled.count_copy(frame.len() / 4);
    let counters = fanout.counters();
    assert_eq!(counters.bytes_copied, frame.len() as u64 / 4);
    assert_eq!(counters.consumers[0].bytes_copied, frame.len() as u64 / 4);
    assert_eq!(counters.consumers[1].bytes_copied, 0);
    drop(direct);
}

#[test]
fn a_dropped_consumer_detaches_and_gives_its_frames_back() {
    let fanout = fanout(8);
    let stays = fanout.subscribe("stays", 2).unwrap();
    let leaves = fanout.subscribe("leaves", 3).unwrap();
    for seq in 0..3 {
        let _ = capture(&fanout, seq);
    }
    assert_eq!(
        fanout.pool().stats().free,
        5,
        "3 frames queued for `leaves`"
    );
    drop(leaves);
    assert_eq!(fanout.pool().stats().free, 6, "only `stays`'s 2 remain");
    let names: Vec<String> = fanout
        .counters()
        .consumers
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["stays"]);
    let _ = capture(&fanout, 3);
    assert_eq!(drain(&stays), vec![2, 3]);
    assert_eq!(fanout.pool().stats().free, 8);
}

#[test]
fn consumers_drain_then_see_the_fanout_closed() {
    let fanout = fanout(8);
    let consumer = fanout.subscribe("encoder", 2).unwrap();
    let _ = capture(&fanout, 0);
    assert!(!consumer.is_closed());
    drop(fanout);
    assert!(consumer.is_closed());
    assert_eq!(consumer.try_recv().unwrap().unwrap().sequence(), 0);
    assert_eq!(consumer.try_recv().unwrap_err(), Closed);
    assert_eq!(consumer.recv(Duration::ZERO).unwrap_err(), Closed);
}

#[test]
fn an_exhausted_pool_drops_at_the_source_without_waiting() {
    let fanout = fanout(4);
    let consumer = fanout.subscribe("hoarder", 2).unwrap();
    // A reader that keeps frames beyond its queue can take every slot.
    let mut kept = Vec::new();
    for seq in 0..4 {
        assert_eq!(capture(&fanout, seq), Written::Published);
        kept.extend(consumer.try_recv().unwrap());
    }
    let mut called = false;
    let written = fanout.write_with(MonotonicNs(0), 4, |_| {
        called = true;
        Ok::<(), Infallible>(())
    });
    assert_eq!(written, Ok(Written::PoolExhausted));
    assert!(!called);
    let counters = fanout.counters();
    assert_eq!((counters.captured, counters.pool_exhausted), (4, 1));
    assert_eq!(
        counters.consumers[0].offered, 4,
        "the lost frame was never offered"
    );
    kept.clear();
    assert_eq!(capture(&fanout, 5), Written::Published);
}

#[test]
fn a_failed_write_publishes_nothing() {
    let fanout = fanout(4);
    let consumer = fanout.subscribe("encoder", 2).unwrap();
    let written = fanout.write_with(MonotonicNs(0), 0, |_| Err("no signal"));
    assert_eq!(written, Err("no signal"));
    assert!(consumer.try_recv().unwrap().is_none());
    assert_eq!(fanout.pool().stats().free, 4);
    assert_eq!(fanout.counters().captured, 0);
}

#[test]
fn subscribe_keeps_a_slot_for_the_writer() {
    // 8 slots: the writer's 1, and (depth + 1) per consumer.
    let fanout = fanout(8);
    assert_eq!(
        fanout.subscribe("a", 0).unwrap_err(),
        SubscribeError::ZeroDepth
    );
    let a = fanout.subscribe("a", 3).unwrap();
    let _b = fanout.subscribe("b", 2).unwrap();
    assert_eq!(
        fanout.subscribe("c", 1).unwrap_err(),
        SubscribeError::PoolTooSmall {
            needed: 10,
            slots: 8
        }
    );
    drop(a);
    assert!(
        fanout.subscribe("c", 3).is_ok(),
        "a detached consumer frees its share"
    );
}

#[test]
fn publishing_without_consumers_returns_the_slot() {
    let fanout = fanout(2);
    for seq in 0..5 {
        assert_eq!(capture(&fanout, seq), Written::Published);
    }
    assert_eq!(fanout.pool().stats().free, 2);
    assert_eq!(fanout.counters().captured, 5);
}

#[test]
fn issue_7_write_with_refuses_a_pool_of_driver_memory() {
    let memory: Vec<Box<dyn crate::SlotMemory>> = (0..8)
        .map(|_| {
            Box::new(vec![0u8; format(PixelFormat::Nv12).frame_len()]) as Box<dyn crate::SlotMemory>
        })
        .collect();
    let driver =
        FramePool::with_memory(format(PixelFormat::Nv12), memory, Box::new(|_| {})).unwrap();
    let fanout = Fanout::new(Arc::clone(driver.pool()));
    let consumer = fanout.subscribe("encoder", 2).unwrap();
    let mut called = false;
    let written = fanout.write_with(MonotonicNs(0), 0, |_| {
        called = true;
        Ok::<(), Infallible>(())
    });
    assert!(!called, "the writer was given a slot of driver memory");
    assert_eq!(written, Ok(Written::DriverMemory));
    assert!(consumer.try_recv().unwrap().is_none());
    let counters = fanout.counters();
    assert_eq!((counters.captured, counters.pool_exhausted), (0, 0));

    // The driver's own frames still reach the consumer.
    fanout.publish(driver.take(3).unwrap().freeze(MonotonicNs(1), 1));
    assert_eq!(consumer.try_recv().unwrap().unwrap().slot(), 3);
}
