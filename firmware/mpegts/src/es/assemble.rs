//! PES reassembly for the one video and one audio PID the demuxer
//! follows, with the continuity check, as `demux::Demuxer` does it for
//! every PID, plus one thing it cannot do: end an unbounded PES at the
//! packet that stuffs its tail, when asked to.

use crate::demux::{PesUnit, MAX_PES_LEN};
use crate::packet::TsPacket;
use crate::pes::PesHeaderRepr;

/// What one packet did to its PID's PES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The continuity counter jumped: the PES in progress was dropped.
    Continuity {
        expected: u8,
        found: u8,
    },
    Pes(PesUnit),
    /// A PES with a bad header, cut short, or longer than [`MAX_PES_LEN`].
    Malformed,
    /// Payload went on after the stuffing that ended a PES: this muxer
    /// stuffs mid-PES, so ending at stuffing is now off for the PID.
    StuffedMidPes,
}

#[derive(Debug)]
pub(super) struct Assembler {
    pid: u16,
    last_cc: Option<u8>,
    buffer: Vec<u8>,
    open: bool,
    random_access: bool,
    /// End an unbounded PES at a packet with adaptation-field stuffing.
    end_at_stuffing: bool,
    /// The last PES ended at stuffing, and no packet has followed.
    ended_at_stuffing: bool,
}

impl Assembler {
    pub fn new(pid: u16, end_at_stuffing: bool) -> Assembler {
        Assembler {
            pid,
            last_cc: None,
            buffer: Vec::new(),
            open: false,
            random_access: false,
            end_at_stuffing,
            ended_at_stuffing: false,
        }
    }

    /// Takes one packet of this PID (already checked) and appends what it
    /// completed to `out`.
    pub fn push(&mut self, packet: &TsPacket<&[u8]>, out: &mut Vec<Outcome>) {
        let cc = packet.continuity_counter();
        let payload = packet.has_payload();
        if let Some(last) = self.last_cc.filter(|_| !packet.discontinuity()) {
            if payload && cc == last {
                return; // a duplicate packet (§2.4.3.3)
            }
            let expected = if payload { (last + 1) & 0x0F } else { last };
            if cc != expected {
                self.abandon();
                out.push(Outcome::Continuity {
                    expected,
                    found: cc,
                });
            }
        }
        self.last_cc = Some(cc);
        if !payload {
            return;
        }
        if packet.payload_unit_start() {
            if self.open {
                self.end(out);
            }
            self.open = true;
            self.random_access = packet.random_access();
            self.buffer.clear();
        }
        if !self.open {
            // Joined mid-PES, or after a loss: wait for a start. After a
            // PES ended at stuffing, though, more of it means the guess
            // was wrong; the unit went out cut short, the next ones won't.
            if std::mem::take(&mut self.ended_at_stuffing) && !packet.payload_unit_start() {
                self.end_at_stuffing = false;
                out.push(Outcome::StuffedMidPes);
            }
            return;
        }
        self.ended_at_stuffing = false;
        self.buffer.extend_from_slice(packet.payload());
        let bounded = match self.buffer.get(4..6) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => 0,
        };
        if bounded > 0 && self.buffer.len() >= 6 + bounded {
            self.buffer.truncate(6 + bounded);
            self.end(out);
        } else if bounded == 0 && self.end_at_stuffing && has_stuffing(packet) {
            self.end(out);
            self.ended_at_stuffing = true;
        } else if self.buffer.len() > MAX_PES_LEN {
            self.abandon();
            out.push(Outcome::Malformed);
        }
    }

    /// The stream ended: an unbounded PES in progress is complete, a
    /// bounded one cut short.
    pub fn finish(&mut self, out: &mut Vec<Outcome>) {
        if self.open {
            self.end(out);
        }
    }

    fn abandon(&mut self) {
        self.open = false;
        self.ended_at_stuffing = false;
        self.buffer.clear();
    }

    fn end(&mut self, out: &mut Vec<Outcome>) {
        self.open = false;
        let mut bytes = std::mem::take(&mut self.buffer);
        let parsed = PesHeaderRepr::parse(&bytes).ok().filter(|(header, _)| {
            let length = usize::from(header.packet_length);
            length == 0 || bytes.len() == 6 + length
        });
        let Some((header, payload_at)) = parsed else {
            return out.push(Outcome::Malformed);
        };
        let payload = bytes.split_off(payload_at);
        out.push(Outcome::Pes(PesUnit {
            pid: self.pid,
            header,
            payload,
            random_access: self.random_access,
        }));
    }
}

