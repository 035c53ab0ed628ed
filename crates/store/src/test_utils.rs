//! A throwaway Postgres for tests (feature `test-utils`).
//!
//! [`PgCluster::start`] runs `initdb` and `pg_ctl start -w` from the PostgreSQL binaries
//! (`HONNIN_PG_BIN`, default `/usr/lib/postgresql/15/bin`) into a fresh temporary directory,
//! listening on 127.0.0.1 on a free port and on a Unix socket inside that directory, with
//! durability switched off (`fsync=off`: a test cluster never survives a crash anyway). When the
//! process runs as root the cluster runs as the `postgres` system user (Postgres refuses root):
//! the directory is handed to that user and the binaries run through `runuser`. Dropping the
//! cluster stops the server (`pg_ctl stop -m immediate`) and deletes the directory; a watchdog
//! process does the same when the test process ends without dropping it (a cluster kept in a
//! `static`, a `process::exit`, a kill), so no server outlives its tests.
//!
//! [`PgCluster::create_database`] hands out a fresh, empty database per test.
//!
//! [`test_server`] is what tests should call: it reuses the server named by
//! `HONNIN_TEST_DATABASE_URL` (`scripts/test` starts one for the whole run with
//! `scripts/test-postgres`), or else starts a cluster owned by the caller.

use std::{
    io,
    net::TcpListener,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
};

use tempfile::TempDir;

/// The environment variable naming a Postgres server tests may create databases on.
pub const TEST_DATABASE_URL_VAR: &str = "HONNIN_TEST_DATABASE_URL";

/// A running throwaway Postgres cluster, stopped and deleted on drop.
#[derive(Debug)]
pub struct PgCluster {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    /// Stops the server and deletes the directory when this process ends without dropping
    /// the cluster (a `static`, `process::exit`, a kill): see [`PgCluster::spawn_watchdog`].
    watchdog: Option<Child>,
}

impl PgCluster {
    /// Initialises and starts a cluster. Blocking (a second or two): call it from
    /// `spawn_blocking` inside async code.
    pub fn start() -> io::Result<Self> {
        let bin = std::env::var_os("HONNIN_PG_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"));
        if !bin.join("initdb").exists() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "no PostgreSQL server binaries in {} (install postgresql-15, or set HONNIN_PG_BIN)",
                    bin.display()
                ),
            ));
        }
        let as_postgres = std::fs::metadata("/proc/self")?.uid() == 0;
        let dir = tempfile::Builder::new().prefix("honnin-pg.").tempdir()?;
        if as_postgres {
            let (uid, gid) = postgres_user()?;
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
        }
        let mut cluster = Self { dir, bin, port: 0, as_postgres, watchdog: None };
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        // A port picked by the OS may be taken again before Postgres binds it: retry a few times.
        let mut last_error = None;
        for _ in 0..5 {
            cluster.port = free_port()?;
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off \
                 -c full_page_writes=off -c max_connections=500",
                cluster.port,
                cluster.dir.path().display()
            );
            let log = cluster.dir.path().join("server.log");
            match cluster.run(
                "pg_ctl",
                &[
                    "start".as_ref(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-o".as_ref(),
                    options.as_ref(),
                ],
            ) {
                Ok(_) => {
                    tracing::debug!(target: "honnin::store::test", port = cluster.port, "postgres started");
                    cluster.watchdog = Some(cluster.spawn_watchdog()?);
                    return Ok(cluster);
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("postgres did not start")))
    }

    /// The superuser URL of the `postgres` database (for creating databases).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the data, the socket and `server.log`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Creates a fresh, empty database and returns its URL. Blocking.
    pub fn create_database(&self) -> io::Result<String> {
        create_database_on(&self.admin_url())
    }

    /// A detached `sh` (in its own session, so it outlives this process and its process group)
    /// blocked reading a pipe whose write end only this process holds. When the process ends —
    /// however it ends — the pipe closes, `read` returns, and the watchdog stops the server and
    /// deletes the directory. A normal drop does that itself first; the watchdog then finds
    /// nothing left to do.
    fn spawn_watchdog(&self) -> io::Result<Child> {
        let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
        let pg_ctl = quote(&self.bin.join("pg_ctl"));
        let runner = if self.as_postgres { "runuser -u postgres -- " } else { "" };
        let script = format!(
            "read _ignored; {runner}{pg_ctl} stop -w -m immediate -D {data} >/dev/null 2>&1; rm -rf {dir}",
            data = quote(&self.data_dir()),
            dir = quote(self.dir.path()),
        );
        Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> io::Result<Output> {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command.args(args).current_dir(self.dir.path()).output()?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(io::Error::other(format!(
                "{tool} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )))
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        let stopped = self.run(
            "pg_ctl",
            &[
                "stop".as_ref(),
                "-w".as_ref(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
            ],
        );
        if let Err(e) = stopped {
            tracing::warn!(target: "honnin::store::test", error = %e, "could not stop postgres");
        }
        // Closing the pipe releases the watchdog, which finds the server stopped; reap it.
        if let Some(mut watchdog) = self.watchdog.take() {
            drop(watchdog.stdin.take());
            let _ = watchdog.wait();
        }
    }
}

/// A Postgres server for tests: the one `HONNIN_TEST_DATABASE_URL` names, or a fresh cluster.
#[derive(Debug)]
pub enum TestServer {
    /// A server started outside the test (its admin URL).
    External(String),
    /// A cluster owned by the test, stopped on drop.
    Owned(PgCluster),
}

impl TestServer {
    /// Creates a fresh, empty database on the server and returns its URL. Blocking.
    pub fn create_database(&self) -> io::Result<String> {
        match self {
            Self::External(url) => create_database_on(url),
            Self::Owned(cluster) => cluster.create_database(),
        }
    }
}

/// The server named by `HONNIN_TEST_DATABASE_URL`, or a freshly started [`PgCluster`]. Blocking.
pub fn test_server() -> io::Result<TestServer> {
    match std::env::var(TEST_DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => Ok(TestServer::External(url)),
        _ => PgCluster::start().map(TestServer::Owned),
    }
}

/// Creates a database with a random name on the server `admin_url` names; returns its URL.
fn create_database_on(admin_url: &str) -> io::Result<String> {
    let name = format!(
        "honnin_test_{}",
        honnin_core::ChallengeId::random().to_string().trim_start_matches("ch_")
    );
    // psql ships with the server binaries; one statement, no shell.
    let bin = std::env::var_os("HONNIN_PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"));
    let output = Command::new(bin.join("psql"))
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-d", admin_url, "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    with_database(admin_url, &name)
}

/// `url` naming `database` instead; a query string (`?host=/run/postgresql`, a Unix socket) is
/// kept.
fn with_database(url: &str, database: &str) -> io::Result<String> {
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    };
    let (base, _) =
        path.rsplit_once('/').ok_or_else(|| io::Error::other("admin URL has no database"))?;
    Ok(match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    })
}

/// The uid and gid of the `postgres` system user, from `/etc/passwd`.
fn postgres_user() -> io::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres") && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .ok_or_else(|| io::Error::other("no `postgres` user: Postgres cannot run as root"))
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_swapped_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1").unwrap(),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://postgres@localhost/postgres?host=/run/pg&port=5433", "t2")
                .unwrap(),
            "postgres://postgres@localhost/t2?host=/run/pg&port=5433"
        );
        assert!(with_database("no-slashes", "t3").is_err());
    }
}
