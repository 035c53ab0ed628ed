//! `honnin dev --demo`: the built binary starts anvil, deploys, serves, walks one simulated
//! person through the flow over HTTP and exits 0 with the on-chain answer `true`.

use std::process::Command;

/// A running `honnin dev`, stopped on drop if a test fails half-way: SIGTERM first, so it
/// stops the anvil it started (a SIGKILL would leave anvil running), then SIGKILL if it has not
/// exited within 30 s.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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

/// `honnin dev` (not the demo) stops gracefully on SIGTERM, as on Ctrl-C: exit 0, the service
/// stopped in order, and the anvil it started gone (by its PID). It serves the chain writer's
/// metrics, as `serve` does.
#[test]
fn dev_stops_on_sigterm_and_takes_anvil_with_it() {
    use std::{
        io::{BufRead as _, BufReader, Read as _, Write as _},
        net::TcpStream,
        process::Stdio,
        sync::mpsc,
        time::{Duration, Instant},
    };

    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_honnin"))
        .args(["dev", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut dev = Guard(child);
    let stdout = dev.0.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = dev.0.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    // Up: anvil's pid from its line, the API's address from the banner.
    let (mut anvil_pid, mut api) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(120);
    while api.is_none() {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("honnin dev did not come up");
        if let Some(rest) = line.split("anvil (pid ").nth(1) {
            anvil_pid = rest.split(')').next().map(|pid| pid.parse::<u32>().unwrap());
        }
        if let Some(rest) = line.trim().strip_prefix("API        http://") {
            api = rest.split_whitespace().next().map(str::to_owned);
        }
    }
    let anvil_pid = anvil_pid.expect("the anvil line names its pid");
    let api = api.unwrap();
    let alive = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z'))
        })
    };
    assert!(alive(anvil_pid), "anvil runs while dev does");

    // The chain writer's metrics are served, as by `serve`.
    let mut stream = TcpStream::connect(&api).unwrap();
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n").unwrap();
    let mut metrics = String::new();
    stream.read_to_string(&mut metrics).unwrap();
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("honnin_chain_writer_leader"), "writer metrics are served");

    let status = Command::new("kill").args(["-TERM", &dev.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(exit) = dev.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "honnin dev did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout: Vec<String> = lines.iter().collect();
    let logs = logs.join().unwrap();
    assert!(exit.success(), "exit {exit:?}\nstdout: {stdout:?}\nlogs:\n{logs}");
    assert!(stdout.iter().any(|l| l.contains("stopping anvil")), "{stdout:?}");
    assert!(logs.contains("stopped"), "the service stopped in order:\n{logs}");
    assert!(!alive(anvil_pid), "anvil (pid {anvil_pid}) is still running");
}

/// A first run from a fresh clone: with the tools folder empty (`HONNIN_TOOLS` pointed at a new
/// temporary folder, so no `.tools/` anywhere is used), `honnin dev` installs the pinned anvil
/// with `scripts/install-tools contracts`, its progress shown, then comes up to the banner, the
/// page's URL printed first. Needs the npm registry (or npm's cache).
#[test]
fn first_run_installs_the_pinned_anvil_then_reaches_the_banner() {
    use std::{
        io::{BufRead as _, BufReader},
        process::Stdio,
        sync::mpsc,
        time::{Duration, Instant},
    };

    let dir = tempfile::tempdir().unwrap();
    let tools = dir.path().join("tools");
    let child = Command::new(env!("CARGO_BIN_EXE_honnin"))
        .current_dir(dir.path())
        .env("HONNIN_TOOLS", &tools)
        .env_remove("HONNIN_ANVIL")
        .args(["dev", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut dev = Guard(child);
    let stdout = dev.0.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    while !seen.iter().any(|line: &String| line.trim_start().starts_with("API ")) {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("honnin dev did not come up:\n{}", seen.join("\n")));
        seen.push(line);
    }
    let position = |needle: &str| {
        seen.iter()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{}", seen.join("\n")))
    };
    let missing = position("first run: the pinned anvil is missing");
    let installing = position("contracts toolchain: npm ci into");
    let installed = position("installed the pinned tools");
    let anvil = position("anvil (pid ");
    let page = position("page       http://");
    assert!(missing < installing && installing < installed && installed < anvil && anvil < page);
    assert!(
        tools.join("npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil").is_file(),
        "anvil was installed into the empty tools folder"
    );
    // The page is served at the URL the banner gives, under its Content-Security-Policy.
    let page = seen[page].split("http://").nth(1).unwrap().split_whitespace().next().unwrap();
    let host = page.trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    std::io::Write::write_all(
        &mut stream,
        format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-security-policy: default-src 'self'"));
    assert!(answer.contains("<html lang=\"ja\">"), "{answer}");
    let status = Command::new("kill").args(["-TERM", &dev.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(exit) = dev.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "honnin dev did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit {exit:?}");
}
