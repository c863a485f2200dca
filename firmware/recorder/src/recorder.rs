//! The recorder: starts recordings and keeps the catalog of them, live
//! and finished.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

use makara_config::Id;
use makara_store::DirLock;

use crate::asset::{Asset, AssetEdit, FinishReason, Finished, NewRecording, State, Track};
use crate::error::{DeleteError, OpenError, StartError, TrackError, UpdateError};
use crate::fsio::{self, lock};
use crate::limits::{
    check_text, Limits, MAX_CREATOR_CHARS, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, MAX_TRACKS,
    RESERVE_BYTES, STOP_WAIT,
};
use crate::live::{Live, Notices};
use crate::meta::{self, RESERVE_FILE};
use crate::record::Record;
use crate::recording::Recording;
use crate::recover::{recover_locked, Recovery, DELETING_PREFIX, LOCK_NAME, STAGING_PREFIX};
use crate::writer::Writer;

/// Recordings under one root directory: starting them, and the catalog
/// of them all (live ones and assets). Cheap to clone, `Send` and
/// `Sync`; every clone is the same recorder. When the last clone goes,
/// live recordings are finished as [`FinishReason::Interrupted`].
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

struct Inner {
    root: PathBuf,
    limits: Limits,
    catalog: Mutex<Catalog>,
    notices: Arc<Notices>,
    _lock: DirLock,
}

#[derive(Default)]
struct Catalog {
    entries: BTreeMap<Id, Entry>,
    /// Starts under way: they count against the live limit.
    starting: usize,
}

struct Entry {
    record: Arc<Record>,
    /// Set for a recording started by this recorder; kept after it
    /// finishes (its state says so).
    live: Option<Arc<Live>>,
}

impl Entry {
    fn is_live(&self) -> bool {
        self.record.snapshot().state.is_live()
    }
}

