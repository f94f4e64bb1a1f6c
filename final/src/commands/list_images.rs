//! The image tables: `images` and `history`.

use std::time::SystemTime;

use minidock_daemon::types::ImageSummary;

use super::Context;
use crate::cli::ImagesArgs;
use crate::error::Failure;
use crate::format::{ellipsis, human_size_with_precision, short_id, shown_id, time_ago, Table};
use crate::listing::{self, Format, Row};

use super::list::{go_time, parse_filters};

/// `name:tag` → (`name`, `tag`); the tag is after the last `:` that comes
/// after the last `/` (a registry port is not a tag).
fn split_repo_tag(repo_tag: &str) -> (&str, &str) {
    let slash = repo_tag.rfind('/').map_or(0, |i| i + 1);
    match repo_tag[slash..].rfind(':') {
        Some(i) => (&repo_tag[..slash + i], &repo_tag[slash + i + 1..]),
        None => (repo_tag, "<none>"),
    }
}

/// The column titles of `images --format 'table …'`, by field.
pub fn images_headers() -> Row {
    [
        ("Repository", "REPOSITORY"),
        ("Tag", "TAG"),
        ("ID", "IMAGE ID"),
        ("Digest", "DIGEST"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("Size", "SIZE"),
        ("Containers", "CONTAINERS"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// The rows of `docker images`: one per tag, `<none>` for an untagged
/// image, sizes in units of 1000 with three digits; only the tags of
/// `filter` (`repo` or `repo:tag`) when given.
pub fn images_rows(
    images: &[ImageSummary],
    filter: Option<&str>,
    no_trunc: bool,
    now: SystemTime,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for image in images {
        let id = shown_id(&image.id, no_trunc).to_string();
        let tags: Vec<(&str, &str)> = if image.repo_tags.is_empty() {
            vec![("<none>", "<none>")]
        } else {
            image.repo_tags.iter().map(|t| split_repo_tag(t)).collect()
        };
        for (repo, tag) in tags {
            if let Some(wanted) = filter {
                let (want_repo, want_tag) = match split_repo_tag(wanted) {
                    (r, "<none>") => (r, None),
                    (r, t) => (r, Some(t)),
                };
                if repo != want_repo || want_tag.is_some_and(|t| t != tag) {
                    continue;
                }
            }
            let digest = image
                .repo_digests
                .iter()
                .find_map(|d| d.split_once('@').map(|(_, digest)| digest.to_string()))
                .unwrap_or_else(|| "<none>".to_string());
            rows.push(Row::from([
                ("Repository", repo.to_string()),
                ("Tag", tag.to_string()),
                ("ID", id.clone()),
                ("Digest", digest),
                ("CreatedSince", time_ago(image.created, now)),
                ("CreatedAt", go_time(image.created)),
                ("Size", human_size_with_precision(image.size as f64, 3)),
                (
                    "Containers",
                    if image.containers < 0 {
                        "N/A".to_string()
                    } else {
                        image.containers.to_string()
                    },
                ),
            ]));
        }
    }
    rows
}

/// The `docker images` table.
pub fn images_table(
    images: &[ImageSummary],
    filter: Option<&str>,
    no_trunc: bool,
    now: SystemTime,
) -> String {
    let columns = ["Repository", "Tag", "ID", "CreatedSince", "Size"];
    let headers = images_headers();
    let titles: Vec<&str> = columns.iter().map(|c| headers[c].as_str()).collect();
    let mut table = Table::new(&titles);
    for mut row in images_rows(images, filter, no_trunc, now) {
        table.row(
            columns
                .iter()
                .map(|k| row.remove(k).unwrap_or_default())
                .collect(),
        );
    }
    table.render()
}

/// `minidock images`.
pub fn images(ctx: &Context, args: ImagesArgs) -> Result<i32, Failure> {
    let format = Format::parse(args.format.as_deref())?;
    let mut images = ctx
        .client
        .images_filtered(false, &parse_filters(&args.filter)?)?;
    // Newest first, as Docker lists them.
    images.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.repo_tags.cmp(&b.repo_tags))
    });
    if !matches!(format, Format::Default) && !args.quiet {
        let rows = images_rows(
            &images,
            args.reference.as_deref(),
            args.no_trunc,
            SystemTime::now(),
        );
        print!("{}", listing::render(&format, &images_headers(), &rows)?);
    } else if args.quiet {
        // The ids of the rows the table would show (the REPOSITORY[:TAG]
        // argument selects them here too), each once, as Docker prints
        // them: scripts feed them to `rmi`.
        let rows = images_rows(
            &images,
            args.reference.as_deref(),
            args.no_trunc,
            SystemTime::now(),
        );
        let mut seen = std::collections::HashSet::new();
        for row in &rows {
            if seen.insert(&row["ID"]) {
                println!("{}", row["ID"]);
            }
        }
    } else {
        print!(
            "{}",
            images_table(
                &images,
                args.reference.as_deref(),
                args.no_trunc,
                SystemTime::now()
            )
        );
    }
    Ok(0)
}

/// `minidock history`: the image's layers, newest first, as `docker
/// history` prints them.
pub fn history(ctx: &Context, args: crate::cli::HistoryArgs) -> Result<i32, Failure> {
    let items = ctx.client.image_history(&args.image)?;
    let now = SystemTime::now();
    let mut table = Table::new(&["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
    for item in items {
        let id = if item.id.starts_with("sha256:") && !args.no_trunc {
            short_id(&item.id).to_string()
        } else {
            item.id.clone()
        };
        if args.quiet {
            println!("{id}");
            continue;
        }
        let created_by = if args.no_trunc {
            item.created_by.clone()
        } else {
            ellipsis(&item.created_by, 45)
        };
        table.row(vec![
            id,
            time_ago(item.created, now),
            created_by,
            human_size_with_precision(item.size as f64, 3),
            item.comment.clone(),
        ]);
    }
    if !args.quiet {
        print!("{}", table.render());
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn images_print_one_row_per_tag() {
        let now = UNIX_EPOCH + Duration::from_secs(10_000);
        let image = ImageSummary {
            id: format!("sha256:{}", "ab".repeat(32)),
            repo_tags: vec![
                "busybox:latest".into(),
                "localhost:5000/tools/busybox:1.36".into(),
            ],
            created: 10_000 - 7200,
            size: 4_261_376,
            ..ImageSummary::default()
        };
        let untagged = ImageSummary {
            id: format!("sha256:{}", "cd".repeat(32)),
            created: 10_000 - 30,
            size: 999,
            ..ImageSummary::default()
        };
        let text = images_table(&[image.clone(), untagged], None, false, now);
        assert_eq!(
            text,
            "REPOSITORY                     TAG       IMAGE ID       CREATED          SIZE\n\
             busybox                        latest    abababababab   2 hours ago      4.26MB\n\
             localhost:5000/tools/busybox   1.36      abababababab   2 hours ago      4.26MB\n\
             <none>                         <none>    cdcdcdcdcdcd   30 seconds ago   999B\n"
        );
        let only = images_table(std::slice::from_ref(&image), Some("busybox"), false, now);
        assert_eq!(only.lines().count(), 2, "{only}");
        let none = images_table(&[image], Some("busybox:1.36"), false, now);
        assert_eq!(none.lines().count(), 1, "{none}");
    }
}
