//! The project's own transport stream parser: push packets in, poll
//! events out.
//!
//! It follows one program the way a receiver does: PID 0 carries the PAT,
//! the PAT names the PMT PIDs, each PMT names the elementary PIDs. PSI
//! sections are reassembled across packets and checked (CRC included);
//! PES packets are reassembled per PID and end when their
//! PES_packet_length is reached or, if it is 0, at the next PES start
//! (or [`Demuxer::finish`]). Continuity counters are checked on every PID
//! but the null PID, adaptation-only packets included.
//!
//! It is built for tests and diagnostics, so it favours telling over
//! coping: every problem is an event. No input makes it panic, and its
//! memory is bounded: at most [`MAX_PES_LEN`] per PID.

use std::collections::{BTreeMap, VecDeque};

use makara_media::Pcr27M;

use crate::packet::{TsPacket, NULL_PID, PAT_PID};
use crate::pes::PesHeaderRepr;
use crate::pmt::PmtRepr;
use crate::psi::{section_len, PatRepr, PsiSection, MAX_SECTION_LEN, TABLE_ID_PAT, TABLE_ID_PMT};

/// The longest PES packet reassembled; longer ones are reported malformed.
pub const MAX_PES_LEN: usize = 8 << 20;

/// Where a malformed piece of the stream was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// A packet that is not 188 well-framed bytes, or flags a transport error.
    Packet,
    /// A PSI section with a bad length, CRC or table.
    Section,
    /// A PES packet with a bad header, or cut short.
    Pes,
}

/// One whole PES packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PesUnit {
    pub pid: u16,
    pub header: PesHeaderRepr,
    /// The bytes after the PES header.
    pub payload: Vec<u8>,
    /// The random_access_indicator of the packet the PES started in.
    pub random_access: bool,
}

