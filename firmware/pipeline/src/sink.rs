//! Where the sender's packets go: every output of a stream (UDP and SRT),
//! one file, or nowhere (the bench without `--output`). What an output is
//! handed also goes to its taps ([`crate::taps`]), once the output took it.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use makara_media::Pcr27M;
use makara_output::{OutputError, OutputSettings, OutputStatus, TsOutput};
use thiserror::Error;

use crate::setup::{Setup, Sink};
use crate::shared::Shared;
use crate::taps::OutputTaps;

/// Room in each file write.
const FILE_BUFFER: usize = 1 << 20;

pub enum PacketSink {
    /// Each output with its own grouping: datagrams of its MTU (UDP),
    /// seven packets per message (SRT).
    Outputs {
        outputs: Vec<TsOutput>,
        /// Each output's status, in the same order: what it took is
        /// judged there ([`OutputStatus::took`]).
        statuses: Vec<Arc<OutputStatus>>,
        /// Each output's taps, in the same order; none for the bench.
        taps: Vec<Arc<OutputTaps>>,
        /// The batch as contiguous bytes for the taps, made once per batch
        /// and only when an output has a tap.
        copy: Vec<u8>,
    },
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
        let outputs: Vec<TsOutput> = settings
            .iter()
            .map(|o| TsOutput::open(o.clone()))
            .collect::<Result<_, _>>()?;
        Ok(PacketSink::Outputs {
            statuses: outputs.iter().map(TsOutput::status).collect(),
            outputs,
            taps: Vec::new(),
            copy: Vec::new(),
        })
    }

    /// Gives the outputs, in order, their taps.
    pub fn tapped(mut self, output_taps: Vec<Arc<OutputTaps>>) -> PacketSink {
        if let PacketSink::Outputs { taps, .. } = &mut self {
            *taps = output_taps;
        }
        self
    }

    /// The state of each output, in order.
    pub fn statuses(&self) -> Vec<Arc<OutputStatus>> {
        match self {
            PacketSink::Outputs { statuses, .. } => statuses.clone(),
            _ => Vec::new(),
        }
    }

    /// The muxer's packets, with their departure times.
    pub fn send(&mut self, packets: &[(Pcr27M, [u8; 188])], shared: &Shared) -> Result<(), String> {
        self.send_batch(packets.iter().map(|(_, p)| p), None, shared)
    }

    /// Packets as received (a relayed input): the taps get them without
    /// a copy.
    pub fn send_packets(&mut self, packets: &[[u8; 188]], shared: &Shared) -> Result<(), String> {
        self.send_batch(packets.iter(), Some(packets.as_flattened()), shared)
    }

    /// The same packets to every output, each grouping them its own way,
    /// the full datagrams of one call in one batch, then to the output's
    /// health and its taps (`flat` is the batch as bytes, if the caller has
    /// it so). The stream's rate counts the first output's bytes only.
    fn send_batch<'p>(
        &mut self,
        packets: impl Iterator<Item = &'p [u8; 188]> + Clone,
        flat: Option<&[u8]>,
        shared: &Shared,
    ) -> Result<(), String> {
        match self {
            PacketSink::Outputs {
                outputs,
                statuses,
                taps,
                copy,
            } => {
                let now = Instant::now();
                let mut batch = Batch {
                    packets,
                    flat,
                    copy,
                    copied: false,
                };
                for (index, output) in outputs.iter_mut().enumerate() {
                    let sent = output
                        .send(batch.packets.clone())
                        .map_err(|e| e.to_string())?;
                    statuses[index].took(batch.packets.clone(), now);
                    if let Some(taps) = taps.get(index).filter(|t| !t.is_empty()) {
                        taps.deliver(batch.bytes());
                    }
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
            PacketSink::Outputs { outputs, .. } => outputs
                .iter_mut()
                .try_for_each(TsOutput::flush)
                .map_err(|e| e.to_string()),
            PacketSink::Null => Ok(()),
        }
    }
}

/// One batch on its way to the outputs, and to their taps as bytes.
struct Batch<'b, I> {
    packets: I,
    flat: Option<&'b [u8]>,
    copy: &'b mut Vec<u8>,
    copied: bool,
}

impl<'p, I: Iterator<Item = &'p [u8; 188]> + Clone> Batch<'_, I> {
    /// The packets, contiguous: as the caller gave them, or copied once.
    fn bytes(&mut self) -> &[u8] {
        if let Some(flat) = self.flat {
            return flat;
        }
        if !self.copied {
            self.copy.clear();
            self.packets
                .clone()
                .for_each(|p| self.copy.extend_from_slice(p));
            self.copied = true;
        }
        self.copy
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
