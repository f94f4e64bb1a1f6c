//! What Docker's clients ask of the image store that the lesson does not
//! walk through: [`copy`] — `docker cp` in and out of a container's root,
//! all or nothing on the way in; [`changes`] — `docker diff`, what the
//! container's writable layer changed.

pub mod changes;
pub mod copy;
