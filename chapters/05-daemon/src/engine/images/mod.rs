//! The image service: chapter 02's store and chapter 04's registry client
//! behind the API.
//!
//! `registry` holds what a pull, push and login need of chapter 04;
//! `shapes` shows images in the API's shapes.

mod registry;

pub use crate::compat::image_shapes::{inspect, summary};
pub use registry::pull_reference;

use super::progress::PullReporter;
use crate::compat::image_shapes::{created_seconds, labels, repo_tags};
use crate::compat::types::*;
use crate::error::{ApiError, ApiResult};
use crate::events::Events;
use crate::locks::lock;
use crate::query::Filters;
use crate::service::{HistoryItem, ImageService, Progress, PullRequest, RegistryAuth};
use minidock_images::{Image, ImageChanges, Reference, Store};
use minidock_lifecycle::store::ContainerStore;
use registry::{credentials, login_domain, parse_reference};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

// ANCHOR: store_images
/// Images, served from the store under the daemon's root.
pub struct StoreImages {
    store: Arc<Store>,
    /// How to reach registries; read at each pull, push and login.
    registry: crate::daemon::RegistrySettings,
    containers: ContainerStore,
    events: Events,
    /// One lock per reference being pulled: a second pull of the same image
    /// waits for the first and then finds every layer present, so each
    /// layer is downloaded once.
    pulls: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Where uploads (load) and downloads (save) are spooled.
    tmp: PathBuf,
    /// Held shared by every pull, load, import and build while it writes
    /// to the store, and exclusively by a prune and the sweep of
    /// unreferenced content.
    writes: Arc<super::sweep::WriteGate>,
}
// ANCHOR_END: store_images

// ANCHOR: image_helpers
impl StoreImages {
    /// The service over `store`; `containers` is read to know which images
    /// are in use.
    pub fn new(
        store: Arc<Store>,
        containers: ContainerStore,
        events: Events,
        tmp: PathBuf,
    ) -> StoreImages {
        StoreImages {
            store,
            registry: Default::default(),
            containers,
            events,
            pulls: Mutex::new(HashMap::new()),
            tmp,
            writes: Arc::default(),
        }
    }

    /// Reaches registries with `settings` (the daemon's, replaced on reload).
    pub fn with_registry(mut self, settings: crate::daemon::RegistrySettings) -> StoreImages {
        self.registry = settings;
        self
    }

    /// The gate of writes to the store, for the other writers (a build).
    pub(crate) fn write_gate(&self) -> Arc<super::sweep::WriteGate> {
        self.writes.clone()
    }

    fn resolve(&self, name: &str) -> ApiResult<Image> {
        self.store.resolve(name).map_err(|e| match e {
            minidock_images::Error::NoSuchImage(_) => ApiError::no_such_image(name),
            other => ApiError::from(other),
        })
    }

    /// The containers using each image id: (container id, running).
    fn users(&self) -> ApiResult<HashMap<String, Vec<(String, bool)>>> {
        let mut users: HashMap<String, Vec<(String, bool)>> = HashMap::new();
        let list = self.containers.list().map_err(ApiError::internal)?;
        for (container, state) in list {
            users
                .entry(container.image_id.clone())
                .or_default()
                .push((container.id.as_str().to_string(), state.state.is_alive()));
        }
        Ok(users)
    }

    fn publish(&self, action: &str, id: &str, name: &str) {
        let attributes = BTreeMap::from([("name".to_string(), name.to_string())]);
        self.events.publish("image", action, id, attributes);
    }

    fn spool_path(&self, what: &str) -> PathBuf {
        self.tmp.join(format!(
            "{what}-{}-{:x}.tar",
            std::process::id(),
            rand::random::<u64>()
        ))
    }
}

/// Removes a spool file when dropped.
struct Spooled(PathBuf);

impl Drop for Spooled {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}
// ANCHOR_END: image_helpers

impl ImageService for StoreImages {
    // ANCHOR: image_queries
    fn login(&self, auth: &RegistryAuth) -> ApiResult<()> {
        let creds = credentials(Some(auth)).ok_or_else(|| {
            ApiError::BadParameter("login needs a username and a password".to_string())
        })?;
        self.registry_client()
            .verify_login(&login_domain(&auth.serveraddress), &creds)
            .map_err(ApiError::from)
    }

