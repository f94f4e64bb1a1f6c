//! Volumes and their errors in the Engine API's shapes.

use crate::error::Error;
use crate::store::VolumeInfo;
use crate::usage::{is_dangling, Users};
use minidock_daemon::query::Filters;
use minidock_daemon::types::Volume;
use minidock_daemon::ApiError;
use std::time::{Duration, UNIX_EPOCH};

/// A volume as `GET /volumes/{name}` shows it.
pub fn volume(info: &VolumeInfo) -> Volume {
    Volume {
        name: info.name.clone(),
        driver: info.driver.clone(),
        mountpoint: info.mountpoint.display().to_string(),
        created_at: minidock_daemon::time::rfc3339(UNIX_EPOCH + Duration::from_secs(info.created)),
        labels: info.labels.clone(),
        scope: "local".to_string(),
        options: info.options.clone(),
        usage_data: None,
    }
}

/// This chapter's errors as API errors: each kind with Docker's status.
pub fn api_error(err: Error) -> ApiError {
    match err {
        Error::NotFound(_) => ApiError::NotFound(err.to_string()),
        Error::InUse { .. } | Error::Exists(_) => ApiError::Conflict(err.to_string()),
        Error::InvalidName { .. }
        | Error::InvalidMount { .. }
        | Error::Driver(_)
        | Error::Symlink { .. } => ApiError::BadParameter(err.to_string()),
        Error::Io { .. } => ApiError::Internal(err.to_string()),
    }
}

/// The filters of `GET /volumes`: `dangling`, `label` (`key`, `key=value`),
/// `name` (a part of the name), `driver`.
pub fn list_matches(filters: &Filters, info: &VolumeInfo, users: &Users) -> Result<bool, ApiError> {
    filters.only(&["dangling", "label", "name", "driver"], "volume ls")?;
    for dangling in filters.values("dangling") {
        let want = match dangling.as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            other => {
                return Err(ApiError::BadParameter(format!(
                    "invalid filter 'dangling={other}': true or false"
                )))
            }
        };
        if is_dangling(&info.name, users) != want {
            return Ok(false);
        }
    }
    let names = filters.values("name");
    if !names.is_empty() && !names.iter().any(|n| info.name.contains(n.as_str())) {
        return Ok(false);
    }
    let drivers = filters.values("driver");
    if !drivers.is_empty() && !drivers.contains(&info.driver) {
        return Ok(false);
    }
    Ok(filters.labels_match(&info.labels))
}

/// The filters of `POST /volumes/prune`: `all` (named ones too), `label`,
/// `label!` (without that label). Returns whether named volumes are
/// pruned too.
pub fn prune_all(filters: &Filters) -> Result<bool, ApiError> {
    filters.only(&["all", "label", "label!"], "volume prune")?;
    match filters.values("all") {
        [] => Ok(false),
        [v] if v == "true" || v == "1" => Ok(true),
        [v] if v == "false" || v == "0" => Ok(false),
        other => Err(ApiError::BadParameter(format!(
            "invalid filter 'all={}': true or false",
            other.join(",")
        ))),
    }
}

/// Whether a volume passes prune's `label` and `label!` filters.
pub fn prune_matches(filters: &Filters, info: &VolumeInfo) -> bool {
    let without = filters
        .values("label!")
        .iter()
        .all(|term| match term.split_once('=') {
            Some((k, v)) => info.labels.get(k).map(String::as_str) != Some(v),
            None => !info.labels.contains_key(term.as_str()),
        });
    without && filters.labels_match(&info.labels)
}
