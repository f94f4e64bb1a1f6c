//! `inspect`: the daemon's JSON for containers or images, whole or through
//! a Go template (`-f '{{.State.Status}}'`).

use minidock_client::{Client, ClientError};
use minidock_daemon::version::API_VERSION;
use serde::Serialize;
use serde_json::Value;

use super::Context;
use crate::cli::InspectArgs;
use crate::error::{describe, Failure};
use crate::template::Template;

/// The daemon's JSON for `name`, exactly as sent: a container if there is
/// one by that name or id, else an image. `None` when neither exists.
fn inspect_raw(client: &Client, name: &str) -> Result<Option<Value>, ClientError> {
    for kind in ["containers", "images"] {
        let response = client.raw("GET", &format!("/v{API_VERSION}/{kind}/{name}/json"), None)?;
        match response.status {
            200 => {
                return serde_json::from_slice(&response.body)
                    .map(Some)
                    .map_err(|source| ClientError::Decode {
                        what: "the inspected object",
                        source,
                    })
            }
            404 => continue,
            // An image name such as `busybox:latest` is not even a valid
            // container name: the daemon refuses it as a container.
            400 if kind == "containers" => continue,
            status => {
                return Err(ClientError::Api {
                    status,
                    message: response
                        .message()
                        .unwrap_or_else(|| String::from_utf8_lossy(&response.body).into_owned()),
                })
            }
        }
    }
    Ok(None)
}

/// JSON indented by four spaces, as the docker CLI prints inspect output.
pub(super) fn pretty(value: &Value) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value
        .serialize(&mut serializer)
        .expect("a Value always serialises");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// `minidock inspect [-f TEMPLATE] NAME…`.
pub fn inspect(ctx: &Context, args: InspectArgs) -> Result<i32, Failure> {
    let template = match &args.format {
        Some(text) => {
            Some(Template::parse(text).map_err(|e| Failure::new(e.to_string()).with_code(64))?)
        }
        None => None,
    };
    let mut found = Vec::new();
    let mut failed = false;
    for name in &args.names {
        match inspect_raw(&ctx.client, name) {
            Ok(Some(value)) => found.push(value),
            Ok(None) => {
                failed = true;
                eprintln!("Error: No such object: {name}");
            }
            Err(e) => {
                failed = true;
                eprintln!("{}", describe(&e));
            }
        }
    }
    match template {
        Some(template) => {
            for value in &found {
                let text = template
                    .execute(value)
                    .map_err(|e| Failure::new(e.to_string()))?;
                println!("{text}");
            }
        }
        None => println!("{}", pretty(&Value::Array(found))),
    }
    Ok(i32::from(failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_indented_like_dockers() {
        let v = serde_json::json!([{"Id": "x", "State": {"Running": true}}]);
        assert_eq!(
            pretty(&v),
            "[\n    {\n        \"Id\": \"x\",\n        \"State\": {\n            \"Running\": true\n        }\n    }\n]"
        );
        assert_eq!(pretty(&Value::Array(vec![])), "[]");
    }
}
