// ANCHOR: check_image_name
//! Image names as clients give them to `create`.

use crate::error::{ApiError, ApiResult};

/// Refuses an image name that is not a valid reference with a 400, as
/// dockerd does (`invalid reference format: repository name must be
/// lowercase`). A 404 would be wrong twice over: the image is not missing,
/// the name is malformed; and the docker CLI answers a 404 on create by
/// trying to pull the name. Ids and id prefixes (hex) are references too.
pub(crate) fn check_image_name(image: &str) -> ApiResult<()> {
    let hex = image.strip_prefix("sha256:").unwrap_or(image);
    if hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Ok(()); // an id or id prefix; the store says whether it exists
    }
    minidock_images::Reference::parse(image)
        .map(drop)
        .map_err(|e| ApiError::BadParameter(format!("invalid reference format: {e}")))
}
// ANCHOR_END: check_image_name
