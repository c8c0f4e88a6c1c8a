//! Registry side of publishing: reading the OCI layouts `build` writes, credentials,
//! the distribution client with retries, and the ordered push of an image.

pub mod auth;
pub mod client;
pub mod digest;
pub mod layout;
pub mod plan;
pub mod push;
pub mod repository;
pub mod retry;
pub mod secret;

pub use auth::{CredentialInputs, CredentialSource, Credentials};
pub use client::{ClientOptions, RegistryClient, RegistryError};
pub use digest::Digest;
pub use layout::LayoutImage;
pub use plan::PushPlan;
pub use push::{PushError, PushReport, push};
pub use repository::{ImageReference, Repository};
pub use retry::RetryPolicy;
pub use secret::Secret;
