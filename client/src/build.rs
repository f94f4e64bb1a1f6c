//! The client side of the build service: `POST /build`, `POST /commit`,
//! `GET /containers/{id}/export`, and `import --change`.

use super::{escape, query, Client, ClientError, JsonStream, RequestBody};
use minidock_daemon::builder::{BuildRequest, CommitRequest};
use minidock_daemon::types::ProgressMessage;
use std::io::{Read, Write};

/// `?a=1&a=2`: a repeated parameter, appended to a query string.
fn repeated(q: &mut String, key: &str, values: &[String]) {
    for v in values {
        q.push(if q.is_empty() { '?' } else { '&' });
        q.push_str(&format!("{key}={}", escape(v)));
    }
}

impl Client {
    /// `POST /build`: sends the context tar; the builder's JSON lines.
    pub fn build(
        &self,
        context: &mut dyn Read,
        request: &BuildRequest,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        let flag = |b: bool| Some(if b { "1" } else { "0" }.to_string());
        let json = |m: &std::collections::BTreeMap<String, String>| {
            Some(serde_json::to_string(m).unwrap_or_default())
        };
        let mut q = query(&[
            (
                "dockerfile",
                Some(request.dockerfile.clone()).filter(|d| !d.is_empty()),
            ),
            ("buildargs", json(&request.build_args)),
            ("labels", json(&request.labels)),
            ("nocache", flag(request.no_cache)),
            ("rm", flag(request.remove)),
            ("forcerm", flag(request.force_remove)),
            ("q", flag(request.quiet)),
            ("pull", flag(request.pull)),
            ("target", request.target.clone()),
        ]);
        repeated(&mut q, "t", &request.tags);
        let body = RequestBody::Stream(context, "application/x-tar");
        let response = self.request("POST", &format!("/build{q}"), &[], body, false)?;
        Ok(JsonStream::new(response.body))
    }

    /// `POST /commit`: returns the new image's id.
    pub fn commit(&self, request: &CommitRequest) -> Result<String, ClientError> {
        let mut q = query(&[
            ("container", Some(request.container.clone())),
            ("repo", request.repo.clone()),
            ("tag", request.tag.clone()),
            ("comment", request.comment.clone()),
            ("author", request.author.clone()),
            (
                "pause",
                Some(if request.pause { "1" } else { "0" }.to_string()),
            ),
        ]);
        repeated(&mut q, "changes", &request.changes);
        let response = self.request(
            "POST",
            &format!("/commit{q}"),
            &[],
            RequestBody::Json(b"{}".to_vec()),
            false,
        )?;
        let answer: serde_json::Value = self.decode(response, "the commit answer")?;
        Ok(answer["Id"].as_str().unwrap_or_default().to_string())
    }

    /// `GET /containers/{id}/export`: writes the tar; returns its size.
    pub fn container_export(&self, id: &str, out: &mut dyn Write) -> Result<u64, ClientError> {
        self.download(&format!("/containers/{id}/export"), out)
    }

    /// `POST /images/create?fromSrc=-` with `changes` and `message`.
    pub fn image_import_with(
        &self,
        source: &mut dyn Read,
        repo: Option<&str>,
        tag: Option<&str>,
        changes: &[String],
        message: Option<&str>,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        let mut q = query(&[
            ("fromSrc", Some("-".to_string())),
            ("repo", repo.map(str::to_owned)),
            ("tag", tag.map(str::to_owned)),
            ("message", message.map(str::to_owned)),
        ]);
        repeated(&mut q, "changes", changes);
        let body = RequestBody::Stream(source, "application/x-tar");
        let response = self.request("POST", &format!("/images/create{q}"), &[], body, false)?;
        Ok(JsonStream::new(response.body))
    }
}
