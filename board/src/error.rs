//! Errors of [`crate::list_nics`].

use std::io;
use std::path::PathBuf;

/// Why the list of network interfaces could not be read.
///
/// Missing files and directories are not errors (an initramfs may lack
/// `/proc/net/fib_trie`, say): they read as empty. These are the other
/// I/O failures, which mean something is genuinely wrong.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The interface directory (normally `/sys/class/net`) is unreadable.
    #[error("cannot list network interfaces in {}: {source}", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A `/proc/net` table is unreadable.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}
