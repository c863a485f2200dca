//! One output of a stream as the sender uses it, whatever carries it: the
//! same 188-byte packets in, grouped as the transport wants (datagrams of
//! the output's MTU for UDP, seven packets per message for SRT), and never
//! a wait on the network.

use std::sync::Arc;

use makara_config::{OutputConfig, OutputKind};
use makara_media::{AudioCodec, VideoCodec};

use crate::datagram::{Datagrams, TS_PACKET_LEN};
use crate::rtmp::{RtmpSender, RtmpSettings};
use crate::rtsp::{RtspOutput, RtspSettings};
use crate::srt::{SrtOutputSettings, SrtSender};
use crate::status::OutputStatus;
use crate::udp::{OutputError, UdpSender, UdpSettings};

/// An output's settings, resolved from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSettings {
    Udp(UdpSettings),
    Srt(SrtOutputSettings),
    Rtmp(RtmpSettings),
    Rtsp(RtspSettings),
}

impl OutputSettings {
    pub fn from_output(output: &OutputConfig) -> Result<OutputSettings, OutputError> {
        Ok(match output.kind {
            OutputKind::Udp { .. } => OutputSettings::Udp(UdpSettings::from_output(output)?),
            OutputKind::Srt { .. } => OutputSettings::Srt(SrtOutputSettings::from_output(output)?),
            OutputKind::Rtmp { .. } => OutputSettings::Rtmp(RtmpSettings::from_output(output)?),
            OutputKind::Rtsp { .. } => OutputSettings::Rtsp(RtspSettings::from_output(output)?),
        })
    }

    /// Why this output cannot carry a stream of this video and audio, or
    /// `None` when it can (a transport stream carries every codec).
    pub fn refusal(&self, video: Option<VideoCodec>, audio: Option<AudioCodec>) -> Option<String> {
        match self {
            OutputSettings::Udp(_) | OutputSettings::Srt(_) => None,
            OutputSettings::Rtmp(_) => crate::carriage::rtmp_refusal(video, audio),
            OutputSettings::Rtsp(_) => crate::carriage::rtsp_refusal(video),
        }
    }
}

/// An open output.
#[derive(Debug)]
pub enum TsOutput {
    Udp(UdpPackets),
    Srt(SrtSender),
    Rtmp(RtmpSender),
    Rtsp(RtspOutput),
}

impl TsOutput {
    /// Opens the socket (UDP), or the listening socket or the thread that
    /// connects (SRT): what is refused here fails a stream's start.
    pub fn open(settings: OutputSettings) -> Result<TsOutput, OutputError> {
        Ok(match settings {
            OutputSettings::Udp(udp) => TsOutput::Udp(UdpPackets::open(udp)?),
            OutputSettings::Srt(srt) => TsOutput::Srt(SrtSender::open(srt)?),
            OutputSettings::Rtmp(rtmp) => TsOutput::Rtmp(RtmpSender::open(rtmp)?),
            OutputSettings::Rtsp(rtsp) => TsOutput::Rtsp(RtspOutput::open(rtsp)?),
        })
    }

    /// Sends every datagram or message the packets complete; returns the
    /// bytes that left (for SRT, to at least one peer).
    pub fn send<'p>(
        &mut self,
        packets: impl Iterator<Item = &'p [u8; TS_PACKET_LEN]>,
    ) -> Result<u64, OutputError> {
        match self {
            TsOutput::Udp(udp) => udp.send(packets),
            TsOutput::Srt(srt) => Ok(srt.send(packets)),
            TsOutput::Rtmp(rtmp) => Ok(rtmp.send(packets)),
            TsOutput::Rtsp(rtsp) => Ok(rtsp.send(packets)),
        }
    }

    /// Sends the unfinished datagram or message, shorter, so that no
    /// packet is held back (the end of a run, or an input gone quiet).
    pub fn flush(&mut self) -> Result<(), OutputError> {
        match self {
            TsOutput::Udp(udp) => udp.flush(),
            TsOutput::Srt(srt) => {
                srt.flush();
                Ok(())
            }
            // Units leave whole, as soon as the demuxer has them.
            TsOutput::Rtmp(_) | TsOutput::Rtsp(_) => Ok(()),
        }
    }

    /// The output's state and health, shared with the stream's reports.
    pub fn status(&self) -> Arc<OutputStatus> {
        match self {
            TsOutput::Udp(udp) => udp.status(),
            TsOutput::Srt(srt) => srt.status(),
            TsOutput::Rtmp(rtmp) => rtmp.status(),
            TsOutput::Rtsp(rtsp) => rtsp.status(),
        }
    }
}

