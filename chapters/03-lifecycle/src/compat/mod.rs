//! What Docker's clients ask of a container that the lesson does not walk
//! through: [`process`] — capabilities (`--cap-add`, `--cap-drop`,
//! `--privileged`), shared namespaces (`--pid`, `--ipc`, `--uts`),
//! `--group-add`, `--shm-size`, `--ulimit`, `--sysctl`, `--oom-score-adj`
//! and `--init`, kept in the host config and turned into chapter 01's
//! process description at each start; [`usage`] — `docker top` and
//! `docker stats`.

pub mod process;
pub mod usage;
