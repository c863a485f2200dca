//! Protocol control and user control messages a publisher sends or
//! answers (RTMP 1.0, sections 5.4 and 6.2).

/// User control event types.
pub mod event {
    pub const STREAM_BEGIN: u16 = 0;
    pub const PING_REQUEST: u16 = 6;
    pub const PING_RESPONSE: u16 = 7;
}

/// The payload of an Acknowledgement: the bytes received so far, as a
/// 32-bit count that wraps.
pub fn acknowledgement(received: u64) -> [u8; 4] {
    (received as u32).to_be_bytes()
}

/// The payload of a Window Acknowledgement Size message.
pub fn window_ack_size(size: u32) -> [u8; 4] {
    size.to_be_bytes()
}

/// The payload of a Ping Response to a Ping Request's payload, if that
/// payload is a ping request.
pub fn ping_response(request: &[u8]) -> Option<[u8; 6]> {
    let kind = u16::from_be_bytes([*request.first()?, *request.get(1)?]);
    if kind != event::PING_REQUEST {
        return None;
    }
    let stamp = request.get(2..6)?;
    let mut reply = [0u8; 6];
    reply[..2].copy_from_slice(&event::PING_RESPONSE.to_be_bytes());
    reply[2..].copy_from_slice(stamp);
    Some(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_request_is_answered_with_its_timestamp() {
        assert_eq!(ping_response(&[0, 6, 1, 2, 3, 4]), Some([0, 7, 1, 2, 3, 4]));
        assert_eq!(ping_response(&[0, 0, 0, 0, 0, 1]), None);
        assert_eq!(ping_response(&[0, 6, 1]), None);
    }

    #[test]
    fn acknowledgements_wrap_at_32_bits() {
        assert_eq!(acknowledgement(0x1_0000_0005), [0, 0, 0, 5]);
        assert_eq!(window_ack_size(2_500_000), [0, 0x26, 0x25, 0xA0]);
    }
}