/// A UDP output: its socket, the datagram being filled, and the full
/// datagrams of the current call, which leave together: one `sendmsg`
/// with UDP segmentation offload per run of equal datagrams
/// ([`UdpSender::send_batch`]) instead of one system call each.
#[derive(Debug)]
pub struct UdpPackets {
    sender: UdpSender,
    datagrams: Datagrams,
    /// Full datagrams back to back, each `datagrams.per_datagram()`
    /// packets long.
    batch: Vec<u8>,
    /// Always delivering: every datagram leaves (a send that fails fails
    /// the stream's sender, which retries).
    status: Arc<OutputStatus>,
}

impl UdpPackets {
    pub fn open(settings: UdpSettings) -> Result<UdpPackets, OutputError> {
        let per_datagram = settings.packets_per_datagram;
        let status = Arc::new(OutputStatus::new(&settings.name));
        Ok(UdpPackets {
            sender: UdpSender::open(settings)?,
            datagrams: Datagrams::new(per_datagram),
            batch: Vec::new(),
            status,
        })
    }

    /// Sends every datagram `packets` complete; returns their bytes.
    pub fn send<'p>(
        &mut self,
        packets: impl Iterator<Item = &'p [u8; TS_PACKET_LEN]>,
    ) -> Result<u64, OutputError> {
        self.batch.clear();
        for packet in packets {
            if let Some(datagram) = self.datagrams.push(packet) {
                self.batch.extend_from_slice(datagram);
            }
        }
        if self.batch.is_empty() {
            return Ok(0);
        }
        let size = self.datagrams.per_datagram() * TS_PACKET_LEN;
        let datagrams: Vec<&[u8]> = self.batch.chunks(size).collect();
        self.sender.send_batch(&datagrams)?;
        Ok(self.batch.len() as u64)
    }

    pub fn flush(&mut self) -> Result<(), OutputError> {
        match self.datagrams.flush() {
            Some(datagram) => self.sender.send(datagram),
            None => Ok(()),
        }
    }

    pub fn status(&self) -> Arc<OutputStatus> {
        Arc::clone(&self.status)
    }

    pub fn sender(&self) -> &UdpSender {
        &self.sender
    }
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::time::Duration;

    use makara_config::OutputRequest;

    use super::*;

    fn udp_to(port: u16, mtu: i64) -> OutputSettings {
        let config = OutputRequest {
            url: Some(format!("udp://127.0.0.1:{port}")),
            mtu: Some(mtu),
            ..OutputRequest::default()
        }
        .validate()
        .unwrap();
        OutputSettings::from_output(&config).unwrap()
    }

    fn numbered(count: u8) -> Vec<[u8; TS_PACKET_LEN]> {
        (0..count)
            .map(|i| {
                let mut p = [0u8; TS_PACKET_LEN];
                p[0] = 0x47;
                p[1] = i;
                p
            })
            .collect()
    }

    #[test]
    fn udp_packets_leave_in_whole_datagrams_and_the_rest_on_flush() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let port = receiver.local_addr().unwrap().port();
        // 3 packets per datagram.
        let mut out = TsOutput::open(udp_to(port, 3 * 188 + 28)).unwrap();
        assert!(out.status().delivering());
        let packets = numbered(8);
        assert_eq!(out.send(packets.iter()).unwrap(), 6 * 188);
        out.flush().unwrap();
        let mut buf = [0u8; 2048];
        let mut heard = Vec::new();
        for _ in 0..3 {
            let n = receiver.recv(&mut buf).unwrap();
            heard.extend_from_slice(&buf[..n]);
        }
        assert_eq!(heard, packets.concat());
    }
}
