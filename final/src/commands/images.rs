//! The image commands: `pull`, `push`, `rmi`, `tag`, `load`, `save`,
//! `import`, and `login`, which saves the credentials pull and push send.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;

use minidock_daemon::service::RegistryAuth;
use minidock_daemon::types::ProgressMessage;
use minidock_daemon::version::API_VERSION;
use minidock_images::Reference;
use minidock_registry::{cred_helper, Credentials, DockerConfig};

use super::{for_each, Context};
use crate::cli::{ImportArgs, LoadArgs, LoginArgs, PullArgs, PushArgs, RmiArgs, SaveArgs, TagArgs};
use crate::error::{describe, Failure};
use crate::progress::ProgressPrinter;

/// Parses an image reference, with Docker's message when it is malformed.
fn parse_reference(name: &str) -> Result<Reference, Failure> {
    Reference::parse(name)
        .map_err(|e| Failure::new(format!("minidock: invalid reference format: {e}")))
}

/// `busybox` → `busybox:latest`, as `docker run` names a missing image.
pub fn familiar_with_tag(name: &str) -> String {
    Reference::parse(name).map_or_else(|_| name.to_string(), |r| r.familiar())
}

/// Whether the user wrote a tag or digest (else Docker says "Using default
/// tag: latest").
fn names_a_tag(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name);
    last.contains(':') || name.contains('@')
}

/// The credentials `minidock login` saved for the registry of `reference`.
///
/// They come from the registry's credential helper when config.json names
/// one, else from its `auths`; a helper that fails is reported, and the
/// request goes without credentials (as the docker CLI does).
pub fn registry_auth(reference: &Reference) -> Option<RegistryAuth> {
    let config = DockerConfig::load(&DockerConfig::default_path()).ok()?;
    let creds = match cred_helper::lookup(&config, reference.domain()) {
        Ok(creds) => creds?,
        Err(e) => {
            eprintln!("WARNING: {e}");
            return None;
        }
    };
    Some(RegistryAuth {
        username: creds.username,
        password: creds.password,
        serveraddress: reference.domain().to_string(),
        identitytoken: String::new(),
    })
}

/// Shows a progress stream (unless `quiet`) and turns an error object in it
/// into a failure.
fn follow_progress(
    stream: minidock_client::JsonStream<ProgressMessage>,
    to_stderr: bool,
    quiet: bool,
) -> Result<Vec<ProgressMessage>, Failure> {
    let mut printer = (!quiet).then(|| ProgressPrinter::for_stream(to_stderr));
    let mut seen = Vec::new();
    let result = stream.finish(|m| {
        if let Some(p) = printer.as_mut() {
            p.show(m);
        }
        seen.push(m.clone());
    });
    if let Some(p) = printer {
        p.finish();
    }
    result.map_err(|e| Failure::new(describe(&e)))?;
    Ok(seen)
}

/// Pulls `name`, drawing the progress on stdout (or stderr, for `run`).
pub fn pull_image(
    ctx: &Context,
    name: &str,
    to_stderr: bool,
    quiet: bool,
) -> Result<Reference, Failure> {
    pull_image_for(ctx, name, None, to_stderr, quiet)
}

/// [`pull_image`] of one platform of a multi-platform image (`--platform`).
fn pull_image_for(
    ctx: &Context,
    name: &str,
    platform: Option<&str>,
    to_stderr: bool,
    quiet: bool,
) -> Result<Reference, Failure> {
    let reference = parse_reference(name)?;
    let tag = match reference.digest() {
        Some(digest) => Some(digest.to_string()),
        None => reference.tag().map(str::to_owned),
    };
    let auth = registry_auth(&reference);
    let stream =
        ctx.client
            .image_pull_for(&reference.name(), tag.as_deref(), platform, auth.as_ref())?;
    follow_progress(stream, to_stderr, quiet)?;
    Ok(reference)
}

/// `minidock pull`.
pub fn pull(ctx: &Context, args: PullArgs) -> Result<i32, Failure> {
    if !names_a_tag(&args.name) && !args.quiet {
        println!("Using default tag: latest");
    }
    let platform = args.platform.as_deref().filter(|p| !p.is_empty());
    let reference = pull_image_for(ctx, &args.name, platform, false, args.quiet)?;
    println!("{}", reference_string(&reference));
    Ok(0)
}

/// `docker.io/library/busybox:latest`: the full reference docker prints
/// after a pull.
fn reference_string(reference: &Reference) -> String {
    let mut text = reference.name();
    if let Some(tag) = reference.tag() {
        text.push(':');
        text.push_str(tag);
    }
    if let Some(digest) = reference.digest() {
        text.push('@');
        text.push_str(&digest.to_string());
    }
    text
}

/// `minidock push`.
pub fn push(ctx: &Context, args: PushArgs) -> Result<i32, Failure> {
    let reference = parse_reference(&args.name)?;
    if !names_a_tag(&args.name) && !args.quiet {
        println!("Using default tag: latest");
    }
    let auth = registry_auth(&reference);
    let stream =
        ctx.client
            .image_push(&reference.familiar_name(), reference.tag(), auth.as_ref())?;
    follow_progress(stream, false, args.quiet)?;
    if args.quiet {
        println!("{}", reference.familiar());
    }
    Ok(0)
}

