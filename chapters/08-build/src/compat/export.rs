//! `docker export`: a container's whole file system as one tar.

use std::io::Write;

use minidock_images::Rootfs;

use crate::builder::Builder;
use crate::error::Result;

/// Writes the root file system of `container` (id or name) to `out`:
/// every file of the image's layers and of the container's own writes,
/// symlinks as symlinks.
pub fn export(builder: &Builder, container: &str, out: &mut dyn Write) -> Result<()> {
    let runtime = builder.runtime();
    let id = runtime.resolve(container)?;
    let (c, _) = runtime.inspect(&id)?;
    let image = builder.store().resolve(&c.image_id)?;
    // Mounted since create; mounting again is a no-op, and mounts it if a
    // restart of the machine unmounted it.
    let rootfs = Rootfs::mount(builder.store(), &image, &runtime.container_dir(&id))?;
    minidock_images::copy::archive_from_root(rootfs.path(), "/", out)?;
    Ok(())
}
