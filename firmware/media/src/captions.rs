//! Closed captions as they travel with a picture: the cc_data constructs
//! of CEA-708 (ATSC A/53 Part 4), each three bytes: a marker and type
//! byte (`1111 1` reserved bits, cc_valid, cc_type) and two data bytes.
//! CEA-608 captions ride in the same triplets (cc_type 0 and 1).
//!
//! One picture carries at most [`Captions::MAX_TRIPLETS`] (cc_count is
//! five bits). A fixed array, so that a frame-ring slot holds its
//! captions without an allocation per frame.

/// one_bit and reserved '1111' at the top of a triplet's first byte.
const MARKER_BITS: u8 = 0xF8;

/// The cc_data triplets of one picture, in order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Captions {
    bytes: [u8; Captions::MAX_TRIPLETS * 3],
    triplets: u8,
}

impl Captions {
    /// cc_count is five bits.
    pub const MAX_TRIPLETS: usize = 31;

    /// No captions.
    pub const fn none() -> Captions {
        Captions {
            bytes: [0; Captions::MAX_TRIPLETS * 3],
            triplets: 0,
        }
    }

    /// The whole triplets of `cc_data` (as FFmpeg's A53 side data holds
    /// them), the first [`Captions::MAX_TRIPLETS`] of them; a partial
    /// triplet at the end is not one.
    pub fn from_cc_data(cc_data: &[u8]) -> Captions {
        let mut captions = Captions::none();
        for triplet in cc_data.chunks_exact(3) {
            if !captions.push([triplet[0], triplet[1], triplet[2]]) {
                break;
            }
        }
        captions
    }

    /// Appends one triplet; false (and nothing added) when full. Its
    /// marker bits (one_bit and the four reserved bits) are set, as A/53
    /// writes them whatever the source sent, so no run of caption bytes
    /// can look like a start code.
    pub fn push(&mut self, triplet: [u8; 3]) -> bool {
        let at = usize::from(self.triplets) * 3;
        let Some(room) = self.bytes.get_mut(at..at + 3) else {
            return false;
        };
        room.copy_from_slice(&[triplet[0] | MARKER_BITS, triplet[1], triplet[2]]);
        self.triplets += 1;
        true
    }

    pub fn is_empty(&self) -> bool {
        self.triplets == 0
    }

    /// cc_count.
    pub fn count(&self) -> usize {
        usize::from(self.triplets)
    }

    /// The triplets back to back.
    pub fn cc_data(&self) -> &[u8] {
        &self.bytes[..self.count() * 3]
    }

    pub fn triplets(&self) -> impl Iterator<Item = [u8; 3]> + '_ {
        self.cc_data().chunks_exact(3).map(|t| [t[0], t[1], t[2]])
    }
}

impl Default for Captions {
    fn default() -> Captions {
        Captions::none()
    }
}

impl std::fmt::Debug for Captions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Captions")
            .field("cc_data", &self.cc_data())
            .finish()
    }
}

/// Captions on their way to a picture: a picture's own, and those of
/// pictures dropped or skipped before it (a frame-rate conversion, a full
/// queue), so that no caption is lost with a picture. Bounded: past
/// [`CaptionBacklog::MAX_TRIPLETS`] the oldest go, counted.
#[derive(Debug, Default)]
pub struct CaptionBacklog {
    triplets: std::collections::VecDeque<[u8; 3]>,
    dropped: u64,
}

impl CaptionBacklog {
    /// Four pictures' worth: a picture kept in a 4:1 rate conversion.
    pub const MAX_TRIPLETS: usize = 4 * Captions::MAX_TRIPLETS;

    /// Queues a picture's captions after those waiting.
    pub fn add(&mut self, captions: &Captions) {
        self.triplets.extend(captions.triplets());
        let over = self
            .triplets
            .len()
            .saturating_sub(CaptionBacklog::MAX_TRIPLETS);
        self.triplets.drain(..over);
        self.dropped += over as u64;
    }

    /// The captions for the next picture, oldest first: everything
    /// waiting if it fits one picture, else what carries data (padding
    /// dropped), as much as fits.
    pub fn take(&mut self) -> Captions {
        if self.triplets.len() > Captions::MAX_TRIPLETS {
            self.triplets.retain(|t| cc_valid(*t));
        }
        let mut captions = Captions::none();
        while let Some(&triplet) = self.triplets.front() {
            if !captions.push(triplet) {
                break;
            }
            self.triplets.pop_front();
        }
        captions
    }

    /// Triplets that carried data or padding and were dropped for want of
    /// room.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Whether a triplet carries caption data (cc_valid, bit 2 of its first
/// byte); the others are padding a sender may leave out.
pub fn cc_valid(triplet: [u8; 3]) -> bool {
    triplet[0] & 0x04 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_triplets_up_to_thirty_one() {
        let c = Captions::from_cc_data(&[0xFC, 0xC8, 0xE5, 0xFD, 0x80]);
        assert_eq!(c.cc_data(), &[0xFC, 0xC8, 0xE5]);
        let many = [0xFA, 0, 0].repeat(40);
        let c = Captions::from_cc_data(&many);
        assert_eq!(c.count(), 31);
        assert!(!Captions::from_cc_data(&many).clone().push([0xFC, 0, 0]));
    }

    #[test]
    fn marker_bits_are_set_whatever_came() {
        let c = Captions::from_cc_data(&[0x04, 0x00, 0x01]);
        assert_eq!(c.cc_data(), &[0xFC, 0x00, 0x01]);
    }

    #[test]
    fn a_skipped_pictures_captions_go_with_the_next_padding_first_out() {
        let mut backlog = CaptionBacklog::default();
        let data = [0xFC, 0x94, 0x20];
        let padding = [0xFA, 0x00, 0x00];
        let picture = Captions::from_cc_data(&[&data[..], &padding.repeat(19)].concat());
        backlog.add(&picture);
        assert_eq!(backlog.take(), picture, "one picture passes as it came");
        backlog.add(&picture);
        backlog.add(&picture);
        let merged = backlog.take();
        assert_eq!(merged.cc_data(), [data, data].concat());
        assert!(backlog.take().is_empty());
    }

    #[test]
    fn the_backlog_is_bounded() {
        let mut backlog = CaptionBacklog::default();
        let full = Captions::from_cc_data(&[0xFC, 0x94, 0x20].repeat(31));
        for _ in 0..6 {
            backlog.add(&full);
        }
        assert_eq!(backlog.dropped(), 2 * 31);
        let mut taken = 0;
        while !backlog.take().is_empty() {
            taken += 1;
        }
        assert_eq!(taken, 4);
    }

    #[test]
    fn padding_is_not_valid_data() {
        assert!(cc_valid([0xFC, 0xC8, 0xE5]));
        assert!(!cc_valid([0xFA, 0x00, 0x00]));
    }
}
