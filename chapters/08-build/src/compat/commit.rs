//! `docker commit`: a container's changes as a new image.
//!
//! The same move as a RUN step, on a container the user ran: its upper
//! directory becomes a layer on top of its image's, and its configuration
//! (command, environment, working directory, …) becomes the image's, with
//! `--change` instructions applied last.

use minidock_images::{ImageId, Reference};
use minidock_lifecycle::state::State;
use serde_json::json;

use crate::builder::Builder;
use crate::diff::commit_layer;
use crate::error::{Error, Result};
use crate::image::ImageState;

/// What `docker commit` is given.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// The container: id, id prefix or name.
    pub container: String,
    /// The new image's name (`repo[:tag]`), if any.
    pub reference: Option<String>,
    /// `-m`.
    pub comment: Option<String>,
    /// `-a`.
    pub author: Option<String>,
    /// `-c`: Dockerfile instructions for the config.
    pub changes: Vec<String>,
    /// `--pause`: freeze a running container while its files are read.
    pub pause: bool,
}

/// Commits a container; returns the new image's id.
pub fn commit(builder: &Builder, options: &CommitOptions) -> Result<ImageId> {
    let runtime = builder.runtime();
    let id = runtime.resolve(&options.container)?;
    let (container, record) = runtime.inspect(&id)?;
    let reference: Option<Reference> = options
        .reference
        .as_deref()
        .map(|r| {
            r.parse()
                .map_err(|source: minidock_images::Error| Error::InvalidReference {
                    reference: r.to_string(),
                    source,
                })
        })
        .transpose()?;
    let paused = options.pause && matches!(record.state, State::Running { .. });
    if paused {
        runtime.pause(&id)?;
    }
    let work = builder.temp_dir("commit-")?;
    let layer = commit_layer(
        builder.store(),
        &runtime.container_dir(&id).join("upper"),
        &work,
    );
    std::fs::remove_dir_all(&work).ok();
    if paused {
        runtime.unpause(&id)?;
    }
    let layer = layer?;

    let image = builder.store().resolve(&container.image_id)?;
    let mut state = ImageState::of(builder.store(), &image)?;
    let c = &container.config;
    let run = state.run_config();
    run.insert("Env".into(), json!(c.env));
    run.insert("Cmd".into(), json!(c.cmd));
    run.insert(
        "Entrypoint".into(),
        if c.entrypoint.is_empty() {
            serde_json::Value::Null
        } else {
            json!(c.entrypoint)
        },
    );
    run.insert("WorkingDir".into(), json!(c.working_dir));
    run.insert("User".into(), json!(c.user));
    run.insert("Labels".into(), json!(c.labels));
    if !c.stop_signal.is_empty() {
        run.insert("StopSignal".into(), json!(c.stop_signal));
    }
    crate::compat::changes::apply(&mut state, &options.changes)?;
    state.add_history(&c.args().join(" "), Some(layer));
    if let Some(comment) = &options.comment {
        if let Some(last) = state.config["history"]
            .as_array_mut()
            .and_then(|h| h.last_mut())
        {
            last["comment"] = json!(comment);
        }
    }
    if let Some(author) = &options.author {
        state.config["author"] = json!(author);
        if let Some(last) = state.config["history"]
            .as_array_mut()
            .and_then(|h| h.last_mut())
        {
            last["author"] = json!(author);
        }
    }
    let new = state.commit(builder.store())?;
    if let Some(reference) = reference {
        let image = builder.store().resolve(&new.to_string())?;
        builder.store().tag(&reference, &image.manifest_digest)?;
    }
    Ok(new)
}
