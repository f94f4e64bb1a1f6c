// ANCHOR: await_exit
//! `docker kill` with SIGKILL answers once the container is gone.
//!
//! SIGKILL cannot be caught or ignored, so dockerd waits for the exit before
//! it answers: a client that inspects or removes the container right after
//! `kill` sees it stopped. Other signals may be handled by the process and
//! are answered at once.

use crate::error::{ApiError, ApiResult};
use crate::wait::LifeState;
use minidock_lifecycle::notify::DirWatch;
use minidock_lifecycle::{ContainerId, Runtime};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a SIGKILLed container may take to be recorded as exited.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// Waits until the container's exit is recorded on disk and, when the
/// daemon watches the container (`watched`), also in its life state, so
/// `wait`, `inspect` and `rm` all agree that it stopped.
pub(crate) fn await_exit(
    runtime: &Runtime,
    id: &ContainerId,
    states: &mut watch::Receiver<LifeState>,
    watched: bool,
) -> ApiResult<()> {
    let deadline = Instant::now() + KILL_WAIT;
    let dir_watch = DirWatch::new(&runtime.container_dir(id));
    loop {
        let alive_on_disk = match runtime.inspect(id) {
            Ok((_, record)) => record.state.is_alive(),
            Err(minidock_lifecycle::Error::NoSuchContainer(_)) => return Ok(()),
            Err(e) => return Err(ApiError::from(e)),
        };
        let live = {
            let state = states.borrow_and_update();
            watched && state.running && !state.removed
        };
        if !alive_on_disk && !live {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(ApiError::Internal(format!(
                "container {} did not exit within {KILL_WAIT:?} of SIGKILL",
                id.short()
            )));
        }
        dir_watch.wait(Duration::from_millis(10));
    }
}
// ANCHOR_END: await_exit
