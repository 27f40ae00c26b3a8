//! Integration tests of the embedded default PostgreSQL cluster: they run the
//! machine's real PostgreSQL binaries in private folders under /tmp (as the
//! `postgres` system user when run as root).

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};
use tempfile::TempDir;
use venue_access::db::embedded::EmbeddedPostgres;

/// A private folder under /tmp (short, so the socket path fits). When root,
/// the module hands it to the `postgres` user.
fn data_root(prefix: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .expect("create temp folder")
}

/// Stops the server if a test fails half-way, so no server outlives its
/// (deleted) folder.
struct StopOnDrop(Option<EmbeddedPostgres>);

impl StopOnDrop {
    fn get(&self) -> &EmbeddedPostgres {
        self.0.as_ref().expect("handle already taken")
    }

    fn take(mut self) -> EmbeddedPostgres {
        self.0.take().expect("handle already taken")
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(pg) = self.0.take() {
            // Drop cannot await: stop on a runtime of our own, in another thread.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().build()?;
                runtime.block_on(pg.stop()).map_err(std::io::Error::other)
            })
            .join();
        }
    }
}

async fn select_one(pg: &EmbeddedPostgres, database: &str) -> i32 {
    let mut conn = PgConnection::connect_with(&pg.connect_options(database))
        .await
        .expect("connect over the Unix socket");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .expect("SELECT 1");
    conn.close().await.expect("close");
    one
}

