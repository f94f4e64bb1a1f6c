//! Reading what a client sent before answering it.
//!
//! A client that sends a request with a body writes the whole body, then
//! reads the answer. If the daemon answers early (an unknown endpoint, a
//! bad parameter) and closes the connection with the body unread, the
//! kernel resets the connection: the client gets "broken pipe" or dies of
//! SIGPIPE instead of reading the error. So every answer that does not
//! consume the body reads it first and throws it away — bounded in bytes
//! and in time, so a client cannot keep the daemon busy with an endless
//! body.

use crate::router::Route;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::time::Duration;

/// The most bytes thrown away before the connection is given up.
const MAX_DRAIN: u64 = 256 << 20;
/// The longest time spent throwing a body away.
const DRAIN_TIME: Duration = Duration::from_secs(30);

/// Reads and discards `body`, up to [`MAX_DRAIN`] bytes and
/// [`DRAIN_TIME`]; memory use is one frame at a time.
pub(crate) async fn drain(body: &mut Incoming) {
    let discard = async {
        let mut seen = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len() as u64;
                if seen > MAX_DRAIN {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(DRAIN_TIME, discard).await.ok();
}

/// Whether the endpoint never reads the request body: then it is drained
/// before the handler runs, so even the handler's errors are read by the
/// client. Endpoints not listed here read their body (or hijack the
/// connection) themselves.
pub(crate) fn ignores_body(route: &Route) -> bool {
    use Route::*;
    matches!(
        route,
        Ping | Version
            | Info
            | Events
            | ImageList
            | ImageSearch
            | ImageGetAll
            | ImageGet(_)
            | ImageInspect(_)
            | ImageHistory(_)
            | ImageTag(_)
            | ImagePush(_)
            | ImageDelete(_)
            | ImagePrune
            | ContainerList
            | ContainerPrune
            | ContainerInspect(_)
            | ContainerStart(_)
            | ContainerStop(_)
            | ContainerRestart(_)
            | ContainerKill(_)
            | ContainerPause(_)
            | ContainerUnpause(_)
            | ContainerWait(_)
            | ContainerLogs(_)
            | ContainerResize(_)
            | ContainerTop(_)
            | ContainerStats(_)
            | ContainerDelete(_)
            | ContainerChanges(_)
            | ContainerRename(_)
            | ExecInspect(_)
            | ExecResize(_)
    )
}
