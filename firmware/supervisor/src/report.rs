//! Building the views the API shows, from a document and the engine: the
//! supervisor's own (on its thread) or a published snapshot (on a reader's).

use std::collections::HashMap;

use makara_config::Id;

use crate::command::{Kind, Reply};
use crate::document::Document;
use crate::engine::Engine;
use crate::error::LookupError;
use crate::views::{
    CaptureView, InputView, NicView, OutputView, PresetView, ResourceState, ServerView,
    StorageView, StreamState, StreamView, SystemView, TranscoderView,
};

/// Everything a read looks at.
pub(crate) struct Reading<'a> {
    pub doc: &'a Document,
    /// Why each stream's last start failed.
    pub last_errors: &'a HashMap<Id, String>,
    pub engine: &'a dyn Engine,
}

impl Reading<'_> {
    pub fn list(&self, kind: Kind) -> Reply {
        let r = &self.doc.current;
        match kind {
            Kind::Input => Reply::Inputs(self.all(r.inputs.iter(), Self::input_view)),
            Kind::Output => Reply::Outputs(self.all(r.outputs.iter(), Self::output_view)),
            Kind::Transcoder => {
                Reply::Transcoders(self.all(r.transcoders.iter(), Self::transcoder_view))
            }
            Kind::Stream => Reply::Streams(self.all(r.streams.iter(), Self::stream_view)),
            Kind::Preset => {
                let ids = self.doc.presets.iter().map(|p| &p.id);
                Reply::Presets(ids.filter_map(|id| self.preset_view(id)).collect())
            }
        }
    }

    pub fn get(&self, kind: Kind, id: &Id) -> Result<Reply, LookupError> {
        let not_found = || LookupError::NotFound {
            kind,
            id: id.clone(),
        };
        let reply = match kind {
            Kind::Input => Reply::Input(self.input_view(id).ok_or_else(not_found)?),
            Kind::Output => Reply::Output(self.output_view(id).ok_or_else(not_found)?),
            Kind::Transcoder => Reply::Transcoder(self.transcoder_view(id).ok_or_else(not_found)?),
            Kind::Stream => Reply::Stream(self.stream_view(id).ok_or_else(not_found)?),
            Kind::Preset => Reply::Preset(self.preset_view(id).ok_or_else(not_found)?),
        };
        Ok(reply)
    }

    fn all<'i, T: 'i, V>(
        &self,
        rows: impl Iterator<Item = (&'i Id, &'i T)>,
        view: impl Fn(&Self, &Id) -> Option<V>,
    ) -> Vec<V> {
        rows.filter_map(|(id, _)| view(self, id)).collect()
    }

    fn stream_state(&self, id: &Id) -> StreamState {
        self.engine.state(id).unwrap_or(StreamState::Stopped)
    }

    /// The most active state among the streams using a resource.
    fn resource_state(&self, kind: Kind, id: &Id) -> ResourceState {
        self.doc
            .current
            .users(kind, id)
            .map(|(sid, _)| self.stream_state(sid))
            .max()
            .map_or(ResourceState::Unset, ResourceState::Stream)
    }

    fn input_view(&self, id: &Id) -> Option<InputView> {
        let config = self.doc.current.inputs.get(id)?.clone();
        Some(InputView {
            id: id.clone(),
            config,
            state: self.resource_state(Kind::Input, id),
        })
    }

    fn output_view(&self, id: &Id) -> Option<OutputView> {
        let config = self.doc.current.outputs.get(id)?.clone();
        Some(OutputView {
            id: id.clone(),
            config,
            state: self.resource_state(Kind::Output, id),
        })
    }

    fn transcoder_view(&self, id: &Id) -> Option<TranscoderView> {
        let config = self.doc.current.transcoders.get(id)?.clone();
        Some(TranscoderView {
            id: id.clone(),
            config,
            state: self.resource_state(Kind::Transcoder, id),
        })
    }

    fn stream_view(&self, id: &Id) -> Option<StreamView> {
        let r = &self.doc.current;
        let config = r.streams.get(id)?.clone();
        let output_name = |o: &Id| {
            r.outputs
                .get(o)
                .map_or_else(|| o.to_string(), |c| c.name.clone())
        };
        let (stats, problem) = match self.engine.stats(id) {
            Some((stats, problem)) => (Some(stats), problem),
            None => (None, None),
        };
        Some(StreamView {
            id: id.clone(),
            state: self.stream_state(id),
            last_error: problem.or_else(|| self.last_errors.get(id).cloned()),
            stats,
            input_name: r
                .inputs
                .get(&config.input)
                .map_or_else(|| config.input.to_string(), |c| c.name.clone()),
            transcoder_name: config.transcoder.as_ref().map(|t| {
                r.transcoders
                    .get(t)
                    .map_or_else(|| t.to_string(), |c| c.name.clone())
            }),
            output_names: config.outputs.iter().map(output_name).collect(),
            passthru_name: config.passthru.as_ref().map(output_name),
            config,
        })
    }

    fn preset_view(&self, id: &Id) -> Option<PresetView> {
        let p = self.doc.presets.iter().find(|p| &p.id == id)?;
        Some(PresetView {
            id: p.id.clone(),
            name: p.name.clone(),
            is_default: self.doc.default_preset.as_ref() == Some(&p.id),
            created_unix: p.created_unix,
            inputs: p.resources.inputs.len(),
            outputs: p.resources.outputs.len(),
            transcoders: p.resources.transcoders.len(),
            streams: p.resources.streams.len(),
        })
    }
}

pub(crate) fn system(
    ports: Vec<makara_media::CapturePort>,
    started: std::time::SystemTime,
    storage: Option<StorageView>,
) -> SystemView {
    SystemView {
        version: makara_board::firmware_version().to_string(),
        hostname: makara_board::hostname(),
        capture: CaptureView {
            start_time: started,
            keep_alive_counter: started.elapsed().map_or(0, |d| d.as_secs()),
            ports,
        },
        storage,
    }
}

pub(crate) fn server() -> ServerView {
    let nics = match makara_board::list_nics() {
        Ok(nics) => nics,
        Err(e) => {
            tracing::warn!(error = %e, "network interfaces could not be read");
            Vec::new()
        }
    };
    ServerView {
        id: makara_board::server_id(),
        nics: nics
            .into_iter()
            .map(|n| NicView {
                addresses: n.ipv4.into_iter().chain(n.ipv6).collect(),
                name: n.name,
                mac: n.mac,
                mtu: n.mtu,
                up: n.up,
            })
            .collect(),
    }
}
