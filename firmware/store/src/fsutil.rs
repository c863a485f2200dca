//! The fsync dance that makes a write durable.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Fsyncs a directory, making the renames and creations inside it durable.
/// Without this a rename can be lost on power failure even though the
/// renamed file's data was synced.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates `dir` (and missing ancestors) if needed, fsyncing the parent of
/// every directory created so the new entries survive power loss.
/// On failure returns the path that could not be created or synced.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), (PathBuf, io::Error)> {
    if dir.is_dir() {
        return Ok(());
    }
    // Deepest first; `exists` is only a hint, create_dir_all decides.
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
        .collect();
    fs::create_dir_all(dir).map_err(|e| (dir.to_path_buf(), e))?;
    for created in missing.iter().rev() {
        let parent = parent_of(created);
        sync_dir(parent).map_err(|e| (parent.to_path_buf(), e))?;
    }
    Ok(())
}

/// The directory holding `path`, with "." for a bare relative name.
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` (created or truncated) with permission `mode`,
/// and fsyncs it so the data is on disk before anyone renames it into place.
pub(crate) fn write_synced(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)?;
    // `mode` above only applies to a new file and is masked by the umask;
    // a leftover temp file keeps its old bits, so set them explicitly.
    file.set_permissions(Permissions::from_mode(mode))?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_of_a_bare_name_is_the_current_dir() {
        assert_eq!(parent_of(Path::new("data")), Path::new("."));
        assert_eq!(parent_of(Path::new("a/b")), Path::new("a"));
        assert_eq!(parent_of(Path::new("/data")), Path::new("/"));
    }
}
