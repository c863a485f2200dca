//! Closed captions through the encoder: the captions that came with each
//! frame (a network input's CEA-608/708) go into the access unit of the
//! picture made from it, in the codec's own user data
//! (`makara_mpegts::captions`). A frame the rate conversion skips hands
//! its captions to the next picture; a repeated frame gives them to its
//! first picture only.

use std::collections::VecDeque;

use makara_framering::Frame;
use makara_media::{CaptionBacklog, Captions, Clock90k, EncodedVideo, VideoCodec};

/// Pictures in the encoder with captions, at most: far more than any
/// encoder's delay (lookahead, B-frames), so only a picture the encoder
/// never gave back is forgotten.
const MAX_WAITING: usize = 64;

#[derive(Debug)]
pub struct Captioner {
    codec: VideoCodec,
    backlog: CaptionBacklog,
    /// Captions of pictures sent to the encoder, by their PTS.
    waiting: VecDeque<(Clock90k, Captions)>,
    /// Whether a unit has been found with nowhere to put captions.
    warned: bool,
}

impl Captioner {
    pub fn new(codec: VideoCodec) -> Captioner {
        Captioner {
            codec,
            backlog: CaptionBacklog::default(),
            waiting: VecDeque::new(),
            warned: false,
        }
    }

    /// A frame came from the source.
    pub fn frame_in(&mut self, frame: &Frame) {
        let before = self.backlog.dropped();
        self.backlog.add(frame.captions());
        let dropped = self.backlog.dropped();
        if dropped > before && (before + 1..=dropped).any(u64::is_power_of_two) {
            tracing::warn!(
                "{dropped} closed-caption triplets dropped: more came than the pictures carry"
            );
        }
    }

    /// A picture at `pts` goes to the encoder: it takes the captions
    /// waiting.
    pub fn picture_sent(&mut self, pts: Clock90k) {
        let captions = self.backlog.take();
        if captions.is_empty() {
            return;
        }
        if self.waiting.len() == MAX_WAITING {
            self.waiting.pop_front();
        }
        self.waiting.push_back((pts, captions));
    }

    /// Puts the captions of the unit's picture into it.
    pub fn attach(&mut self, unit: &mut EncodedVideo) {
        let Some(at) = self.waiting.iter().position(|(pts, _)| *pts == unit.pts) else {
            return;
        };
        let (_, captions) = self.waiting.remove(at).expect("found above");
        match makara_mpegts::captions::insert(self.codec, &unit.data, &captions) {
            Ok(data) => unit.data = data,
            Err(e) if !self.warned => {
                self.warned = true;
                tracing::warn!(
                    "closed captions left out of a {:?} access unit: {e}",
                    self.codec
                );
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use makara_framering::FramePool;
    use makara_media::{MonotonicNs, PixelFormat, VideoFormat};

    use super::*;

    fn frame(pool: &std::sync::Arc<FramePool>, cc: &[u8]) -> Frame {
        let mut slot = pool.try_acquire().unwrap();
        slot.set_captions(Captions::from_cc_data(cc));
        slot.freeze(MonotonicNs(0), 0)
    }

    fn unit(pts: u64) -> EncodedVideo {
        EncodedVideo {
            data: vec![0, 0, 1, 0x65, 0x88],
            pts: Clock90k(pts),
            dts: Clock90k(pts),
            keyframe: true,
        }
    }

    #[test]
    fn captions_follow_their_picture_through_reordering_and_skips() {
        let format = VideoFormat::new(16, 16, PixelFormat::I420, 25, 1).unwrap();
        let pool = FramePool::new(format, 4);
        let mut captioner = Captioner::new(VideoCodec::H264);
        let hello = [0xFC, 0xC8, 0xC5];
        let world = [0xFC, 0xD7, 0x4F];
        captioner.frame_in(&frame(&pool, &hello));
        captioner.picture_sent(Clock90k(3600));
        // Skipped by the rate conversion: no picture of its own.
        captioner.frame_in(&frame(&pool, &world));
        captioner.frame_in(&frame(&pool, &[]));
        captioner.picture_sent(Clock90k(7200));
        // The encoder gives the second picture back first.
        let mut second = unit(7200);
        captioner.attach(&mut second);
        let mut first = unit(3600);
        captioner.attach(&mut first);
        let found = |u: &EncodedVideo| makara_mpegts::captions::find(VideoCodec::H264, &u.data);
        assert_eq!(found(&first).cc_data(), hello);
        assert_eq!(found(&second).cc_data(), world);
        let mut third = unit(10800);
        captioner.attach(&mut third);
        assert_eq!(third, unit(10800), "no captions, no change");
    }
}