    fn list(&self, _all: bool, filters: &Filters) -> ApiResult<Vec<ImageSummary>> {
        let images = self.store.list().map_err(ApiError::from)?;
        let references = filters.values("reference");
        Ok(images
            .iter()
            .map(summary)
            .filter(|s| filters.labels_match(&s.labels))
            .filter(|s| {
                references.is_empty()
                    || s.repo_tags.iter().any(|t| {
                        references
                            .iter()
                            .any(|r| t == r || t.split(':').next() == Some(r.as_str()))
                    })
            })
            .filter(
                |s| match filters.values("dangling").first().map(String::as_str) {
                    Some("true") => s.repo_tags.is_empty(),
                    Some("false") => !s.repo_tags.is_empty(),
                    _ => true,
                },
            )
            .collect())
    }

    fn inspect(&self, name: &str) -> ApiResult<ImageInspect> {
        let image = self.resolve(name)?;
        let mut shown = inspect(&image);
        shown.config.healthcheck = self
            .store
            .read_blob(image.id.digest())
            .ok()
            .and_then(|blob| crate::compat::health::of_image_config(&blob));
        Ok(shown)
    }

    fn history(&self, name: &str) -> ApiResult<Vec<HistoryItem>> {
        let image = self.resolve(name)?;
        let history = image.config.history().clone();
        let mut items: Vec<HistoryItem> = history
            .iter()
            .rev()
            .map(|h| HistoryItem {
                id: "<missing>".to_string(),
                created: h
                    .created()
                    .as_deref()
                    .and_then(crate::time::parse_rfc3339)
                    .map(crate::time::unix_seconds)
                    .unwrap_or(0),
                created_by: h.created_by().clone().unwrap_or_default(),
                tags: None,
                size: 0,
                comment: h.comment().clone().unwrap_or_default(),
            })
            .collect();
        let sizes = crate::compat::image_shapes::history_sizes(&image);
        for (item, size) in items.iter_mut().zip(sizes.into_iter().rev()) {
            item.size = size;
        }
        if items.is_empty() {
            items.push(HistoryItem::default());
        }
        items[0].id = image.id.to_string();
        items[0].tags = Some(repo_tags(&image));
        Ok(items)
    }

    fn tag(&self, source: &str, repo: &str, tag: Option<&str>) -> ApiResult<()> {
        let image = self.resolve(source)?;
        let target = match tag {
            Some(tag) => parse_reference(repo)?
                .with_tag(tag)
                .map_err(|e| ApiError::BadParameter(e.to_string()))?,
            None => parse_reference(repo)?,
        };
        if target.digest().is_some() {
            return Err(ApiError::BadParameter(format!(
                "refusing to create a tag with a digest reference: {repo}"
            )));
        }
        self.store
            .tag(&target, &image.manifest_digest)
            .map_err(ApiError::from)?;
        self.publish("tag", &image.id.to_string(), &target.familiar());
        Ok(())
    }
    // ANCHOR_END: image_queries

