use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use makara_media::{Captions, MonotonicNs, PixelFormat, VideoFormat};

use super::*;
use crate::Frame;

fn format(pixel_format: PixelFormat) -> VideoFormat {
    VideoFormat::new(16, 8, pixel_format, 30, 1).unwrap()
}

fn nv12() -> VideoFormat {
    format(PixelFormat::Nv12)
}

#[test]
fn slots_cycle_without_new_memory() {
    let pool = FramePool::new(nv12(), 3);
    let before = pool.stats();
    assert_eq!(before.memory_bytes, 3 * nv12().frame_len());

    // Warm up: hold every slot once and note where its memory is.
    let warm: Vec<Frame> = (0..3)
        .map(|i| pool.try_acquire().unwrap().freeze(MonotonicNs(i), i))
        .collect();
    let known: BTreeSet<usize> = warm.iter().map(|f| f.as_ptr() as usize).collect();
    assert_eq!(known.len(), 3);
    drop(warm);

    let mut seen = BTreeSet::new();
    let mut held = Vec::new();
    for i in 0..1000u64 {
        let mut slot = pool.try_acquire().unwrap();
        slot.fill(i as u8);
        let frame = slot.freeze(MonotonicNs(i), i);
        seen.insert(frame.as_ptr() as usize);
        // Keep up to two frames alive so more than one slot is in play.
        held.push(frame);
        if held.len() > 2 {
            held.remove(0);
        }
    }
    drop(held);

    assert!(
        seen.is_subset(&known),
        "a frame lived outside the pool's slots"
    );
    assert_eq!(seen.len(), 3);
    let after = pool.stats();
    assert_eq!(after.memory_bytes, before.memory_bytes);
    assert_eq!(after.free, 3);
    assert_eq!(after.captured, 1003);
    assert_eq!(after.exhausted, 0);
}

#[test]
fn written_bytes_and_stamp_reach_the_reader() {
    let pool = FramePool::new(nv12(), 2);
    let mut slot = pool.try_acquire().unwrap();
    assert_eq!(slot.format(), nv12());
    assert_eq!(slot.len(), nv12().frame_len());
    slot.data_mut()[0] = 7;
    slot[1] = 9;
    let frame = slot.freeze(MonotonicNs(1_000), 42);
    assert_eq!(&frame.data()[..3], &[7, 9, 0]);
    assert_eq!(frame.len(), nv12().frame_len());
    assert_eq!(frame.pts(), MonotonicNs(1_000));
    assert_eq!(frame.sequence(), 42);
    assert_eq!(frame.format(), nv12());
    assert!(Arc::ptr_eq(frame.pool(), &pool));
}

#[test]
fn slot_returns_only_when_the_last_reader_lets_go() {
    let pool = FramePool::new(nv12(), 2);
    let frame = pool.try_acquire().unwrap().freeze(MonotonicNs(0), 0);
    let second = frame.clone();
    let third = second.clone();
    assert_eq!(pool.stats().free, 1);
    drop(frame);
    drop(third);
    assert_eq!(pool.stats().free, 1);
    drop(second);
    assert_eq!(pool.stats().free, 2);
}

#[test]
fn an_unfrozen_slot_goes_back_uncounted() {
    let pool = FramePool::new(nv12(), 1);
    let slot = pool.try_acquire().unwrap();
    assert_eq!(pool.stats().free, 0);
    drop(slot);
    let stats = pool.stats();
    assert_eq!((stats.free, stats.captured), (1, 0));
}

#[test]
fn exhaustion_is_counted_and_does_not_wait() {
    let pool = FramePool::new(nv12(), 2);
    let a = pool.try_acquire().unwrap().freeze(MonotonicNs(0), 0);
    let b = pool.try_acquire().unwrap();
    assert!(pool.try_acquire().is_none());
    assert!(pool.try_acquire().is_none());
    assert_eq!(pool.stats().exhausted, 2);
    drop(a);
    assert!(pool.try_acquire().is_some());
    drop(b);
    assert_eq!(pool.stats().exhausted, 2);
}

#[test]
fn driver_memory_gets_each_slot_index_back() {
    let released = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&released);
    let memory: Vec<Box<dyn SlotMemory>> = (0..4)
        .map(|_| Box::new(vec![0u8; nv12().frame_len() + 64]) as Box<dyn SlotMemory>)
        .collect();
    let driver = FramePool::with_memory(
        nv12(),
        memory,
        Box::new(move |slot| log.lock().unwrap().push(slot)),
    )
    .unwrap();
    let pool = driver.pool();
    assert!(pool.is_driver_memory());
    assert_eq!((pool.stats().free, pool.stats().lent), (0, 4));

    // The driver filled buffer 2: that slot, and no other, becomes the frame.
    let mut slot = driver.take(2).unwrap();
    assert_eq!(slot.slot(), 2);
    assert_eq!(slot.len(), nv12().frame_len(), "the frame, not the padding");
    slot[0] = 1;
    let frame = slot.freeze(MonotonicNs(5), 77);
    assert_eq!(driver.take(2).unwrap_err(), TakeError::NotLent { index: 2 });
    assert_eq!(
        driver.take(4).unwrap_err(),
        TakeError::NoSuchSlot { index: 4, last: 3 }
    );
    let reader = frame.clone();
    drop(frame);
    assert!(released.lock().unwrap().is_empty());
    drop(reader);
    assert_eq!(*released.lock().unwrap(), vec![2]);
    assert_eq!((pool.stats().free, pool.stats().lent), (0, 4));
    assert_eq!(pool.stats().memory_bytes, 4 * (nv12().frame_len() + 64));
    assert!(driver.take(2).is_ok(), "the driver may take it again");
}

