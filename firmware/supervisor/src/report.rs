//! Building the views the API shows.

use makara_config::Id;

use crate::command::Kind;
use crate::supervisor::Supervisor;
use crate::views::{
    InputView, NicView, OutputView, PresetView, ResourceState, ServerView, StreamView, SystemView,
    TranscoderView,
};

impl Supervisor {
    /// The most active state among the streams using a resource.
    fn resource_state(&self, kind: Kind, id: &Id) -> ResourceState {
        self.resources()
            .users(kind, id)
            .map(|(sid, _)| self.stream_state(sid))
            .max()
            .map_or(ResourceState::Unset, ResourceState::Stream)
    }

    pub(crate) fn input_view(&self, id: &Id) -> Option<InputView> {
        let config = self.resources().inputs.get(id)?.clone();
        Some(InputView {
            id: id.clone(),
            config,
            state: self.resource_state(Kind::Input, id),
        })
    }

    pub(crate) fn output_view(&self, id: &Id) -> Option<OutputView> {
        let config = self.resources().outputs.get(id)?.clone();
        Some(OutputView {
            id: id.clone(),
            config,
            state: self.resource_state(Kind::Output, id),
        })
    }

    pub(crate) fn transcoder_view(&self, id: &Id) -> Option<TranscoderView> {
        let config = self.resources().transcoders.get(id)?.clone();
        Some(TranscoderView {
            id: id.clone(),
            config,
            state: self.resource_state(Kind::Transcoder, id),
        })
    }

    pub(crate) fn stream_view(&self, id: &Id) -> Option<StreamView> {
        let r = self.resources();
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

    pub(crate) fn input_views(&self) -> Vec<InputView> {
        let ids = self.resources().inputs.iter().map(|(id, _)| id);
        ids.filter_map(|id| self.input_view(id)).collect()
    }

    pub(crate) fn output_views(&self) -> Vec<OutputView> {
        let ids = self.resources().outputs.iter().map(|(id, _)| id);
        ids.filter_map(|id| self.output_view(id)).collect()
    }

    pub(crate) fn transcoder_views(&self) -> Vec<TranscoderView> {
        let ids = self.resources().transcoders.iter().map(|(id, _)| id);
        ids.filter_map(|id| self.transcoder_view(id)).collect()
    }

    pub(crate) fn stream_views(&self) -> Vec<StreamView> {
        let ids = self.resources().streams.iter().map(|(id, _)| id);
        ids.filter_map(|id| self.stream_view(id)).collect()
    }

    pub(crate) fn preset_view(&self, id: &Id) -> Option<PresetView> {
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

    pub(crate) fn preset_views(&self) -> Vec<PresetView> {
        let ids = self.doc.presets.iter().map(|p| &p.id);
        ids.filter_map(|id| self.preset_view(id)).collect()
    }
}

pub(crate) fn system(
    engine: &dyn crate::engine::Engine,
    started: std::time::SystemTime,
) -> SystemView {
    SystemView {
        version: makara_board::firmware_version().to_string(),
        hostname: makara_board::hostname(),
        capture: crate::views::CaptureView {
            start_time: started,
            keep_alive_counter: started.elapsed().map_or(0, |d| d.as_secs()),
            ports: engine.capture_ports(),
        },
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
