//! Video elementary streams cut into access units (one coded picture
//! each), whatever the PES packets carry: libavcodec's decoders take one
//! picture per packet, and a sender may split a picture over several PES
//! packets or put several in one. Sans-IO.
//!
//! A new access unit starts at the first of these after a picture's
//! slices (the coded data) have begun:
//!
//! - H.264 (ISO/IEC 14496-10 §7.4.1.2.3): an access unit delimiter, SPS,
//!   PPS, SEI, NAL types 14–18, or a slice with `first_mb_in_slice` 0;
//! - HEVC (ITU-T H.265 §7.4.2.4.4): an access unit delimiter, VPS, SPS,
//!   PPS, prefix SEI, NAL types 41–44 and 48–55, or a slice segment with
//!   `first_slice_segment_in_pic_flag` set;
//! - MPEG-2 video (ISO/IEC 13818-2 §6.2): a sequence header, GOP header or
//!   picture start code.
//!
//! A PES packet's PTS and DTS belong to the first access unit that starts
//! in it (ISO/IEC 13818-1 §2.4.3.7); others get none (the decoder and
//! [`crate::timing`] fill them in). A unit is complete when the next one
//! starts, so a picture leaves here when the next picture's data arrives.

/// The video codecs decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VideoKind {
    H264,
    Hevc,
    Mpeg2,
}

/// One coded picture and its timestamps (90 kHz ticks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessUnit {
    pub(crate) data: Vec<u8>,
    pub(crate) pts: Option<i64>,
    pub(crate) dts: Option<i64>,
}

/// The longest access unit kept: far above any picture at broadcast
/// rates; a longer run without a boundary is garbage, dropped.
pub(crate) const MAX_UNIT_LEN: usize = 8 << 20;

/// How a start code's unit relates to access units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Coded picture data.
    Picture { first: bool },
    /// Starts an access unit when it follows picture data.
    Prefix,
    /// Belongs to the access unit it is in.
    Other,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Splitter {
    kind: VideoKind,
    /// The unit being collected, from its first byte.
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for start codes.
    scanned: usize,
    /// Whether `buf` holds the start of a unit (else it waits for one).
    open: bool,
    /// Whether the unit has picture data yet.
    has_picture: bool,
    /// The timestamps of the unit in `buf`.
    pts: Option<i64>,
    dts: Option<i64>,
    /// The latest PES packet's timestamps, until a unit starts in it.
    fresh: Option<(Option<i64>, Option<i64>)>,
    /// Where in `buf` the latest PES packet's bytes begin.
    pes_start: usize,
    /// Bytes dropped: before the first unit, or in units over the limit.
    pub(crate) dropped_bytes: u64,
}

impl Splitter {
    pub(crate) fn new(kind: VideoKind) -> Splitter {
        Splitter {
            kind,
            buf: Vec::new(),
            scanned: 0,
            open: false,
            has_picture: false,
            pts: None,
            dts: None,
            fresh: None,
            pes_start: 0,
            dropped_bytes: 0,
        }
    }

    /// Forgets the partial unit: packets were lost.
    pub(crate) fn reset(&mut self) {
        self.dropped_bytes += self.buf.len() as u64;
        self.buf.clear();
        self.scanned = 0;
        self.open = false;
        self.has_picture = false;
        self.fresh = None;
        self.pes_start = 0;
    }

    /// Takes one PES packet's payload and its timestamps; appends every
    /// access unit it completes to `out`.
    pub(crate) fn push(
        &mut self,
        payload: &[u8],
        pts: Option<i64>,
        dts: Option<i64>,
        out: &mut Vec<AccessUnit>,
    ) {
        self.fresh = Some((pts, dts));
        self.pes_start = self.buf.len();
        self.buf.extend_from_slice(payload);
        self.scan(out);
        if self.buf.len() > MAX_UNIT_LEN {
            self.reset();
        }
    }

    /// The input ended: the unit being collected is complete (no next
    /// unit will start to end it), if it holds a picture.
    pub(crate) fn finish(&mut self, out: &mut Vec<AccessUnit>) {
        if self.open && self.has_picture {
            out.push(AccessUnit {
                data: std::mem::take(&mut self.buf),
                pts: self.pts,
                dts: self.dts,
            });
        }
        self.reset();
    }

    fn scan(&mut self, out: &mut Vec<AccessUnit>) {
        let mut at = self.scanned;
        while let Some(p) = find_start_code(&self.buf, at) {
            let Some(role) = self.role(&self.buf[p + 3..]) else {
                // The classifying bytes are in the next PES packet.
                self.scanned = p;
                return;
            };
            // Before the first unit only its first unit's start counts.
            let after_picture = self.has_picture || !self.open;
            let starts = match role {
                Role::Picture { first } => first && after_picture,
                Role::Prefix => after_picture,
                Role::Other => false,
            };
            let p = if starts {
                self.start_unit_at(p, out)
            } else {
                p
            };
            if self.open && matches!(role, Role::Picture { .. }) {
                self.has_picture = true;
            }
            at = p + 3;
        }
        // A start code may straddle the end: look at the last two bytes again.
        self.scanned = at.max(self.buf.len().saturating_sub(2));
    }

