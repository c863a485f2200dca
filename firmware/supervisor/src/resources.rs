//! The configuration proper: four tables of resources.

use makara_config::{Id, InputConfig, OutputConfig, StreamConfig, TranscoderConfig};
use serde::{Deserialize, Serialize};

use crate::command::Kind;

/// An ordered table of resources by id. Lists keep creation order, which is
/// what an operator expects to see; tables hold tens of entries, so a linear
/// search is cheaper than any index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Table<T> {
    rows: Vec<Row<T>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Row<T> {
    id: Id,
    value: T,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table { rows: Vec::new() }
    }
}

impl<T> Table<T> {
    pub fn get(&self, id: &Id) -> Option<&T> {
        self.rows.iter().find(|r| &r.id == id).map(|r| &r.value)
    }

    pub fn contains(&self, id: &Id) -> bool {
        self.get(id).is_some()
    }

    pub fn insert(&mut self, id: Id, value: T) {
        self.rows.push(Row { id, value });
    }

    /// Replaces the value of an existing id; false when there is none.
    pub fn replace(&mut self, id: &Id, value: T) -> bool {
        match self.rows.iter_mut().find(|r| &r.id == id) {
            Some(row) => {
                row.value = value;
                true
            }
            None => false,
        }
    }

    pub fn remove(&mut self, id: &Id) -> bool {
        let before = self.rows.len();
        self.rows.retain(|r| &r.id != id);
        self.rows.len() != before
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Id, &T)> {
        self.rows.iter().map(|r| (&r.id, &r.value))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

/// All inputs, outputs, transcoders and streams: what a preset saves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    pub inputs: Table<InputConfig>,
    pub outputs: Table<OutputConfig>,
    pub transcoders: Table<TranscoderConfig>,
    pub streams: Table<StreamConfig>,
}

impl Resources {
    /// Whether a resource of `kind` with `id` exists (presets aside).
    pub fn exists(&self, kind: Kind, id: &Id) -> bool {
        match kind {
            Kind::Input => self.inputs.contains(id),
            Kind::Output => self.outputs.contains(id),
            Kind::Transcoder => self.transcoders.contains(id),
            Kind::Stream => self.streams.contains(id),
            Kind::Preset => false,
        }
    }

    /// How many resources of `kind` there are (presets are not resources).
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Input => self.inputs.len(),
            Kind::Output => self.outputs.len(),
            Kind::Transcoder => self.transcoders.len(),
            Kind::Stream => self.streams.len(),
            Kind::Preset => 0,
        }
    }

    /// The streams that reference the resource.
    pub fn users<'a>(
        &'a self,
        kind: Kind,
        id: &'a Id,
    ) -> impl Iterator<Item = (&'a Id, &'a StreamConfig)> + 'a {
        self.streams.iter().filter(move |(_, s)| match kind {
            Kind::Input => &s.input == id,
            Kind::Transcoder => s.transcoder.as_ref() == Some(id),
            Kind::Output => s.all_outputs().any(|o| o == id),
            Kind::Stream | Kind::Preset => false,
        })
    }

    /// Every reference of `stream` that does not resolve, with its field.
    pub fn dangling(&self, stream: &StreamConfig) -> Option<(&'static str, Kind, Id)> {
        if !self.inputs.contains(&stream.input) {
            return Some(("input", Kind::Input, stream.input.clone()));
        }
        if let Some(t) = stream
            .transcoder
            .as_ref()
            .filter(|t| !self.transcoders.contains(t))
        {
            return Some(("transcoder", Kind::Transcoder, t.clone()));
        }
        if let Some(p) = stream
            .passthru
            .as_ref()
            .filter(|p| !self.outputs.contains(p))
        {
            return Some(("passthru", Kind::Output, p.clone()));
        }
        stream
            .outputs
            .iter()
            .find(|o| !self.outputs.contains(o))
            .map(|o| ("outputs", Kind::Output, o.clone()))
    }
}
