//! The `/images` endpoints and `/auth`, client side: list, inspect, tag,
//! remove, prune, and the streams of pull, push, import, load and save.

use super::http::RequestBody;
use super::{escape, flag, query, Client, ClientError, JsonStream};
use minidock_daemon::query::Filters;
use minidock_daemon::service::{HistoryItem, RegistryAuth};
use minidock_daemon::types::*;
use std::io::{Read, Write};

impl Client {
    /// `GET /images/json`.
    pub fn images(&self, all: bool) -> Result<Vec<ImageSummary>, ClientError> {
        self.images_filtered(all, &Filters::default())
    }

    /// `GET /images/json?filters=` (`dangling`, `label`, `reference`).
    pub fn images_filtered(
        &self,
        all: bool,
        filters: &Filters,
    ) -> Result<Vec<ImageSummary>, ClientError> {
        let q = query(&[
            ("all", flag(all)),
            ("filters", (!filters.is_empty()).then(|| filters.to_json())),
        ]);
        self.get(&format!("/images/json{q}"), "the image list")
    }

    /// `GET /images/{name}/json`.
    pub fn image_inspect(&self, name: &str) -> Result<ImageInspect, ClientError> {
        self.get(&format!("/images/{name}/json"), "the image")
    }

    /// `GET /images/{name}/history`.
    pub fn image_history(&self, name: &str) -> Result<Vec<HistoryItem>, ClientError> {
        self.get(&format!("/images/{name}/history"), "the image history")
    }

    /// `POST /images/{name}/tag`.
    pub fn image_tag(&self, name: &str, repo: &str, tag: Option<&str>) -> Result<(), ClientError> {
        let q = query(&[
            ("repo", Some(repo.to_string())),
            ("tag", tag.map(str::to_owned)),
        ]);
        self.post_empty(&format!("/images/{name}/tag{q}"))
            .map(|_| ())
    }

    /// `DELETE /images/{name}`.
    pub fn image_remove(
        &self,
        name: &str,
        force: bool,
    ) -> Result<Vec<ImageDeleteItem>, ClientError> {
        let q = query(&[("force", flag(force))]);
        let response = self.request(
            "DELETE",
            &format!("/images/{name}{q}"),
            &[],
            RequestBody::None,
            false,
        )?;
        self.decode(response, "the deleted images")
    }

    /// `POST /images/prune`: deletes unused images (only untagged ones
    /// unless `filters` say `dangling=false`).
    pub fn images_prune(&self, filters: &Filters) -> Result<ImagePruneResponse, ClientError> {
        self.prune("/images/prune", filters, "the pruned images")
    }

    /// `POST /images/create?fromImage=`: the pull's progress stream.
    pub fn image_pull(
        &self,
        image: &str,
        tag: Option<&str>,
        auth: Option<&RegistryAuth>,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        self.image_pull_for(image, tag, None, auth)
    }

    /// `POST /images/create?fromImage=&platform=`: pulls the image of
    /// `platform` (`linux/arm64`) from a multi-platform image; `None`: the
    /// daemon's platform.
    pub fn image_pull_for(
        &self,
        image: &str,
        tag: Option<&str>,
        platform: Option<&str>,
        auth: Option<&RegistryAuth>,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        let q = query(&[
            ("fromImage", Some(image.to_string())),
            ("tag", tag.map(str::to_owned)),
            ("platform", platform.map(str::to_owned)),
        ]);
        let headers = Self::auth_header(auth);
        let response = self.request(
            "POST",
            &format!("/images/create{q}"),
            &headers,
            RequestBody::None,
            false,
        )?;
        Ok(JsonStream::new(response.body))
    }

    /// `POST /images/{name}/push`.
    pub fn image_push(
        &self,
        name: &str,
        tag: Option<&str>,
        auth: Option<&RegistryAuth>,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        let q = query(&[("tag", tag.map(str::to_owned))]);
        let mut headers = Self::auth_header(auth);
        if headers.is_empty() {
            // Docker requires the header, even empty.
            headers.push(("X-Registry-Auth", "e30=".to_string()));
        }
        let response = self.request(
            "POST",
            &format!("/images/{name}/push{q}"),
            &headers,
            RequestBody::None,
            false,
        )?;
        Ok(JsonStream::new(response.body))
    }

    /// `POST /images/create?fromSrc=-`: a root filesystem tar as an image.
    pub fn image_import(
        &self,
        source: &mut dyn Read,
        repo: Option<&str>,
        tag: Option<&str>,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        let q = query(&[
            ("fromSrc", Some("-".to_string())),
            ("repo", repo.map(str::to_owned)),
            ("tag", tag.map(str::to_owned)),
        ]);
        let body = RequestBody::Stream(source, "application/x-tar");
        let response = self.request("POST", &format!("/images/create{q}"), &[], body, false)?;
        Ok(JsonStream::new(response.body))
    }

    /// `POST /images/load`: a `docker save` tar.
    pub fn image_load(
        &self,
        tar: &mut dyn Read,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        let body = RequestBody::Stream(tar, "application/x-tar");
        let response = self.request("POST", "/images/load", &[], body, false)?;
        Ok(JsonStream::new(response.body))
    }

    /// `GET /images/get?names=`: writes a `docker save` tar; returns its size.
    pub fn image_save(&self, names: &[&str], out: &mut dyn Write) -> Result<u64, ClientError> {
        let q: Vec<String> = names
            .iter()
            .map(|n| format!("names={}", escape(n)))
            .collect();
        self.download(&format!("/images/get?{}", q.join("&")), out)
    }
}
