//! Config steps: the instructions that change only the image's config
//! (ENV, LABEL, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL,
//! SHELL, HEALTHCHECK, ONBUILD, ARG), each applied to the config the way
//! Docker's classic builder does. `commit --change` and `import --change`
//! use the same code ([`crate::compat::changes`]).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::dockerfile::instruction::parse_line;
use crate::dockerfile::lines::Line;
use crate::dockerfile::{Args, Instruction};
use crate::error::{step_error, Result};
use crate::image::ImageState;
use crate::stage::{normalize, Stage};
use crate::substitute;

/// Parses a Go-style duration (`30s`, `1m30s`, `500ms`) into nanoseconds.
fn duration_ns(text: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += (value * unit) as u64;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// What config instructions need: the escape character and the ARG
/// values (also used by `commit --change` and `import --change`).
pub struct Configurer<'a> {
    /// The escape character of the Dockerfile.
    pub escape: char,
    /// `--build-arg` values.
    pub build_args: &'a BTreeMap<String, String>,
    /// The global ARGs' values.
    pub global_args: &'a BTreeMap<String, String>,
}

impl Configurer<'_> {
    /// Variables as a step sees them: the environment, then the stage's
    /// ARGs.
    pub fn expand_words(&self, stage: &Stage, text: &str) -> Result<Vec<String>> {
        let lookup = |k: &str| {
            stage
                .state
                .lookup_env(k)
                .or_else(|| stage.args.get(k).cloned())
        };
        Ok(substitute::words(text, self.escape, &lookup)?)
    }

    /// `text` with its variables expanded into one string (a WORKDIR, a
    /// USER): the environment first, then the stage's ARGs.
    pub fn expand(&self, stage: &Stage, text: &str) -> Result<String> {
        let lookup = |k: &str| {
            stage
                .state
                .lookup_env(k)
                .or_else(|| stage.args.get(k).cloned())
        };
        Ok(substitute::expand(text, self.escape, &lookup)?)
    }

    /// A heredoc's text with its variables expanded (quotes kept).
    pub fn expand_text(&self, stage: &Stage, text: &str) -> Result<String> {
        let lookup = |k: &str| {
            stage
                .state
                .lookup_env(k)
                .or_else(|| stage.args.get(k).cloned())
        };
        Ok(substitute::expand_text(text, self.escape, &lookup)?)
    }

    // ANCHOR: config_words
    /// Applies a config instruction to `next`; returns the instruction as
    /// it ran (variables expanded), for the history and the cache key.
    pub fn apply_config(
        &self,
        stage: &mut Stage,
        next: &mut ImageState,
        i: &Instruction,
    ) -> Result<String> {
        let text = i.text();
        let argv = |stage: &Stage| -> Vec<String> {
            match &i.args {
                Args::Json(v) => v.clone(),
                Args::Shell(s) => stage.shell.iter().cloned().chain([s.clone()]).collect(),
            }
        };
        let pairs = |this: &Self, stage: &Stage| -> Result<Vec<(String, String)>> {
            let words = this.expand_words(stage, &text)?;
            if words.first().is_some_and(|w| !w.contains('=')) {
                // the old form `ENV KEY value with spaces`
                let (key, value) = text
                    .trim()
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| step_error(i, format!("{} needs KEY=value", i.keyword)))?;
                return Ok(vec![(key.to_string(), this.expand(stage, value.trim())?)]);
            }
            words
                .into_iter()
                .map(|w| {
                    let (k, v) = w.split_once('=').ok_or_else(|| {
                        step_error(i, format!("{} needs KEY=value, got {w:?}", i.keyword))
                    })?;
                    if k.is_empty() {
                        return Err(step_error(
                            i,
                            format!("{} names no variable in {w:?}", i.keyword),
                        ));
                    }
                    Ok((k.to_string(), v.to_string()))
                })
                .collect()
        };
        // ANCHOR_END: config_words
        // ANCHOR: config_env
        let shown = match i.keyword.as_str() {
            "ARG" => {
                let mut shown = Vec::new();
                for word in self.expand_words(stage, &text)? {
                    let (name, default) = match word.split_once('=') {
                        Some((n, d)) => (n.to_string(), Some(d.to_string())),
                        None => (word.clone(), None),
                    };
                    let value = self
                        .build_args
                        .get(&name)
                        .cloned()
                        .or(default)
                        .or_else(|| self.global_args.get(&name).cloned())
                        .or_else(|| crate::compat::platform::arg(&name));
                    if let Some(v) = value {
                        stage.args.insert(name.clone(), v);
                    }
                    shown.push(word);
                }
                format!("ARG {}", shown.join(" "))
            }
            "ENV" => {
                let pairs = pairs(self, stage)?;
                for (k, v) in &pairs {
                    next.set_env(k, v);
                    // later steps of this instruction's line see it too
                }
                let shown: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("ENV {}", shown.join(" "))
            }
            "LABEL" => {
                let pairs = pairs(self, stage)?;
                let config = next.run_config();
                let labels = config.entry("Labels").or_insert_with(|| json!({}));
                if !labels.is_object() {
                    *labels = json!({});
                }
                for (k, v) in &pairs {
                    labels[k.as_str()] = json!(v);
                }
                let shown: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("LABEL {}", shown.join(" "))
            }
            // ANCHOR_END: config_env
            // ANCHOR: config_expose
            "MAINTAINER" => {
                next.config["author"] = json!(text.trim());
                format!("MAINTAINER {}", text.trim())
            }
            "EXPOSE" => {
                let ports = self.expand_words(stage, &text)?;
                let config = next.run_config();
                let exposed = config.entry("ExposedPorts").or_insert_with(|| json!({}));
                for port in &ports {
                    let (number, proto) = port.split_once('/').unwrap_or((port, "tcp"));
                    if number.parse::<u16>().is_err() {
                        return Err(step_error(
                            i,
                            format!("invalid port {port:?}: give NUMBER[/tcp|udp]"),
                        ));
                    }
                    exposed[format!("{number}/{}", proto.to_ascii_lowercase())] = json!({});
                }
                format!("EXPOSE {}", ports.join(" "))
            }
            "VOLUME" => {
                let volumes = match &i.args {
                    Args::Json(v) => v
                        .iter()
                        .map(|v| self.expand(stage, v))
                        .collect::<Result<Vec<_>>>()?,
                    Args::Shell(s) => self.expand_words(stage, s)?,
                };
                if volumes.is_empty() || volumes.iter().any(String::is_empty) {
                    return Err(step_error(i, "VOLUME needs at least one path"));
                }
                let config = next.run_config();
                let declared = config.entry("Volumes").or_insert_with(|| json!({}));
                for v in &volumes {
                    declared[v.as_str()] = json!({});
                }
                format!("VOLUME {volumes:?}")
            }
            // ANCHOR_END: config_expose
            // ANCHOR: config_user
            "USER" => {
                let user = self.expand(stage, text.trim())?;
                if user.is_empty() {
                    return Err(step_error(i, "USER needs a user name or uid"));
                }
                next.run_config().insert("User".into(), json!(user));
                format!("USER {user}")
            }
            "WORKDIR" => {
                let dir = self.expand(stage, text.trim())?;
                let base = next.get_str("WorkingDir");
                let joined = if dir.starts_with('/') {
                    dir.clone()
                } else {
                    format!("{}/{dir}", if base.is_empty() { "" } else { base.as_str() })
                };
                let clean = normalize(&joined);
                next.run_config().insert("WorkingDir".into(), json!(clean));
                format!("WORKDIR {clean}")
            }
            "STOPSIGNAL" => {
                let signal = self.expand(stage, text.trim())?;
                next.run_config().insert("StopSignal".into(), json!(signal));
                format!("STOPSIGNAL {signal}")
            }
            // ANCHOR_END: config_user
            // ANCHOR: config_cmd
            "SHELL" => {
                let Args::Json(shell) = &i.args else {
                    return Err(step_error(i, "SHELL takes the JSON form"));
                };
                if shell.is_empty() {
                    return Err(step_error(i, "SHELL needs at least the shell's path"));
                }
                stage.shell = shell.clone();
                next.run_config().insert("Shell".into(), json!(shell));
                format!("SHELL {shell:?}")
            }
            "CMD" => {
                let cmd = argv(stage);
                next.run_config().insert("Cmd".into(), json!(cmd));
                stage.cmd_set = true;
                format!("CMD {cmd:?}")
            }
            "ENTRYPOINT" => {
                let entrypoint = argv(stage);
                let config = next.run_config();
                config.insert("Entrypoint".into(), json!(entrypoint));
                if !stage.cmd_set {
                    config.insert("Cmd".into(), Value::Null);
                }
                format!("ENTRYPOINT {entrypoint:?}")
            }
            // ANCHOR_END: config_cmd
            // ANCHOR: config_onbuild
            "HEALTHCHECK" => {
                let check = self.healthcheck(i, &text)?;
                next.run_config()
                    .insert("Healthcheck".into(), check.clone());
                format!("HEALTHCHECK {check}")
            }
            "ONBUILD" => {
                let inner = parse_line(
                    &Line {
                        number: i.line,
                        text: text.clone(),
                    },
                    self.escape,
                )?;
                if matches!(inner.keyword.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
                    return Err(step_error(
                        i,
                        format!("ONBUILD cannot trigger {}", inner.keyword),
                    ));
                }
                let config = next.run_config();
                let triggers = config.entry("OnBuild").or_insert_with(|| json!([]));
                if !triggers.is_array() {
                    *triggers = json!([]);
                }
                triggers
                    .as_array_mut()
                    .expect("an array")
                    .push(json!(text.trim()));
                format!("ONBUILD {}", text.trim())
            }
            other => return Err(step_error(i, format!("{other} is not supported"))),
        };
        Ok(shown)
    }
    // ANCHOR_END: config_onbuild

    // ANCHOR: healthcheck
    /// `HEALTHCHECK NONE` or `HEALTHCHECK [--interval=…] CMD …`.
    fn healthcheck(&self, i: &Instruction, text: &str) -> Result<Value> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("NONE") {
            return Ok(json!({"Test": ["NONE"]}));
        }
        let Some(command) = text
            .strip_prefix("CMD")
            .or_else(|| text.strip_prefix("cmd"))
        else {
            return Err(step_error(i, "HEALTHCHECK takes NONE or CMD command"));
        };
        let command = command.trim();
        let test = match serde_json::from_str::<Vec<String>>(command) {
            Ok(argv) if command.starts_with('[') => {
                let mut t = vec!["CMD".to_string()];
                t.extend(argv);
                t
            }
            _ => vec!["CMD-SHELL".to_string(), command.to_string()],
        };
        let mut check = json!({"Test": test});
        for (flag, field) in [
            ("interval", "Interval"),
            ("timeout", "Timeout"),
            ("start-period", "StartPeriod"),
            ("start-interval", "StartInterval"),
        ] {
            if let Some(v) = i.flag(flag) {
                let ns = duration_ns(v).ok_or_else(|| {
                    step_error(
                        i,
                        format!("invalid --{flag}={v}: give a duration like 30s or 1m"),
                    )
                })?;
                check[field] = json!(ns);
            }
        }
        if let Some(v) = i.flag("retries") {
            let n: u32 = v
                .parse()
                .map_err(|_| step_error(i, format!("invalid --retries={v}: give a number")))?;
            check["Retries"] = json!(n);
        }
        Ok(check)
    }
    // ANCHOR_END: healthcheck
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ns("30s"), Some(30_000_000_000));
        assert_eq!(duration_ns("1m30s"), Some(90_000_000_000));
        assert_eq!(duration_ns("500ms"), Some(500_000_000));
        assert_eq!(duration_ns("x"), None);
    }
}