/// Whether a packet's adaptation field holds stuffing bytes: a muxer that
/// fills every packet of a PES but the last (ours, ffmpeg's) stuffs only
/// where a PES ends. A lone length byte of 0 is one byte of stuffing.
fn has_stuffing(packet: &TsPacket<&[u8]>) -> bool {
    if !packet.has_adaptation() {
        return false;
    }
    let field_len = packet.adaptation_len();
    let bytes = packet.clone().into_inner();
    let Some(&flags) = bytes.get(5).filter(|_| field_len > 0) else {
        return true;
    };
    // The flags byte, then each optional field the flags announce
    // (§2.4.3.4): PCR, OPCR, splice_countdown, private data, extension.
    let mut used = 1 + 6 * usize::from(flags & 0x10 != 0) + 6 * usize::from(flags & 0x08 != 0);
    used += usize::from(flags & 0x04 != 0);
    for flag in [0x02, 0x01] {
        if flags & flag != 0 {
            let Some(&len) = bytes.get(5 + used) else {
                return false;
            };
            used += 1 + usize::from(len);
        }
    }
    used < field_len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{AdaptationRepr, TsHeaderRepr, PACKET_LEN};

    fn packet(start: bool, cc: u8, random_access: bool, payload: &[u8]) -> [u8; PACKET_LEN] {
        let header = TsHeaderRepr {
            pid: 0x100,
            payload_unit_start: start,
            continuity_counter: cc,
            adaptation: AdaptationRepr {
                random_access,
                ..AdaptationRepr::default()
            },
        };
        let mut packet = [0u8; PACKET_LEN];
        header.emit(payload, &mut packet);
        packet
    }

    fn push(a: &mut Assembler, bytes: &[u8; PACKET_LEN]) -> Vec<Outcome> {
        let mut out = Vec::new();
        a.push(&TsPacket::new_checked(&bytes[..]).unwrap(), &mut out);
        out
    }

    /// An unbounded video PES header without timestamps, then `body`.
    fn pes(body: &[u8]) -> Vec<u8> {
        [&[0, 0, 1, 0xE0, 0, 0, 0x80, 0, 0][..], body].concat()
    }

    #[test]
    fn stuffing_ends_an_unbounded_pes_only_when_asked() {
        // 182 bytes: exactly fills a packet with random_access, no stuffing.
        let first = pes(&[7; 173]);
        let second = [8u8; 100];
        for end_at_stuffing in [false, true] {
            let mut a = Assembler::new(0x100, end_at_stuffing);
            assert!(push(&mut a, &packet(true, 0, true, &first)).is_empty());
            let out = push(&mut a, &packet(false, 1, false, &second));
            assert_eq!(out.len(), usize::from(end_at_stuffing));
            let next = push(&mut a, &packet(true, 2, false, &pes(&[9])));
            let done = if end_at_stuffing { &out } else { &next };
            let Outcome::Pes(unit) = &done[0] else {
                panic!("{done:?}")
            };
            assert_eq!(unit.payload.len(), 173 + 100);
            assert!(unit.random_access);
        }
    }

    #[test]
    fn stuffing_mid_pes_turns_the_option_off() {
        let mut a = Assembler::new(0x100, true);
        push(&mut a, &packet(true, 0, false, &pes(&[1; 100]))); // stuffed
        let out = push(&mut a, &packet(false, 1, false, &[2; 184]));
        assert_eq!(out, [Outcome::StuffedMidPes]);
        // From now on units end at the next start only.
        assert!(push(&mut a, &packet(true, 2, false, &pes(&[3; 50]))).is_empty());
        assert!(push(&mut a, &packet(false, 3, false, &[4; 20])).is_empty());
        let out = push(&mut a, &packet(true, 4, false, &pes(&[5])));
        let [Outcome::Pes(unit)] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(unit.payload, [[3; 50].as_slice(), &[4; 20]].concat());
    }

    #[test]
    fn a_pcr_alone_is_not_stuffing() {
        let header = TsHeaderRepr {
            pid: 0x100,
            payload_unit_start: false,
            continuity_counter: 0,
            adaptation: AdaptationRepr {
                pcr: Some(makara_media::Pcr27M(5)),
                ..AdaptationRepr::default()
            },
        };
        let mut bytes = [0u8; PACKET_LEN];
        header.emit(&[1; 176], &mut bytes);
        assert!(!has_stuffing(&TsPacket::new_checked(&bytes[..]).unwrap()));
        header.emit(&[1; 175], &mut bytes);
        assert!(has_stuffing(&TsPacket::new_checked(&bytes[..]).unwrap()));
        let plain = packet(false, 0, false, &[1; 183]); // length byte 0
        assert!(has_stuffing(&TsPacket::new_checked(&plain[..]).unwrap()));
    }

    #[test]
    fn a_gap_drops_the_pes_in_progress() {
        let mut a = Assembler::new(0x100, false);
        push(&mut a, &packet(true, 0, false, &pes(&[1; 100])));
        let out = push(&mut a, &packet(false, 2, false, &[2; 100]));
        assert_eq!(
            out,
            [Outcome::Continuity {
                expected: 1,
                found: 2
            }]
        );
        let mut out = Vec::new();
        a.finish(&mut out);
        assert!(out.is_empty(), "nothing was open after the gap");
    }
}