    // ANCHOR: image_remove_check
    fn remove(&self, name: &str, force: bool) -> ApiResult<Vec<ImageDeleteItem>> {
        let image = self.resolve(name)?;
        let users = self.users()?;
        let id = image.id.to_string();
        let using = users.get(&id).cloned().unwrap_or_default();
        let by_tag = Reference::parse(name)
            .ok()
            .filter(|r| image.references.contains(r));
        // Docker's rule: a tag may go while other tags remain; the last tag
        // or the image itself may not while a container uses it.
        if let Some((container, running)) = using.first() {
            let only_a_tag = by_tag.is_some() && image.references.len() > 1;
            if !only_a_tag && (!force || *running) {
                let short = &container[..12.min(container.len())];
                let message = match &by_tag {
                    Some(_) if !force => format!(
                        "conflict: unable to remove repository reference \"{name}\" (must force) - \
                         container {short} is using its referenced image {}",
                        image.id.short()
                    ),
                    _ => format!(
                        "conflict: unable to delete {} ({}) - image is being used by {} container {short}",
                        image.id.short(),
                        if *running { "cannot be forced" } else { "must be forced" },
                        if *running { "running" } else { "stopped" }
                    ),
                };
                return Err(ApiError::Conflict(message));
            }
        }
        // ANCHOR_END: image_remove_check
        // ANCHOR: image_remove_store
        let in_use: HashSet<minidock_images::ImageId> = if using.is_empty() {
            HashSet::new()
        } else {
            HashSet::from([image.id.clone()])
        };
        let removed = self
            .store
            .remove(name, force, &in_use)
            .map_err(ApiError::from)?;
        let items: Vec<ImageDeleteItem> = removed
            .into_iter()
            .map(|r| match r {
                minidock_images::Removed::Untagged(reference) => {
                    self.publish("untag", &id, &reference.familiar());
                    ImageDeleteItem::Untagged(reference.familiar())
                }
                minidock_images::Removed::Deleted(deleted) => {
                    self.publish("delete", &deleted.to_string(), name);
                    ImageDeleteItem::Deleted(deleted.to_string())
                }
            })
            .collect();
        Ok(items)
    }
    // ANCHOR_END: image_remove_store

    // ANCHOR: image_pull
    fn pull(&self, request: &PullRequest<'_>, progress: Progress) -> ApiResult<()> {
        let reference = pull_reference(request.image, request.tag)?;
        let registry = self.registry_for(reference.domain(), request.auth);
        let options = minidock_registry::PullOptions {
            platform: request.platform.cloned(),
        };
        let one_pull = {
            let mut pulls = lock(&self.pulls);
            pulls.entry(reference.to_string()).or_default().clone()
        };
        let _one_at_a_time = lock(&one_pull);
        let writing = self.writes.writing();
        let reporter = PullReporter::new(&reference);
        let pulled = reporter.run(progress, |report| {
            registry
                .pull(&self.store, &reference, &options, report)
                .map_err(ApiError::from)
        });
        drop(writing);
        let pulled = match pulled {
            Ok(pulled) => pulled,
            Err(err) => {
                // A failed pull (ENOSPC, a registry that went away) leaves
                // nothing: what it wrote is referenced by no image.
                super::sweep::sweep_unless_busy(&self.store, &self.writes);
                return Err(err);
            }
        };
        self.publish("pull", &pulled.image_id.to_string(), &reference.familiar());
        Ok(())
    }
    // ANCHOR_END: image_pull

    // ANCHOR: image_push
    fn push(
        &self,
        name: &str,
        tag: Option<&str>,
        auth: Option<&RegistryAuth>,
        progress: Progress,
    ) -> ApiResult<()> {
        let reference = pull_reference(name, tag)?;
        let image = self.resolve(&reference.to_string())?;
        let registry = self.registry_for(reference.domain(), auth);
        progress(ProgressMessage::status(
            format!("The push refers to repository [{}]", reference.name()),
            None,
        ));
        let reporter = PullReporter::for_push(&reference);
        reporter.run(progress, |report| {
            registry
                .push_image(&self.store, &image, &reference, report)
                .map_err(ApiError::from)
        })?;
        self.publish("push", &image.id.to_string(), &reference.familiar());
        Ok(())
    }
    // ANCHOR_END: image_push

    // ANCHOR: image_import
    fn import(
        &self,
        source: &mut dyn Read,
        repo: Option<&str>,
        tag: Option<&str>,
        progress: Progress,
    ) -> ApiResult<()> {
        let reference = match repo {
            Some(repo) => Some(pull_reference(repo, tag)?),
            None => None,
        };
        let _writing = self.writes.writing();
        let id = self
            .store
            .import(source, reference.as_ref(), &ImageChanges::default())
            .map_err(ApiError::from)?;
        progress(ProgressMessage::status(id.to_string(), None));
        self.publish(
            "import",
            &id.to_string(),
            &reference.map(|r| r.familiar()).unwrap_or_default(),
        );
        Ok(())
    }
    // ANCHOR_END: image_import

