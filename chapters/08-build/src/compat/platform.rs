//! Platforms: `FROM --platform=…` and the automatic platform args.
//!
//! A Dockerfile written for BuildKit often says `FROM
//! --platform=$BUILDPLATFORM golang AS build` and reads `ARG TARGETARCH`.
//! This builder runs every step on this machine, so it builds for one
//! platform only, the machine's own (`linux/amd64` here): it gives the
//! platform args that value, accepts a `--platform` naming it, and refuses
//! any other platform clearly rather than build the wrong thing.

/// The platform this builder builds for: `linux/<architecture>`.
pub fn host() -> String {
    format!("linux/{}", minidock_images::host_architecture())
}

/// The value of an automatic platform arg (`BUILDPLATFORM`,
/// `TARGETARCH`, …), or `None` for any other name.
pub fn arg(name: &str) -> Option<String> {
    let arch = minidock_images::host_architecture();
    let value = match name {
        "BUILDPLATFORM" | "TARGETPLATFORM" => host(),
        "BUILDOS" | "TARGETOS" => "linux".to_string(),
        "BUILDARCH" | "TARGETARCH" => arch.to_string(),
        "BUILDVARIANT" | "TARGETVARIANT" => String::new(),
        _ => return None,
    };
    Some(value)
}

/// Checks a `--platform` value (after substitution): the host's platform,
/// written `os/arch` or `os/arch/variant`, is the only one accepted.
pub fn check(value: &str) -> Result<(), String> {
    let host = host();
    let mut parts = value.split('/');
    let os = parts.next().unwrap_or_default();
    let arch = parts.next().unwrap_or_default();
    let normal_arch = match arch {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    if format!("{os}/{normal_arch}") == host && parts.count() <= 1 {
        return Ok(());
    }
    Err(format!(
        "--platform={value}: this builder runs every step on this machine and builds for {host} \
         only; use --platform={host} (or $BUILDPLATFORM), or leave --platform out"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_host_platform_is_accepted() {
        let host = host();
        assert!(check(&host).is_ok());
        assert!(check(&arg("BUILDPLATFORM").unwrap()).is_ok());
        assert!(check(&format!("{host}/v2")).is_ok());
        let err = check("linux/s390x-nope").unwrap_err();
        assert!(err.contains(&host), "{err}");
        assert!(check("windows/amd64").is_err());
        assert!(check("").is_err());
        assert_eq!(arg("TARGETOS").as_deref(), Some("linux"));
        assert_eq!(arg("PATH"), None);
    }
}
