//! Parameters that several endpoints read the same way: credentials,
//! container names, terminal sizes, detach keys, stop options.

use super::body::Body;
use super::{empty_response, Ctx};
use crate::detach::DetachKeys;
use crate::error::{ApiError, ApiResult};
use crate::service::{RegistryAuth, StopOptions};
use base64::Engine as _;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

/// Decodes `X-Registry-Auth` (base64url of a JSON object); absent or empty
/// is no credentials.
pub(super) fn registry_auth(req: &Request<Incoming>) -> ApiResult<Option<RegistryAuth>> {
    let Some(header) = req.headers().get("X-Registry-Auth") else {
        return Ok(None);
    };
    let text = header
        .to_str()
        .map_err(|_| ApiError::BadParameter("X-Registry-Auth is not ASCII".to_string()))?
        .trim();
    if text.is_empty() || text == "e30=" || text == "e30" {
        return Ok(None); // "{}"
    }
    let engines = [
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD,
    ];
    let json = engines
        .iter()
        .find_map(|e| e.decode(text).ok())
        .ok_or_else(|| ApiError::BadParameter("X-Registry-Auth is not base64".to_string()))?;
    serde_json::from_slice(&json).map(Some).map_err(|e| {
        ApiError::BadParameter(format!("X-Registry-Auth is not a JSON auth object: {e}"))
    })
}

/// The `platform` of a pull (`linux/arm64`, `linux/arm/v7`), as the docker
/// CLI sends it for `--platform`; absent or empty: the daemon's own. As
/// containerd's parser, one word is an OS (`linux`: this machine's CPU) or
/// an architecture (`arm64`: on Linux).
pub(super) fn pull_platform(ctx: &Ctx) -> ApiResult<Option<minidock_registry::Platform>> {
    let Some(text) = ctx
        .query
        .string("platform")
        .filter(|t| !t.trim().is_empty())
    else {
        return Ok(None);
    };
    let text = text.trim().to_ascii_lowercase();
    let host = minidock_registry::Platform::host();
    let platform = match text.split_once('/') {
        Some(_) => text.parse().map_err(ApiError::BadParameter)?,
        None if text == host.os => host,
        None => minidock_registry::Platform {
            os: "linux".to_string(),
            architecture: text,
            variant: None,
        },
    };
    Ok(Some(platform))
}

/// Checks a container name given to create (`?name=`) with chapter 03's
/// rule ([`minidock_lifecycle::id::validate_name`]), and refuses it in
/// Docker's words.
pub fn check_container_name(name: &str) -> ApiResult<String> {
    minidock_lifecycle::id::validate_name(name).map_err(|_| {
        ApiError::BadParameter(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        ))
    })
}

/// `h` and `w` of a resize, as a terminal's rows and columns.
pub(super) fn terminal_size(ctx: &Ctx) -> ApiResult<(u16, u16)> {
    let read = |key: &str| -> ApiResult<u16> {
        let value = ctx.query.int(key)?.unwrap_or(0);
        u16::try_from(value)
            .map_err(|_| ApiError::BadParameter(format!("invalid {key}: {value} is out of range")))
    };
    Ok((read("h")?, read("w")?))
}

/// The detach keys a client asked for (`detachKeys`), Docker's default
/// when it asked for none.
pub(super) fn detach_keys(spec: Option<&str>) -> ApiResult<DetachKeys> {
    DetachKeys::parse(spec.unwrap_or_default()).map_err(|e| ApiError::BadParameter(e.to_string()))
}

/// `t` (seconds before SIGKILL) and `signal` of a stop or restart.
pub(super) fn stop_options(ctx: &Ctx) -> ApiResult<StopOptions> {
    Ok(StopOptions {
        timeout: ctx.query.int("t")?,
        signal: ctx.query.string("signal"),
    })
}

/// 204 when a start or stop changed something, 304 when it had nothing
/// to do.
pub(super) fn changed(changed: bool) -> Response<Body> {
    empty_response(if changed {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_MODIFIED
    })
}
