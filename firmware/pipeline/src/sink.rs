//! Where the sender's packets go: every UDP output of a stream, one file,
//! or nowhere (the bench without `--output`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use makara_media::Pcr27M;
use makara_output::{Datagrams, OutputError, UdpSender};
use thiserror::Error;

use crate::setup::{Setup, Sink};
use crate::shared::Shared;

/// Room in each file write.
const FILE_BUFFER: usize = 1 << 20;

pub enum PacketSink {
    /// Each output with its own datagram grouping (MTU).
    Udp(Vec<UdpOutput>),
    File {
        writer: BufWriter<File>,
        path: PathBuf,
    },
    Null,
}

#[derive(Debug, Error)]
pub enum SinkError {
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("output {path}: {source}")]
    File { path: PathBuf, source: io::Error },
}

impl PacketSink {
    /// Opens the sockets or the file, so that a refused setting fails the
    /// start.
    pub fn open(setup: &Setup) -> Result<PacketSink, SinkError> {
        Ok(match &setup.sink {
            Sink::Udp => PacketSink::Udp(
                setup
                    .outputs
                    .iter()
                    .map(|o| {
                        Ok(UdpOutput {
                            sender: UdpSender::open(o.clone())?,
                            datagrams: Datagrams::new(o.packets_per_datagram),
                            batch: Vec::new(),
                        })
                    })
                    .collect::<Result<Vec<_>, OutputError>>()?,
            ),
            Sink::File(path) => PacketSink::File {
                writer: BufWriter::with_capacity(
                    FILE_BUFFER,
                    File::create(path).map_err(|source| SinkError::File {
                        path: path.clone(),
                        source,
                    })?,
                ),
                path: path.clone(),
            },
            Sink::Null => PacketSink::Null,
        })
    }

    /// The same packets to every output, grouped by each output's MTU,
    /// the full datagrams of one call in one batch (see [`UdpOutput`]).
    /// The stream's rate counts the first output's bytes only.
    pub fn send(&mut self, packets: &[(Pcr27M, [u8; 188])], shared: &Shared) -> Result<(), String> {
        match self {
            PacketSink::Udp(outputs) => {
                for (index, output) in outputs.iter_mut().enumerate() {
                    let sent = output.send(packets).map_err(|e| e.to_string())?;
                    if sent > 0 {
                        if index == 0 {
                            shared.bytes_sent.fetch_add(sent, Ordering::Relaxed);
                        }
                        shared.active.store(true, Ordering::Relaxed);
                    }
                }
            }
            PacketSink::File { writer, path } => {
                for (_, packet) in packets {
                    writer
                        .write_all(packet)
                        .map_err(|e| format!("output {}: {e}", path.display()))?;
                }
                count(packets, shared);
            }
            PacketSink::Null => count(packets, shared),
        }
        Ok(())
    }

    /// Everything written is on its way: the file's buffer is flushed, and
    /// each output's unfinished datagram goes out, shorter.
    pub fn finish(&mut self) -> Result<(), String> {
        match self {
            PacketSink::File { writer, path } => writer
                .flush()
                .map_err(|e| format!("output {}: {e}", path.display())),
            PacketSink::Udp(outputs) => {
                for UdpOutput {
                    sender, datagrams, ..
                } in outputs
                {
                    if let Some(datagram) = datagrams.flush() {
                        sender.send(datagram).map_err(|e| e.to_string())?;
                    }
                }
                Ok(())
            }
            PacketSink::Null => Ok(()),
        }
    }
}

/// One UDP output: its socket, the datagram being filled, and the full
/// datagrams of the current call, which leave together: one `sendmsg`
/// with UDP segmentation offload per run of equal datagrams
/// ([`UdpSender::send_batch`]) instead of one system call each.
pub struct UdpOutput {
    sender: UdpSender,
    datagrams: Datagrams,
    /// Full datagrams back to back, each `datagrams.per_datagram()`
    /// packets long.
    batch: Vec<u8>,
}

impl UdpOutput {
    /// Sends every datagram `packets` complete; returns their bytes.
    fn send(&mut self, packets: &[(Pcr27M, [u8; 188])]) -> Result<u64, OutputError> {
        self.batch.clear();
        for (_, packet) in packets {
            if let Some(datagram) = self.datagrams.push(packet) {
                self.batch.extend_from_slice(datagram);
            }
        }
        if self.batch.is_empty() {
            return Ok(0);
        }
        let size = self.datagrams.per_datagram() * 188;
        let datagrams: Vec<&[u8]> = self.batch.chunks(size).collect();
        self.sender.send_batch(&datagrams)?;
        Ok(self.batch.len() as u64)
    }
}

fn count(packets: &[(Pcr27M, [u8; 188])], shared: &Shared) {
    if !packets.is_empty() {
        shared
            .bytes_sent
            .fetch_add(packets.len() as u64 * 188, Ordering::Relaxed);
        shared.active.store(true, Ordering::Relaxed);
    }
}
