//! Building the views the API shows, from a document and the engine: the
//! supervisor's own (on its thread) or a published snapshot (on a reader's).

use std::collections::HashMap;

use makara_config::{Id, StreamConfig};
use makara_media::OutputReport;

use crate::command::{Command, Kind, Reply};
use crate::document::Document;
use crate::engine::Engine;
use crate::error::{CommandError, LookupError};
use crate::recordings::Recordings;
use crate::resources::Resources;
use crate::views::{
    CapacityView, CaptureView, InputView, NicView, OutputView, PresetView, ResourceState,
    ServerView, StorageView, StreamOutputView, StreamState, StreamView, SystemView, TranscoderView,
};

/// Everything a read looks at.
pub(crate) struct Reading<'a> {
    pub doc: &'a Document,
    /// Why each stream's last start failed.
    pub last_errors: &'a HashMap<Id, String>,
    pub engine: &'a dyn Engine,
    /// Which groups are being recorded.
    pub recordings: &'a Recordings,
}

impl Reading<'_> {
    /// Answers a read of the configuration; `None` for other commands.
    pub fn answer(&self, command: &Command) -> Option<Result<Reply, CommandError>> {
        let reply = match command {
            Command::List(kind) => Ok(self.list(*kind)),
            Command::Get(kind, id) => self.get(*kind, id).map_err(CommandError::from),
            Command::ListGroups => Ok(Reply::Groups(self.groups())),
            Command::GetGroup(id) => self.group(id).map(Reply::Group).map_err(Into::into),
            Command::ListSources => Ok(Reply::Sources(self.sources())),
            Command::GetSource(id) => self.source(id).map(Reply::Source).map_err(Into::into),
            Command::Thumbnail { output, max_width } => self
                .thumbnail(output, *max_width)
                .map(Reply::Thumbnail)
                .map_err(Into::into),
            _ => return None,
        };
        Some(reply)
    }

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
            last_error: self.input_error(id),
        })
    }

    pub(crate) fn output_view(&self, id: &Id) -> Option<OutputView> {
        let config = self.doc.current.outputs.get(id)?.clone();
        Some(OutputView {
            id: id.clone(),
            config,
            state: self.resource_state(Kind::Output, id),
            last_error: self.output_error(id),
        })
    }

    /// The input's error as the first running stream reading it reports
    /// it. Only streams the engine runs have statistics.
    fn input_error(&self, id: &Id) -> Option<String> {
        self.doc
            .current
            .users(Kind::Input, id)
            .filter_map(|(sid, _)| self.engine.stats(sid))
            .find_map(|(stats, _)| stats.input?.last_error)
    }

    /// The output's error as the first running stream sending to it
    /// reports it.
    fn output_error(&self, id: &Id) -> Option<String> {
        let r = &self.doc.current;
        r.users(Kind::Output, id).find_map(|(sid, stream)| {
            let (stats, _) = self.engine.stats(sid)?;
            output_report(r, stream, id, &stats.outputs)?
                .last_error
                .clone()
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
        let output_reports = output_reports(r, &config, stats.as_ref());
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
            output_reports,
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

/// Output `id`'s report among those of a stream that sends to it. The
/// engine reports every output it runs (the enabled ones) under its name,
/// in the order the stream lists them (passthru last); so when several
/// outputs of one stream share a name, the n-th report with that name is
/// the n-th such enabled output's. A disabled output has none.
pub(crate) fn output_report<'a>(
    r: &Resources,
    stream: &StreamConfig,
    id: &Id,
    reports: &'a [OutputReport],
) -> Option<&'a OutputReport> {
    let name = &r.outputs.get(id)?.name;
    let nth = stream
        .all_outputs()
        .filter(|o| {
            r.outputs
                .get(o)
                .is_some_and(|c| c.enabled && &c.name == name)
        })
        .position(|o| o == id)?;
    reports.iter().filter(|rep| &rep.name == name).nth(nth)
}

/// Every output of `stream` with its report from `stats` (while the
/// stream runs).
fn output_reports(
    r: &Resources,
    stream: &StreamConfig,
    stats: Option<&makara_engine::StreamStats>,
) -> Vec<StreamOutputView> {
    stream
        .all_outputs()
        .filter_map(|id| {
            let config = r.outputs.get(id)?;
            Some(StreamOutputView {
                id: id.clone(),
                name: config.name.clone(),
                output_type: config.kind.output_type(),
                report: stats
                    .and_then(|s| output_report(r, stream, id, &s.outputs))
                    .cloned(),
            })
        })
        .collect()
}

/// The capture ports by family: V4L2 (`capture`) and DeckLink.
pub(crate) struct Ports {
    pub capture: Vec<makara_media::CapturePort>,
    pub decklink: Vec<makara_media::CapturePort>,
}

pub(crate) fn system(
    ports: Ports,
    started: std::time::SystemTime,
    storage: Option<StorageView>,
    capacity: CapacityView,
) -> SystemView {
    let keep_alive_counter = started.elapsed().map_or(0, |d| d.as_secs());
    let family = |ports| CaptureView {
        start_time: started,
        keep_alive_counter,
        ports,
    };
    SystemView {
        version: makara_board::firmware_version().to_string(),
        hostname: makara_board::hostname(),
        capture: family(ports.capture),
        decklink: family(ports.decklink),
        storage,
        capacity,
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

#[cfg(test)]
mod tests {
    use makara_config::{OutputRequest, OutputType, SrtMode, SrtRequest};
    use makara_engine::{EngineError, StreamPlan};
    use makara_media::InputReport;

    use super::*;
    use crate::tests::{input, output, stream, transcoder};
    use crate::views::StreamStats;

    /// An engine that runs the streams it is given, with their statistics.
    #[derive(Default)]
    struct StatsEngine(HashMap<Id, StreamStats>);

    impl Engine for StatsEngine {
        fn start(&mut self, _plan: &StreamPlan) -> Result<(), EngineError> {
            unreachable!("reads never start streams")
        }
        fn stop(&mut self, _id: &Id) {}
        fn state(&self, id: &Id) -> Option<StreamState> {
            self.0.get(id).map(|_| StreamState::Waiting)
        }
        fn stats(&self, id: &Id) -> Option<(StreamStats, Option<String>)> {
            let stats = self.0.get(id)?.clone();
            Some((stats, Some("the stream's own problem".into())))
        }
    }

    fn srt_output(name: &str, port: i64) -> makara_config::OutputConfig {
        OutputRequest {
            name: Some(name.into()),
            stream_type: Some(OutputType::Srt),
            srt: SrtRequest {
                mode: Some(SrtMode::Listener),
                local_port: Some(port),
                ..SrtRequest::default()
            },
            ..OutputRequest::default()
        }
        .validate()
        .unwrap()
    }

    fn report(name: &str, error: &str) -> OutputReport {
        OutputReport {
            name: name.into(),
            last_error: Some(error.into()),
            ..OutputReport::default()
        }
    }

    fn delivering(name: &str) -> OutputReport {
        OutputReport {
            name: name.into(),
            ..OutputReport::default()
        }
    }

    /// A document of one input, one transcoder and `outputs` (by key),
    /// with streams added by [`World::add_stream`].
    struct World {
        doc: Document,
        ids: HashMap<String, Id>,
        input: Id,
    }

    impl World {
        fn new(outputs: Vec<(&str, makara_config::OutputConfig)>) -> World {
            let mut doc = Document::default();
            let mut ids = HashMap::new();
            let input_id = Id::new_random();
            doc.current.inputs.insert(input_id.clone(), input("in"));
            let tx = Id::new_random();
            doc.current.transcoders.insert(tx.clone(), transcoder("tx"));
            ids.insert("tx".to_string(), tx);
            for (key, config) in outputs {
                let id = Id::new_random();
                doc.current.outputs.insert(id.clone(), config);
                ids.insert(key.to_string(), id);
            }
            World {
                doc,
                ids,
                input: input_id,
            }
        }

        fn add_stream(&mut self, key: &str, outputs: &[&str]) -> Id {
            let outs: Vec<&Id> = outputs.iter().map(|k| &self.ids[*k]).collect();
            let config = stream(key, &self.input, Some(&self.ids["tx"]), &outs);
            let id = Id::new_random();
            self.doc.current.streams.insert(id.clone(), config);
            id
        }

        fn read<T>(&self, engine: &StatsEngine, f: impl FnOnce(&Reading) -> T) -> T {
            let no_errors = HashMap::new();
            let events = crate::events::EventLog::default();
            let recordings = Recordings::new(
                crate::recordings::LocalRecorder::Unavailable("none in this test".into()),
                &events,
            );
            f(&Reading {
                doc: &self.doc,
                last_errors: &no_errors,
                engine,
                recordings: &recordings,
            })
        }

        fn output_error(&self, engine: &StatsEngine, key: &str) -> Option<String> {
            self.read(engine, |r| {
                r.output_view(&self.ids[key]).unwrap().last_error
            })
        }
    }

    #[test]
    fn an_input_shows_the_error_its_running_stream_reports() {
        let mut world = World::new(vec![("udp", output("udp"))]);
        let s = world.add_stream("s", &["udp"]);
        let input = world.input.clone();
        let mut engine = StatsEngine::default();
        let stopped = world.read(&engine, |r| r.input_view(&input).unwrap());
        assert_eq!(stopped.last_error, None, "no running stream, no error");
        engine.0.insert(
            s.clone(),
            StreamStats {
                input: Some(InputReport {
                    last_error: Some("no packet on udp://239.1.1.1:5000 for 2 s".into()),
                    ..InputReport::default()
                }),
                ..StreamStats::default()
            },
        );
        let running = world.read(&engine, |r| r.input_view(&input).unwrap());
        assert_eq!(
            running.last_error.as_deref(),
            Some("no packet on udp://239.1.1.1:5000 for 2 s")
        );
        // The stream's own lastError is the engine's problem, as before.
        let view = world.read(&engine, |r| r.stream_view(&s).unwrap());
        assert_eq!(view.last_error.as_deref(), Some("the stream's own problem"));
        // A receiving input reports no error.
        engine.0.get_mut(&s).unwrap().input = Some(InputReport {
            receiving: true,
            ..InputReport::default()
        });
        let receiving = world.read(&engine, |r| r.input_view(&input).unwrap());
        assert_eq!(receiving.last_error, None);
    }

    #[test]
    fn every_output_shows_its_own_report() {
        let mut world = World::new(vec![
            ("a", srt_output("to A", 9001)),
            ("b", srt_output("to B", 9002)),
            ("udp", output("to A")),
        ]);
        let s = world.add_stream("s", &["udp", "a", "b"]);
        let mut engine = StatsEngine::default();
        assert_eq!(world.output_error(&engine, "a"), None);
        engine.0.insert(
            s.clone(),
            StreamStats {
                outputs: vec![
                    delivering("to A"),
                    report("to A", "A refused"),
                    report("to B", "B unreachable"),
                ],
                ..StreamStats::default()
            },
        );
        assert_eq!(
            world.output_error(&engine, "a").as_deref(),
            Some("A refused")
        );
        assert_eq!(
            world.output_error(&engine, "b").as_deref(),
            Some("B unreachable")
        );
        assert_eq!(world.output_error(&engine, "udp"), None, "UDP delivers");
        // The stream's view pairs each output (id, type) with its report.
        let view = world.read(&engine, |r| r.stream_view(&s).unwrap());
        let seen: Vec<_> = view
            .output_reports
            .iter()
            .map(|o| {
                let error = o.report.as_ref().map(|r| r.last_error.as_deref());
                (o.id.clone(), o.output_type, error)
            })
            .collect();
        let ids = &world.ids;
        assert_eq!(
            seen,
            [
                (ids["udp"].clone(), OutputType::Udp, Some(None)),
                (ids["a"].clone(), OutputType::Srt, Some(Some("A refused"))),
                (
                    ids["b"].clone(),
                    OutputType::Srt,
                    Some(Some("B unreachable"))
                ),
            ]
        );
    }

    #[test]
    fn a_disabled_output_has_no_report_and_takes_no_others() {
        let mut off = output("same");
        off.enabled = false;
        let mut world = World::new(vec![("off", off), ("on", output("same"))]);
        let s = world.add_stream("s", &["off", "on"]);
        let mut engine = StatsEngine::default();
        let mut on = report("same", "the one that runs");
        on.health.packets = 7;
        engine.0.insert(
            s.clone(),
            StreamStats {
                outputs: vec![on],
                ..StreamStats::default()
            },
        );
        let view = world.read(&engine, |r| r.stream_view(&s).unwrap());
        let reports: Vec<_> = view
            .output_reports
            .iter()
            .map(|o| o.report.as_ref())
            .collect();
        assert!(reports[0].is_none(), "{reports:?}");
        assert_eq!(reports[1].unwrap().health.packets, 7);
    }

    #[test]
    fn srt_outputs_sharing_a_name_take_their_reports_in_stream_order() {
        let mut world = World::new(vec![
            ("first", srt_output("same", 9001)),
            ("second", srt_output("same", 9002)),
        ]);
        let s = world.add_stream("s", &["second", "first"]);
        let mut engine = StatsEngine::default();
        engine.0.insert(
            s,
            StreamStats {
                outputs: vec![report("same", "second's"), report("same", "first's")],
                ..StreamStats::default()
            },
        );
        assert_eq!(
            world.output_error(&engine, "second").as_deref(),
            Some("second's")
        );
        assert_eq!(
            world.output_error(&engine, "first").as_deref(),
            Some("first's")
        );
    }

    #[test]
    fn only_running_streams_count() {
        let mut world = World::new(vec![("a", srt_output("to A", 9001))]);
        let _stopped = world.add_stream("stopped", &["a"]);
        let running = world.add_stream("running", &["a"]);
        let mut engine = StatsEngine::default();
        engine.0.insert(
            running,
            StreamStats {
                outputs: vec![report("to A", "no caller yet")],
                ..StreamStats::default()
            },
        );
        assert_eq!(
            world.output_error(&engine, "a").as_deref(),
            Some("no caller yet")
        );
    }
}
