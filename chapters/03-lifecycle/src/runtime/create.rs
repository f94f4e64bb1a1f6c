//! `docker create`: a container comes to be — its id and name, its
//! configuration merged from the image and the user's options, its overlay
//! root file system, all committed at once or not at all.

use minidock_images::{Image, Rootfs, Upper};

use super::{image_err, Runtime};
use crate::config::{merge, HostConfig, ImageConfig, UserConfig};
use crate::error::{Error, Result};
use crate::id::{random_name, validate_name, ContainerId};
use crate::store::Container;
use crate::time::Timestamp;

/// What `docker create` is given.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Image name or id.
    pub image: String,
    /// `--name`; a random `adjective_noun` when not given.
    pub name: Option<String>,
    /// The user's options (`docker create` flags), merged over the image's config.
    pub config: UserConfig,
    /// How the host runs it: limits, binds, restart policy, `--rm`, …
    pub host_config: HostConfig,
}

impl Runtime {
    // ANCHOR: create
    /// `docker create`: a container directory, its merged configuration,
    /// its overlay root file system, state Created.
    pub fn create(&self, options: CreateOptions) -> Result<ContainerId> {
        let image = self.images.resolve(&options.image).map_err(image_err)?;
        let image_config = image
            .config
            .config()
            .as_ref()
            .map(ImageConfig::from)
            .unwrap_or_default();
        options.host_config.validate()?;
        let id = ContainerId::random();
        let config = merge(&options.image, &image_config, options.config, id.short())?;
        let generated = options.name.is_none();
        let name = match options.name {
            Some(n) => validate_name(&n)?,
            None => self.unused_name()?,
        };
        let mut container = Container {
            id: id.clone(),
            name,
            created: Timestamp::now(),
            image_id: image.id.to_string(),
            config,
            host_config: options.host_config,
        };
        // The overlay is mounted before the container is committed (its
        // config.json written), under the store's lock: an engine that dies
        // in between leaves remains that the next one removes, never a
        // container that is listed half-made.
        let mut tries = 0;
        loop {
            let created = self.containers.create_with(&container, |dir| {
                Rootfs::mount_with(&self.images, &image, dir, upper_of(&container.host_config))
                    .map_err(image_err)?;
                Ok(())
            });
            match created {
                // A concurrent create took the generated name after we
                // picked it: pick another, as Docker does.
                Err(Error::NameInUse { .. }) if generated && tries < 10 => {
                    tries += 1;
                    container.name = self.unused_name()?;
                }
                other => break other.map(|()| id),
            }
        }
    }
    // ANCHOR_END: create

    // ANCHOR: create_helpers
    fn unused_name(&self) -> Result<String> {
        let taken: Vec<String> = self
            .containers
            .list()?
            .into_iter()
            .map(|(c, _)| c.name)
            .collect();
        for _ in 0..100 {
            let name = random_name();
            if !taken.contains(&name) {
                return Ok(name);
            }
        }
        Ok(format!("{}_{}", random_name(), rand::random::<u16>()))
    }

    fn image_of(&self, container: &Container) -> Result<Image> {
        self.images.resolve(&container.image_id).map_err(image_err)
    }

    /// Mounts the overlay (again): a no-op when it is mounted.
    pub(super) fn mount_rootfs(&self, container: &Container) -> Result<()> {
        let image = self.image_of(container)?;
        let dir = self.containers.dir(&container.id);
        Rootfs::mount_with(&self.images, &image, &dir, upper_of(&container.host_config))
            .map_err(image_err)?;
        Ok(())
    }
}

/// A container removed at its exit (`--rm`) gets a volatile upper
/// directory: nothing of it is read after a crash, and its unmount then
/// does not flush the host's disk (see [`Upper::Volatile`]).
fn upper_of(host_config: &HostConfig) -> Upper {
    if host_config.auto_remove {
        Upper::Volatile
    } else {
        Upper::Durable
    }
}
// ANCHOR_END: create_helpers