/// Something the parser found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemuxEvent {
    Pat(PatRepr),
    Pmt {
        pid: u16,
        pmt: PmtRepr,
    },
    Pes(PesUnit),
    Pcr {
        pid: u16,
        pcr: Pcr27M,
    },
    /// A continuity_counter that is not the last one + 1 (payload packets)
    /// or the last one (adaptation-only packets): packets were lost. Any
    /// partial section or PES on the PID is discarded.
    Continuity {
        pid: u16,
        expected: u8,
        found: u8,
    },
    Malformed {
        pid: Option<u16>,
        layer: Layer,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Role {
    #[default]
    Unknown,
    Psi,
    Pes,
}

#[derive(Debug, Default)]
struct PidState {
    role: Role,
    last_cc: Option<u8>,
    /// The section or PES being reassembled; empty when none.
    buffer: Vec<u8>,
    open: bool,
    random_access: bool,
}

/// A sans-IO demultiplexer. See the module documentation.
#[derive(Debug, Default)]
pub struct Demuxer {
    pids: BTreeMap<u16, PidState>,
    events: VecDeque<DemuxEvent>,
}

impl Demuxer {
    pub fn new() -> Demuxer {
        Demuxer::default()
    }

    /// Takes one packet of any length; a length other than 188 is malformed.
    pub fn push(&mut self, bytes: &[u8]) {
        let packet = match TsPacket::new_checked(bytes) {
            Ok(packet) if !packet.transport_error() => packet,
            _ => return self.malformed(None, Layer::Packet),
        };
        let pid = packet.pid();
        if let Some(pcr) = packet.pcr() {
            self.events.push_back(DemuxEvent::Pcr { pid, pcr });
        }
        if pid == NULL_PID {
            return;
        }
        let state = self.pids.entry(pid).or_default();
        let cc = packet.continuity_counter();
        // Payload packets count up by one; adaptation-only packets repeat
        // the last count (§2.4.3.3). A payload packet may come twice.
        let payload = packet.has_payload();
        if let Some(last) = state.last_cc.filter(|_| !packet.discontinuity()) {
            if payload && cc == last {
                return;
            }
            let expected = if payload { (last + 1) & 0x0F } else { last };
            if cc != expected {
                state.open = false;
                state.buffer.clear();
                let event = DemuxEvent::Continuity {
                    pid,
                    expected,
                    found: cc,
                };
                self.events.push_back(event);
            }
        }
        state.last_cc = Some(cc);
        if !payload {
            return;
        }
        let role = if pid == PAT_PID {
            Role::Psi
        } else {
            state.role
        };
        match role {
            Role::Psi => self.push_psi(pid, packet.payload_unit_start(), packet.payload()),
            Role::Pes => {
                let start = packet.payload_unit_start().then(|| packet.random_access());
                self.push_pes(pid, start, packet.payload());
            }
            Role::Unknown => {}
        }
    }

    /// The next event, if any.
    pub fn poll(&mut self) -> Option<DemuxEvent> {
        self.events.pop_front()
    }

    /// Ends the stream: every PES still open is complete if it was
    /// unbounded, and cut short if not.
    pub fn finish(&mut self) {
        let open: Vec<u16> = self
            .pids
            .iter()
            .filter(|(_, s)| s.open)
            .map(|(&p, _)| p)
            .collect();
        for pid in open {
            if self.pids.get(&pid).is_some_and(|s| s.role == Role::Pes) {
                self.end_pes(pid);
            }
        }
    }

    fn malformed(&mut self, pid: Option<u16>, layer: Layer) {
        self.events.push_back(DemuxEvent::Malformed { pid, layer });
    }

    fn state(&mut self, pid: u16) -> &mut PidState {
        self.pids.entry(pid).or_default()
    }

    /// Gives a PID the role a PAT or PMT says it has. What was half
    /// reassembled under another role is meaningless under this one.
    fn set_role(&mut self, pid: u16, role: Role) {
        let state = self.state(pid);
        if state.role != role {
            state.role = role;
            state.open = false;
            state.buffer.clear();
        }
    }

    /// Section reassembly (§2.4.4.2): in a packet that starts a section,
    /// pointer_field says where, after the tail of the previous section.
    fn push_psi(&mut self, pid: u16, unit_start: bool, payload: &[u8]) {
        let mut data = payload;
        if unit_start {
            let Some((&pointer, rest)) = payload.split_first() else {
                return self.malformed(Some(pid), Layer::Section);
            };
            let Some(tail) = rest.get(..usize::from(pointer)) else {
                self.state(pid).open = false;
                return self.malformed(Some(pid), Layer::Section);
            };
            if self.state(pid).open && !self.state(pid).buffer.is_empty() {
                self.feed_psi(pid, tail);
                if self.state(pid).open {
                    self.malformed(Some(pid), Layer::Section); // the tail did not finish it
                }
            }
            let state = self.state(pid);
            state.buffer.clear();
            state.open = true;
            data = &rest[usize::from(pointer)..];
        }
        if self.state(pid).open {
            self.feed_psi(pid, data);
        }
    }

    /// Adds bytes to the open section and handles every section they
    /// finish. A section can start right after another in the same
    /// packet; once the packet's sections end, only a new start reopens.
    fn feed_psi(&mut self, pid: u16, bytes: &[u8]) {
        self.state(pid).buffer.extend_from_slice(bytes);
        loop {
            let state = self.state(pid);
            if state.buffer.first() == Some(&0xFF) {
                state.buffer.clear(); // stuffing up to the end of the packet
                state.open = false;
                return;
            }
            let Some(len) = section_len(&state.buffer) else {
                return; // the rest of the header is in the next packet
            };
            if len > MAX_SECTION_LEN {
                state.buffer.clear();
                state.open = false;
                return self.malformed(Some(pid), Layer::Section);
            }
            if state.buffer.len() < len {
                return;
            }
            let rest = state.buffer.split_off(len);
            let section = std::mem::replace(&mut state.buffer, rest);
            state.open = !state.buffer.is_empty();
            self.section(pid, &section);
        }
    }

    fn section(&mut self, pid: u16, bytes: &[u8]) {
        let Ok(section) = PsiSection::new_checked(bytes) else {
            return self.malformed(Some(pid), Layer::Section);
        };
        let event = match section.table_id() {
            TABLE_ID_PAT if pid == PAT_PID => PatRepr::parse(&section).map(|pat| {
                for program in pat.programs.iter().filter(|p| p.program_number != 0) {
                    self.set_role(program.pid, Role::Psi);
                }
                DemuxEvent::Pat(pat)
            }),
            TABLE_ID_PMT => PmtRepr::parse(&section).map(|pmt| {
                for stream in &pmt.streams {
                    self.set_role(stream.pid, Role::Pes);
                }
                DemuxEvent::Pmt { pid, pmt }
            }),
            _ => return, // tables we do not follow
        };
        match event {
            Ok(event) => self.events.push_back(event),
            Err(_) => self.malformed(Some(pid), Layer::Section),
        }
    }

    /// PES reassembly. `start` is the random_access_indicator of a packet
    /// that starts a PES, `None` for a continuation.
    fn push_pes(&mut self, pid: u16, start: Option<bool>, payload: &[u8]) {
        if let Some(random_access) = start {
            if self.state(pid).open {
                self.end_pes(pid);
            }
            let state = self.state(pid);
            state.open = true;
            state.random_access = random_access;
            state.buffer.clear();
        }
        let state = self.state(pid);
        if !state.open {
            return; // joined mid-PES, or after an error: wait for a start
        }
        state.buffer.extend_from_slice(payload);
        let bounded = match state.buffer.get(4..6) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => 0,
        };
        if bounded > 0 && state.buffer.len() >= 6 + bounded {
            state.buffer.truncate(6 + bounded);
            self.end_pes(pid);
        } else if state.buffer.len() > MAX_PES_LEN {
            state.open = false;
            state.buffer.clear();
            self.malformed(Some(pid), Layer::Pes);
        }
    }

    /// Closes the open PES on `pid` and reports it.
    fn end_pes(&mut self, pid: u16) {
        let state = self.state(pid);
        state.open = false;
        let mut bytes = std::mem::take(&mut state.buffer);
        let random_access = state.random_access;
        let parsed = PesHeaderRepr::parse(&bytes).ok().filter(|(header, _)| {
            let length = usize::from(header.packet_length);
            length == 0 || bytes.len() == 6 + length
        });
        let Some((header, payload_at)) = parsed else {
            return self.malformed(Some(pid), Layer::Pes);
        };
        let payload = bytes.split_off(payload_at);
        let unit = PesUnit {
            pid,
            header,
            payload,
            random_access,
        };
        self.events.push_back(DemuxEvent::Pes(unit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{AdaptationRepr, TsHeaderRepr, BODY_LEN, PACKET_LEN};
    use crate::psi::{PatProgram, PatRepr};

    fn packet(pid: u16, start: bool, cc: u8, payload: &[u8]) -> [u8; PACKET_LEN] {
        let header = TsHeaderRepr {
            pid,
            payload_unit_start: start,
            continuity_counter: cc,
            adaptation: AdaptationRepr::default(),
        };
        let mut packet = [0u8; PACKET_LEN];
        header.emit(payload, &mut packet);
        packet
    }

    fn pat(version: u8, pmt_pid: u16) -> Vec<u8> {
        let repr = PatRepr {
            transport_stream_id: 7,
            version,
            programs: vec![PatProgram {
                program_number: 1,
                pid: pmt_pid,
            }],
        };
        let mut bytes = vec![0; repr.buffer_len()];
        repr.emit(&mut bytes);
        bytes
    }

    fn pmt(info_len: usize) -> (PmtRepr, Vec<u8>) {
        let repr = PmtRepr {
            program_number: 1,
            version: 0,
            pcr_pid: 0x100,
            // Private descriptors (tag 0x80) padding the loop to `info_len`.
            program_info: (0..info_len)
                .map(|i| if i % 10 == 0 { 0x80 } else { 8 })
                .collect(),
            streams: vec![crate::pmt::PmtStream {
                stream_type: 0x1B,
                pid: 0x100,
                es_info: vec![],
            }],
        };
        let mut bytes = vec![0; repr.buffer_len()];
        repr.emit(&mut bytes);
        (repr, bytes)
    }

    fn all(demuxer: &mut Demuxer) -> Vec<DemuxEvent> {
        std::iter::from_fn(|| demuxer.poll()).collect()
    }

    /// pointer_field 0, the section, 0xFF up to the end of the payload.
    fn start(section: &[u8]) -> Vec<u8> {
        let mut payload = vec![0];
        payload.extend_from_slice(section);
        payload.resize(BODY_LEN, 0xFF);
        payload
    }

    #[test]
    fn a_section_spans_packets_and_its_tail_precedes_the_next() {
        let mut d = Demuxer::new();
        d.push(&packet(0, true, 0, &start(&pat(0, 0x1000))));
        let (repr, section) = pmt(400);
        assert!(section.len() > 2 * BODY_LEN);
        // Packet 1: the first 183 bytes. Packet 2: the next 184. Packet 3
        // starts a new section, so its pointer_field skips the tail.
        d.push(&packet(
            0x1000,
            true,
            0,
            &[&[0][..], &section[..183]].concat(),
        ));
        d.push(&packet(0x1000, false, 1, &section[183..367]));
        let tail = &section[367..];
        let mut third = vec![tail.len() as u8];
        third.extend_from_slice(tail);
        let room = BODY_LEN - third.len();
        third.extend_from_slice(&section[..room]); // a new copy begins
        d.push(&packet(0x1000, true, 2, &third));
        let events = all(&mut d);
        assert!(matches!(events[0], DemuxEvent::Pat(_)));
        assert_eq!(
            events[1],
            DemuxEvent::Pmt {
                pid: 0x1000,
                pmt: repr
            }
        );
        assert_eq!(events.len(), 2, "the second copy is still incomplete");
    }

    #[test]
    fn two_sections_in_one_packet() {
        let mut d = Demuxer::new();
        let both = [pat(0, 0x1000), pat(1, 0x1001)].concat();
        d.push(&packet(0, true, 0, &start(&both)));
        let versions: Vec<u8> = all(&mut d)
            .into_iter()
            .filter_map(|e| {
                if let DemuxEvent::Pat(p) = e {
                    Some(p.version)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(versions, [0, 1]);
    }

    #[test]
    fn continuity_errors_are_reported_and_duplicates_ignored() {
        let mut d = Demuxer::new();
        let payload = start(&pat(0, 0x1000));
        for cc in [14, 15, 15, 0, 2] {
            d.push(&packet(0, true, cc, &payload));
        }
        let events = all(&mut d);
        let pats = events
            .iter()
            .filter(|e| matches!(e, DemuxEvent::Pat(_)))
            .count();
        assert_eq!(pats, 4);
        assert!(events.contains(&DemuxEvent::Continuity {
            pid: 0,
            expected: 1,
            found: 2
        }));
    }

    #[test]
    fn adaptation_only_packets_repeat_the_counter() {
        let mut d = Demuxer::new();
        let pcr_only = |cc: u8| {
            let header = TsHeaderRepr {
                pid: 0x100,
                payload_unit_start: false,
                continuity_counter: cc,
                adaptation: AdaptationRepr {
                    pcr: Some(Pcr27M(0)),
                    ..AdaptationRepr::default()
                },
            };
            let mut packet = [0u8; PACKET_LEN];
            header.emit(&[], &mut packet);
            packet
        };
        let sequence = [
            pcr_only(15),
            packet(0x100, false, 0, &[1]),
            pcr_only(0),
            pcr_only(1),
        ];
        for p in sequence {
            d.push(&p);
        }
        let errors: Vec<_> = all(&mut d)
            .into_iter()
            .filter(|e| matches!(e, DemuxEvent::Continuity { .. }))
            .collect();
        let expected = DemuxEvent::Continuity {
            pid: 0x100,
            expected: 0,
            found: 1,
        };
        assert_eq!(errors, [expected]);
    }

    #[test]
    fn pes_packets_end_at_their_length_or_the_next_start() {
        let mut d = Demuxer::new();
        d.push(&packet(0, true, 0, &start(&pat(0, 0x1000))));
        d.push(&packet(0x1000, true, 0, &start(&pmt(0).1)));
        // Bounded: 3 header bytes + 2 payload bytes, complete at once.
        let bounded = [0, 0, 1, 0xC0, 0, 5, 0x80, 0, 0, 0xAB, 0xCD];
        d.push(&packet(0x100, true, 0, &bounded));
        // Bounded but cut short by the next start: malformed.
        d.push(&packet(0x100, true, 1, &[0, 0, 1, 0xC0, 0, 50, 0x80, 0, 0]));
        // Unbounded: ends at the next start, or at finish().
        d.push(&packet(
            0x100,
            true,
            2,
            &[0, 0, 1, 0xE0, 0, 0, 0x80, 0, 0, 1],
        ));
        d.push(&packet(0x100, false, 3, &[2, 3]));
        d.finish();
        let events: Vec<_> = all(&mut d).into_iter().skip(2).collect();
        let payload = |e: &DemuxEvent| match e {
            DemuxEvent::Pes(unit) => unit.payload.clone(),
            _ => vec![],
        };
        assert_eq!(payload(&events[0]), [0xAB, 0xCD]);
        assert_eq!(
            events[1],
            DemuxEvent::Malformed {
                pid: Some(0x100),
                layer: Layer::Pes
            }
        );
        assert_eq!(payload(&events[2]), [1, 2, 3]);
        assert_eq!(events.len(), 3);
    }

    #[test]
    fn bad_packets_and_sections_are_events() {
        let mut d = Demuxer::new();
        d.push(&[0x47; 100]);
        let mut section = pat(0, 0x1000);
        section[9] ^= 1; // breaks the CRC
        d.push(&packet(0, true, 0, &start(&section)));
        let events = all(&mut d);
        assert_eq!(
            events,
            [
                DemuxEvent::Malformed {
                    pid: None,
                    layer: Layer::Packet
                },
                DemuxEvent::Malformed {
                    pid: Some(0),
                    layer: Layer::Section
                },
            ]
        );
    }
}
