//! `honnin dev --demo`: the built binary starts anvil, deploys, serves, walks one simulated
//! person through the flow over HTTP and exits 0 with the on-chain answer `true`.

use std::process::Command;

#[test]
fn demo_ends_verified_on_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_honnin"))
        .args(["dev", "--demo", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for step in ["POST", "202", "active after", "isVerified = true", "demo complete"] {
        assert!(stdout.contains(step), "missing {step:?} in:\n{stdout}");
    }
    // The data folder: the dev root it trusted, its CRL, a private pepper, the database.
    assert!(data.join("trust/root.pem").is_file());
    assert!(data.join("crl.der").is_file());
    assert!(data.join("honnin.db").is_file());
    let pepper = std::fs::read_to_string(data.join("pepper.hex")).unwrap();
    assert_eq!(pepper.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("pepper.hex")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the pepper is readable by its owner only");
    }
    // A second run keeps the pepper (pseudonyms stay comparable) and starts a fresh database.
    let again = Command::new(env!("CARGO_BIN_EXE_honnin"))
        .args(["dev", "--demo", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stdout));
    assert_eq!(std::fs::read_to_string(data.join("pepper.hex")).unwrap(), pepper);
}
