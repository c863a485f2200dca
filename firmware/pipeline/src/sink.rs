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
    Udp(Vec<(UdpSender, Datagrams)>),
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
                        Ok((
                            UdpSender::open(o.clone())?,
                            Datagrams::new(o.packets_per_datagram),
                        ))
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

    /// The same packets to every output, grouped by each output's MTU.
    /// The stream's rate counts the first output's bytes only.
    pub fn send(&mut self, packets: &[(Pcr27M, [u8; 188])], shared: &Shared) -> Result<(), String> {
        match self {
            PacketSink::Udp(outputs) => {
                for (_, packet) in packets {
                    for (index, (sender, datagrams)) in outputs.iter_mut().enumerate() {
                        if let Some(datagram) = datagrams.push(packet) {
                            sender.send(datagram).map_err(|e| e.to_string())?;
                            if index == 0 {
                                shared
                                    .bytes_sent
                                    .fetch_add(datagram.len() as u64, Ordering::Relaxed);
                            }
                            shared.active.store(true, Ordering::Relaxed);
                        }
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
                for (sender, datagrams) in outputs {
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

fn count(packets: &[(Pcr27M, [u8; 188])], shared: &Shared) {
    if !packets.is_empty() {
        shared
            .bytes_sent
            .fetch_add(packets.len() as u64 * 188, Ordering::Relaxed);
        shared.active.store(true, Ordering::Relaxed);
    }
}
