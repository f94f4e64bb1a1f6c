//! What Docker's clients ask of a container that the lesson does not walk
//! through: [`process`] — capabilities (`--cap-add`, `--cap-drop`,
//! `--privileged`), shared namespaces (`--pid`, `--ipc`, `--uts`),
//! `--group-add`, `--shm-size`, `--ulimit`, `--sysctl`, `--oom-score-adj`
//! and `--init`, kept in the host config and turned into chapter 01's
//! process description at each start; [`usage`] — `docker top` and
//! `docker stats`; [`auto_remove`] — `--rm`, done by the shim, and the
//! tombstone that keeps the exit code for a late `wait`.

pub mod auto_remove;
pub mod process;
pub mod usage;
