//! Crash-safe persistence of small documents in the data directory.
//!
//! The appliance's configuration must survive SIGKILL and power loss at any
//! instant, and nothing a caller was told is saved may be lost. A document is
//! therefore kept as two *slot* files, `<name>.a` and `<name>.b`, each
//! carrying a generation number and a checksum ([`Slots`]). A save never
//! touches the slot holding the newest good copy: it writes a temporary file,
//! fsyncs it, renames it over the *other* slot and fsyncs the directory. A
//! torn or corrupted slot is detected by its checksum and the older copy is
//! used instead.
//!
//! Several processes share a data directory (the running `makarad` and the
//! CLI commands that edit it). Readers need no coordination, because a slot
//! is only ever replaced by an atomic rename. Writers must hold a [`DirLock`]
//! around their load-modify-save, or concurrent saves can lose each other's
//! update. Readers that poll for another process's writes use
//! [`Slots::fingerprint`], which is far cheaper than reading both slots.
//!
//! A full disk stays recoverable: a failed save removes its temporary file,
//! and a save that does not grow its document may take room set aside
//! in the data directory's reserve file (see [`ensure_reserve`]), so
//! deleting things works on a full disk. [`space`] tells how full it is.
//!
//! Errors carry the path involved in their message and the underlying
//! [`std::io::Error`] as their `source()`; print the whole chain.
//!
//! This crate is Unix-only: it relies on fsyncing directories, inode numbers
//! and Unix permission bits.

#![forbid(unsafe_code)]

mod format;
mod fsutil;
mod lock;
mod name;
mod reserve;
mod slots;
mod space;

pub use format::SlotProblem;
pub use lock::{DirLock, LockError};
pub use reserve::{ensure_reserve, reserve_size, ReserveError, RESERVE_BYTES, RESERVE_FILE};
pub use slots::{Fingerprint, LoadError, Loaded, RejectedSlot, SaveError, Slots};
pub use space::{space, Space};
