//! `minidock context …`: name daemons, list them, switch between them.
//! These commands read and write the client's store only; none of them
//! talks to a daemon.

use serde_json::{json, Value};

use crate::cli_context::{
    ContextCommand, ContextCreateArgs, ContextInspectArgs, ContextLsArgs, ContextRmArgs,
};
use crate::connect::{choose, Env, Source};
use crate::context_store::{ContextMeta, ContextStore, TlsSource, DEFAULT_CONTEXT};
use crate::error::Failure;
use crate::format::Table;
use crate::listing::{render, Format, Row};
use crate::template::Template;

/// Where this invocation's flags and environment point.
pub struct Chooser<'a> {
    /// `-H`.
    pub host_flag: Option<&'a str>,
    /// `--context`.
    pub context_flag: Option<&'a str>,
}

/// Runs a `context` command.
pub fn context(chooser: &Chooser, command: ContextCommand) -> Result<i32, Failure> {
    let store = ContextStore::from_env();
    let env = Env::from_process();
    match command {
        ContextCommand::Create(args) => create(&store, args),
        ContextCommand::Ls(args) => ls(chooser, &env, &store, args),
        ContextCommand::Use(args) => {
            store.set_current(&args.name)?;
            println!("{}", args.name);
            eprintln!("Current context is now \"{}\"", args.name);
            if env.host.is_some() && args.name != DEFAULT_CONTEXT {
                eprintln!(
                    "Warning: MINIDOCK_HOST environment variable overrides the active context. \
                     To use \"{}\", either set the global --context flag, or unset MINIDOCK_HOST \
                     environment variable.",
                    args.name
                );
            }
            Ok(0)
        }
        ContextCommand::Show => {
            println!("{}", current_source(chooser, &env, &store)?.context_name());
            Ok(0)
        }
        ContextCommand::Inspect(args) => inspect(chooser, &env, &store, args),
        ContextCommand::Rm(args) => rm(&store, args),
    }
}

fn current_source(chooser: &Chooser, env: &Env, store: &ContextStore) -> Result<Source, Failure> {
    choose(chooser.host_flag, chooser.context_flag, env, store)
}

fn create(store: &ContextStore, args: ContextCreateArgs) -> Result<i32, Failure> {
    let mut tls = TlsSource {
        ca: args.tlscacert,
        cert: args.tlscert,
        key: args.tlskey,
    };
    let host = match (args.host, args.docker) {
        (Some(host), _) => host,
        (None, Some(docker)) => parse_docker_flag(&docker, &mut tls)?,
        (None, None) => return Err(Failure::usage("context create needs --host URL")),
    };
    store.create(&args.name, &host, &args.description, &tls)?;
    println!("{}", args.name);
    eprintln!("Successfully created context \"{}\"", args.name);
    Ok(0)
}

/// The docker CLI's `--docker host=URL,ca=FILE,cert=FILE,key=FILE`; the
/// files fill what the `--tls*` flags left empty.
fn parse_docker_flag(text: &str, tls: &mut TlsSource) -> Result<String, Failure> {
    let mut host = None;
    for pair in text.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("--docker: {pair:?} is not KEY=VALUE")))?;
        match key {
            "host" => host = Some(value.to_string()),
            "ca" => tls.ca = tls.ca.take().or_else(|| Some(value.into())),
            "cert" => tls.cert = tls.cert.take().or_else(|| Some(value.into())),
            "key" => tls.key = tls.key.take().or_else(|| Some(value.into())),
            "skip-tls-verify" if value == "false" => {}
            "skip-tls-verify" => {
                return Err(Failure::usage(
                    "--docker: skip-tls-verify is not supported: minidock always verifies the daemon's certificate",
                ))
            }
            other => {
                return Err(Failure::usage(format!(
                    "--docker: unknown key {other:?} (known: host, ca, cert, key)"
                )))
            }
        }
    }
    host.ok_or_else(|| Failure::usage("--docker needs host=URL"))
}

/// One line of `context ls`: the context and whether it is in use.
struct Line {
    name: String,
    description: String,
    endpoint: String,
    error: String,
}

fn lines(env: &Env, store: &ContextStore) -> Vec<Line> {
    let mut all = vec![Line {
        name: DEFAULT_CONTEXT.to_string(),
        description: "Current MINIDOCK_HOST based configuration".to_string(),
        endpoint: env
            .host
            .clone()
            .unwrap_or_else(|| crate::cli::DEFAULT_HOST.to_string()),
        error: String::new(),
    }];
    for meta in store.list() {
        all.push(match meta {
            Ok(meta) => Line {
                endpoint: meta.host().unwrap_or_default().to_string(),
                name: meta.name,
                description: meta.metadata.description,
                error: String::new(),
            },
            Err(e) => Line {
                name: String::new(),
                description: String::new(),
                endpoint: String::new(),
                error: e.message,
            },
        });
    }
    all
}

