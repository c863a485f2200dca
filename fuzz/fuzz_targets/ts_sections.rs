//! The wire parsers the demuxer builds on, each on the fuzzed bytes: PSI
//! sections (PAT, PMT and the DVB SDT, which the demuxer does not follow),
//! PES headers, metadata AU cells and descriptor loops. What parses must
//! also write back: `emit` into `buffer_len()` bytes gives bytes that
//! parse to the same value (the crate's wire contract).

#![no_main]

use libfuzzer_sys::fuzz_target;
use makara_mpegts::klv::MetadataAuCellRepr;
use makara_mpegts::pes::PesHeaderRepr;
use makara_mpegts::pmt::{descriptors, PmtRepr};
use makara_mpegts::psi::{PatRepr, PsiSection};
use makara_mpegts::sdt::SdtRepr;

/// A PES header without the optional part (padding, private_stream_2, ...)
/// is 6 bytes; the muxer writes only the other kind.
const FIXED_PES_HEADER_LEN: usize = 6;

fuzz_target!(|data: &[u8]| {
    sections(data);
    pes_header(data);
    metadata_cell(data);
    for (_, body) in descriptors(data) {
        assert!(body.len() <= data.len());
    }
});

/// Parses, emits into exactly `len` bytes, checks the section and parses again.
macro_rules! round_trip {
    ($repr:expr, $parse:path) => {{
        let repr = $repr;
        let mut bytes = vec![0u8; repr.buffer_len()];
        repr.emit(&mut bytes);
        let section = PsiSection::new_checked(&bytes[..]).expect("an emitted section checks");
        assert_eq!($parse(&section), Ok(repr));
    }};
}

fn sections(data: &[u8]) {
    let Ok(section) = PsiSection::new_checked(data) else {
        return;
    };
    if let Ok(pat) = PatRepr::parse(&section) {
        round_trip!(pat, PatRepr::parse);
    }
    if let Ok(pmt) = PmtRepr::parse(&section) {
        let _ = descriptors(&pmt.program_info).count();
        round_trip!(pmt, PmtRepr::parse);
    }
    if let Ok(sdt) = SdtRepr::parse(&section) {
        round_trip!(sdt, SdtRepr::parse);
    }
}

fn pes_header(data: &[u8]) {
    let Ok((header, payload_at)) = PesHeaderRepr::parse(data) else {
        return;
    };
    assert!(payload_at <= data.len());
    if payload_at == FIXED_PES_HEADER_LEN {
        return;
    }
    let mut bytes = vec![0u8; header.buffer_len()];
    header.emit(&mut bytes);
    // A DTS equal to the PTS says nothing, so it is not written.
    let expected = PesHeaderRepr {
        dts: header.dts.filter(|_| header.dts != header.pts),
        ..header
    };
    let (again, at) = PesHeaderRepr::parse(&bytes).expect("an emitted header parses");
    assert_eq!((again, at), (expected, bytes.len()));
}

fn metadata_cell(data: &[u8]) {
    let Ok((cell, cell_data)) = MetadataAuCellRepr::parse(data) else {
        return;
    };
    let mut bytes = vec![0u8; cell.buffer_len()];
    cell.emit(&mut bytes);
    bytes.extend_from_slice(cell_data);
    assert_eq!(MetadataAuCellRepr::parse(&bytes), Ok((cell, cell_data)));
}
