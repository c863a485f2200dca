//! Outputs seen as sources: which stream sends to each, whether it is on
//! air and at what rate, and a picture of what it shows.

use makara_config::Id;
use makara_engine::{EngineError, Thumbnail};

use crate::command::Kind;
use crate::recording_error::{SourceLookupError, ThumbnailError};
use crate::report::Reading;
use crate::views::{SourceStream, SourceView, StreamState};

impl Reading<'_> {
    /// Every output as a source, in creation order.
    pub fn sources(&self) -> Vec<SourceView> {
        let ids = self.doc.current.outputs.iter().map(|(id, _)| id);
        ids.filter_map(|id| self.source_view(id)).collect()
    }

    pub fn source(&self, id: &Id) -> Result<SourceView, SourceLookupError> {
        self.source_view(id)
            .ok_or_else(|| SourceLookupError::NotFound(id.clone()))
    }

    fn source_view(&self, id: &Id) -> Option<SourceView> {
        let output = self.output_view(id)?;
        let stream = self.sending_stream(id);
        let running = stream.as_ref().filter(|s| s.state != StreamState::Stopped);
        let bitrate_bps = running
            .and_then(|s| self.engine.stats(&s.id))
            .map_or(0, |(stats, _)| {
                (stats.output_kbps.max(0.0) * 1000.0).round() as u64
            });
        Some(SourceView {
            output,
            active: stream
                .as_ref()
                .is_some_and(|s| s.state == StreamState::Active),
            bitrate_bps,
            stream,
        })
    }

    /// The stream that sends to output `id`: the first that runs, else
    /// the first configured.
    fn sending_stream(&self, id: &Id) -> Option<SourceStream> {
        let streams: Vec<SourceStream> = self
            .doc
            .current
            .users(Kind::Output, id)
            .map(|(sid, s)| SourceStream {
                id: sid.clone(),
                name: s.name.clone(),
                state: self.engine.state(sid).unwrap_or(StreamState::Stopped),
            })
            .collect();
        let running = streams.iter().position(|s| s.state != StreamState::Stopped);
        streams.into_iter().nth(running.unwrap_or(0))
    }

    /// A picture of what output `id` sends, at most `max_width` wide.
    pub fn thumbnail(&self, id: &Id, max_width: u32) -> Result<Thumbnail, ThumbnailError> {
        let output = self.doc.current.outputs.get(id);
        let output = output.ok_or_else(|| ThumbnailError::OutputNotFound(id.clone()))?;
        let stream = self.sending_stream(id);
        let stream = stream.ok_or_else(|| ThumbnailError::NoStream(output.name.clone()))?;
        if stream.state == StreamState::Stopped {
            return Err(ThumbnailError::NotRunning {
                output: output.name.clone(),
                stream: stream.name,
            });
        }
        self.engine
            .thumbnail(&stream.id, max_width)
            .map_err(|e| match e {
                EngineError::Failed(why) => ThumbnailError::NoPicture(why),
                EngineError::Unavailable(why) => ThumbnailError::Unavailable(why),
            })
    }
}
