//! What waits to be sent: whole PES packets per elementary stream, built
//! at push time into recycled buffers and cut into transport packets only
//! when their slot comes, so a PCR or a random-access flag can still
//! decide how much of the next packet the payload gets.

use std::collections::VecDeque;

use makara_media::Pcr27M;

use super::buffer::{DecoderBuffer, TransportBuffer};
use crate::packet::{AdaptationRepr, TsHeaderRepr, BODY_LEN, PACKET_LEN};

/// One PES packet on its way out.
#[derive(Debug)]
pub(super) struct Pes {
    /// PES header and payload, exactly as they go on the wire.
    pub bytes: Vec<u8>,
    /// How many of `bytes` are already in packets.
    pub sent: usize,
    /// How many packets those were.
    pub packets: u64,
    /// The DTS on the 27 MHz clock: when a decoder needs the unit.
    pub deadline: u64,
    /// Marks the first packet with random_access_indicator.
    pub random_access: bool,
    /// Marks the first packet with elementary_stream_priority_indicator
    /// too if it carries this many bytes of the PES: AV1's carriage wants
    /// it where a key frame's first start code is.
    pub priority_within: Option<usize>,
}

impl Pes {
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.sent
    }

    pub fn started(&self) -> bool {
        self.sent > 0
    }
}

/// One elementary stream: its PID, continuity counter, queue, and the
/// receiver's buffer for it.
#[derive(Debug)]
pub(super) struct Stream {
    pub pid: u16,
    /// The continuity_counter of the next packet that carries payload.
    pub next_cc: u8,
    pub queue: VecDeque<Pes>,
    /// The next packet sets discontinuity_indicator: a restarted stream.
    discontinuity: bool,
    buffer: DecoderBuffer,
    /// Audio's transport buffer, which paces its packets.
    transport: Option<TransportBuffer>,
}

impl Stream {
    /// A stream whose receiver buffers `buffer_limit` bytes (unbounded:
    /// `None`), behind a transport buffer that paces it if `paced`.
    pub fn new(pid: u16, restart: bool, buffer_limit: Option<usize>, paced: bool) -> Stream {
        Stream {
            pid,
            next_cc: 0,
            queue: VecDeque::new(),
            discontinuity: restart,
            buffer: DecoderBuffer::new(buffer_limit),
            transport: paced.then(TransportBuffer::audio),
        }
    }

    /// Whether the head PES may send a packet in the slot from `now` to
    /// `end`: once started it may; before, not more than `lead` ticks
    /// before its decoding time. Either way its next packet must fit the
    /// receiver's buffer, whose bytes leave `margin` ticks after their
    /// decoding time, and its transport buffer if it has one.
    pub fn ready(&mut self, now: u64, end: u64, lead: u64, margin: u64) -> bool {
        self.buffer.drain(now, margin);
        let Some(pes) = self.queue.front() else {
            return false;
        };
        (pes.started() || now.saturating_add(lead) >= pes.deadline)
            && self.buffer.has_room(pes.remaining().min(BODY_LEN))
            && self.transport.as_ref().is_none_or(|tb| tb.fits(end))
    }

    /// Paces the stream's packets to a transport buffer drained at
    /// `rate_bps`, from now on (a new rate starts empty).
    pub fn pace(&mut self, rate_bps: u64) {
        if self.transport.as_ref().map(TransportBuffer::rate_bps) != Some(rate_bps) {
            self.transport = Some(TransportBuffer::draining_at(rate_bps));
        }
    }

    /// Counts a packet of this PID whose last byte leaves at `end` into
    /// its transport buffer.
    pub fn sent_packet(&mut self, end: u64) {
        if let Some(tb) = self.transport.as_mut() {
            tb.deliver(end);
        }
    }

    /// Payload bytes of PES packets that may not leave yet at `now`: not
    /// started and more than `lead` before their decoding time.
    pub fn held_bytes(&self, now: u64, lead: u64) -> usize {
        self.queue
            .iter()
            .filter(|pes| !pes.started() && now.saturating_add(lead) < pes.deadline)
            .map(|pes| pes.bytes.len())
            .sum()
    }

    /// Whether the next packet is the first of a restarted stream; it is
    /// marked once.
    pub fn take_discontinuity(&mut self) -> bool {
        std::mem::take(&mut self.discontinuity)
    }

    /// The continuity_counter of a packet without payload: the same as the
    /// last payload packet's, which ISO/IEC 13818-1 §2.4.3.3 requires.
    pub fn adaptation_only_cc(&self) -> u8 {
        self.next_cc.wrapping_sub(1) & 0x0F
    }

    /// Writes the next packet of the head PES into `packet`, with a PCR if
    /// given, and returns the head if that packet finished it. Returns
    /// `None` too when the queue is empty, having written nothing.
    pub fn emit_next(
        &mut self,
        pcr: Option<Pcr27M>,
        packet: &mut [u8; PACKET_LEN],
    ) -> Option<Emitted> {
        let discontinuity = !self.queue.is_empty() && self.take_discontinuity();
        let pes = self.queue.front_mut()?;
        let first = !pes.started();
        let mut header = TsHeaderRepr {
            pid: self.pid,
            payload_unit_start: first,
            continuity_counter: self.next_cc,
            adaptation: AdaptationRepr {
                discontinuity,
                random_access: first && pes.random_access,
                es_priority: false,
                pcr,
            },
        };
        let n = pes.remaining().min(header.payload_capacity());
        // The flag shares the flags byte random_access already needs.
        header.adaptation.es_priority =
            header.adaptation.random_access && pes.priority_within.is_some_and(|end| end <= n);
        header.emit(&pes.bytes[pes.sent..pes.sent + n], packet);
        self.buffer.deliver(pes.deadline, n);
        self.next_cc = (self.next_cc + 1) & 0x0F;
        pes.sent += n;
        pes.packets += 1;
        let emitted = Emitted {
            bytes: n,
            first,
            deadline: pes.deadline,
            finished: None,
        };
        if pes.remaining() > 0 {
            return Some(emitted);
        }
        let done = self.queue.pop_front().map(|pes| pes.bytes);
        Some(Emitted {
            finished: done,
            ..emitted
        })
    }

    /// The oldest PES not yet started, as (deadline, index): the one a
    /// backlog drop may take without cutting a PES in half.
    pub fn oldest_droppable(&self) -> Option<(u64, usize)> {
        let index = self.queue.iter().position(|pes| !pes.started())?;
        Some((self.queue[index].deadline, index))
    }
}

/// What [`Stream::emit_next`] sent.
#[derive(Debug)]
pub(super) struct Emitted {
    /// Payload bytes that went into the packet.
    pub bytes: usize,
    /// The packet started its PES.
    pub first: bool,
    pub deadline: u64,
    /// The PES's buffer, when this packet was its last.
    pub finished: Option<Vec<u8>>,
}

/// Buffers of PES packets already sent, kept for the next ones so a
/// steady stream stops allocating once the buffers have grown.
#[derive(Debug, Default)]
pub(super) struct BufferPool {
    free: Vec<Vec<u8>>,
}

impl BufferPool {
    /// Enough for the queues of a few seconds of video and audio; beyond
    /// it buffers are freed, so one burst does not pin memory for ever.
    const MAX_FREE: usize = 32;

    pub fn take(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_default()
    }

    pub fn give(&mut self, mut buffer: Vec<u8>) {
        if self.free.len() < Self::MAX_FREE {
            buffer.clear();
            self.free.push(buffer);
        }
    }
}
