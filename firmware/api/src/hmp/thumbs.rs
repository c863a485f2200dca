//! Thumbnails are made on the supervisor's thread, under the engine's
//! lock (a few milliseconds each for HD): a client polling them, or many
//! clients at once, must not turn that into a denial of service. A picture
//! made less than [`FRESH_FOR`] ago for the same output and width is
//! served again, and at most one is made at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use makara_config::Id;
use tokio::sync::Semaphore;

/// How long a thumbnail is served again instead of made anew.
pub const FRESH_FOR: Duration = Duration::from_millis(500);
/// Thumbnails kept at most (outputs x widths asked for).
pub const MAX_KEPT: usize = 64;

type Key = (Id, u32);
/// When a picture was made, and its JPEG.
type Kept = HashMap<Key, (Instant, Arc<Vec<u8>>)>;

#[derive(Debug)]
pub struct Thumbs {
    kept: Mutex<Kept>,
    making: Semaphore,
}

impl Default for Thumbs {
    fn default() -> Self {
        Thumbs {
            kept: Mutex::new(HashMap::new()),
            making: Semaphore::new(1),
        }
    }
}

impl Thumbs {
    /// A thumbnail of `output` at `width` made less than [`FRESH_FOR`]
    /// before `now`.
    pub fn fresh(&self, output: &Id, width: u32, now: Instant) -> Option<Arc<Vec<u8>>> {
        let kept = self.lock();
        let (made, jpeg) = kept.get(&(output.clone(), width))?;
        (now.duration_since(*made) < FRESH_FOR).then(|| Arc::clone(jpeg))
    }

    /// Keeps `jpeg` as made at `now`; the table forgets stale pictures,
    /// then the oldest, to stay within [`MAX_KEPT`].
    pub fn keep(&self, output: Id, width: u32, jpeg: Arc<Vec<u8>>, now: Instant) {
        let mut kept = self.lock();
        kept.retain(|_, (made, _)| now.duration_since(*made) < FRESH_FOR);
        if kept.len() >= MAX_KEPT {
            let oldest = kept
                .iter()
                .min_by_key(|(_, (made, _))| *made)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                kept.remove(&k);
            }
        }
        kept.insert((output, width), (now, jpeg));
    }

    /// The one permit to make a thumbnail.
    pub fn making(&self) -> &Semaphore {
        &self.making
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_is_served_again_while_fresh_only() {
        let thumbs = Thumbs::default();
        let id = Id::new_random();
        let t = Instant::now();
        thumbs.keep(id.clone(), 320, Arc::new(vec![1]), t);
        assert!(thumbs.fresh(&id, 320, t + FRESH_FOR / 2).is_some());
        assert!(
            thumbs.fresh(&id, 640, t).is_none(),
            "another width is another picture"
        );
        assert!(thumbs.fresh(&id, 320, t + FRESH_FOR).is_none());
    }

    #[test]
    fn the_table_stays_bounded() {
        let thumbs = Thumbs::default();
        let t = Instant::now();
        for i in 0..(MAX_KEPT as u32 * 2) {
            thumbs.keep(Id::new_random(), i, Arc::new(vec![]), t);
        }
        assert!(thumbs.lock().len() <= MAX_KEPT);
    }
}
