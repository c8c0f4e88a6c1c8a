//! Downloads of upstream source URLs (`https://`, `http://`, `file://`). Plain HTTP is
//! accepted because every file is checked against its expected checksum.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

/// Timeout for connecting to an upstream server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Timeout for a whole download; source tarballs of the first recipes are under 10 MB,
/// larger ones on slow links may need the full time.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Writes the content at `uri` to `target`. The error is a one-line description for the
/// list of places tried.
pub fn download(uri: &str, target: &Path) -> Result<(), String> {
    if let Some(path) = uri.strip_prefix("file://") {
        return fs_err::copy(path, target)
            .map(|_| ())
            .map_err(|error| error.to_string());
    }
    if !uri.starts_with("https://") && !uri.starts_with("http://") {
        return Err("unsupported URL scheme; use https://, http:// or file://".to_string());
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(DOWNLOAD_TIMEOUT))
        .build()
        .into();
    let response = agent.get(uri).call().map_err(|error| error.to_string())?;
    let mut reader = response.into_body().into_reader();
    let mut file = fs_err::File::create(target).map_err(|error| error.to_string())?;
    std::io::copy(&mut reader, &mut file).map_err(|error| error.to_string())?;
    file.flush().map_err(|error| error.to_string())
}
