//! From a method and a path to an endpoint.
//!
//! Docker's paths are simple except for images: an image name contains `/`
//! and `:` and clients do not escape it, so
//! `/images/localhost:5000/a/b:1/json` names the image
//! `localhost:5000/a/b:1`. The router therefore matches image paths by their
//! *suffix* (`/json`, `/tag`, `/push`, `/history`, `/get`) and takes
//! everything before it as the name.

use crate::error::ApiError;
use crate::query::percent_decode;
use hyper::Method;

// ANCHOR: route_enum
/// Every endpoint the daemon serves, named after Docker's operation ids;
/// the `String` is the id or name the path gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /_ping`.
    Ping,
    /// `GET /version`.
    Version,
    /// `GET /info`.
    Info,
    /// `GET /events`.
    Events,
    /// `POST /auth`.
    Auth,
    /// `GET /images/json`.
    ImageList,
    /// `GET /images/search`.
    ImageSearch,
    /// `POST /images/create` (pull or import).
    ImageCreate,
    /// `POST /images/load`.
    ImageLoad,
    /// `GET /images/get?names=…`.
    ImageGetAll,
    /// `GET /images/{name}/get`.
    ImageGet(String),
    /// `GET /images/{name}/json`.
    ImageInspect(String),
    /// `GET /images/{name}/history`.
    ImageHistory(String),
    /// `POST /images/{name}/tag`.
    ImageTag(String),
    /// `POST /images/{name}/push`.
    ImagePush(String),
    /// `DELETE /images/{name}`.
    ImageDelete(String),
    /// `POST /images/prune`.
    ImagePrune,
    /// `GET /containers/json`.
    ContainerList,
    /// `POST /containers/prune`.
    ContainerPrune,
    /// `POST /containers/create`.
    ContainerCreate,
    /// `GET /containers/{id}/json`.
    ContainerInspect(String),
    /// `POST /containers/{id}/start`.
    // ANCHOR_END: route_enum
    ContainerStart(String),
    /// `POST /containers/{id}/stop`.
    ContainerStop(String),
    /// `POST /containers/{id}/restart`.
    ContainerRestart(String),
    /// `POST /containers/{id}/kill`.
    ContainerKill(String),
    /// `POST /containers/{id}/pause`.
    ContainerPause(String),
    /// `POST /containers/{id}/unpause`.
    ContainerUnpause(String),
    /// `POST /containers/{id}/wait`.
    ContainerWait(String),
    /// `GET /containers/{id}/logs`.
    ContainerLogs(String),
    /// `POST /containers/{id}/attach`.
    ContainerAttach(String),
    /// `POST /containers/{id}/resize`.
    ContainerResize(String),
    /// `GET /containers/{id}/top`.
    ContainerTop(String),
    /// `GET /containers/{id}/stats`.
    ContainerStats(String),
    /// `DELETE /containers/{id}`.
    ContainerDelete(String),
    /// `HEAD`, `GET` and `PUT /containers/{id}/archive`.
    ContainerArchive(String),
    /// `GET /containers/{id}/changes`.
    ContainerChanges(String),
    /// `POST /containers/{id}/rename`.
    ContainerRename(String),
    /// `POST /containers/{id}/update`.
    ContainerUpdate(String),
    /// `POST /containers/{id}/exec`.
    ExecCreate(String),
    /// `POST /exec/{id}/start`.
    ExecStart(String),
    /// `GET /exec/{id}/json`.
    ExecInspect(String),
    /// `POST /exec/{id}/resize`.
    ExecResize(String),
    /// `GET /networks`.
    NetworkList,
    /// `POST /networks/create`.
    NetworkCreate,
    /// `POST /networks/prune`.
    NetworkPrune,
    /// `GET /networks/{id}`.
    NetworkInspect(String),
    /// `DELETE /networks/{id}`.
    NetworkDelete(String),
    /// `POST /networks/{id}/connect`.
    NetworkConnect(String),
    /// `POST /networks/{id}/disconnect`.
    NetworkDisconnect(String),
    /// `GET /volumes`.
    VolumeList,
    /// `POST /volumes/create`.
    VolumeCreate,
    /// `GET /volumes/{name}`.
    VolumeInspect(String),
    /// `DELETE /volumes/{name}`.
    VolumeDelete(String),
    /// `POST /volumes/prune`.
    VolumePrune,
    /// `GET /system/df`.
    SystemDf,
    /// `POST /build`.
    Build,
    /// `POST /build/prune`.
    BuildPrune,
    /// `POST /commit`.
    Commit,
    /// `GET /containers/{id}/export`.
    ContainerExport(String),
}