impl Recorder {
    /// Opens the recordings under `root` (created if missing), taking its
    /// lock (`recorder.lock`) so that no other process records there, and
    /// runs [`recover`](crate::recover()) first: what it did is returned.
    pub fn open(root: &Path, limits: Limits) -> Result<(Recorder, Recovery), OpenError> {
        fs::create_dir_all(root).map_err(|source| OpenError::CreateRoot {
            path: root.to_path_buf(),
            source,
        })?;
        let dir_lock = DirLock::try_acquire(root, LOCK_NAME)?;
        let (recovery, assets) = recover_locked(root)?;
        let mut catalog = Catalog::default();
        for asset in assets {
            let record = Arc::new(Record::new(root.join(asset.id.as_str()), asset.clone()));
            catalog
                .entries
                .insert(asset.id, Entry { record, live: None });
        }
        let inner = Inner {
            root: root.to_path_buf(),
            limits,
            catalog: Mutex::new(catalog),
            notices: Arc::default(),
            _lock: dir_lock,
        };
        let recorder = Recorder {
            inner: Arc::new(inner),
        };
        Ok((recorder, recovery))
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// A channel that hears of every recording that finishes from now on
    /// (stopped, disk full, write error, shut down), with why. Holds up to
    /// [`NOTICE_QUEUE`](crate::limits::NOTICE_QUEUE) unread notices.
    pub fn subscribe(&self) -> Receiver<Finished> {
        self.inner.notices.subscribe()
    }

    /// Starts recording: creates `<root>/<id>/` with an empty
    /// `track-<n>.ts` per source, the metadata and the space set aside,
    /// and a writer thread. Refused when [`Limits::max_live`] recordings
    /// run, or less than [`Limits::min_free_bytes`] is free.
    pub fn start(&self, new: NewRecording) -> Result<Recording, StartError> {
        check_new(&new)?;
        {
            let mut catalog = lock(&self.inner.catalog);
            let live = catalog.entries.values().filter(|e| e.is_live()).count();
            let max = self.inner.limits.max_live;
            if live + catalog.starting >= max {
                return Err(StartError::TooManyRecordings { max });
            }
            catalog.starting += 1;
        }
        let started = self.create(new);
        let mut catalog = lock(&self.inner.catalog);
        catalog.starting -= 1;
        let (record, live) = started?;
        let id = record.snapshot().id;
        let recording = Recording::new(live.clone());
        catalog.entries.insert(
            id,
            Entry {
                record,
                live: Some(live),
            },
        );
        Ok(recording)
    }

    fn create(&self, new: NewRecording) -> Result<(Arc<Record>, Arc<Live>), StartError> {
        let root = &self.inner.root;
        let space = makara_store::space(root).map_err(|source| StartError::Space {
            path: root.clone(),
            source,
        })?;
        let needed = self.inner.limits.min_free_bytes;
        if space.available_bytes < needed {
            return Err(StartError::LowSpace {
                path: root.clone(),
                available: space.available_bytes,
                needed,
            });
        }
        let now = fsio::unix_now();
        let asset = Asset {
            id: Id::new_random(),
            title: new.title,
            description: new.description,
            group: new.group,
            creator: new.creator,
            created: now,
            modified: now,
            state: State::Recording,
            detail: None,
            duration_secs: 0.0,
            dropped_packets: 0,
            tracks: new
                .sources
                .into_iter()
                .map(|source| Track {
                    source,
                    bytes: 0,
                    duration_secs: 0.0,
                })
                .collect(),
        };
        let dir = root.join(asset.id.as_str());
        let files = create_dir(root, &dir, &asset)?;
        let id = asset.id.clone();
        let tracks = asset.tracks.len();
        let record = Arc::new(Record::new(dir.clone(), asset));
        let limits = self.inner.limits;
        let live = Arc::new(Live::new(
            record.clone(),
            tracks,
            limits.queue_bytes,
            self.inner.notices.clone(),
        ));
        let writer = Writer::new(live.clone(), files, limits.keep_free_bytes);
        let name = format!("rec-{}", &id.as_str()[..8]);
        match writer.spawn(name) {
            Ok(handle) => live.set_thread(handle),
            Err(source) => {
                let _ = fs::remove_dir_all(&dir);
                let _ = fsio::sync_dir(root);
                return Err(StartError::Thread { id, source });
            }
        }
        Ok((record, live))
    }

    /// Every recording, live ones included, oldest first.
    pub fn list(&self) -> Vec<Asset> {
        let records: Vec<_> = {
            let catalog = lock(&self.inner.catalog);
            catalog.entries.values().map(|e| e.record.clone()).collect()
        };
        let mut assets: Vec<Asset> = records.iter().map(|r| r.snapshot()).collect();
        assets.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        assets
    }

    pub fn get(&self, id: &Id) -> Option<Asset> {
        self.record(id).map(|r| r.snapshot())
    }

    fn record(&self, id: &Id) -> Option<Arc<Record>> {
        lock(&self.inner.catalog)
            .entries
            .get(id)
            .map(|e| e.record.clone())
    }

    /// The live recording `id`, to pause, resume or stop it.
    pub fn recording(&self, id: &Id) -> Option<Recording> {
        let catalog = lock(&self.inner.catalog);
        let entry = catalog.entries.get(id).filter(|e| e.is_live())?;
        entry.live.clone().map(Recording::new)
    }

    /// Every live recording, oldest first.
    pub fn recordings(&self) -> Vec<Recording> {
        let mut live: Vec<(u64, Recording)> = {
            let catalog = lock(&self.inner.catalog);
            let entries = catalog.entries.values().filter(|e| e.is_live());
            entries
                .filter_map(|e| {
                    Some((e.record.snapshot().created, Recording::new(e.live.clone()?)))
                })
                .collect()
        };
        live.sort_by_key(|(created, _)| *created);
        live.into_iter().map(|(_, r)| r).collect()
    }

    /// Changes the title and/or description (live recordings too).
    pub fn update(&self, id: &Id, edit: AssetEdit) -> Result<Asset, UpdateError> {
        if let Some(title) = &edit.title {
            check_text("title", title, MAX_TITLE_CHARS)?;
        }
        if let Some(description) = &edit.description {
            check_text("description", description, MAX_DESCRIPTION_CHARS)?;
        }
        let record = self
            .record(id)
            .ok_or_else(|| UpdateError::NotFound { id: id.clone() })?;
        record.change(
            |asset| {
                if let Some(title) = edit.title {
                    asset.title = title;
                }
                if let Some(description) = edit.description {
                    asset.description = description;
                }
                asset.modified = fsio::unix_now();
                Ok(())
            },
            |source| UpdateError::Save {
                id: id.clone(),
                path: record.dir.join(meta::META_FILE),
                source,
            },
        )
    }

    /// Removes a finished recording and its files. Refused while it is
    /// live. Once this returns (even with [`DeleteError::Remove`]), the
    /// recording is gone from the catalog.
    pub fn delete(&self, id: &Id) -> Result<(), DeleteError> {
        let root = &self.inner.root;
        let trash = root.join(format!("{DELETING_PREFIX}{id}"));
        {
            let mut catalog = lock(&self.inner.catalog);
            let entry = catalog
                .entries
                .get(id)
                .ok_or_else(|| DeleteError::NotFound { id: id.clone() })?;
            if entry.is_live() {
                return Err(DeleteError::Live { id: id.clone() });
            }
            let dir = entry.record.dir.clone();
            fs::rename(&dir, &trash).map_err(|source| DeleteError::Remove { path: dir, source })?;
            catalog.entries.remove(id);
        }
        let removed = fsio::sync_dir(root).and_then(|()| fs::remove_dir_all(&trash));
        removed.map_err(|source| DeleteError::Remove {
            path: trash,
            source,
        })
    }

    /// The file of track `track` of a finished recording, to download.
    pub fn track_path(&self, id: &Id, track: usize) -> Result<PathBuf, TrackError> {
        let record = self
            .record(id)
            .ok_or_else(|| TrackError::NotFound { id: id.clone() })?;
        let asset = record.snapshot();
        if asset.is_live() {
            return Err(TrackError::Live { id: id.clone() });
        }
        if track >= asset.tracks.len() {
            return Err(TrackError::NoTrack {
                id: id.clone(),
                track,
                tracks: asset.tracks.len(),
            });
        }
        Ok(meta::track_path(&record.dir, track))
    }

    /// Finishes every live recording as [`FinishReason::Interrupted`],
    /// each within [`STOP_WAIT`]; for makarad's shutdown. Returns the
    /// ids of those still finishing when it gave up waiting.
    pub fn shutdown(&self) -> Vec<Id> {
        self.inner.shutdown()
    }
}

impl Inner {
    fn shutdown(&self) -> Vec<Id> {
        let live: Vec<Arc<Live>> = {
            let catalog = lock(&self.catalog);
            let entries = catalog.entries.values().filter(|e| e.is_live());
            entries.filter_map(|e| e.live.clone()).collect()
        };
        for l in &live {
            l.close(FinishReason::Interrupted);
        }
        let slow = live.iter().filter(|l| !l.wait_done(STOP_WAIT));
        slow.map(|l| l.id.clone()).collect()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn check_new(new: &NewRecording) -> Result<(), StartError> {
    match new.sources.len() {
        0 => return Err(StartError::NoSources),
        count if count > MAX_TRACKS => {
            return Err(StartError::TooManySources {
                count,
                max: MAX_TRACKS,
            })
        }
        _ => {}
    }
    check_text("title", &new.title, MAX_TITLE_CHARS)?;
    check_text("description", &new.description, MAX_DESCRIPTION_CHARS)?;
    check_text("creator", &new.creator, MAX_CREATOR_CHARS)?;
    Ok(())
}

/// Makes a recording's directory whole before it appears under its id:
/// the track files, the space set aside and the metadata are made in a
/// staging directory, which is then renamed. Returns the track files,
/// open for writing; on failure nothing is left.
fn create_dir(root: &Path, dir: &Path, asset: &Asset) -> Result<Vec<File>, StartError> {
    let staging = root.join(format!("{STAGING_PREFIX}{}", asset.id));
    let made = fill_dir(&staging, asset).and_then(|files| {
        let created = fs::rename(&staging, dir).and_then(|()| fsio::sync_dir(root));
        created.map(|()| files).map_err(|e| (dir.to_path_buf(), e))
    });
    made.map_err(|(path, source)| {
        let _ = fs::remove_dir_all(&staging);
        let _ = fs::remove_dir_all(dir);
        StartError::Create { path, source }
    })
}

fn fill_dir(staging: &Path, asset: &Asset) -> Result<Vec<File>, (PathBuf, io::Error)> {
    let at = |path: &Path| {
        let path = path.to_path_buf();
        move |e| (path, e)
    };
    fs::create_dir(staging).map_err(at(staging))?;
    let mut files = Vec::with_capacity(asset.tracks.len());
    for n in 0..asset.tracks.len() {
        let path = meta::track_path(staging, n);
        // Read too: a failed write is cut back after reading where the
        // last whole packet ends.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path);
        files.push(file.map_err(at(&path))?);
    }
    let reserve = staging.join(RESERVE_FILE);
    fsio::write_reserve(&reserve, RESERVE_BYTES).map_err(at(&reserve))?;
    meta::write(staging, asset).map_err(at(&staging.join(meta::META_FILE)))?;
    Ok(files)
}
