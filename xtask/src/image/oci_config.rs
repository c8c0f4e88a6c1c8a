//! The OCI image config of one architecture, from the apko config: entrypoint, command,
//! environment (with apko's default `PATH` and `SSL_CERT_FILE`), user, working folder,
//! stop signal, volumes, labels and the creation time.

use std::collections::BTreeMap;
use std::path::Path;

use crate::catalog::Arch;
use crate::catalog::apko::ImageConfig as ApkoConfig;
use crate::oci::{self, Digest, History, Platform, RootFs, RuntimeConfig};

use super::error::BuildError;

/// `PATH` when the config sets none, as apko sets it.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin";

/// `SSL_CERT_FILE` when the config sets none, as apko sets it.
pub const DEFAULT_SSL_CERT_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Entrypoint of a `service-bundle` image: s6 supervising the services under `/sv`.
pub const SERVICE_BUNDLE_ENTRYPOINT: [&str; 2] = ["/bin/s6-svscan", "/sv"];

/// Annotation apko derives from `vcs-url`: the repository.
const ANNOTATION_SOURCE: &str = "org.opencontainers.image.source";
/// Annotation apko derives from `vcs-url`: the commit after `@`.
const ANNOTATION_REVISION: &str = "org.opencontainers.image.revision";

/// Returns the OCI platform of an architecture (`arm/v7` is `arm` with variant `v7`).
pub fn platform(arch: Arch) -> Platform {
    let name = arch.oci_name();
    let (architecture, variant) = match name.split_once('/') {
        Some((architecture, variant)) => (architecture, Some(variant.to_owned())),
        None => (name, None),
    };
    Platform {
        architecture: architecture.to_owned(),
        os: "linux".to_owned(),
        variant,
    }
}

/// Returns true when the config's entrypoint is a service bundle.
pub fn is_service_bundle(config: &ApkoConfig) -> bool {
    config
        .entrypoint
        .as_ref()
        .and_then(|entrypoint| entrypoint.kind.as_ref())
        .is_some_and(|kind| kind.value == "service-bundle")
}

/// Returns the manifest and label annotations: the config's, plus the source and
/// revision from `vcs-url` (`https://host/repo@commit`).
pub fn annotations(config: &ApkoConfig) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::new();
    if let Some(url) = &config.vcs_url {
        match url.rsplit_once('@') {
            Some((source, revision)) if !source.ends_with(':') => {
                annotations.insert(ANNOTATION_SOURCE.to_owned(), source.to_owned());
                annotations.insert(ANNOTATION_REVISION.to_owned(), revision.to_owned());
            }
            _ => {
                annotations.insert(ANNOTATION_SOURCE.to_owned(), url.clone());
            }
        }
    }
    annotations.extend(config.annotations.clone());
    annotations
}

/// Splits a command line as a POSIX shell would, without running one.
fn split_command(command: &str, field: &str, file: &Path) -> Result<Vec<String>, BuildError> {
    shlex::split(command).ok_or_else(|| {
        BuildError::config(file, format!("`{field}` `{command}` has unbalanced quotes"))
    })
}

/// The inputs of an image config besides the apko config.
pub struct ConfigInputs<'a> {
    /// The architecture.
    pub arch: Arch,
    /// Digest of the uncompressed layer.
    pub diff_id: Digest,
    /// The OCI user, already resolved from `run-as`.
    pub user: Option<String>,
    /// Creation time, RFC 3339.
    pub created: &'a str,
    /// The config file, named in errors.
    pub file: &'a Path,
}

/// Builds the OCI image config.
pub fn image_config(
    config: &ApkoConfig,
    inputs: &ConfigInputs<'_>,
) -> Result<oci::ImageConfig, BuildError> {
    let platform = platform(inputs.arch);
    Ok(oci::ImageConfig {
        created: inputs.created.to_owned(),
        author: Some("cargo xtask build".to_owned()),
        architecture: platform.architecture,
        os: platform.os,
        variant: platform.variant,
        config: runtime_config(config, inputs)?,
        rootfs: RootFs {
            kind: "layers".to_owned(),
            diff_ids: vec![inputs.diff_id.clone()],
        },
        history: vec![History {
            created: Some(inputs.created.to_owned()),
            created_by: Some("cargo xtask build".to_owned()),
            comment: Some("packages, accounts and paths of the apko config".to_owned()),
        }],
    })
}

fn runtime_config(
    config: &ApkoConfig,
    inputs: &ConfigInputs<'_>,
) -> Result<RuntimeConfig, BuildError> {
    let file = inputs.file;
    let entrypoint = if is_service_bundle(config) {
        Some(SERVICE_BUNDLE_ENTRYPOINT.map(str::to_owned).to_vec())
    } else {
        match config.entrypoint.as_ref() {
            Some(entrypoint) => match (&entrypoint.shell_fragment, &entrypoint.command) {
                (Some(fragment), _) if !fragment.is_empty() => Some(vec![
                    "/bin/sh".to_owned(),
                    "-c".to_owned(),
                    fragment.clone(),
                ]),
                (_, Some(command)) if !command.is_empty() => {
                    Some(split_command(command, "entrypoint.command", file)?)
                }
                _ => None,
            },
            None => None,
        }
    };
    let cmd = match config.cmd.as_deref() {
        Some(cmd) if !cmd.is_empty() => Some(split_command(cmd, "cmd", file)?),
        _ => None,
    };
    let mut environment = config.environment.clone();
    environment
        .entry("PATH".to_owned())
        .or_insert_with(|| DEFAULT_PATH.to_owned());
    environment
        .entry("SSL_CERT_FILE".to_owned())
        .or_insert_with(|| DEFAULT_SSL_CERT_FILE.to_owned());
    let volumes = config
        .volumes
        .iter()
        .map(|volume| (volume.clone(), serde_json::Map::new()))
        .collect();
    Ok(RuntimeConfig {
        user: inputs.user.clone(),
        env: environment
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect(),
        entrypoint,
        cmd,
        volumes,
        working_dir: config.work_dir.as_ref().map(|dir| dir.value.clone()),
        labels: annotations(config),
        stop_signal: config.stop_signal.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_splits_variant() {
        assert_eq!(platform(Arch::ArmV7).architecture, "arm");
        assert_eq!(platform(Arch::ArmV7).variant.as_deref(), Some("v7"));
        assert_eq!(platform(Arch::Amd64).variant, None);
    }

    #[test]
    fn vcs_url_gives_source_and_revision() {
        let config = ApkoConfig {
            vcs_url: Some("https://github.com/example/images@0123abc".to_owned()),
            ..ApkoConfig::default()
        };
        let annotations = annotations(&config);
        assert_eq!(
            annotations.get(ANNOTATION_SOURCE).map(String::as_str),
            Some("https://github.com/example/images")
        );
        assert_eq!(
            annotations.get(ANNOTATION_REVISION).map(String::as_str),
            Some("0123abc")
        );
    }

    #[test]
    fn environment_gets_defaults_unless_set() {
        let mut config = ApkoConfig::default();
        config
            .environment
            .insert("PATH".to_owned(), "/bin".to_owned());
        let inputs = ConfigInputs {
            arch: Arch::Amd64,
            diff_id: Digest::sha256_of(b""),
            user: None,
            created: "1970-01-01T00:00:00Z",
            file: Path::new("config.apko.yaml"),
        };
        let runtime = runtime_config(&config, &inputs).expect("config");
        assert_eq!(
            runtime.env,
            vec![
                "PATH=/bin".to_owned(),
                format!("SSL_CERT_FILE={DEFAULT_SSL_CERT_FILE}")
            ]
        );
    }
}