#[test]
fn driver_memory_must_hold_a_frame() {
    let hook = || -> OnRelease { Box::new(|_| {}) };
    assert_eq!(
        FramePool::with_memory(nv12(), Vec::new(), hook()).map(|_| ()),
        Err(PoolError::NoSlots)
    );
    let memory: Vec<Box<dyn SlotMemory>> = vec![
        Box::new(vec![0u8; nv12().frame_len()]),
        Box::new(vec![0u8; 10]),
    ];
    assert_eq!(
        FramePool::with_memory(nv12(), memory, hook()).map(|_| ()),
        Err(PoolError::SlotTooSmall {
            slot: 1,
            got: 10,
            needed: nv12().frame_len()
        })
    );
}

#[test]
fn every_pixel_format_gets_a_whole_frame() {
    for pf in [
        PixelFormat::I420,
        PixelFormat::Nv12,
        PixelFormat::Yuyv,
        PixelFormat::Uyvy,
    ] {
        let pool = FramePool::new(format(pf), 1);
        let frame = pool.try_acquire().unwrap().freeze(MonotonicNs(0), 0);
        assert_eq!(frame.len(), format(pf).frame_len(), "{pf:?}");
    }
}

#[test]
#[should_panic(expected = "at least one slot")]
fn a_pool_without_slots_is_a_bug() {
    FramePool::new(nv12(), 0);
}

#[test]
fn handles_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<FramePool>();
    send_sync::<FrameMut>();
    send_sync::<Frame>();
    send_sync::<crate::Fanout>();
    send_sync::<crate::Consumer>();
}

/// Memory that a driver's device may be filling: issue 7's pools.
fn driver_pool(slots: usize, hook: impl Fn(usize) + Send + Sync + 'static) -> DriverSlots {
    let memory: Vec<Box<dyn SlotMemory>> = (0..slots)
        .map(|_| Box::new(vec![0u8; nv12().frame_len()]) as Box<dyn SlotMemory>)
        .collect();
    FramePool::with_memory(nv12(), memory, Box::new(hook)).unwrap()
}

#[test]
fn issue_7_a_driver_pool_gives_no_slot_to_a_writer() {
    let driver = driver_pool(4, |_| {});
    let pool = driver.pool();
    assert!(pool.try_acquire().is_none());
    assert_eq!(pool.acquire().unwrap_err(), AcquireError::DriverMemory);
    assert_eq!(pool.stats().exhausted, 0, "a refusal is not a lost frame");
}

#[test]
fn issue_7_a_released_driver_slot_is_lent_not_free() {
    let driver = driver_pool(4, |_| {});
    let pool = driver.pool();
    drop(driver.take(2).unwrap().freeze(MonotonicNs(0), 0));
    let held: Vec<FrameMut> = std::iter::from_fn(|| pool.try_acquire()).take(8).collect();
    let slots: Vec<usize> = held.iter().map(FrameMut::slot).collect();
    assert!(
        !slots.contains(&2),
        "a writer got the re-queued slot: {slots:?}"
    );
    assert_eq!((pool.stats().free, pool.stats().lent), (0, 4));
}

#[test]
fn issue_7_the_release_hook_runs_with_its_slot_out_of_reach() {
    let pool_cell: Arc<std::sync::OnceLock<std::sync::Weak<FramePool>>> = Arc::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (cell, log) = (Arc::clone(&pool_cell), Arc::clone(&seen));
    let driver = driver_pool(1, move |index| {
        let pool = cell.get().unwrap().upgrade().unwrap();
        let writer = pool.try_acquire();
        let got = writer.as_ref().map(FrameMut::slot);
        // Kept, not dropped here: dropping it would run this hook again.
        std::mem::forget(writer);
        log.lock().unwrap().push((index, got, pool.stats().lent));
    });
    pool_cell.set(Arc::downgrade(driver.pool())).unwrap();
    drop(driver.take(0).unwrap().freeze(MonotonicNs(0), 0));
    assert_eq!(
        *seen.lock().unwrap(),
        [(0, None, 1)],
        "lent to the driver before the hook queues it"
    );
}

#[test]
fn an_unfrozen_driver_slot_goes_back_to_the_driver() {
    let released = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&released);
    let driver = driver_pool(2, move |slot| log.lock().unwrap().push(slot));
    drop(driver.take(1).unwrap());
    assert_eq!(*released.lock().unwrap(), [1]);
    let stats = driver.pool().stats();
    assert_eq!((stats.lent, stats.captured), (2, 0));
}

#[test]
fn captions_go_with_their_frame_and_not_with_the_next_in_the_slot() {
    let pool = FramePool::new(nv12(), 1);
    let mut slot = pool.try_acquire().unwrap();
    let captions = Captions::from_cc_data(&[0xFC, 0xC8, 0xC5]);
    slot.set_captions(captions);
    let frame = slot.freeze(MonotonicNs(1), 1);
    assert_eq!(frame.captions(), &captions);
    drop(frame);
    let again = pool.try_acquire().unwrap().freeze(MonotonicNs(2), 2);
    assert!(again.captions().is_empty());
}