    // ANCHOR: image_load
    fn load(&self, tar: &mut dyn Read, progress: Progress) -> ApiResult<()> {
        let path = self.spool_path("load");
        let spooled = Spooled(path.clone());
        let mut file = std::fs::File::create(&path).map_err(ApiError::internal)?;
        std::io::copy(tar, &mut file)
            .map_err(|e| ApiError::BadParameter(format!("reading the uploaded tar: {e}")))?;
        file.sync_all().map_err(ApiError::internal)?;
        drop(file);
        let writing = self.writes.writing();
        let loaded = match self.store.load(&spooled.0) {
            Ok(loaded) => loaded,
            Err(err) => {
                // What the load stored before it failed is referenced by
                // no image: collect it now, not at the next prune.
                drop(writing);
                super::sweep::sweep_unless_busy(&self.store, &self.writes);
                return Err(ApiError::from(err));
            }
        };
        for image in loaded {
            if image.references.is_empty() {
                progress(ProgressMessage::stream(format!(
                    "Loaded image ID: {}\n",
                    image.id
                )));
            }
            for reference in &image.references {
                progress(ProgressMessage::stream(format!(
                    "Loaded image: {}\n",
                    reference.familiar()
                )));
                self.publish("load", &image.id.to_string(), &reference.familiar());
            }
        }
        Ok(())
    }
    // ANCHOR_END: image_load

    // ANCHOR: image_prune
    fn prune(&self, filters: &Filters) -> ApiResult<ImagePruneResponse> {
        filters.only(&["dangling", "until", "label"], "image prune")?;
        let dangling_only = match filters.values("dangling") {
            [] => true,
            [v] if v == "true" || v == "1" => true,
            [v] if v == "false" || v == "0" => false,
            other => {
                return Err(ApiError::BadParameter(format!(
                    "invalid dangling filter {other:?}: true or false"
                )))
            }
        };
        let until = filters.until(std::time::SystemTime::now())?;
        // Wait for the pulls, loads and builds in progress: an image they
        // are about to reference (a shared layer, a build's parent) must
        // not go between their write and their commit.
        let _exclusive = self.writes.exclusive();
        let users = self.users()?;
        // What the store holds on disk before and after: shared layers that
        // stay are not reclaimed, so summing image sizes would overcount.
        let on_disk = || {
            let root = self.store.root();
            crate::compat::disk::tree_size(&root.join("layers"))
                + crate::compat::disk::tree_size(&root.join("blobs"))
        };
        let before = on_disk();
        // ANCHOR_END: image_prune
        // ANCHOR: image_prune_sweep
        let mut response = ImagePruneResponse::default();
        for image in self.store.list().map_err(ApiError::from)? {
            let id = image.id.to_string();
            let created = created_seconds(&image);
            let old_enough = until.is_none_or(|u| created < crate::time::unix_seconds(u));
            if users.contains_key(&id)
                || (dangling_only && !image.references.is_empty())
                || !old_enough
                || !filters.labels_match(&labels(&image))
            {
                continue;
            }
            // No container uses it (checked above), so force only means
            // "all of its tags", as `docker image prune -a` does.
            match self.remove(&id, true) {
                Ok(items) => response
                    .images_deleted
                    .get_or_insert_with(Vec::new)
                    .extend(items),
                // removed, or given a container, since we looked
                Err(ApiError::NotFound(_) | ApiError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        // What failed or interrupted pulls, loads and builds left: nothing
        // writes now (the gate is ours).
        super::sweep::sweep(&self.store);
        response.space_reclaimed = before.saturating_sub(on_disk());
        Ok(response)
    }
    // ANCHOR_END: image_prune_sweep

    fn save(&self, names: &[String], out: &mut dyn Write) -> ApiResult<()> {
        for name in names {
            self.resolve(name)?;
        }
        let path = self.spool_path("save");
        let spooled = Spooled(path.clone());
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.store
            .save(&names, &spooled.0)
            .map_err(ApiError::from)?;
        let mut file = std::fs::File::open(&spooled.0).map_err(ApiError::internal)?;
        std::io::copy(&mut file, out).map_err(ApiError::internal)?;
        Ok(())
    }
}