fn ls(
    chooser: &Chooser,
    env: &Env,
    store: &ContextStore,
    args: ContextLsArgs,
) -> Result<i32, Failure> {
    // A current context that is gone is still marked, so the user sees
    // which name to fix.
    let current = current_source(chooser, env, store)?
        .context_name()
        .to_string();
    let lines = lines(env, store);
    if args.quiet {
        for line in lines.iter().filter(|l| !l.name.is_empty()) {
            println!("{}", line.name);
        }
        return Ok(0);
    }
    let format = Format::parse(args.format.as_deref())?;
    if let Format::Default = format {
        let mut table = Table::new(&["NAME", "DESCRIPTION", "DOCKER ENDPOINT", "ERROR"]);
        for line in &lines {
            let marker = if line.name == current { " *" } else { "" };
            table.row(vec![
                format!("{}{marker}", line.name),
                line.description.clone(),
                line.endpoint.clone(),
                line.error.clone(),
            ]);
        }
        print!("{}", table.render());
        return Ok(0);
    }
    let headers: Row = [
        ("Name", "NAME"),
        ("Current", "CURRENT"),
        ("Description", "DESCRIPTION"),
        ("DockerEndpoint", "DOCKER ENDPOINT"),
        ("Error", "ERROR"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    let rows: Vec<Row> = lines
        .into_iter()
        .map(|line| {
            Row::from([
                ("Current", (line.name == current).to_string()),
                ("Name", line.name),
                ("Description", line.description),
                ("DockerEndpoint", line.endpoint),
                ("Error", line.error),
            ])
        })
        .collect();
    print!("{}", render(&format, &headers, &rows)?);
    Ok(0)
}

/// `context inspect`'s JSON for one context, in Docker's shape.
fn inspect_json(name: &str, env: &Env, store: &ContextStore) -> Result<Value, Failure> {
    if name == DEFAULT_CONTEXT {
        let host = env.host.as_deref().unwrap_or(crate::cli::DEFAULT_HOST);
        return Ok(json!({
            "Name": DEFAULT_CONTEXT,
            "Metadata": {},
            "Endpoints": { "docker": { "Host": host, "SkipTLSVerify": false } },
            "TLSMaterial": {},
            "Storage": { "MetadataPath": "<IN MEMORY>", "TLSPath": "<IN MEMORY>" },
        }));
    }
    let meta: ContextMeta = store.get(name)?;
    let mut value = serde_json::to_value(&meta).expect("a context's metadata serializes");
    let tls_dir = store.endpoint_tls_dir(name);
    let files: Vec<&str> = ["ca.pem", "cert.pem", "key.pem"]
        .into_iter()
        .filter(|f| tls_dir.join(f).exists())
        .collect();
    value["TLSMaterial"] = if files.is_empty() {
        json!({})
    } else {
        json!({ "docker": files })
    };
    value["Storage"] = json!({
        "MetadataPath": store.meta_dir(name),
        "TLSPath": store.tls_dir(name),
    });
    Ok(value)
}

fn inspect(
    chooser: &Chooser,
    env: &Env,
    store: &ContextStore,
    args: ContextInspectArgs,
) -> Result<i32, Failure> {
    let names = if args.names.is_empty() {
        vec![current_source(chooser, env, store)?
            .context_name()
            .to_string()]
    } else {
        args.names
    };
    let template = match &args.format {
        Some(text) => Some(
            Template::parse(text)
                .map_err(|e| Failure::usage(format!("template parsing error: {e}")))?,
        ),
        None => None,
    };
    let mut found = Vec::new();
    let mut failed = false;
    for name in &names {
        match inspect_json(name, env, store) {
            Ok(value) => found.push(value),
            Err(e) => {
                failed = true;
                eprintln!("{e}");
            }
        }
    }
    match template {
        Some(template) => {
            for value in &found {
                let text = template
                    .execute(value)
                    .map_err(|e| Failure::new(format!("template: {e}")))?;
                println!("{text}");
            }
        }
        None => println!(
            "{}",
            serde_json::to_string_pretty(&found).expect("JSON values serialize")
        ),
    }
    Ok(if failed { 1 } else { 0 })
}

fn rm(store: &ContextStore, args: ContextRmArgs) -> Result<i32, Failure> {
    let current = store.current()?;
    let mut failed = false;
    for name in &args.names {
        let result = if name == DEFAULT_CONTEXT {
            Err(Failure::new(
                "context \"default\" cannot be removed: it is MINIDOCK_HOST, else the local socket",
            ))
        } else if *name == current && !args.force {
            Err(Failure::new(format!(
                "context \"{name}\" is in use, set -f flag to force remove"
            )))
        } else {
            store.remove(name).and_then(|()| {
                if *name == current {
                    store.set_current(DEFAULT_CONTEXT)
                } else {
                    Ok(())
                }
            })
        };
        match result {
            Ok(()) => println!("{name}"),
            Err(e) => {
                failed = true;
                eprintln!("{e}");
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}
