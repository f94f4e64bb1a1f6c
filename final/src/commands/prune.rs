//! `container prune`, `image prune`, `system prune`: delete what nothing
//! uses, after asking (unless `-f`), and say how much space came back.

use std::io::{BufRead, Write};

use crate::cli::{ImagePruneArgs, PruneArgs};
use crate::error::Failure;
use crate::format::human_size;
use minidock_daemon::query::Filters;
use minidock_daemon::types::ImageDeleteItem;

use super::list::parse_filters as filters;
use super::Context;

/// Docker's question; `true` when the answer starts with y or Y.
pub(super) fn confirmed(warning: &str) -> Result<bool, Failure> {
    print!("{warning}\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(format!("reading the answer from stdin: {e}")))?;
    Ok(answer.trim_start().starts_with(['y', 'Y']))
}

/// Removes the stopped containers; returns the bytes reclaimed.
fn prune_containers(ctx: &Context, filters: &Filters) -> Result<u64, Failure> {
    let pruned = ctx.client.containers_prune(filters)?;
    if let Some(ids) = pruned.containers_deleted.filter(|ids| !ids.is_empty()) {
        println!("Deleted Containers:");
        for id in ids {
            println!("{id}");
        }
        println!();
    }
    Ok(pruned.space_reclaimed)
}

/// Removes unused images (all of them with `all`); returns the bytes
/// reclaimed.
fn prune_images(ctx: &Context, all: bool, mut filters: Filters) -> Result<u64, Failure> {
    if all {
        filters
            .terms
            .insert("dangling".to_string(), vec!["false".to_string()]);
    }
    let pruned = ctx.client.images_prune(&filters)?;
    if let Some(items) = pruned.images_deleted.filter(|i| !i.is_empty()) {
        println!("Deleted Images:");
        for item in items {
            match item {
                ImageDeleteItem::Untagged(name) => println!("untagged: {name}"),
                ImageDeleteItem::Deleted(id) => println!("deleted: {id}"),
            }
        }
        println!();
    }
    Ok(pruned.space_reclaimed)
}

/// `minidock container prune [-f] [--filter k=v]`.
pub fn containers(ctx: &Context, args: PruneArgs) -> Result<i32, Failure> {
    let filters = filters(&args.filter)?;
    if !args.force && !confirmed("WARNING! This will remove all stopped containers.")? {
        return Ok(0);
    }
    let reclaimed = prune_containers(ctx, &filters)?;
    println!("Total reclaimed space: {}", human_size(reclaimed));
    Ok(0)
}

/// `minidock image prune [-a] [-f] [--filter k=v]`.
pub fn images(ctx: &Context, args: ImagePruneArgs) -> Result<i32, Failure> {
    let filters = filters(&args.filter)?;
    let warning = if args.all {
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    if !args.force && !confirmed(warning)? {
        return Ok(0);
    }
    let reclaimed = prune_images(ctx, args.all, filters)?;
    println!("Total reclaimed space: {}", human_size(reclaimed));
    Ok(0)
}

/// `minidock system prune [-a] [-f]`: containers first, so that the images
/// they held become unused.
pub fn system(ctx: &Context, args: ImagePruneArgs) -> Result<i32, Failure> {
    let filters = filters(&args.filter)?;
    let images = if args.all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    };
    let warning = format!("WARNING! This will remove:\n  - all stopped containers\n  - {images}\n");
    if !args.force && !confirmed(&warning)? {
        return Ok(0);
    }
    let mut reclaimed = prune_containers(ctx, &filters)?;
    reclaimed += prune_images(ctx, args.all, filters)?;
    println!("Total reclaimed space: {}", human_size(reclaimed));
    Ok(0)
}
