//! Outputs as sources, and their thumbnails.

use makara_config::Id;

use super::*;
use crate::{SourceLookupError, SourceView, Thumbnail, ThumbnailError};

impl Rig {
    fn sources(&self) -> Vec<SourceView> {
        match self.call(Command::ListSources) {
            Ok(Reply::Sources(views)) => views,
            other => panic!("expected sources, got {other:?}"),
        }
    }

    fn source(&self, id: &Id) -> SourceView {
        match self.call(Command::GetSource(id.clone())) {
            Ok(Reply::Source(view)) => view,
            other => panic!("expected a source, got {other:?}"),
        }
    }

    fn thumbnail(&self, output: &Id, max_width: u32) -> Result<Reply, CommandError> {
        self.call(Command::Thumbnail {
            output: output.clone(),
            max_width,
        })
    }
}

#[test]
fn a_source_shows_its_stream_whether_it_is_on_air_and_its_rate() {
    let rig = Rig::new("sources");
    let chain = rig.add_chain("cam");
    let alone = rig.add_output("unused");

    let idle = rig.source(&chain.output);
    assert_eq!(idle.output.id, chain.output);
    assert_eq!(idle.output.config.name, "cam out");
    let stream = idle.stream.as_ref().expect("the stream sending to it");
    assert_eq!((&stream.id, stream.name.as_str()), (&chain.stream, "cam"));
    assert_eq!(stream.state, StreamState::Stopped);
    assert!(!idle.active);
    assert_eq!(idle.bitrate_bps, 0);

    rig.start(&chain.stream);
    let stats = StreamStats {
        output_kbps: 2_500.4,
        ..StreamStats::default()
    };
    rig.probe.set_stats(&chain.stream, stats, None);
    let on_air = rig.source(&chain.output);
    assert!(on_air.active);
    assert_eq!(on_air.bitrate_bps, 2_500_400);
    assert_eq!(on_air.stream.unwrap().state, StreamState::Active);

    rig.probe.set_state(&chain.stream, StreamState::Waiting);
    let waiting = rig.source(&chain.output);
    assert!(!waiting.active, "waiting is not on air");
    assert_eq!(waiting.bitrate_bps, 2_500_400, "what it sends is measured");

    let sources = rig.sources();
    let ids: Vec<Id> = sources.iter().map(|s| s.output.id.clone()).collect();
    assert_eq!(ids, vec![chain.output.clone(), alone.clone()]);
    assert!(sources[1].stream.is_none());
    assert_eq!(sources[1].bitrate_bps, 0);

    let unknown = Id::new_random();
    assert!(matches!(
        rig.call(Command::GetSource(unknown.clone())),
        Err(CommandError::SourceLookup(SourceLookupError::NotFound(id))) if id == unknown
    ));
}

#[test]
fn a_thumbnail_comes_from_the_running_stream_that_sends_to_the_output() {
    let rig = Rig::new("sources-thumbnail");
    let chain = rig.add_chain("cam");
    let alone = rig.add_output("unused");
    assert!(matches!(
        rig.thumbnail(&Id::new_random(), 320),
        Err(CommandError::Thumbnail(ThumbnailError::OutputNotFound(_)))
    ));
    assert!(matches!(
        rig.thumbnail(&alone, 320),
        Err(CommandError::Thumbnail(ThumbnailError::NoStream(ref name))) if name == "unused"
    ));
    assert!(matches!(
        rig.thumbnail(&chain.output, 320),
        Err(CommandError::Thumbnail(ThumbnailError::NotRunning { ref stream, .. })) if stream == "cam"
    ));
    rig.start(&chain.stream);
    assert!(matches!(
        rig.thumbnail(&chain.output, 320),
        Err(CommandError::Thumbnail(ThumbnailError::NoPicture(ref why))) if why.contains("no frame")
    ));
    let picture = Thumbnail {
        jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
        width: 320,
        height: 180,
    };
    rig.probe.lock().picture = Some(picture.clone());
    match rig.thumbnail(&chain.output, 320) {
        Ok(Reply::Thumbnail(got)) => assert_eq!(got, picture),
        other => panic!("expected a thumbnail, got {other:?}"),
    }
    let asked = rig.probe.lock().thumbnails.clone();
    assert_eq!(asked.last(), Some(&(chain.stream.clone(), 320)));
}

#[test]
fn an_engine_without_pictures_says_so() {
    let rig = Rig::with_engine("sources-no-pictures", Box::new(AlwaysRunning));
    let chain = rig.add_chain("cam");
    rig.start(&chain.stream);
    assert!(matches!(
        rig.thumbnail(&chain.output, 320),
        Err(CommandError::Thumbnail(ThumbnailError::Unavailable(ref why))) if why.contains("cannot make a thumbnail")
    ));
}

/// Runs every stream it is given and has no more than the trait's
/// defaults.
struct AlwaysRunning;

impl Engine for AlwaysRunning {
    fn start(&mut self, _plan: &StreamPlan) -> Result<(), EngineError> {
        Ok(())
    }
    fn stop(&mut self, _id: &Id) {}
    fn state(&self, _id: &Id) -> Option<StreamState> {
        Some(StreamState::Active)
    }
}