    /// Ends the unit before the start code at `p` (if one is open) and
    /// starts one there; returns where that start code is now.
    fn start_unit_at(&mut self, p: usize, out: &mut Vec<AccessUnit>) -> usize {
        // A 4-byte start code's leading zero goes with the new unit.
        let cut = if p > 0 && self.buf[p - 1] == 0 {
            p - 1
        } else {
            p
        };
        let rest = self.buf.split_off(cut);
        let done = std::mem::replace(&mut self.buf, rest);
        if self.open {
            out.push(AccessUnit {
                data: done,
                pts: self.pts,
                dts: self.dts,
            });
        } else {
            self.dropped_bytes += done.len() as u64;
        }
        // The latest PES packet's timestamps go to the first unit that
        // starts within its bytes.
        let (pts, dts) = if p >= self.pes_start {
            self.fresh.take().unwrap_or((None, None))
        } else {
            (None, None)
        };
        self.pes_start = self.pes_start.saturating_sub(cut);
        self.pts = pts;
        self.dts = dts;
        self.open = true;
        self.has_picture = false;
        p - cut
    }

    /// What the unit starting with `header` is; `None` if `header` is too
    /// short to tell.
    fn role(&self, header: &[u8]) -> Option<Role> {
        match self.kind {
            VideoKind::H264 => {
                let nal = header.first()? & 0x1F;
                Some(match nal {
                    1..=5 => Role::Picture {
                        first: header.get(1)? & 0x80 != 0,
                    },
                    6..=9 | 14..=18 => Role::Prefix,
                    _ => Role::Other,
                })
            }
            VideoKind::Hevc => {
                let nal = (header.first()? >> 1) & 0x3F;
                Some(match nal {
                    0..=31 => Role::Picture {
                        first: header.get(2)? & 0x80 != 0,
                    },
                    32..=35 | 39 | 41..=44 | 48..=55 => Role::Prefix,
                    _ => Role::Other,
                })
            }
            VideoKind::Mpeg2 => Some(match *header.first()? {
                0x01..=0xAF => Role::Picture { first: false },
                0x00 | 0xB3 | 0xB8 => Role::Prefix,
                _ => Role::Other,
            }),
        }
    }
}

