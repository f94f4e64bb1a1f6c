// ANCHOR: lock_convention
//! The daemon's one way to take a lock: the engine, the server, events and
//! health checks all lock through these three functions.
//!
//! A thread that panics while it holds a lock poisons it. The daemon serves
//! every request and every container from one process, so one request's
//! panic must not make every later request on the same container panic
//! too: the engine's locks guard indexes and connections whose every update
//! is a single assignment or push, never left half done, so the value
//! behind a poisoned lock is still whole and is used as it is.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks `m`, taking over a lock that a panicking thread poisoned.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads `l`, taking over a lock that a panicking thread poisoned.
pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes `l`, taking over a lock that a panicking thread poisoned.
pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}
// ANCHOR_END: lock_convention