/// Docker's answer for a path it has no route for.
pub fn page_not_found() -> ApiError {
    ApiError::NotFound("page not found".to_string())
}

// ANCHOR: check_id
/// Checks a container, exec or network reference taken from a path: a
/// name by chapter 03's rule ([`minidock_lifecycle::id::validate_name`],
/// which ids and their prefixes also pass), or an id prefix of a single
/// character, which that rule (made for names) leaves out. Anything else
/// is a 400, so a service never sees `..` or a `/`.
pub fn check_id(id: &str) -> Result<String, ApiError> {
    let one_char_prefix = id.len() == 1 && id.as_bytes()[0].is_ascii_alphanumeric();
    // The rule drops a leading `/` of a name; a path segment keeps none.
    let named = !id.starts_with('/') && minidock_lifecycle::id::validate_name(id).is_ok();
    if one_char_prefix || named {
        Ok(id.to_string())
    } else {
        Err(ApiError::BadParameter(format!(
            "invalid container or exec id {id:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}
// ANCHOR_END: check_id

/// A volume name from a path: Docker's alphabet, so `..` and `/` never
/// reach the service (which checks the full rule again).
fn check_volume_name(name: &str) -> Result<String, ApiError> {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    if first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) {
        Ok(name.to_string())
    } else {
        Err(ApiError::BadParameter(format!(
            "invalid volume name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

/// An image name from a path: decoded, non-empty. Public, as the check a handler of an
/// image path needs (and so that `cargo workbook start 5`, which empties the one caller of
/// the lesson, leaves no unused function that names the answer).
pub fn image_name(raw: &str) -> Result<String, ApiError> {
    let name = percent_decode(raw, false)?;
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains("..") {
        return Err(ApiError::BadParameter(format!(
            "invalid image name {name:?}"
        )));
    }
    Ok(name)
}

// ANCHOR: route_containers
/// Finds the endpoint of a request path that has no version prefix.
pub fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let get = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    let delete = method == Method::DELETE;
    let put = method == Method::PUT;
    let route = match segments.as_slice() {
        ["_ping"] if get => Route::Ping,
        ["version"] if get => Route::Version,
        ["info"] if get => Route::Info,
        ["events"] if get => Route::Events,
        ["auth"] if post => Route::Auth,
        ["build"] if post => Route::Build,
        ["build", "prune"] if post => Route::BuildPrune,
        ["commit"] if post => Route::Commit,

        ["containers", "json"] if get => Route::ContainerList,
        ["containers", "create"] if post => Route::ContainerCreate,
        ["containers", "prune"] if post => Route::ContainerPrune,
        ["containers", id] if delete => Route::ContainerDelete(check_id(id)?),
        // `docker rm --link /web/db` (compat: see `compat::links`).
        ["containers", parent, alias] if delete => {
            return Err(crate::compat::links::rm_link_refused(&format!(
                "{parent}/{alias}"
            )))
        }
        ["containers", id, action] => {
            let id = check_id(id)?;
            match (*action, get, post) {
                ("json", true, _) => Route::ContainerInspect(id),
                ("logs", true, _) => Route::ContainerLogs(id),
                ("top", true, _) => Route::ContainerTop(id),
                ("stats", true, _) => Route::ContainerStats(id),
                ("start", _, true) => Route::ContainerStart(id),
                ("stop", _, true) => Route::ContainerStop(id),
                ("restart", _, true) => Route::ContainerRestart(id),
                ("kill", _, true) => Route::ContainerKill(id),
                ("pause", _, true) => Route::ContainerPause(id),
                ("unpause", _, true) => Route::ContainerUnpause(id),
                ("wait", _, true) => Route::ContainerWait(id),
                ("attach", _, true) => Route::ContainerAttach(id),
                ("resize", _, true) => Route::ContainerResize(id),
                ("exec", _, true) => Route::ExecCreate(id),
                ("archive", true, _) => Route::ContainerArchive(id),
                ("changes", true, _) => Route::ContainerChanges(id),
                ("rename", _, true) => Route::ContainerRename(id),
                ("update", _, true) => Route::ContainerUpdate(id),
                ("export", true, _) => Route::ContainerExport(id),
                ("archive", _, _) if put => Route::ContainerArchive(id),
                _ => return Err(page_not_found()),
            }
        }
        // ANCHOR_END: route_containers
        // ANCHOR: route_rest
        ["exec", id, "start"] if post => Route::ExecStart(check_id(id)?),
        ["exec", id, "resize"] if post => Route::ExecResize(check_id(id)?),
        ["exec", id, "json"] if get => Route::ExecInspect(check_id(id)?),

        ["networks"] if get => Route::NetworkList,
        ["networks", "create"] if post => Route::NetworkCreate,
        ["networks", "prune"] if post => Route::NetworkPrune,
        ["networks", id] if get => Route::NetworkInspect(check_id(id)?),
        ["networks", id] if delete => Route::NetworkDelete(check_id(id)?),
        ["networks", id, "connect"] if post => Route::NetworkConnect(check_id(id)?),
        ["networks", id, "disconnect"] if post => Route::NetworkDisconnect(check_id(id)?),
        ["volumes"] if get => Route::VolumeList,
        ["volumes", "create"] if post => Route::VolumeCreate,
        ["volumes", "prune"] if post => Route::VolumePrune,
        ["volumes", name] if get => Route::VolumeInspect(check_volume_name(name)?),
        ["volumes", name] if delete => Route::VolumeDelete(check_volume_name(name)?),
        ["system", "df"] if get => Route::SystemDf,

        ["images", "json"] if get => Route::ImageList,
        ["images", "create"] if post => Route::ImageCreate,
        ["images", "load"] if post => Route::ImageLoad,
        ["images", "get"] if get => Route::ImageGetAll,
        ["images", "prune"] if post => Route::ImagePrune,
        ["images", "search"] if get => Route::ImageSearch,
        ["images", rest @ ..] if !rest.is_empty() => image_route(method, &rest.join("/"))?,
        _ => return Err(page_not_found()),
    };
    Ok(route)
}
// ANCHOR_END: route_rest

// ANCHOR: image_route
/// Routes `/images/{name}[/suffix]`, where the name may contain `/`.
fn image_route(method: &Method, rest: &str) -> Result<Route, ApiError> {
    // exercise 5.2 image-route: route /images/{name}[/action], where the name itself may hold `/`.
    // hint: an image name may contain `/` and `:` (127.0.0.1:5000/team/app:1), and clients do not escape it: the path cannot be cut segment by segment as container paths are.
    // hint: the action (json, history, get, tag, push) is the last segment and everything before it is the name; a DELETE has no action, the whole rest is the name.
    // hint: handle DELETE first; then split once from the right, check the name with `image_name`, and match (action, is GET or HEAD, is POST) as `route` does for containers; anything else is `page_not_found`.
    if method == Method::DELETE {
        return Ok(Route::ImageDelete(image_name(rest)?));
    }
    let (name, suffix) = rest.rsplit_once('/').ok_or_else(page_not_found)?;
    let name = image_name(name)?;
    let get = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    Ok(match (suffix, get, post) {
        ("json", true, _) => Route::ImageInspect(name),
        ("history", true, _) => Route::ImageHistory(name),
        ("get", true, _) => Route::ImageGet(name),
        ("tag", _, true) => Route::ImageTag(name),
        ("push", _, true) => Route::ImagePush(name),
        _ => return Err(page_not_found()),
    })
    // end exercise
}
// ANCHOR_END: image_route

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::split_version;

    fn r(method: Method, path: &str) -> Result<Route, ApiError> {
        let (_, path) = split_version(path);
        route(&method, path)
    }

    #[test]
    fn version_prefix_is_split_off_whole_segments_only() {
        assert_eq!(
            split_version("/v1.44/containers/json"),
            (Some("1.44"), "/containers/json")
        );
        assert_eq!(split_version("/v1.24/_ping"), (Some("1.24"), "/_ping"));
        assert_eq!(
            split_version("/containers/json"),
            (None, "/containers/json")
        );
        assert_eq!(split_version("/version"), (None, "/version"));
        assert_eq!(split_version("/volumes/x"), (None, "/volumes/x"));
        assert_eq!(split_version("/v1.44"), (Some("1.44"), "/"));
        assert_eq!(split_version("/v1.4x/info"), (None, "/v1.4x/info"));
        assert_eq!(split_version("/v/info"), (None, "/v/info"));
    }

    #[test]
    fn image_names_are_not_escaped() {
        assert_eq!(
            r(Method::GET, "/v1.44/images/localhost:5000/a/b:1/json").unwrap(),
            Route::ImageInspect("localhost:5000/a/b:1".into())
        );
        assert_eq!(
            r(Method::POST, "/images/busybox/tag").unwrap(),
            Route::ImageTag("busybox".into())
        );
        assert_eq!(
            r(
                Method::DELETE,
                "/images/127.0.0.1:5000/library/busybox:latest"
            )
            .unwrap(),
            Route::ImageDelete("127.0.0.1:5000/library/busybox:latest".into())
        );
        assert_eq!(
            r(Method::GET, "/images/sha256:abc/history").unwrap(),
            Route::ImageHistory("sha256:abc".into())
        );
        assert_eq!(r(Method::GET, "/images/json").unwrap(), Route::ImageList);
        assert_eq!(
            r(Method::GET, "/images/json/json").unwrap(),
            Route::ImageInspect("json".into())
        );
        assert!(r(Method::GET, "/images/busybox/frobnicate").is_err());
    }

    #[test]
    fn build_commit_and_export() {
        assert_eq!(r(Method::POST, "/v1.44/build").unwrap(), Route::Build);
        assert_eq!(r(Method::POST, "/build/prune").unwrap(), Route::BuildPrune);
        assert_eq!(r(Method::POST, "/commit").unwrap(), Route::Commit);
        assert_eq!(
            r(Method::GET, "/containers/abc/export").unwrap(),
            Route::ContainerExport("abc".into())
        );
        assert!(r(Method::GET, "/build").is_err());
    }

    #[test]
    fn containers_and_execs() {
        assert_eq!(
            r(Method::POST, "/v1.44/containers/abc/wait").unwrap(),
            Route::ContainerWait("abc".into())
        );
        assert_eq!(
            r(Method::DELETE, "/containers/my_web.1").unwrap(),
            Route::ContainerDelete("my_web.1".into())
        );
        // `docker rm --link /web/db` is refused, saying what it is.
        let err = r(Method::DELETE, "/containers/web/db").unwrap_err();
        assert!(
            err.to_string().contains("docker rm --link /web/db"),
            "{err}"
        );
        assert_eq!(
            r(Method::GET, "/exec/e1/json").unwrap(),
            Route::ExecInspect("e1".into())
        );
        assert_eq!(r(Method::HEAD, "/_ping").unwrap(), Route::Ping);
        assert_eq!(
            r(Method::POST, "/v1.44/containers/prune").unwrap(),
            Route::ContainerPrune
        );
        assert_eq!(r(Method::POST, "/images/prune").unwrap(), Route::ImagePrune);
        assert_eq!(
            r(Method::DELETE, "/v1.44/volumes/data.1").unwrap(),
            Route::VolumeDelete("data.1".into())
        );
        assert_eq!(r(Method::GET, "/volumes").unwrap(), Route::VolumeList);
        assert!(matches!(
            r(Method::GET, "/volumes/..%2fx"),
            Err(ApiError::BadParameter(_))
        ));
        for method in [Method::GET, Method::HEAD, Method::PUT] {
            assert_eq!(
                r(method, "/containers/web/archive").unwrap(),
                Route::ContainerArchive("web".into())
            );
        }
        assert!(matches!(
            r(Method::POST, "/containers/..%2f/start"),
            Err(ApiError::BadParameter(_))
        ));
        assert!(matches!(
            r(Method::GET, "/containers/abc/start"),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            r(Method::GET, "/nope"),
            Err(ApiError::NotFound(_))
        ));
    }
}