fn accepts_connections(socket: &Path) -> bool {
    UnixStream::connect(socket).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_attaches_and_stops() {
    let tmp = data_root("embedded-pg-");

    let began = Instant::now();
    let first = StopOnDrop(Some(
        EmbeddedPostgres::ensure_running(tmp.path())
            .await
            .expect("first ensure_running"),
    ));
    eprintln!("initdb + start: {:?}", began.elapsed());
    let pg = first.get();
    assert!(pg.started_here());
    assert_eq!(
        pg.data_dir(),
        tmp.path().canonicalize().unwrap().join("pgdata")
    );
    assert!(pg.data_dir().join("PG_VERSION").is_file());
    assert_eq!(select_one(pg, "postgres").await, 1);

    // Nothing listens on TCP: the only listener is the socket in the data folder.
    let mut conn = PgConnection::connect_with(&pg.connect_options("postgres"))
        .await
        .unwrap();
    let listen: String = sqlx::query_scalar("SELECT current_setting('listen_addresses')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(listen, "");
    conn.close().await.unwrap();

    // A second call attaches to the running server; its stop() leaves it running.
    let began = Instant::now();
    let second = EmbeddedPostgres::ensure_running(tmp.path())
        .await
        .expect("second ensure_running");
    eprintln!("attach: {:?}", began.elapsed());
    assert!(!second.started_here());
    assert_eq!(second.socket_dir(), pg.socket_dir());
    second.stop().await.expect("no-op stop");
    assert_eq!(select_one(pg, "postgres").await, 1);

    // ensure_database is idempotent, and the URL form connects too.
    pg.ensure_database("venue_access_test")
        .await
        .expect("create database");
    pg.ensure_database("venue_access_test")
        .await
        .expect("database exists");
    assert!(pg.ensure_database("Bad-Name").await.is_err());
    let url = pg.database_url("venue_access_test");
    let mut conn = PgConnection::connect(&url)
        .await
        .expect("connect with the URL");
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(db, "venue_access_test");
    conn.close().await.unwrap();

    // Stopping the first handle stops the server: the socket refuses.
    let socket = pg.socket_path();
    let began = Instant::now();
    first.take().stop().await.expect("stop");
    eprintln!("stop: {:?}", began.elapsed());
    assert!(!accepts_connections(&socket));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_start_once() {
    let tmp = data_root("embedded-pg-");
    let (a, b) = tokio::join!(
        EmbeddedPostgres::ensure_running(tmp.path()),
        EmbeddedPostgres::ensure_running(tmp.path()),
    );
    let (a, b) = (
        StopOnDrop(Some(a.expect("a"))),
        StopOnDrop(Some(b.expect("b"))),
    );
    assert!(
        a.get().started_here() ^ b.get().started_here(),
        "exactly one call starts the server"
    );
    assert_eq!(select_one(a.get(), "postgres").await, 1);
    let socket = a.get().socket_path();
    let (a, b) = (a.take(), b.take());
    a.stop().await.expect("stop a");
    b.stop().await.expect("stop b");
    assert!(!accepts_connections(&socket));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_after_a_crash() {
    let tmp = data_root("embedded-pg-");
    let crashed = StopOnDrop(Some(
        EmbeddedPostgres::ensure_running(tmp.path())
            .await
            .expect("start"),
    ));
    let pg = crashed.get();
    // Kill the postmaster outright: postmaster.pid stays behind, stale. Wait
    // only until its socket refuses, not until it is reaped: until init reaps
    // it, `pg_ctl status` still reports it running.
    let pid_file = pg.data_dir().join("postmaster.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let socket = pg.socket_path();
    let deadline = Instant::now() + Duration::from_secs(10);
    while accepts_connections(&socket) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(pid_file.exists(), "a crash leaves postmaster.pid behind");
    // Forget the crashed server's handle without stopping anything.
    drop(crashed.take());

    let pg = StopOnDrop(Some(
        EmbeddedPostgres::ensure_running(tmp.path())
            .await
            .expect("restart"),
    ));
    assert!(pg.get().started_here());
    assert_eq!(select_one(pg.get(), "postgres").await, 1);
    pg.take().stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handles_awkward_paths() {
    let tmp = data_root("embedded pg, it's ");
    let pg = StopOnDrop(Some(
        EmbeddedPostgres::ensure_running(tmp.path())
            .await
            .expect("start"),
    ));
    assert_eq!(select_one(pg.get(), "postgres").await, 1);
    let conn = PgConnection::connect(&pg.get().database_url("postgres"))
        .await
        .expect("connect with the URL");
    conn.close().await.unwrap();
    pg.take().stop().await.expect("stop");
}

#[tokio::test]
async fn rejects_socket_paths_that_are_too_long() {
    let tmp = data_root("embedded-pg-");
    let deep = tmp.path().join("x".repeat(100));
    let error = EmbeddedPostgres::ensure_running(&deep)
        .await
        .expect_err("path too long");
    let message = error.to_string();
    assert!(message.contains("107-byte limit"), "{message}");
    assert!(!message.contains('\n'));
}

/// Set to a data root: makes [`child_registers_stop_at_exit`] start a cluster
/// there, as the child process of [`stops_when_the_process_exits`].
const CHILD_ROOT_VAR: &str = "EMBEDDED_PG_TEST_CHILD_ROOT";

#[tokio::test]
async fn child_registers_stop_at_exit() {
    let Some(root) = std::env::var_os(CHILD_ROOT_VAR) else {
        return; // Only meaningful as the child process.
    };
    let pg = EmbeddedPostgres::ensure_running(Path::new(&root))
        .await
        .expect("start in the child");
    assert!(pg.started_here());
    assert_eq!(select_one(&pg, "postgres").await, 1);
    pg.stop_when_process_exits();
    drop(pg);
    assert!(accepts_connections(&Path::new(&root).join(".s.PGSQL.5432")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_when_the_process_exits() {
    let tmp = data_root("embedded-pg-");
    let output = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_registers_stop_at_exit", "--nocapture"])
        .env(CHILD_ROOT_VAR, tmp.path())
        .output()
        .await
        .expect("run the child test process");
    assert!(
        output.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let root = tmp.path().canonicalize().unwrap();
    let log = std::fs::read_to_string(root.join("postgres.log")).unwrap();
    assert!(log.contains("ready to accept connections"), "{log}");
    assert!(log.contains("database system is shut down"), "{log}");
    assert!(!root.join("pgdata/postmaster.pid").exists());
    assert!(!accepts_connections(&root.join(".s.PGSQL.5432")));
}