/// `minidock rmi [-f]`: prints what was untagged and deleted.
pub fn rmi(ctx: &Context, args: RmiArgs) -> Result<i32, Failure> {
    for_each(&args.images, |name| {
        let items = ctx.client.image_remove(name, args.force)?;
        let lines: Vec<String> = items.iter().map(ToString::to_string).collect();
        Ok((!lines.is_empty()).then(|| lines.join("\n")))
    })
}

/// `minidock tag SOURCE TARGET`.
pub fn tag(ctx: &Context, args: TagArgs) -> Result<i32, Failure> {
    let target = parse_reference(&args.target)?;
    ctx.client
        .image_tag(&args.source, &target.familiar_name(), target.tag())?;
    Ok(0)
}

/// `minidock load [-i FILE]`.
pub fn load(ctx: &Context, args: LoadArgs) -> Result<i32, Failure> {
    let mut input: Box<dyn Read> = match &args.input {
        Some(path) => {
            Box::new(File::open(path).map_err(|e| Failure::new(format!("open {path}: {e}")))?)
        }
        None => {
            if io::stdin().is_terminal() {
                return Err(Failure::new(
                    "requested load from stdin, but stdin is empty",
                ));
            }
            Box::new(io::stdin())
        }
    };
    let stream = ctx.client.image_load(&mut *input)?;
    follow_progress(stream, false, args.quiet)?;
    Ok(0)
}

/// Writes through a temporary file beside `path` and renames it, so a
/// failed save leaves no half-written archive under the final name.
fn save_to_file(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let name = path
        .file_name()
        .ok_or_else(|| Failure::new(format!("minidock: {} is not a file name", path.display())))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut file = File::create(&tmp)
        .map_err(|e| Failure::new(format!("failed to save image: open {}: {e}", tmp.display())))?;
    let result = write(&mut file).and_then(|()| {
        file.sync_all()
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| {
                Failure::new(format!(
                    "failed to save image: write {}: {e}",
                    path.display()
                ))
            })
    });
    if result.is_err() {
        // Best effort: the real error is the one reported.
        drop(std::fs::remove_file(&tmp));
    }
    result
}

/// `minidock save [-o FILE] IMAGE…`.
pub fn save(ctx: &Context, args: SaveArgs) -> Result<i32, Failure> {
    let names: Vec<&str> = args.images.iter().map(String::as_str).collect();
    match &args.output {
        Some(path) => save_to_file(Path::new(path), |file| {
            ctx.client.image_save(&names, file)?;
            Ok(())
        })?,
        None => {
            let stdout = io::stdout();
            if stdout.is_terminal() {
                return Err(Failure::new(
                    "minidock: cowardly refusing to save to a terminal. Use the -o flag or redirect",
                ));
            }
            let mut out = stdout.lock();
            ctx.client.image_save(&names, &mut out)?;
            out.flush()
                .map_err(|e| Failure::new(format!("minidock: writing the archive: {e}")))?;
        }
    }
    Ok(0)
}

/// `minidock import FILE|- [REPOSITORY[:TAG]]`: prints the new image id.
pub fn import(ctx: &Context, args: ImportArgs) -> Result<i32, Failure> {
    let (repo, tag) = match &args.reference {
        Some(name) => {
            let reference = parse_reference(name)?;
            (
                Some(reference.familiar_name()),
                reference.tag().map(str::to_owned),
            )
        }
        None => (None, None),
    };
    let mut input: Box<dyn Read> = if args.file == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(
            File::open(&args.file).map_err(|e| Failure::new(format!("open {}: {e}", args.file)))?,
        )
    };
    let stream = if args.changes.is_empty() && args.message.is_none() {
        ctx.client
            .image_import(&mut *input, repo.as_deref(), tag.as_deref())?
    } else {
        ctx.client.image_import_with(
            &mut *input,
            repo.as_deref(),
            tag.as_deref(),
            &args.changes,
            args.message.as_deref(),
        )?
    };
    follow_progress(stream, false, false)?;
    Ok(0)
}

