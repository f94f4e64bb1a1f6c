//! What the build cache holds on disk (`docker system df`'s "Build Cache")
//! and what pruning it frees (`docker builder prune`).
//!
//! Every cache entry names the image its step made. The entry's own bytes
//! are those of the layer the step added on top of its parent (the
//! unpacked directory and the compressed blob); a step that changed only
//! the config holds none. An entry is *shared* when that layer also
//! belongs to an image that stays whatever the cache does (a tagged one,
//! or one a container uses): pruning the entry would not free it.
//!
//! `builder prune` removes the *dangling* entries: those no kept image is
//! built on (following each step image to its parent). With `all`, every
//! entry, and every untagged image only the cache kept. The space
//! reclaimed is measured, as `image prune` does: the store's bytes before
//! and after.

use std::collections::{BTreeMap, HashSet};

use minidock_daemon::compat::disk::tree_size;
use minidock_daemon::types::BuildCache;
use minidock_images::{Digest, Image, Store};

use crate::builder::Builder;
use crate::error::Result;

/// The images that stay whatever the cache does: tagged, or used by a
/// container.
fn kept_images(builder: &Builder, images: &[Image]) -> Result<HashSet<String>> {
    let mut kept: HashSet<String> = images
        .iter()
        .filter(|i| !i.references.is_empty())
        .map(|i| i.id.to_string())
        .collect();
    for (container, _) in builder.runtime().list()? {
        kept.insert(container.image_id);
    }
    Ok(kept)
}

/// `kept` and every image they were built on, through the cache's
/// record of each step image's parent.
fn with_ancestors(kept: &HashSet<String>, parents: &BTreeMap<String, String>) -> HashSet<String> {
    let mut all = HashSet::new();
    for image in kept {
        let mut next = Some(image.clone());
        while let Some(id) = next {
            if !all.insert(id.clone()) {
                break;
            }
            next = parents.get(&id).cloned();
        }
    }
    all
}

/// Bytes of the image store on disk: unpacked layers and blobs.
pub fn store_bytes(store: &Store) -> u64 {
    tree_size(&store.root().join("layers")) + tree_size(&store.root().join("blobs"))
}

/// The cache's entries with their sizes, for `GET /system/df`.
pub fn usage(builder: &Builder) -> Result<Vec<BuildCache>> {
    let store = builder.store();
    let images: BTreeMap<String, Image> = store
        .list()?
        .into_iter()
        .map(|i| (i.id.to_string(), i))
        .collect();
    let list: Vec<Image> = images.values().cloned().collect();
    let kept = kept_images(builder, &list)?;
    let kept_layers: HashSet<&Digest> = kept
        .iter()
        .filter_map(|id| images.get(id))
        .flat_map(|i| i.layers.iter())
        .collect();
    let in_use: HashSet<String> = builder
        .runtime()
        .list()?
        .into_iter()
        .map(|(c, _)| c.image_id)
        .collect();
    let parents = builder.cache().parent_map()?;
    let steps = builder.cache().steps()?;
    let key_of: BTreeMap<&String, &String> = steps.iter().map(|(k, i)| (i, k)).collect();
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for (key, id) in &steps {
        // One entry per image (two keys may name the same image).
        let Some(image) = images.get(id).filter(|_| seen.insert(id.clone())) else {
            continue;
        };
        let parent = parents.get(id);
        let below = parent
            .and_then(|p| images.get(p))
            .map_or(0, |p| p.layers.len());
        // The layers the step added (none for a config step).
        let added: Vec<(usize, &Digest)> = image.layers.iter().enumerate().skip(below).collect();
        let size: u64 = added
            .iter()
            .map(|(n, diff_id)| {
                let blob = image.manifest.layers().get(*n).map_or(0, |l| l.size());
                tree_size(&store.layer_dir(diff_id)) + blob
            })
            .sum();
        let description = last_step(store, image).unwrap_or_default();
        entries.push(BuildCache {
            id: key.clone(),
            parents: parent
                .and_then(|p| key_of.get(p))
                .map(|k| vec![(*k).clone()])
                .unwrap_or_default(),
            kind: "regular".into(),
            description,
            in_use: in_use.contains(id),
            shared: added.iter().any(|(_, d)| kept_layers.contains(d)),
            size: size as i64,
            created_at: image.created.clone().unwrap_or_default(),
            last_used_at: None,
            usage_count: 0,
        });
    }
    Ok(entries)
}

/// What `builder prune` removed.
#[derive(Debug, Default)]
pub struct Pruned {
    /// The ids of the images deleted.
    pub deleted: Vec<String>,
    /// Bytes the store holds less.
    pub reclaimed: u64,
}

// ANCHOR: prune
/// Prunes the cache: the dangling entries, or with `all` every entry and
/// the untagged images only the cache kept.
pub fn prune(builder: &Builder, all: bool) -> Result<Pruned> {
    let store = builder.store();
    let before = store_bytes(store);
    let list = store.list()?;
    let kept = kept_images(builder, &list)?;
    let parents = builder.cache().parent_map()?;
    let stays = if all {
        kept.clone()
    } else {
        with_ancestors(&kept, &parents)
    };
    let present: HashSet<String> = list.iter().map(|i| i.id.to_string()).collect();
    let mut deleted = Vec::new();
    for id in builder.cache().images()? {
        if present.contains(&id)
            && !stays.contains(&id)
            && store.remove(&id, false, &Default::default()).is_ok()
        {
            deleted.push(id);
        }
    }
    // Entries whose image is gone go too (removed by `rmi` since).
    builder
        .cache()
        .retain(|id| !all && store.resolve(id).is_ok())?;
    Ok(Pruned {
        deleted,
        reclaimed: before.saturating_sub(store_bytes(store)),
    })
}
// ANCHOR_END: prune

/// The step an image's config says made it (its last history entry).
fn last_step(store: &Store, image: &Image) -> Option<String> {
    let digest = Digest::try_from(image.manifest.config().digest()).ok()?;
    let config: serde_json::Value = serde_json::from_slice(&store.read_blob(&digest).ok()?).ok()?;
    config["history"]
        .as_array()?
        .last()?
        .get("created_by")?
        .as_str()
        .map(str::to_owned)
}
