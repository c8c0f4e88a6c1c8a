//! Debian's `docker-registry` (CNCF distribution 2.8) on a loopback port, with a config
//! written here: filesystem storage in a temporary folder and, optionally, htpasswd or
//! token auth.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, run};

/// A running registry; killed by PID on drop.
pub struct TestRegistry {
    child: Child,
    pub port: u16,
    /// Holds config, storage and logs.
    pub dir: tempfile::TempDir,
}

/// Settings of a test registry.
#[derive(Default)]
pub struct RegistrySetup {
    /// Username and password that htpasswd auth accepts.
    pub htpasswd: Option<(String, String)>,
    /// Storage root; a folder in the registry's temporary folder by default.
    pub storage: Option<PathBuf>,
    /// Token auth settings; they take the place of htpasswd when both are set.
    pub token: Option<TokenAuth>,
}

/// The `auth: token` section: where clients get tokens and what the registry trusts.
pub struct TokenAuth {
    pub realm: String,
    pub service: String,
    pub issuer: String,
    /// PEM file with the certificates that token signing chains must lead to.
    pub root_cert_bundle: PathBuf,
}

impl TestRegistry {
    pub fn start(setup: RegistrySetup) -> TestRegistry {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let storage = setup.storage.unwrap_or_else(|| dir.path().join("storage"));
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
             delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        );
        if let Some(token) = &setup.token {
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    \
                 rootcertbundle: {}\n",
                token.realm,
                token.service,
                token.issuer,
                token.root_cert_bundle.display()
            ));
        } else if let Some((username, password)) = &setup.htpasswd {
            let line = run(Command::new("htpasswd").args(["-Bbn", username, password]));
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, line.trim()).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("create log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let registry = TestRegistry { child, port, dir };
        registry.wait_ready();
        registry
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "docker-registry did not listen on {} within 15 s:\n{}",
            self.address(),
            self.log()
        );
    }

    pub fn storage_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
