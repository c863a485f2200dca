//! Tiny but real elementary streams, written bit by bit from their specs,
//! so an outside demuxer and decoder (ffprobe, ffmpeg) can check the
//! muxer's output without an encoder in the test.

/// An MSB-first bit writer with H.264's Exp-Golomb codes.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    fn u(&mut self, n: u32, value: u64) {
        for i in (0..n).rev() {
            if self.used.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = ((value >> i) & 1) as u8;
            *self.bytes.last_mut().unwrap() |= bit << (7 - self.used % 8);
            self.used += 1;
        }
    }

    /// ue(v): M zeros, then v + 1 in M + 1 bits.
    fn ue(&mut self, v: u64) {
        let m = 63 - (v + 1).leading_zeros();
        self.u(m, 0);
        self.u(m + 1, v + 1);
    }

    fn align_zero(&mut self) {
        while !self.used.is_multiple_of(8) {
            self.u(1, 0);
        }
    }

    /// rbsp_trailing_bits: a stop bit, then zeros to the byte boundary.
    fn trailing(mut self) -> Vec<u8> {
        self.u(1, 1);
        self.align_zero();
        self.bytes
    }
}

/// Annex B: start code, NAL header, payload with emulation prevention.
fn nal(out: &mut Vec<u8>, header: u8, rbsp: &[u8]) {
    out.extend_from_slice(&[0, 0, 0, 1, header]);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
}

/// One 16×16 H.264 Baseline access unit (ITU-T H.264 §7.3). Frame 0 of
/// each GOP is an IDR holding one I_PCM macroblock (raw samples, so no
/// entropy coding is needed) with SPS and PPS before it; the others are P
/// frames that skip their only macroblock. Every AU starts with an AUD.
pub fn h264_access_unit(frame: u64, gop: u64, shade: u8) -> Vec<u8> {
    let idr = frame.is_multiple_of(gop);
    let mut au = Vec::new();
    nal(&mut au, 0x09, &[0xF0]); // AUD, primary_pic_type 7 (anything)
    if idr {
        nal(&mut au, 0x67, &sps());
        nal(&mut au, 0x68, &pps());
    }
    let mut slice = Bits::default();
    slice.ue(0); // first_mb_in_slice
    slice.ue(if idr { 7 } else { 5 }); // slice_type: I or P, for all slices
    slice.ue(0); // pic_parameter_set_id
    slice.u(4, frame % gop % 16); // frame_num
    if idr {
        slice.ue(frame / gop % 2); // idr_pic_id: differs between neighbours
        slice.u(2, 0); // no_output_of_prior_pics, long_term_reference
    } else {
        slice.u(2, 0); // num_ref_idx_active_override, ref_pic_list_modification_l0
        slice.u(1, 0); // adaptive_ref_pic_marking_mode_flag
    }
    slice.ue(0); // slice_qp_delta = se(0)
    slice.ue(1); // disable_deblocking_filter_idc
    if idr {
        slice.ue(25); // mb_type I_PCM
        slice.align_zero();
        for i in 0..256 {
            slice.u(8, u64::from(shade.wrapping_add(i as u8) | 0x10)); // luma
        }
        for _ in 0..128 {
            slice.u(8, 0x80); // chroma: grey
        }
    } else {
        slice.ue(1); // mb_skip_run: the one macroblock
    }
    nal(&mut au, if idr { 0x65 } else { 0x41 }, &slice.trailing());
    au
}

/// The sequence parameter set (§7.3.2.1): Baseline, level 1.0, one
/// 16×16 macroblock, frame_num of 4 bits, POC type 2, no VUI.
fn sps() -> Vec<u8> {
    let mut sps = Bits::default();
    sps.u(8, 66); // profile_idc: Baseline
    sps.u(8, 0xC0); // constraint_set0 and set1
    sps.u(8, 10); // level_idc 1.0
    sps.ue(0); // seq_parameter_set_id
    sps.ue(0); // log2_max_frame_num_minus4: frame_num has 4 bits
    sps.ue(2); // pic_order_cnt_type 2: output order is decode order
    sps.ue(1); // max_num_ref_frames
    sps.u(1, 0); // gaps_in_frame_num_value_allowed_flag
    sps.ue(0); // pic_width_in_mbs_minus1
    sps.ue(0); // pic_height_in_map_units_minus1
    sps.u(3, 0b110); // frame_mbs_only, direct_8x8_inference, no cropping
    sps.u(1, 0); // vui_parameters_present_flag
    sps.trailing()
}

