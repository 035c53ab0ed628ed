//! The pinned Foundry binaries are found and are the pinned version.

use std::process::Command;

use anyhow::Result;
use honnin_chain::tools::{Tool, locate};

#[test]
fn locates_pinned_foundry_binaries() -> Result<()> {
    for tool in [Tool::Anvil, Tool::Forge, Tool::Cast] {
        let path = locate(tool)?;
        assert!(path.ends_with(tool.installed_path()), "{tool:?} at {}", path.display());
        let out = Command::new(&path).arg("--version").output()?;
        let version = String::from_utf8(out.stdout)?;
        assert!(version.contains("1.7.1"), "{tool:?} reports {version}");
    }
    Ok(())
}
