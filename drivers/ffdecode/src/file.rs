//! A transport-stream file as the packets of the TS path, for
//! `makarad bench transcode`: read where a network input's [`TsInput`]
//! would be, and from there on the same demuxer, program, access-unit
//! splitter, decoder and scaler. Packets are found in the bytes by the same
//! aligner a network input uses, and counted the same way.
//!
//! [`TsInput`]: makara_input::TsInput

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use makara_input::{ContinuityChecker, Packet, PacketAligner};
use makara_media::InputReport;
use makara_mpegts::demux::Demuxer;

use crate::feed::Feed;
use crate::program::Program;

/// Bytes read at a time: 448 packets, 64 datagrams' worth of a network
/// input's seven.
const CHUNK: usize = 448 * 188;

/// An open file of transport packets.
pub(crate) struct TsFile {
    file: File,
    label: String,
    buffer: Vec<u8>,
    aligner: PacketAligner,
    continuity: ContinuityChecker,
    packets: u64,
    bytes: u64,
}

impl TsFile {
    pub(crate) fn open(path: &Path) -> Result<TsFile, String> {
        let label = path.display().to_string();
        let file = File::open(path).map_err(|e| format!("{label}: cannot open: {e}"))?;
        Ok(TsFile {
            file,
            label,
            buffer: vec![0; CHUNK],
            aligner: PacketAligner::new(),
            continuity: ContinuityChecker::new(),
            packets: 0,
            bytes: 0,
        })
    }

    /// "/path/in.ts": the file in messages.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Appends the next whole packets to `out`; false once the file has
    /// ended (with the last packets in `out`).
    pub(crate) fn read(&mut self, out: &mut Vec<Packet>) -> Result<bool, String> {
        let got = loop {
            match self.file.read(&mut self.buffer) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("{}: cannot read: {e}", self.label)),
            }
        };
        let before = out.len();
        self.aligner.push(&self.buffer[..got], out);
        for packet in &out[before..] {
            self.continuity.check(packet);
        }
        self.packets += (out.len() - before) as u64;
        self.bytes += got as u64;
        Ok(got > 0)
    }

    /// The counters so far; a file is always delivering.
    pub(crate) fn report(&self) -> InputReport {
        InputReport {
            packets: self.packets,
            bytes: self.bytes,
            continuity_errors: self.continuity.errors(),
            sync_losses: self.aligner.sync_losses(),
            receiving: true,
            srt: None,
            last_error: None,
            // The stream counts them as it stores each report.
            losses: 0,
        }
    }
}

/// The access units of the first program's video in the file at `path`,
/// cut as the decoder thread is fed them.
pub(crate) fn count_pictures(path: &Path) -> Result<u64, String> {
    let mut file = TsFile::open(path)?;
    let mut demuxer = Demuxer::new();
    let mut program = Program::new();
    let (mut packets, mut out) = (Vec::new(), Vec::new());
    let mut pictures = 0;
    let mut count = |out: &mut Vec<Feed>| {
        pictures += out
            .drain(..)
            .filter(|f| matches!(f, Feed::Video(_)))
            .count() as u64;
    };
    loop {
        packets.clear();
        let more = file.read(&mut packets)?;
        for packet in &packets {
            demuxer.push(packet);
            while let Some(event) = demuxer.poll() {
                program.handle(event, &mut out);
            }
        }
        count(&mut out);
        if !more {
            break;
        }
    }
    demuxer.finish();
    while let Some(event) = demuxer.poll() {
        program.handle(event, &mut out);
    }
    program.finish(&mut out);
    count(&mut out);
    Ok(pictures)
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    fn packet(pid: u16, cc: u8) -> [u8; 188] {
        let mut p = [0xFF; 188];
        p[..4].copy_from_slice(&[0x47, (pid >> 8) as u8, pid as u8, 0x10 | cc]);
        p
    }

    #[test]
    fn every_packet_is_read_counted_and_the_end_is_seen() {
        let dir = TestDir::new("tsfile");
        // More than one chunk, with a continuity error in the middle.
        let packets: Vec<[u8; 188]> = (0..1000u32)
            .map(|i| packet(0x100, (i + u32::from(i >= 500)) as u8 & 0x0F))
            .collect();
        let path = dir.write("in.ts", packets.concat());
        let mut file = TsFile::open(&path).unwrap();
        let mut out = Vec::new();
        let mut reads = 0;
        while file.read(&mut out).unwrap() {
            reads += 1;
            assert!(reads < 100, "the end never came");
        }
        assert_eq!(out, packets);
        let report = file.report();
        assert_eq!((report.packets, report.bytes), (1000, 188_000));
        assert_eq!(report.continuity_errors, 1);
        assert!(report.receiving);
        let missing = TsFile::open(&dir.join("missing.ts")).err().unwrap();
        assert!(missing.contains("missing.ts: cannot open"), "{missing}");
    }
}