/// The picture parameter set (§7.3.2.2): CAVLC, one slice group, no
/// weighting, QP 26, deblocking control present.
fn pps() -> Vec<u8> {
    let mut pps = Bits::default();
    pps.ue(0); // pic_parameter_set_id
    pps.ue(0); // seq_parameter_set_id
    pps.u(2, 0); // CAVLC; no bottom_field_pic_order_in_frame_present
    pps.ue(0); // num_slice_groups_minus1
    pps.ue(0); // num_ref_idx_l0_default_active_minus1
    pps.ue(0); // num_ref_idx_l1_default_active_minus1
    pps.u(3, 0); // weighted_pred_flag, weighted_bipred_idc
    pps.ue(0); // pic_init_qp_minus26 = se(0), which ue(0) encodes
    pps.ue(0); // pic_init_qs_minus26 = se(0)
    pps.ue(0); // chroma_qp_index_offset = se(0)
    pps.u(3, 0b100); // deblocking_filter_control_present; no constrained intra, no redundant_pic_cnt
    pps.trailing()
}

/// MPEG-1 Layer II, 48 kHz mono at 128 kbit/s (ISO/IEC 11172-3
/// §2.4.1.3): 1 152 samples in 144 · 128 000 / 48 000 = 384 bytes. A bit
/// allocation of all zeros means every subband is silent and nothing else
/// follows, so the rest of the frame is zero.
pub const MP2_FRAME_TICKS: u64 = 2_160;

pub fn mp2_silent_frame() -> Vec<u8> {
    // syncword, MPEG-1, Layer II, no CRC | bitrate index 8, 48 kHz, no
    // padding | single channel, no emphasis.
    let mut frame = vec![0xFF, 0xFD, 0x84, 0xC0];
    frame.resize(384, 0);
    frame
}

/// AAC-LC in ADTS, 48 kHz mono (ISO/IEC 13818-7 §6.2, §8.2): a 7-byte
/// header, then one raw_data_block of a single channel element whose
/// max_sfb is 0, so it has no spectral data: silence, then ID_END.
pub const AAC_FRAME_TICKS: u64 = 1_920;

pub fn adts_silent_frame() -> Vec<u8> {
    let mut raw = Bits::default();
    raw.u(3, 0); // id_syn_ele: SCE
    raw.u(4, 0); // element_instance_tag
    raw.u(8, 100); // global_gain
    raw.u(4, 0); // ics_reserved_bit, window_sequence ONLY_LONG, window_shape
    raw.u(6, 0); // max_sfb
    raw.u(1, 0); // predictor_data_present
    raw.u(3, 0); // pulse, tns, gain control data present
    raw.u(3, 0b111); // ID_END
    raw.align_zero();
    let len = 7 + raw.bytes.len() as u64;
    let mut header = Bits::default();
    header.u(12, 0xFFF); // syncword
    header.u(4, 0b0001); // MPEG-4, layer 0, protection_absent
    header.u(2, 1); // profile: AAC LC
    header.u(4, 3); // sampling_frequency_index: 48 kHz
    header.u(1, 0); // private_bit
    header.u(3, 1); // channel_configuration: mono
    header.u(4, 0); // original, home, copyright id bit and start
    header.u(13, len); // aac_frame_length, header included
    header.u(11, 0x7FF); // adts_buffer_fullness: variable rate
    header.u(2, 0); // one raw data block
    [header.bytes, raw.bytes].concat()
}
