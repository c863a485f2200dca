//! The supervisor's state on disk: one document, saved whole after every
//! change through `makara-store`'s crash-safe slots.

use std::path::Path;

use makara_config::Id;
use makara_store::{LoadError, SaveError, Slots};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::groups::Group;
use crate::resources::Resources;

/// Bumped when the document's shape changes incompatibly.
const FORMAT: u32 = 1;
const SLOT_NAME: &str = "config";

/// Everything that must survive a power cut.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Document {
    pub format: u32,
    pub current: Resources,
    /// Streams the operator started and has not stopped; restarted at boot.
    pub running: Vec<Id>,
    pub presets: Vec<Preset>,
    pub default_preset: Option<Id>,
    /// Groups of outputs recorded together, in creation order. Not part
    /// of presets: they name outputs of the current configuration.
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    pub id: Id,
    pub name: String,
    pub created_unix: u64,
    pub resources: Resources,
}

#[derive(Debug, Error)]
pub enum OpenError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("the configuration in {path} cannot be read ({reason}); it was written by an incompatible firmware or damaged")]
    Decode { path: String, reason: String },
    #[error("the configuration in {path} has format {found}; this firmware reads format {FORMAT}")]
    Format { path: String, found: u32 },
}

/// Why a change could not be made durable. Nothing changed, on disk or in
/// memory.
#[derive(Debug, Error)]
pub enum PersistError {
    #[error("encoding the configuration failed: {0}")]
    Encode(String),
    #[error(transparent)]
    Save(#[from] SaveError),
}

/// Where the supervisor saves its document. A trait so that tests can
/// slow saves down, count them or make them fail.
pub(crate) trait Persist: Send {
    /// Writes the document durably; on error nothing on disk changed.
    fn save(&mut self, document: &Document) -> Result<(), PersistError>;
}

/// The document and where it lives.
pub struct Store {
    slots: Slots,
    path: String,
    /// The size of the document as last loaded or saved, which sizes the
    /// reserve.
    document_bytes: u64,
    /// Whether a reserve that could not be made was logged already.
    reserve_warned: bool,
}

impl Store {
    /// Opens the store in `dir`; a fresh directory yields an empty document.
    pub fn open(dir: &Path) -> Result<(Store, Document), OpenError> {
        let slots = Slots::new(dir, SLOT_NAME);
        let path = dir.join(SLOT_NAME).display().to_string();
        let loaded = slots.load()?;
        let document_bytes = loaded.as_ref().map_or(0, |l| l.payload.len() as u64);
        let document = match loaded {
            None => Document {
                format: FORMAT,
                ..Document::default()
            },
            Some(loaded) => {
                if let Some(damaged) = &loaded.damaged {
                    // Name both files: the damaged one may have been the
                    // older copy, and then nothing was lost.
                    tracing::warn!(
                        damaged = %damaged.path.display(),
                        problem = %damaged.problem,
                        using = %loaded.path.display(),
                        generation = loaded.generation,
                        "a configuration copy is damaged; loaded the other one (if the damaged copy was the newer, its last change is lost)"
                    );
                }
                decode(&path, &loaded.payload)?
            }
        };
        let store = Store {
            slots,
            path,
            document_bytes,
            reserve_warned: false,
        };
        Ok((store, document))
    }

    /// Writes the document durably; on error nothing on disk changed.
    pub fn save(&mut self, document: &Document) -> Result<(), PersistError> {
        let text = toml::to_string(document).map_err(|e| PersistError::Encode(e.to_string()))?;
        self.slots.save(text.as_bytes())?;
        self.document_bytes = text.len() as u64;
        self.keep_reserve();
        Ok(())
    }

    /// Sets aside the data directory's reserve, which lets smaller saves
    /// succeed on a full disk (see `makara_store::ensure_reserve`), or puts
    /// it back after a save used it. Only for the supervisor: readers such
    /// as the console open the store too and must not write. A directory
    /// not made yet gets its reserve with the first save.
    pub fn keep_reserve(&mut self) {
        let dir = self.slots.dir();
        if !dir.is_dir() {
            return;
        }
        match makara_store::ensure_reserve(dir, self.document_bytes) {
            Ok(true) => {
                let bytes = makara_store::reserve_size(self.document_bytes);
                tracing::info!(dir = %dir.display(), bytes, "space reserved for saves on a full disk");
                self.reserve_warned = false;
            }
            Ok(false) => self.reserve_warned = false,
            // Tried again after every save; said once.
            Err(e) if !self.reserve_warned => {
                self.reserve_warned = true;
                tracing::warn!(error = %e, "no space reserved for saves on a full disk; deletes may fail if the disk fills");
            }
            Err(_) => {}
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }
}

impl Persist for Store {
    fn save(&mut self, document: &Document) -> Result<(), PersistError> {
        Store::save(self, document)
    }
}

fn decode(path: &str, payload: &[u8]) -> Result<Document, OpenError> {
    let decode_error = |reason: String| OpenError::Decode {
        path: path.to_string(),
        reason,
    };
    let text = std::str::from_utf8(payload).map_err(|e| decode_error(e.to_string()))?;
    // The format first: another firmware's document may not decode into
    // this one's types, and "format 2" says more than a parse error.
    let header: Header = toml::from_str(text).map_err(|e| decode_error(e.to_string()))?;
    if header.format != FORMAT {
        return Err(OpenError::Format {
            path: path.to_string(),
            found: header.format,
        });
    }
    toml::from_str(text).map_err(|e| decode_error(e.to_string()))
}

/// The one field every format has.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    format: u32,
}
