//! Grouping 188-byte TS packets into datagrams.

pub use makara_mpegts::packet::PACKET_LEN as TS_PACKET_LEN;
/// Whole TS packets per datagram for an MTU: the transport stream's rule,
/// kept in one place.
pub use makara_mpegts::packets_per_datagram;

/// Collects packets into datagrams of a fixed number of packets, reusing
/// one buffer.
#[derive(Debug)]
pub struct Datagrams {
    per_datagram: usize,
    buffer: Vec<u8>,
}

impl Datagrams {
    pub fn new(per_datagram: usize) -> Datagrams {
        let per_datagram = per_datagram.max(1);
        Datagrams {
            per_datagram,
            buffer: Vec::with_capacity(per_datagram * TS_PACKET_LEN),
        }
    }

    /// Adds a packet; returns a full datagram when this packet completed one.
    pub fn push(&mut self, packet: &[u8; TS_PACKET_LEN]) -> Option<&[u8]> {
        if self.buffer.len() == self.per_datagram * TS_PACKET_LEN {
            self.buffer.clear();
        }
        self.buffer.extend_from_slice(packet);
        (self.buffer.len() == self.per_datagram * TS_PACKET_LEN).then_some(&self.buffer[..])
    }

    pub fn per_datagram(&self) -> usize {
        self.per_datagram
    }

    /// The packets of an unfinished datagram, for the end of a stream: a
    /// shorter last datagram, so that no packet is held back. `None` when
    /// every packet went out in a full datagram.
    pub fn flush(&mut self) -> Option<&[u8]> {
        let full = self.per_datagram * TS_PACKET_LEN;
        let len = self.buffer.len();
        if len == 0 || len == full {
            return None;
        }
        // Filled up, as a sent datagram is, so the next push starts anew.
        self.buffer.resize(full, 0);
        Some(&self.buffer[..len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_per_mtu() {
        assert_eq!(packets_per_datagram(1490), 7);
        assert_eq!(packets_per_datagram(1500), 7);
        assert_eq!(packets_per_datagram(228), 1);
        assert_eq!(packets_per_datagram(1344), 7);
        assert_eq!(packets_per_datagram(1343), 6);
    }

    #[test]
    fn groups_whole_packets() {
        let mut d = Datagrams::new(3);
        let p = [0x47u8; TS_PACKET_LEN];
        assert!(d.push(&p).is_none());
        assert!(d.push(&p).is_none());
        assert_eq!(d.push(&p).map(<[u8]>::len), Some(3 * 188));
        assert!(d.push(&p).is_none());
    }

    #[test]
    fn a_flush_sends_the_unfinished_datagram_once() {
        let mut d = Datagrams::new(3);
        assert!(d.flush().is_none(), "nothing pushed");
        let (a, b) = ([0x47u8; TS_PACKET_LEN], [0x48u8; TS_PACKET_LEN]);
        assert!(d.push(&a).is_none());
        assert!(d.push(&b).is_none());
        let short = d.flush().map(<[u8]>::to_vec).unwrap();
        assert_eq!(short.len(), 2 * 188);
        assert_eq!((short[0], short[188]), (0x47, 0x48));
        assert!(d.flush().is_none(), "flushed already");
        // The next datagram starts afresh.
        assert!(d.push(&b).is_none());
        assert!(d.push(&b).is_none());
        assert!(d.push(&b).unwrap().iter().all(|&x| x == 0x48));
        assert!(d.flush().is_none(), "the last datagram was full");
    }
}