/// The position of the next `00 00 01` at or after `from`.
fn find_start_code(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 3 <= buf.len() {
        match buf[i + 2] {
            1 if buf[i] == 0 && buf[i + 1] == 0 => return Some(i),
            // The third byte is not 0 or 1: no start code begins at i,
            // i + 1 or i + 2.
            b if b > 1 => i += 3,
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nal(header: &[u8], body: usize) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 1];
        v.extend_from_slice(header);
        v.extend(std::iter::repeat_n(0x55, body));
        v
    }

    /// AUD, SPS, PPS, an IDR slice in two NAL units.
    fn h264_idr() -> Vec<u8> {
        [
            nal(&[0x09, 0xF0], 0),
            nal(&[0x67, 0x64], 10),
            nal(&[0x68, 0xEE], 3),
            nal(&[0x65, 0x88], 500),
            nal(&[0x65, 0x10], 300), // first_mb_in_slice != 0
        ]
        .concat()
    }

    fn h264_p() -> Vec<u8> {
        [nal(&[0x09, 0xF0], 0), nal(&[0x41, 0x9A], 200)].concat()
    }

    fn units(kind: VideoKind, pes: &[(Vec<u8>, Option<i64>)]) -> Vec<AccessUnit> {
        let mut s = Splitter::new(kind);
        let mut out = Vec::new();
        for (payload, pts) in pes {
            s.push(payload, *pts, None, &mut out);
        }
        out
    }

    #[test]
    fn one_picture_per_pes_comes_out_when_the_next_starts() {
        let pes = vec![
            (h264_idr(), Some(100)),
            (h264_p(), Some(200)),
            (h264_p(), Some(300)),
        ];
        let out = units(VideoKind::H264, &pes);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].data, h264_idr());
        assert_eq!(out[0].pts, Some(100));
        assert_eq!(out[1].data, h264_p());
        assert_eq!(out[1].pts, Some(200));
    }

    #[test]
    fn pictures_split_over_pes_packets_and_packed_together() {
        let idr = h264_idr();
        let two = [h264_p(), h264_p()].concat();
        // The IDR cut inside a start code; then two pictures in one PES.
        let pes = vec![
            (idr[..301].to_vec(), Some(100)),
            (idr[301..].to_vec(), None),
            (two, Some(200)),
            (h264_p(), Some(400)),
        ];
        let out = units(VideoKind::H264, &pes);
        let lens: Vec<usize> = out.iter().map(|u| u.data.len()).collect();
        assert_eq!(lens, [idr.len(), h264_p().len(), h264_p().len()]);
        let pts: Vec<Option<i64>> = out.iter().map(|u| u.pts).collect();
        assert_eq!(pts, [Some(100), Some(200), None]);
        for cut in 1..idr.len() {
            let pes = vec![
                (idr[..cut].to_vec(), Some(1)),
                (idr[cut..].to_vec(), None),
                (h264_p(), Some(2)),
            ];
            let out = units(VideoKind::H264, &pes);
            assert_eq!(out.len(), 1, "cut at {cut}");
            assert_eq!(out[0].data, idr, "cut at {cut}");
        }
    }

    #[test]
    fn the_end_of_the_input_completes_the_last_picture() {
        let mut s = Splitter::new(VideoKind::H264);
        let mut out = Vec::new();
        s.push(&h264_idr(), Some(100), None, &mut out);
        s.push(&h264_p(), Some(200), None, &mut out);
        assert_eq!(out.len(), 1);
        s.finish(&mut out);
        assert_eq!(out.len(), 2);
        assert_eq!((out[1].data.clone(), out[1].pts), (h264_p(), Some(200)));
        // Nothing is held after the end, and a unit without a picture is
        // not one.
        s.finish(&mut out);
        s.push(&nal(&[0x09, 0xF0], 0), Some(300), None, &mut out);
        s.finish(&mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn data_before_the_first_unit_is_dropped() {
        let mut s = Splitter::new(VideoKind::H264);
        let mut out = Vec::new();
        // The tail of a picture joined mid-stream: a slice that is not first.
        s.push(&nal(&[0x41, 0x10], 50), Some(1), None, &mut out);
        s.push(&h264_p(), Some(2), None, &mut out);
        s.push(&h264_p(), Some(3), None, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].pts, Some(2));
        assert_eq!(s.dropped_bytes, 56);
    }

    #[test]
    fn hevc_and_mpeg2_boundaries() {
        let hevc_pic = |irap: bool| {
            [
                nal(&[0x46, 0x01, 0x50], 0), // AUD (35)
                nal(&[if irap { 0x26 } else { 0x02 }, 0x01, 0xAF], 100),
                nal(&[0x02, 0x01, 0x20], 50), // a later slice segment
            ]
            .concat()
        };
        let pes = vec![
            ([hevc_pic(true), hevc_pic(false)].concat(), Some(10)),
            (hevc_pic(false), Some(20)),
        ];
        let out = units(VideoKind::Hevc, &pes);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].data, hevc_pic(true));
        assert_eq!(out[1].data, hevc_pic(false));

        let start = |code: u8, body: usize| {
            let mut v = vec![0, 0, 1, code];
            v.extend(std::iter::repeat_n(0x22, body));
            v
        };
        let i_picture = [
            start(0xB3, 8),
            start(0xB5, 6),
            start(0xB8, 4),
            start(0x00, 4),
            start(0x01, 90),
            start(0x02, 90),
        ]
        .concat();
        let b_picture = [start(0x00, 4), start(0x01, 60)].concat();
        let pes = vec![
            (i_picture.clone(), Some(1)),
            (b_picture.clone(), Some(2)),
            (b_picture.clone(), Some(3)),
        ];
        let out = units(VideoKind::Mpeg2, &pes);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].data, i_picture);
        assert_eq!(out[1].data, b_picture);
    }

    #[test]
    fn garbage_is_bounded() {
        let mut s = Splitter::new(VideoKind::H264);
        let mut out = Vec::new();
        s.push(&h264_p(), Some(1), None, &mut out);
        let junk = vec![0x55; 1 << 20];
        for _ in 0..10 {
            s.push(&junk, None, None, &mut out);
        }
        assert!(s.buf.len() <= MAX_UNIT_LEN);
        assert!(out.is_empty());
    }

    /// Any bytes, cut anywhere: no panic, and what comes out is bounded by
    /// what went in.
    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for kind in [VideoKind::H264, VideoKind::Hevc, VideoKind::Mpeg2] {
            let mut s = Splitter::new(kind);
            let mut out = Vec::new();
            let mut fed = 0;
            for _ in 0..2_000 {
                let len = (next() % 300) as usize;
                // Half zeros and ones, so start codes are common.
                let payload: Vec<u8> = (0..len)
                    .map(|_| match next() % 4 {
                        0 | 1 => 0,
                        2 => 1,
                        _ => next() as u8,
                    })
                    .collect();
                fed += payload.len();
                s.push(&payload, Some(next() as i64 >> 40), None, &mut out);
            }
            let emitted: usize = out.iter().map(|u| u.data.len()).sum();
            assert!(emitted <= fed);
            assert!(!out.is_empty(), "{kind:?}: random start codes make units");
        }
    }

    #[test]
    fn start_codes_are_found_wherever_they_are() {
        let buf = [0, 0, 0, 1, 9, 0, 0, 2, 0, 0, 1];
        assert_eq!(find_start_code(&buf, 0), Some(1));
        assert_eq!(find_start_code(&buf, 2), Some(8));
        assert_eq!(find_start_code(&buf, 9), None);
    }
}
