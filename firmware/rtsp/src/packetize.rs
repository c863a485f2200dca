//! Access units and audio frames cut into RTP payloads: H.264 single NAL
//! unit packets and FU-A fragments (RFC 6184 §5.6, §5.8), HEVC single NAL
//! unit packets and FUs (RFC 7798 §4.4.1, §4.4.3), AAC frames behind
//! AU headers (RFC 3640 §3.2, AAC-hbr: 13-bit size, 3-bit index) and MPEG
//! audio frames behind their 4-byte header (RFC 2250 §3.5).
//!
//! Payloads are made once per unit and shared by every client, each of
//! which puts its own RTP header in front ([`crate::rtp::RtpStream`]).

/// The largest RTP payload: an RTP packet of 1412 bytes fits an Ethernet
/// MTU with IPv6 and UDP headers, or inside a `$` frame.
pub const MAX_PAYLOAD: usize = 1400;

/// One RTP packet's payload and whether it ends its access unit (the
/// marker bit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub data: Vec<u8>,
    pub marker: bool,
}

/// The NAL units of an Annex B access unit, start codes removed.
pub fn nal_units(annex_b: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= annex_b.len() {
        if annex_b[i] == 0 && annex_b[i + 1] == 0 && annex_b[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .map(|&s| s - 3)
        .chain(std::iter::once(annex_b.len()))
        .collect();
    starts.into_iter().zip(ends).filter_map(move |(s, e)| {
        // The zero before a four-byte start code belongs to no NAL unit.
        let mut end = e;
        while end > s && annex_b[end - 1] == 0 {
            end -= 1;
        }
        (end > s).then(|| &annex_b[s..end])
    })
}

/// An H.264 access unit's payloads. Access unit delimiters are left out:
/// RTP's marker bit and timestamp delimit access units.
pub fn h264(annex_b: &[u8], out: &mut Vec<Payload>) {
    let start = out.len();
    for nal in nal_units(annex_b).filter(|n| n[0] & 0x1f != 9) {
        if nal.len() <= MAX_PAYLOAD {
            out.push(payload(nal.to_vec()));
            continue;
        }
        // FU indicator: the NAL's F and NRI bits, type 28 (FU-A).
        let indicator = (nal[0] & 0xe0) | 28;
        fragment(&nal[1..], &[indicator], nal[0] & 0x1f, out);
    }
    mark_last(out, start);
}

/// An HEVC access unit's payloads. Access unit delimiters (type 35) are
/// left out.
pub fn hevc(annex_b: &[u8], out: &mut Vec<Payload>) {
    let start = out.len();
    for nal in nal_units(annex_b).filter(|n| n.len() >= 2 && (n[0] >> 1) & 0x3f != 35) {
        if nal.len() <= MAX_PAYLOAD {
            out.push(payload(nal.to_vec()));
            continue;
        }
        // Payload header: the NAL header with type 49 (FU), same layer
        // and temporal id.
        let header = [(nal[0] & 0x81) | (49 << 1), nal[1]];
        fragment(&nal[2..], &header, (nal[0] >> 1) & 0x3f, out);
    }
    mark_last(out, start);
}

/// FU fragments of a NAL unit's body: `header`, then the FU header (start
/// and end bits, the NAL type), then a piece.
fn fragment(body: &[u8], header: &[u8], nal_type: u8, out: &mut Vec<Payload>) {
    let room = MAX_PAYLOAD - header.len() - 1;
    let count = body.len().div_ceil(room);
    for (i, piece) in body.chunks(room).enumerate() {
        let mut fu = nal_type;
        if i == 0 {
            fu |= 0x80;
        }
        if i + 1 == count {
            fu |= 0x40;
        }
        let mut data = Vec::with_capacity(header.len() + 1 + piece.len());
        data.extend_from_slice(header);
        data.push(fu);
        data.extend_from_slice(piece);
        out.push(payload(data));
    }
}

/// One raw AAC frame (no ADTS header): a single AU header, 13 bits of
/// size and 3 of index, after the 16-bit AU-headers-length. A frame too
/// large for one packet is fragmented, each piece carrying the whole
/// frame's size (RFC 3640 §3.2.3), the marker on the last.
pub fn aac(frame: &[u8], out: &mut Vec<Payload>) {
    // 13 bits of size; an encoder never makes a frame larger.
    let size = frame.len().min(0x1fff) as u16;
    let frame = &frame[..usize::from(size)];
    let header = [0x00, 0x10, (size >> 5) as u8, ((size & 0x1f) << 3) as u8];
    let room = MAX_PAYLOAD - header.len();
    let start = out.len();
    for piece in frame.chunks(room) {
        let mut data = header.to_vec();
        data.extend_from_slice(piece);
        out.push(payload(data));
    }
    mark_last(out, start);
}

/// One MPEG audio frame behind RFC 2250's header (16 zero bits, the
/// 16-bit offset of this piece in the frame): whole when it fits, in
/// pieces when not. The marker is not used for audio.
pub fn mpeg_audio(frame: &[u8], out: &mut Vec<Payload>) {
    let room = MAX_PAYLOAD - 4;
    for (i, piece) in frame.chunks(room).enumerate() {
        let offset = (i * room).min(usize::from(u16::MAX)) as u16;
        let mut data = vec![0, 0];
        data.extend_from_slice(&offset.to_be_bytes());
        data.extend_from_slice(piece);
        out.push(payload(data));
    }
}

fn payload(data: Vec<u8>) -> Payload {
    Payload {
        data,
        marker: false,
    }
}

fn mark_last(out: &mut [Payload], start: usize) {
    if out.len() > start {
        if let Some(last) = out.last_mut() {
            last.marker = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nal_units_of_three_and_four_byte_start_codes() {
        let au = [
            0, 0, 0, 1, 9, 0xf0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x65, 7,
        ];
        let nals: Vec<&[u8]> = nal_units(&au).collect();
        assert_eq!(nals, [&[9, 0xf0][..], &[0x67, 1, 2], &[0x65, 7]]);
        assert_eq!(nal_units(&[1, 2, 3]).count(), 0);
        assert_eq!(nal_units(&[0, 0, 1]).count(), 0);
    }

    #[test]
    fn h264_small_units_go_whole_and_the_delimiter_is_dropped() {
        let au = [0, 0, 0, 1, 9, 0xf0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x65, 7];
        let mut out = Vec::new();
        h264(&au, &mut out);
        assert_eq!(
            out,
            [
                Payload {
                    data: vec![0x67, 1, 2],
                    marker: false
                },
                Payload {
                    data: vec![0x65, 7],
                    marker: true
                }
            ]
        );
    }

    #[test]
    fn h264_fu_a_golden() {
        // An IDR slice (NRI 3, type 5) of 3000 bytes: header + 2999.
        let mut au = vec![0, 0, 0, 1, 0x65];
        au.extend((0..2999).map(|i| (i % 251) as u8));
        let mut out = Vec::new();
        h264(&au, &mut out);
        let room = MAX_PAYLOAD - 2;
        assert_eq!(out.len(), 2999usize.div_ceil(room));
        assert_eq!(&out[0].data[..2], [0x7c, 0x85]);
        assert_eq!(&out[1].data[..2], [0x7c, 0x05]);
        assert_eq!(&out[2].data[..2], [0x7c, 0x45]);
        assert_eq!(
            out.iter().map(|p| p.marker).collect::<Vec<_>>(),
            [false, false, true]
        );
        let body: Vec<u8> = out.iter().flat_map(|p| p.data[2..].to_vec()).collect();
        assert_eq!(body, au[5..]);
        assert!(out.iter().all(|p| p.data.len() <= MAX_PAYLOAD));
    }

    #[test]
    fn hevc_fu_golden() {
        // An IDR_W_RADL (type 19): header 0x26 0x01.
        let mut au = vec![0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 1, 0x26, 0x01];
        au.extend(std::iter::repeat_n(0xaa, 2000));
        let mut out = Vec::new();
        hevc(&au, &mut out);
        // The delimiter (type 35, 0x46) is gone; two fragments.
        assert_eq!(out.len(), 2);
        assert_eq!(&out[0].data[..3], [0x62, 0x01, 0x80 | 19]);
        assert_eq!(&out[1].data[..3], [0x62, 0x01, 0x40 | 19]);
        assert!(out[1].marker && !out[0].marker);
        assert_eq!(out[0].data.len() + out[1].data.len() - 6, 2000);
    }

    #[test]
    fn aac_au_header_golden() {
        let mut out = Vec::new();
        aac(&[0xde; 371], &mut out);
        // 371 = 0b1_0111_0011: size << 3 = 0x0B98.
        assert_eq!(&out[0].data[..4], [0x00, 0x10, 0x0b, 0x98]);
        assert_eq!(out[0].data.len(), 4 + 371);
        assert!(out[0].marker);
    }

    #[test]
    fn a_large_aac_frame_is_fragmented_with_its_whole_size() {
        let mut out = Vec::new();
        aac(&[1; 2000], &mut out);
        assert_eq!(out.len(), 2);
        for p in &out {
            assert_eq!(
                &p.data[..4],
                [
                    0x00,
                    0x10,
                    (2000u16 >> 5) as u8,
                    ((2000u16 & 0x1f) << 3) as u8
                ]
            );
        }
        assert!(out[1].marker && !out[0].marker);
    }

    #[test]
    fn mpeg_audio_header_golden() {
        let mut out = Vec::new();
        mpeg_audio(&[0xff; 1500], &mut out);
        assert_eq!(&out[0].data[..4], [0, 0, 0, 0]);
        let offset = (MAX_PAYLOAD - 4) as u16;
        assert_eq!(&out[1].data[..4], [0, 0, (offset >> 8) as u8, offset as u8]);
        assert_eq!(out[0].data.len() + out[1].data.len() - 8, 1500);
    }
}
