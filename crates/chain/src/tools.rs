//! Finding the pinned Foundry binaries.
//!
//! `scripts/install-tools` installs anvil, forge and cast 1.7.1 from npm into
//! `.tools/npm/node_modules/@foundry-rs/<tool>-linux-amd64/bin/<tool>` at the workspace root.
//! [`locate`] looks there, unless an environment variable names the binary explicitly
//! (`HONNIN_ANVIL`, `HONNIN_FORGE`, `HONNIN_CAST`), or `HONNIN_TOOLS` names the tools folder to
//! use instead of `.tools/` (then only that folder is searched). It deliberately does not fall
//! back to `PATH`: tests and gas figures must come from the pinned versions.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// A Foundry binary honnin uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// The local Ethereum node.
    Anvil,
    /// The Solidity build and test tool.
    Forge,
    /// The command-line RPC client.
    Cast,
}

impl Tool {
    /// The binary's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Anvil => "anvil",
            Self::Forge => "forge",
            Self::Cast => "cast",
        }
    }

    /// The environment variable that, when set, names the binary to use.
    pub const fn env_var(self) -> &'static str {
        match self {
            Self::Anvil => "HONNIN_ANVIL",
            Self::Forge => "HONNIN_FORGE",
            Self::Cast => "HONNIN_CAST",
        }
    }

    /// Where `scripts/install-tools` puts the binary, relative to the workspace root.
    pub fn installed_path(self) -> PathBuf {
        Path::new(".tools").join(self.path_in_tools())
    }

    /// Where `scripts/install-tools` puts the binary, relative to the tools folder.
    fn path_in_tools(self) -> PathBuf {
        let name = self.name();
        ["npm", "node_modules", "@foundry-rs", &format!("{name}-linux-amd64"), "bin", name]
            .iter()
            .collect()
    }
}

/// The environment variable that names the tools folder instead of `.tools/`.
pub const TOOLS_ENV_VAR: &str = "HONNIN_TOOLS";

/// The tools folder [`TOOLS_ENV_VAR`] names, if set.
pub fn tools_dir_from_env() -> Option<PathBuf> {
    std::env::var_os(TOOLS_ENV_VAR).map(PathBuf::from)
}

impl Tool {
    /// Where the binary is under the tools folder `dir` (as `scripts/install-tools` lays it out).
    pub fn path_under(self, dir: &Path) -> PathBuf {
        dir.join(self.path_in_tools())
    }
}

/// The path of `tool`: the file its environment variable names if set, else the pinned binary in
/// the folder [`TOOLS_ENV_VAR`] names if set, else in `.tools/` under the current directory or
/// one of its ancestors, else under this crate's workspace (as it was when compiled).
pub fn locate(tool: Tool) -> Result<PathBuf> {
    let mut searched = Vec::new();
    if let Some(explicit) = std::env::var_os(tool.env_var()) {
        let path = PathBuf::from(explicit);
        if path.is_file() {
            return Ok(path);
        }
        // An explicit choice that does not exist is an error, not a reason to pick another.
        searched.push(path);
        return Err(not_found(tool, searched));
    }
    if let Some(dir) = tools_dir_from_env() {
        let candidate = tool.path_under(&dir);
        if candidate.is_file() {
            return Ok(candidate);
        }
        searched.push(candidate);
        return Err(not_found(tool, searched));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let starts = std::env::current_dir().into_iter().chain([workspace]);
    for start in starts {
        for dir in start.ancestors() {
            let candidate = dir.join(tool.installed_path());
            if candidate.is_file() {
                return Ok(candidate);
            }
            searched.push(candidate);
        }
    }
    Err(not_found(tool, searched))
}

fn not_found(tool: Tool, searched: Vec<PathBuf>) -> Error {
    Error::ToolNotFound { tool: tool.name(), env_var: tool.env_var(), searched }
}
