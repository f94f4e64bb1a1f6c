//! `--change`: Dockerfile instructions applied to a config, for `docker
//! commit -c` and `docker import -c`.
//!
//! Docker accepts the instructions that only change the config: CMD,
//! ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and
//! WORKDIR. They are read and applied exactly as in a Dockerfile.

use std::collections::BTreeMap;

use crate::config::Configurer;
use crate::dockerfile::instruction::parse_line;
use crate::dockerfile::lines::Line;
use crate::error::{step_error, Result};
use crate::image::ImageState;
use crate::stage::Stage;

/// The instructions `--change` may hold.
pub const ALLOWED: &[&str] = &[
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "LABEL",
    "ONBUILD",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Applies `changes` to `state`'s config.
pub fn apply(state: &mut ImageState, changes: &[String]) -> Result<()> {
    let none = BTreeMap::new();
    let configurer = Configurer {
        escape: '\\',
        build_args: &none,
        global_args: &none,
    };
    let mut stage = Stage::new(0);
    stage.state = state.clone();
    for (n, change) in changes.iter().enumerate() {
        let line = Line {
            number: n + 1,
            text: change.clone(),
        };
        let instruction = parse_line(&line, '\\')?;
        if !ALLOWED.contains(&instruction.keyword.as_str()) {
            return Err(step_error(
                &instruction,
                format!(
                    "{} cannot be a --change: use one of {}",
                    instruction.keyword,
                    ALLOWED.join(", ")
                ),
            ));
        }
        let mut next = stage.state.clone();
        configurer.apply_config(&mut stage, &mut next, &instruction)?;
        stage.state = next;
    }
    *state = stage.state;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_apply_like_a_dockerfile() {
        let mut state = ImageState::scratch();
        apply(
            &mut state,
            &[
                "CMD [\"echo\", \"hi\"]".into(),
                "ENV A=1 B=\"x y\"".into(),
                "WORKDIR /srv".into(),
                "EXPOSE 80/udp".into(),
            ],
        )
        .unwrap();
        let c = &state.config["config"];
        assert_eq!(c["Cmd"], serde_json::json!(["echo", "hi"]));
        assert_eq!(c["Env"], serde_json::json!(["A=1", "B=x y"]));
        assert_eq!(c["WorkingDir"], "/srv");
        assert!(c["ExposedPorts"]["80/udp"].is_object());
        let err = apply(&mut state, &["RUN true".into()]).unwrap_err();
        assert!(err.to_string().contains("cannot be a --change"), "{err}");
    }
}
