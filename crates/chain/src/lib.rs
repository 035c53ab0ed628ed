#![doc = include_str!("../README.md")]

pub mod bindings;
pub mod deploy;
mod error;
pub mod metrics;
#[cfg(feature = "test-utils")]
pub mod test_utils;
pub mod tools;
pub mod wallets;
pub mod writer;

pub use deploy::{DeployOptions, Deployed, deploy, deploy_http};

pub use error::{Error, Result};