/// Reads one line from stdin after printing `prompt`, with echo off when
/// `secret` and stdin is a terminal.
fn prompt(prompt: &str, secret: bool) -> Result<String, Failure> {
    let stdin = io::stdin();
    print!("{prompt}");
    io::stdout().flush().ok();
    let _quiet = if secret && stdin.is_terminal() {
        let fd = std::os::fd::AsFd::as_fd(&stdin);
        let saved =
            nix::sys::termios::tcgetattr(fd).map_err(|e| Failure::new(format!("minidock: {e}")))?;
        let mut silent = saved.clone();
        silent
            .local_flags
            .remove(nix::sys::termios::LocalFlags::ECHO);
        nix::sys::termios::tcsetattr(fd, nix::sys::termios::SetArg::TCSANOW, &silent)
            .map_err(|e| Failure::new(format!("minidock: {e}")))?;
        Some(EchoRestore { saved })
    } else {
        None
    };
    let mut line = String::new();
    stdin
        .read_line(&mut line)
        .map_err(|e| Failure::new(format!("minidock: reading stdin: {e}")))?;
    if secret {
        println!();
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Turns echo back on when the password prompt ends.
struct EchoRestore {
    saved: nix::sys::termios::Termios,
}

impl Drop for EchoRestore {
    fn drop(&mut self) {
        let stdin = io::stdin();
        let fd = std::os::fd::AsFd::as_fd(&stdin);
        if let Err(e) =
            nix::sys::termios::tcsetattr(fd, nix::sys::termios::SetArg::TCSANOW, &self.saved)
        {
            eprintln!("minidock: could not turn the terminal's echo back on: {e}");
        }
    }
}

/// A login server as the CLI is given it (`https://host/…`) → the domain
/// the credentials are kept under.
fn login_domain(server: &str) -> String {
    server
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or(server)
        .to_string()
}

/// `minidock logout [SERVER]`: forgets the credentials `login` saved.
pub fn logout(args: crate::cli::LogoutArgs) -> Result<i32, Failure> {
    let server = args.server.unwrap_or_else(|| "docker.io".to_string());
    let domain = login_domain(&server);
    let path = DockerConfig::default_path();
    let mut config =
        DockerConfig::load(&path).map_err(|e| Failure::new(format!("minidock: {e}")))?;
    let removed = cred_helper::erase(&mut config, &domain)
        .map_err(|e| Failure::new(format!("minidock: {e}")))?;
    if removed {
        println!("Removing login credentials for {domain}");
    } else {
        println!("Not logged in to {domain}");
    }
    Ok(0)
}

/// `minidock login [-u USER] [-p PASS | --password-stdin] [SERVER]`.
///
/// The daemon is asked to check the credentials (`POST /auth`); they are
/// then saved in Docker's `config.json`, from where pull and push send them.
pub fn login(ctx: &Context, args: LoginArgs) -> Result<i32, Failure> {
    let server = args
        .server
        .clone()
        .unwrap_or_else(|| "docker.io".to_string());
    let domain = login_domain(&server);
    if args.password.is_some() && args.password_stdin {
        return Err(Failure::usage(
            "--password and --password-stdin are mutually exclusive",
        ));
    }
    if args.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let interactive = io::stdin().is_terminal();
    let username = match &args.username {
        Some(u) => u.clone(),
        None if interactive && !args.password_stdin => prompt("Username: ", false)?,
        None => {
            return Err(Failure::new(
                "Error: Cannot perform an interactive login from a non TTY device",
            ))
        }
    };
    let password = if args.password_stdin {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::new(format!("minidock: reading the password from stdin: {e}")))?;
        text.trim_end_matches(['\n', '\r']).to_string()
    } else if let Some(p) = &args.password {
        p.clone()
    } else if interactive {
        prompt("Password: ", true)?
    } else {
        return Err(Failure::new(
            "Error: Cannot perform an interactive login from a non TTY device",
        ));
    };
    if username.is_empty() || password.is_empty() {
        return Err(Failure::new(
            "Error: Non-null Username and Password Required",
        ));
    }
    let body =
        serde_json::json!({"username": username, "password": password, "serveraddress": domain});
    let bytes = serde_json::to_vec(&body).expect("JSON serialises");
    let checked = ctx
        .client
        .raw("POST", &format!("/v{API_VERSION}/auth"), Some(&bytes))?;
    // The daemon checks the credentials against the registry; only then are
    // they saved, in the client's config.json as the docker CLI does.
    match checked.status {
        200 | 204 => {}
        _ => {
            let message = checked
                .message()
                .unwrap_or_else(|| String::from_utf8_lossy(&checked.body).into_owned());
            return Err(Failure::new(format!(
                "Error response from daemon: {message}"
            )));
        }
    }
    let path = DockerConfig::default_path();
    let mut config =
        DockerConfig::load(&path).map_err(|e| Failure::new(format!("minidock: {e}")))?;
    cred_helper::store(&mut config, &domain, &Credentials::new(username, password))
        .map_err(|e| Failure::new(format!("minidock: {e}")))?;
    println!("Login Succeeded");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tags_are_announced_like_docker() {
        assert!(!names_a_tag("busybox"));
        assert!(names_a_tag("busybox:1.36"));
        assert!(!names_a_tag("localhost:5000/busybox"));
        assert!(names_a_tag("localhost:5000/busybox:1"));
        assert!(names_a_tag("busybox@sha256:abc"));
        assert_eq!(familiar_with_tag("busybox"), "busybox:latest");
        assert_eq!(
            familiar_with_tag("docker.io/library/busybox:1"),
            "busybox:1"
        );
        let r = Reference::parse("localhost:5000/a/b").unwrap();
        assert_eq!(reference_string(&r), "localhost:5000/a/b:latest");
    }

    #[test]
    fn saves_leave_no_half_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.tar");
        let failed = save_to_file(&path, |f| {
            f.write_all(b"half").unwrap();
            Err(Failure::new("boom"))
        });
        assert_eq!(failed.unwrap_err().message, "boom");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        save_to_file(&path, |f| {
            f.write_all(b"whole").unwrap();
            Ok(())
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
