//! What every handler does: run the service call on tokio's blocking pool
//! (the services are synchronous: they wait on disks, shims and
//! registries), and read a JSON body.

use super::body::read_limited;
use super::MAX_JSON_BODY;
use crate::error::{ApiError, ApiResult};
use hyper::body::Incoming;
use hyper::Request;
use serde::de::DeserializeOwned;

// ANCHOR: blocking_call
/// Runs a blocking service call on tokio's blocking pool. A panic in the
/// service becomes a 500 instead of taking the daemon down.
pub(crate) async fn blocking<T, F>(f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> ApiResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("the operation failed unexpectedly: {e}")))?
}

/// Reads and decodes a JSON body; an empty body is `T::default()` when
/// `optional`. Unknown fields are ignored, wrong types are a 400.
pub(crate) async fn json_body<T: DeserializeOwned + Default>(
    req: Request<Incoming>,
    optional: bool,
) -> ApiResult<T> {
    let bytes = read_limited(req.into_body(), MAX_JSON_BODY).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if optional {
            Ok(T::default())
        } else {
            Err(ApiError::BadParameter(
                "the request needs a JSON body".to_string(),
            ))
        };
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadParameter(format!("invalid JSON in the request body: {e}")))
}
// ANCHOR_END: blocking_call
