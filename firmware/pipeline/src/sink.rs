//! Where the sender's packets go: every output of a stream (UDP and SRT),
//! one file, or nowhere (the bench without `--output`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use makara_media::Pcr27M;
use makara_output::{OutputError, OutputSettings, SrtStatus, TsOutput};
use thiserror::Error;

use crate::setup::{Setup, Sink};
use crate::shared::Shared;

/// Room in each file write.
const FILE_BUFFER: usize = 1 << 20;

pub enum PacketSink {
    /// Each output with its own grouping: datagrams of its MTU (UDP),
    /// seven packets per message (SRT).
    Outputs(Vec<TsOutput>),
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
            Sink::Outputs => PacketSink::outputs(&setup.outputs)?,
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

    /// Every output in `settings`, open.
    pub fn outputs(settings: &[OutputSettings]) -> Result<PacketSink, OutputError> {
        Ok(PacketSink::Outputs(
            settings
                .iter()
                .map(|o| TsOutput::open(o.clone()))
                .collect::<Result<_, _>>()?,
        ))
    }

    /// The state of each output with peers, in order.
    pub fn statuses(&self) -> Vec<Arc<SrtStatus>> {
        match self {
            PacketSink::Outputs(outputs) => outputs.iter().filter_map(TsOutput::status).collect(),
            _ => Vec::new(),
        }
    }

    /// The muxer's packets, with their departure times.
    pub fn send(&mut self, packets: &[(Pcr27M, [u8; 188])], shared: &Shared) -> Result<(), String> {
        self.send_packets(packets.iter().map(|(_, p)| p), shared)
    }

    /// The same packets to every output, each grouping them its own way,
    /// the full datagrams of one call in one batch. The stream's rate
    /// counts the first output's bytes only.
    pub fn send_packets<'p>(
        &mut self,
        packets: impl Iterator<Item = &'p [u8; 188]> + Clone,
        shared: &Shared,
    ) -> Result<(), String> {
        match self {
            PacketSink::Outputs(outputs) => {
                for (index, output) in outputs.iter_mut().enumerate() {
                    let sent = output.send(packets.clone()).map_err(|e| e.to_string())?;
                    if sent > 0 {
                        if index == 0 {
                            shared.bytes_sent.fetch_add(sent, Ordering::Relaxed);
                        }
                        shared.active.store(true, Ordering::Relaxed);
                    }
                }
            }
            PacketSink::File { writer, path } => {
                let mut count = 0;
                for packet in packets {
                    writer
                        .write_all(packet)
                        .map_err(|e| format!("output {}: {e}", path.display()))?;
                    count += 1;
                }
                counted(count, shared);
            }
            PacketSink::Null => counted(packets.count(), shared),
        }
        Ok(())
    }

    /// Everything written is on its way: the file's buffer is flushed, and
    /// each output's unfinished datagram or message goes out, shorter.
    pub fn finish(&mut self) -> Result<(), String> {
        match self {
            PacketSink::File { writer, path } => writer
                .flush()
                .map_err(|e| format!("output {}: {e}", path.display())),
            PacketSink::Outputs(outputs) => outputs
                .iter_mut()
                .try_for_each(TsOutput::flush)
                .map_err(|e| e.to_string()),
            PacketSink::Null => Ok(()),
        }
    }
}

fn counted(packets: usize, shared: &Shared) {
    if packets > 0 {
        shared
            .bytes_sent
            .fetch_add(packets as u64 * 188, Ordering::Relaxed);
        shared.active.store(true, Ordering::Relaxed);
    }
}
