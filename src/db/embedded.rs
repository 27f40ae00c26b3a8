//! Embedded default PostgreSQL cluster, used when `DATABASE_URL` is not set.
//!
//! [`EmbeddedPostgres::ensure_running`] initialises (the first time) and starts a
//! private cluster from the machine's PostgreSQL server binaries, or attaches to
//! it when another process already runs it. The cluster listens on a Unix socket
//! only (`listen_addresses = ''`), inside the data root, so it can never collide
//! with another server on the machine.
//!
//! Layout of the data root (e.g. `<project>/.data/postgres`):
//!
//! ```text
//! <data_root>/          mode 0700, owned by the user the server runs as
//! ├── pgdata/           the cluster itself (PGDATA), made by initdb
//! ├── postgres.log      server log (appended to at every start)
//! ├── .s.PGSQL.5432     the Unix socket, the server's only listener
//! ├── embedded.lock     flock'ed while initialising, starting or stopping
//! └── owner.pid         the process that started the server: "<pid> <start time>"
//! ```
//!
//! PostgreSQL refuses to run as root: when the effective uid is 0, `initdb` and
//! `pg_ctl` run as the unprivileged `postgres` system user, and the data root is
//! given to that user.
//!
//! Ownership: the process that started the server (`started_here() == true`)
//! stops it with [`EmbeddedPostgres::stop`], or at its exit after
//! [`EmbeddedPostgres::stop_when_process_exits`]; other processes attach and
//! leave it running (stopping it disconnects them). If the starting process
//! died without stopping it (crash, `kill -9`), the next process that calls
//! `ensure_running` adopts the orphaned server and becomes responsible for
//! stopping it.
//!
//! Authentication is `trust`: nothing listens on TCP, and the socket folder
//! (mode 0700) admits only the user the server runs as, and root.

use std::ffi::{CString, OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write as _};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, Once, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal;
use nix::unistd::{self, Gid, Pid, Uid, User};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{AssertSqlSafe, Connection};

/// Port number of the cluster. Nothing listens on TCP: the port only names the
/// socket file (`.s.PGSQL.5432`), which lives in a private folder.
pub const PORT: u16 = 5432;

/// Superuser created by initdb, used for every connection.
pub const SUPERUSER: &str = "postgres";

/// System user the server runs as when this process runs as root.
const SERVER_SYSTEM_USER: &str = "postgres";

/// Longest Unix socket path the kernel accepts (`sun_path` is 108 bytes, NUL included).
const MAX_SOCKET_PATH_LEN: usize = 107;

/// Longest PostgreSQL identifier (NAMEDATALEN - 1).
const MAX_IDENTIFIER_LEN: usize = 63;

const PGDATA_DIR: &str = "pgdata";
const LOG_FILE: &str = "postgres.log";
const LOCK_FILE: &str = "embedded.lock";
const OWNER_FILE: &str = "owner.pid";

/// How long `pg_ctl start -w` waits for the server to accept connections.
const START_TIMEOUT_SECS: u32 = 30;
/// How long `pg_ctl stop -w` waits for the server to shut down.
const STOP_TIMEOUT_SECS: u32 = 60;
/// How long to wait for an already running server's socket to accept connections.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to retry starting while a crashed server's leftovers go away.
const CRASH_LEFTOVER_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Start failures (as worded in [`excerpt`]s of the server log) that go away
/// once the processes of a crashed server are all gone: its socket or data
/// directory lock file names a pid not yet reaped, or its shared memory is
/// still attached.
const TRANSIENT_START_FAILURES: [&str; 2] =
    ["FATAL: lock file", "pre-existing shared memory block"];

/// Directory holding one `<major>/bin` folder per installed PostgreSQL version (Debian layout).
const VERSIONED_ROOT: &str = "/usr/lib/postgresql";

/// Why the embedded cluster could not be set up. Each message is one line and
/// says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// No directory holding both `initdb` and `pg_ctl` was found.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH, via `pg_config --bindir`, \
         or under /usr/lib/postgresql/*/bin: install them (Debian/Ubuntu: `apt-get install postgresql`) \
         or set DATABASE_URL to an existing server"
    )]
    NoBinaries,

    /// Running as root, and there is no unprivileged user to run the server as.
    #[error(
        "PostgreSQL refuses to run as root and there is no `{user}` system user to run it as: \
         run as a non-root user, create that user (Debian/Ubuntu: `useradd --system --user-group {user}`), \
         or set DATABASE_URL to an existing server"
    )]
    NoUnprivilegedUser {
        /// The system user that was looked for.
        user: String,
    },

    /// The system user database could not be read.
    #[error(
        "could not look up the `{user}` system user: {source}: check /etc/passwd or set DATABASE_URL"
    )]
    UserLookup {
        /// The system user that was looked for.
        user: String,
        /// The underlying error.
        source: Errno,
    },

    /// The Unix socket path would exceed the kernel's limit.
    #[error(
        "the embedded PostgreSQL socket path {} is {len} bytes long, over the {MAX_SOCKET_PATH_LEN}-byte \
         limit of Unix socket paths: move the project (or its data folder) to a shorter path, \
         or set DATABASE_URL to an existing server",
        path.display()
    )]
    SocketPathTooLong {
        /// The socket file path that is too long.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
    },

    /// The data root path contains characters that `pg_ctl` cannot pass through its shell.
    #[error(
        "the data folder path {} is not valid UTF-8 or contains one of \" $ ` \\ or a line break, \
         which pg_ctl cannot handle: move the project to a plainer path or set DATABASE_URL",
        path.display()
    )]
    UnsupportedPath {
        /// The offending path.
        path: PathBuf,
    },

    /// The server user cannot reach the data root through one of its parent folders.
    #[error(
        "PostgreSQL runs as `{user}`, which cannot enter {} (mode {mode:03o}, owner uid {owner}): \
         make it traversable (`chmod o+x {}`), put the data folder elsewhere, or set DATABASE_URL",
        dir.display(),
        dir.display()
    )]
    NotTraversable {
        /// The user the server runs as.
        user: String,
        /// The folder that user cannot enter.
        dir: PathBuf,
        /// Permission bits of that folder.
        mode: u32,
        /// Owner uid of that folder.
        owner: u32,
    },

    /// The cluster folder exists but holds something else than a cluster.
    #[error(
        "{} exists but holds no PostgreSQL cluster (no PG_VERSION file): remove it so that it can be \
         initialised again, or set DATABASE_URL",
        path.display()
    )]
    NotACluster {
        /// The cluster folder.
        path: PathBuf,
    },

    /// A file operation failed.
    #[error("could not {action} {}: {source}: check the permissions of that path or set DATABASE_URL", path.display())]
    Io {
        /// What was being done, e.g. "create folder".
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },

    /// Changing the owner of the data root failed.
    #[error("could not give {} to the `{user}` user: {source}: fix its ownership by hand or set DATABASE_URL", path.display())]
    Chown {
        /// The folder.
        path: PathBuf,
        /// The user it was to be given to.
        user: String,
        /// The underlying error.
        source: Errno,
    },

    /// Taking the lock file failed.
    #[error("could not lock {}: {source}: check that the file system supports flock or set DATABASE_URL", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The underlying error.
        source: Errno,
    },

    /// `initdb` failed.
    #[error(
        "initdb failed for {}: {stderr}: fix the cause (remove that folder to start afresh) or set DATABASE_URL",
        data_dir.display()
    )]
    InitdbFailed {
        /// The cluster folder.
        data_dir: PathBuf,
        /// The useful part of initdb's output.
        stderr: String,
    },

    /// `pg_ctl start` failed.
    #[error(
        "the embedded PostgreSQL did not start (full log: {}): {log}: fix the cause or set DATABASE_URL",
        log_file.display()
    )]
    StartFailed {
        /// The server log file.
        log_file: PathBuf,
        /// The useful part of the log (or of pg_ctl's output).
        log: String,
    },

    /// The server runs, per `postmaster.pid`, but its socket does not accept connections.
    #[error(
        "pg_ctl reports a server running on {} but {} does not accept connections: \
         if no server of this cluster runs, delete {}/postmaster.pid; otherwise stop it \
         (`pg_ctl stop -D {}`) or set DATABASE_URL",
        data_dir.display(),
        socket.display(),
        data_dir.display(),
        data_dir.display()
    )]
    NotAccepting {
        /// The cluster folder.
        data_dir: PathBuf,
        /// The socket file that refused.
        socket: PathBuf,
    },

    /// `pg_ctl status` failed in an unexpected way.
    #[error("pg_ctl status failed for {}: {stderr}: check the cluster folder or set DATABASE_URL", data_dir.display())]
    StatusFailed {
        /// The cluster folder.
        data_dir: PathBuf,
        /// The useful part of pg_ctl's output.
        stderr: String,
    },

    /// `pg_ctl stop` failed.
    #[error(
        "pg_ctl stop failed for {}: {stderr}: stop it by hand (`pg_ctl stop -D {}`)",
        data_dir.display(),
        data_dir.display()
    )]
    StopFailed {
        /// The cluster folder.
        data_dir: PathBuf,
        /// The useful part of pg_ctl's output.
        stderr: String,
    },

    /// A database name outside `[a-z0-9_]{1,63}` was requested.
    #[error("invalid database name {name:?}: use 1 to 63 characters among a-z, 0-9 and _")]
    InvalidDatabaseName {
        /// The rejected name.
        name: String,
    },

    /// Talking to the server failed.
    #[error("could not create database {name} on the embedded PostgreSQL: {source}")]
    Database {
        /// The database being created.
        name: String,
        /// The underlying error.
        source: sqlx::Error,
    },

    /// A blocking task panicked or was cancelled.
    #[error("the embedded PostgreSQL task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

type Result<T, E = EmbeddedError> = std::result::Result<T, E>;

/// Handle on the embedded PostgreSQL cluster of one data root.
///
/// Obtained with [`EmbeddedPostgres::ensure_running`]. The handle that started
/// the server must be given back with [`EmbeddedPostgres::stop`] when the
/// process ends; dropping it leaves the server running (the next process will
/// adopt it).
#[derive(Debug)]
pub struct EmbeddedPostgres {
    root_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    bin_dir: PathBuf,
    user: ServerUser,
    started_here: bool,
}

impl EmbeddedPostgres {
    /// Initialise (first time) and start the cluster in `data_root` (e.g.
    /// `<project>/.data/postgres`), or attach to it if it already runs.
    ///
    /// The folder is created if missing. Concurrent calls, from this process or
    /// others, are serialised by a lock file: only one runs initdb or starts
    /// the server, the others attach.
    pub async fn ensure_running(data_root: &Path) -> Result<Self> {
        let data_root = data_root.to_path_buf();
        tokio::task::spawn_blocking(move || {
            Self::ensure_running_blocking(&data_root, &BinSearch::from_env())
        })
        .await?
    }

    /// Connection options for a database of this cluster, user `postgres`, over the Unix socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.socket_dir)
            .port(PORT)
            .username(SUPERUSER)
            .database(database)
            .ssl_mode(PgSslMode::Disable)
    }

    /// A libpq-style URL for display or for handing to child processes, e.g.
    /// `postgres://postgres@localhost:5432/venue_access?host=%2Fsrv%2Fapp%2F.data%2Fpostgres&sslmode=disable`.
    ///
    /// Both sqlx and libpq (`psql`) understand it: the `host` parameter names
    /// the socket folder, which overrides `localhost`.
    pub fn database_url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost:{PORT}/{}?host={}&sslmode=disable",
            percent_encode(database),
            percent_encode(&self.socket_dir.to_string_lossy()),
        )
    }

    /// Whether this handle started the server (or adopted an orphaned one), and
    /// so must stop it.
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// The cluster's data directory (PGDATA): `<data_root>/pgdata`.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The data root given to [`EmbeddedPostgres::ensure_running`], made absolute.
    pub fn root_dir(&self) -> &Path {
        &self.root_dir
    }

    /// The folder holding the server's Unix socket (the data root).
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Path of the socket file itself, `<socket_dir>/.s.PGSQL.5432`.
    pub fn socket_path(&self) -> PathBuf {
        socket_path(&self.socket_dir)
    }

    /// The port that names the socket file (nothing listens on TCP).
    pub fn port(&self) -> u16 {
        PORT
    }

    /// The server log, `<data_root>/postgres.log`.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The folder the PostgreSQL binaries were taken from.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Create database `name` if it does not exist yet (connecting to the
    /// `postgres` database). Only `[a-z0-9_]` names of up to 63 characters are
    /// accepted.
    pub async fn ensure_database(&self, name: &str) -> Result<()> {
        validate_database_name(name)?;
        let db_error = |source| EmbeddedError::Database {
            name: name.to_owned(),
            source,
        };
        let mut conn = PgConnection::connect_with(&self.connect_options("postgres"))
            .await
            .map_err(db_error)?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await
                .map_err(db_error)?;
        if !exists {
            // `name` is validated above: quoting it is enough.
            let sql = format!("CREATE DATABASE \"{name}\"");
            match sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await {
                Ok(_) => tracing::info!(
                    database = name,
                    "created database on the embedded PostgreSQL"
                ),
                // Another process created it in the meantime: duplicate_database
                // or, in a tighter race, unique_violation on pg_database.
                Err(sqlx::Error::Database(e))
                    if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
                Err(e) => return Err(db_error(e)),
            }
        }
        conn.close().await.map_err(db_error)
    }

    /// Stop the cluster (`pg_ctl stop -m fast`) if this process started it;
    /// no-op otherwise.
    ///
    /// Sessions of other processes attached to the cluster are disconnected.
    pub async fn stop(self) -> Result<()> {
        if !self.started_here {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || self.stop_blocking(None)).await?
    }

    /// Stop the cluster when this process exits, if this handle started it
    /// (no-op otherwise); the handle itself may then be dropped.
    ///
    /// For processes that cannot call [`EmbeddedPostgres::stop`] at their end,
    /// such as a test binary sharing one cluster between its tests. It runs at
    /// normal exit (return from `main`, `std::process::exit`, including the
    /// test harness's exit after failures), not on a fatal signal: a server
    /// left running that way is adopted by the next `ensure_running`.
    pub fn stop_when_process_exits(&self) {
        if !self.started_here {
            return;
        }
        STOP_AT_EXIT
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.duplicate());
        AT_EXIT_REGISTERED.call_once(|| {
            // SAFETY: `stop_registered_clusters` is an `extern "C" fn()` taking
            // nothing, and it catches every panic so none unwinds into libc.
            let status = unsafe { nix::libc::atexit(stop_registered_clusters) };
            if status != 0 {
                tracing::warn!(
                    "could not register the stop of the embedded PostgreSQL at exit: \
                     it will be left running (and adopted by the next process)"
                );
            }
        });
    }

    fn ensure_running_blocking(data_root: &Path, search: &BinSearch) -> Result<Self> {
        let bin_dir = search.find().ok_or(EmbeddedError::NoBinaries)?;
        let user = ServerUser::resolve()?;
        // Check before creating anything, then again once symlinks are resolved.
        if let Ok(absolute) = std::path::absolute(data_root) {
            check_socket_path(&absolute)?;
        }
        let root_dir = prepare_root(data_root, &user)?;
        check_socket_path(&root_dir)?;
        let pg = Self {
            data_dir: root_dir.join(PGDATA_DIR),
            socket_dir: root_dir.clone(),
            log_file: root_dir.join(LOG_FILE),
            root_dir,
            bin_dir,
            user,
            started_here: false,
        };

        let _lock = pg.lock(None)?;
        pg.initdb_if_needed()?;
        let owner_file = pg.root_dir.join(OWNER_FILE);
        let started_here = match pg.wait_until_accepting()? {
            Liveness::Accepting => {
                let owner_alive = read_owner(&owner_file).is_some_and(|owner| owner.is_alive());
                if owner_alive || !owner_file.exists() {
                    tracing::info!(
                        socket = %pg.socket_dir.display(),
                        "attached to the running embedded PostgreSQL"
                    );
                    false
                } else {
                    tracing::info!(
                        socket = %pg.socket_dir.display(),
                        "adopted the embedded PostgreSQL left running by a process that has exited"
                    );
                    pg.write_owner(&owner_file)?;
                    true
                }
            }
            Liveness::Stopped => {
                pg.start()?;
                pg.write_owner(&owner_file)?;
                true
            }
        };
        Ok(Self { started_here, ..pg })
    }

    /// Stop the server, unless another live process has become its owner.
    /// `lock_timeout`: give up waiting for the lock after that long (at exit,
    /// another thread of this process may hold it forever).
    fn stop_blocking(&self, lock_timeout: Option<Duration>) -> Result<()> {
        let _lock = self.lock(lock_timeout)?;
        let owner_file = self.root_dir.join(OWNER_FILE);
        if let Some(owner) = read_owner(&owner_file)
            && owner.pid != std::process::id()
            && owner.is_alive()
        {
            tracing::info!(
                owner = owner.pid,
                "the embedded PostgreSQL now belongs to another process: left running"
            );
            return Ok(());
        }
        if self.is_running()? {
            let began = Instant::now();
            let timeout = STOP_TIMEOUT_SECS.to_string();
            let output = self.run(
                self.user
                    .command(&self.bin_dir.join("pg_ctl"), &self.root_dir)
                    .args(["stop", "-m", "fast", "-w", "-t", &timeout, "-D"])
                    .arg(&self.data_dir),
            )?;
            if !output.status.success() {
                return Err(EmbeddedError::StopFailed {
                    data_dir: self.data_dir.clone(),
                    stderr: command_excerpt(&output),
                });
            }
            tracing::info!(
                elapsed_ms = began.elapsed().as_millis(),
                "stopped the embedded PostgreSQL"
            );
        }
        remove_if_exists(&owner_file)
    }

    /// A second handle on the same cluster, for the at-exit stop.
    fn duplicate(&self) -> Self {
        Self {
            root_dir: self.root_dir.clone(),
            data_dir: self.data_dir.clone(),
            socket_dir: self.socket_dir.clone(),
            log_file: self.log_file.clone(),
            bin_dir: self.bin_dir.clone(),
            user: self.user.clone(),
            started_here: self.started_here,
        }
    }

    /// Record this process as the one that must stop the server.
    fn write_owner(&self, path: &Path) -> Result<()> {
        fs::write(path, ProcessId::current().render()).map_err(|source| EmbeddedError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        })?;
        self.user.give(path)
    }

    /// Take the exclusive lock on `<data_root>/embedded.lock`, waiting for other
    /// processes (for at most `timeout` if given). Released when the returned
    /// guard is dropped. The descriptor is close-on-exec, so the server does
    /// not inherit the lock.
    fn lock(&self, timeout: Option<Duration>) -> Result<Flock<File>> {
        let path = self.root_dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| EmbeddedError::Io {
                action: "open lock file",
                path: path.clone(),
                source,
            })?;
        self.user.give(&path)?;
        let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(guard) => return Ok(guard),
            Err((file, Errno::EWOULDBLOCK)) => {
                tracing::info!(
                    lock = %path.display(),
                    "waiting for another process to start or stop the embedded PostgreSQL"
                );
                file
            }
            Err((_, source)) => return Err(EmbeddedError::Lock { path, source }),
        };
        let began = Instant::now();
        loop {
            let arg = match timeout {
                None => FlockArg::LockExclusive,
                Some(_) => FlockArg::LockExclusiveNonblock,
            };
            match Flock::lock(file, arg) {
                Ok(guard) => return Ok(guard),
                Err((again, Errno::EINTR)) => file = again,
                Err((again, Errno::EWOULDBLOCK))
                    if timeout.is_some_and(|limit| began.elapsed() < limit) =>
                {
                    file = again;
                    std::thread::sleep(POLL_INTERVAL);
                }
                Err((_, source)) => return Err(EmbeddedError::Lock { path, source }),
            }
        }
    }

    fn initdb_if_needed(&self) -> Result<()> {
        if self.data_dir.join("PG_VERSION").is_file() {
            return Ok(());
        }
        let non_empty = match fs::read_dir(&self.data_dir) {
            Ok(mut entries) => entries.next().is_some(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(source) => {
                return Err(EmbeddedError::Io {
                    action: "read folder",
                    path: self.data_dir.clone(),
                    source,
                });
            }
        };
        if non_empty {
            return Err(EmbeddedError::NotACluster {
                path: self.data_dir.clone(),
            });
        }
        let began = Instant::now();
        let output = self.run(
            self.user
                .command(&self.bin_dir.join("initdb"), &self.root_dir)
                .arg("-D")
                .arg(&self.data_dir)
                .args([
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ]),
        )?;
        if !output.status.success() {
            return Err(EmbeddedError::InitdbFailed {
                data_dir: self.data_dir.clone(),
                stderr: command_excerpt(&output),
            });
        }
        tracing::info!(
            data_dir = %self.data_dir.display(),
            elapsed_ms = began.elapsed().as_millis(),
            "initialised the embedded PostgreSQL cluster"
        );
        Ok(())
    }

    /// `pg_ctl status`: exit code 0 means running, 3 not running (a stale
    /// `postmaster.pid` counts as not running), 4 no cluster.
    fn is_running(&self) -> Result<bool> {
        let output = self.run(
            self.user
                .command(&self.bin_dir.join("pg_ctl"), &self.root_dir)
                .args(["status", "-D"])
                .arg(&self.data_dir),
        )?;
        match output.status.code() {
            Some(0) => Ok(true),
            Some(3 | 4) => Ok(false),
            _ => Err(EmbeddedError::StatusFailed {
                data_dir: self.data_dir.clone(),
                stderr: command_excerpt(&output),
            }),
        }
    }

    /// Start the server with `pg_ctl start -w`. A stale `postmaster.pid` left
    /// by a crash is handled by the server itself; right after a crash the
    /// old postmaster may not be fully gone yet (socket lock, shared memory),
    /// so such failures are retried for a few seconds.
    fn start(&self) -> Result<()> {
        let began = Instant::now();
        loop {
            match self.start_once() {
                Err(EmbeddedError::StartFailed { log, .. })
                    if TRANSIENT_START_FAILURES.iter().any(|m| log.contains(m))
                        && began.elapsed() < CRASH_LEFTOVER_TIMEOUT =>
                {
                    tracing::debug!(%log, "retrying to start the embedded PostgreSQL");
                    std::thread::sleep(POLL_INTERVAL);
                }
                Err(e) => return Err(e),
                Ok(()) => {
                    tracing::info!(
                        socket = %self.socket_dir.display(),
                        elapsed_ms = began.elapsed().as_millis(),
                        "started the embedded PostgreSQL"
                    );
                    return Ok(());
                }
            }
        }
    }

    fn start_once(&self) -> Result<()> {
        let log_offset = fs::metadata(&self.log_file).map_or(0, |m| m.len());
        let socket_dir = path_str(&self.socket_dir)?;
        // pg_ctl hands these options to the server through `/bin/sh -c`: quote
        // for the shell, and quote the folder as an item of a GUC list.
        let options = format!(
            "-c listen_addresses='' -c port={PORT} -c {}",
            shell_quote(&format!(
                "unix_socket_directories={}",
                guc_list_item(socket_dir)
            ))
        );
        let timeout = START_TIMEOUT_SECS.to_string();
        let output = self.run(
            self.user
                .command(&self.bin_dir.join("pg_ctl"), &self.root_dir)
                .args(["start", "-w", "-t", &timeout, "-D"])
                .arg(&self.data_dir)
                .arg("-l")
                .arg(&self.log_file)
                .arg("-o")
                .arg(options),
        )?;
        if output.status.success() {
            return Ok(());
        }
        let log = read_from(&self.log_file, log_offset)
            .map(|text| excerpt(&text))
            .filter(|text| !text.is_empty())
            .unwrap_or_else(|| command_excerpt(&output));
        Err(EmbeddedError::StartFailed {
            log_file: self.log_file.clone(),
            log,
        })
    }

    /// Whether the server runs and accepts connections on its socket.
    ///
    /// When `pg_ctl status` reports it running but the socket refuses, poll:
    /// the server may still be starting, or it may have just died (a killed
    /// postmaster counts as running until its parent, init, reaps it).
    fn wait_until_accepting(&self) -> Result<Liveness> {
        let socket = self.socket_path();
        let began = Instant::now();
        loop {
            if !self.is_running()? {
                return Ok(Liveness::Stopped);
            }
            if UnixStream::connect(&socket).is_ok() {
                return Ok(Liveness::Accepting);
            }
            if began.elapsed() > ATTACH_TIMEOUT {
                return Err(EmbeddedError::NotAccepting {
                    data_dir: self.data_dir.clone(),
                    socket,
                });
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    fn run(&self, command: &mut Command) -> Result<Output> {
        let program = PathBuf::from(command.get_program());
        command.output().map_err(|source| EmbeddedError::Io {
            action: "run",
            path: program,
            source,
        })
    }
}

/// Clusters to stop at exit, registered by [`EmbeddedPostgres::stop_when_process_exits`].
static STOP_AT_EXIT: Mutex<Vec<EmbeddedPostgres>> = Mutex::new(Vec::new());
static AT_EXIT_REGISTERED: Once = Once::new();

/// How long the at-exit stop waits for the lock before leaving the server running.
const AT_EXIT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// `atexit` handler: stop the registered clusters.
extern "C" fn stop_registered_clusters() {
    let _ = std::panic::catch_unwind(|| {
        let clusters = match STOP_AT_EXIT.try_lock() {
            Ok(mut clusters) => std::mem::take(&mut *clusters),
            Err(TryLockError::Poisoned(poisoned)) => std::mem::take(&mut *poisoned.into_inner()),
            // Another thread is registering right now: better leave the server
            // running (the next process adopts it) than hang the exit.
            Err(TryLockError::WouldBlock) => return,
        };
        for cluster in clusters {
            if let Err(e) = cluster.stop_blocking(Some(AT_EXIT_LOCK_TIMEOUT)) {
                let _ = writeln!(
                    io::stderr(),
                    "could not stop the embedded PostgreSQL at exit: {e}"
                );
            }
        }
    });
}

/// State of the server as seen by [`EmbeddedPostgres::wait_until_accepting`].
enum Liveness {
    Accepting,
    Stopped,
}

/// The user `initdb` and the server run as.
#[derive(Debug, Clone)]
struct ServerUser {
    name: String,
    uid: Uid,
    gid: Gid,
    /// Whether commands must switch to this user (this process runs as root).
    switch: bool,
}

impl ServerUser {
    fn resolve() -> Result<Self> {
        let euid = unistd::geteuid();
        if !euid.is_root() {
            let name = User::from_uid(euid)
                .ok()
                .flatten()
                .map_or_else(|| format!("uid {euid}"), |user| user.name);
            return Ok(Self {
                name,
                uid: euid,
                gid: unistd::getegid(),
                switch: false,
            });
        }
        let user = User::from_name(SERVER_SYSTEM_USER)
            .map_err(|source| EmbeddedError::UserLookup {
                user: SERVER_SYSTEM_USER.to_owned(),
                source,
            })?
            .filter(|user| !user.uid.is_root())
            .ok_or_else(|| EmbeddedError::NoUnprivilegedUser {
                user: SERVER_SYSTEM_USER.to_owned(),
            })?;
        Ok(Self {
            name: user.name,
            uid: user.uid,
            gid: user.gid,
            switch: true,
        })
    }

    /// A command that runs `program` as this user, in `cwd`, with English
    /// messages and no standard input.
    fn command(&self, program: &Path, cwd: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(cwd)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .stdin(Stdio::null());
        if self.switch {
            // std drops supplementary groups when a root process sets the uid.
            command.uid(self.uid.as_raw()).gid(self.gid.as_raw());
        }
        command
    }

    /// Give `path` to this user, when this process runs as root, so that a
    /// later non-root run as that user can still use it.
    fn give(&self, path: &Path) -> Result<()> {
        if !self.switch {
            return Ok(());
        }
        unistd::chown(path, Some(self.uid), Some(self.gid)).map_err(|source| EmbeddedError::Chown {
            path: path.to_path_buf(),
            user: self.name.clone(),
            source,
        })
    }

    /// Whether this user may enter `dir` (search permission).
    fn can_enter(&self, meta: &fs::Metadata, groups: &[Gid]) -> bool {
        let mode = meta.mode();
        if meta.uid() == self.uid.as_raw() {
            mode & 0o100 != 0
        } else if groups.iter().any(|gid| gid.as_raw() == meta.gid()) {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        }
    }

    fn groups(&self) -> Vec<Gid> {
        CString::new(self.name.as_str())
            .ok()
            .and_then(|name| unistd::getgrouplist(&name, self.gid).ok())
            .unwrap_or_else(|| vec![self.gid])
    }
}

/// Create the data root, make it absolute, give it to the server user with
/// mode 0700 and check that user can reach it.
fn prepare_root(data_root: &Path, user: &ServerUser) -> Result<PathBuf> {
    let io_error = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| EmbeddedError::Io {
            action,
            path,
            source,
        }
    };
    fs::create_dir_all(data_root).map_err(io_error("create folder", data_root))?;
    let root = fs::canonicalize(data_root).map_err(io_error("resolve path", data_root))?;
    path_str(&root)?;
    let meta = fs::metadata(&root).map_err(io_error("read metadata of", &root))?;
    if user.switch && (meta.uid() != user.uid.as_raw() || meta.gid() != user.gid.as_raw()) {
        user.give(&root)?;
    }
    if meta.mode() & 0o7777 != 0o700 {
        fs::set_permissions(&root, fs::Permissions::from_mode(0o700))
            .map_err(io_error("set permissions of", &root))?;
    }
    if user.switch {
        let groups = user.groups();
        for dir in root.ancestors().skip(1) {
            let meta = fs::metadata(dir).map_err(io_error("read metadata of", dir))?;
            if !user.can_enter(&meta, &groups) {
                return Err(EmbeddedError::NotTraversable {
                    user: user.name.clone(),
                    dir: dir.to_path_buf(),
                    mode: meta.mode() & 0o7777,
                    owner: meta.uid(),
                });
            }
        }
    }
    Ok(root)
}

/// The path as UTF-8, if `pg_ctl` can pass it through its shell command line
/// (it wraps paths in double quotes without escaping).
fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .filter(|s| !s.contains(['"', '$', '`', '\\', '\n', '\r']))
        .ok_or_else(|| EmbeddedError::UnsupportedPath {
            path: path.to_path_buf(),
        })
}

/// Fail if the socket file in `socket_dir` would exceed the kernel's limit.
///
/// The socket stays in the data folder rather than in a shorter shared place
/// such as /tmp: the folder's 0700 mode is what keeps other users off the
/// trust-authenticated server, and a path derived from the folder alone lets
/// every process find the server without any registry.
fn check_socket_path(socket_dir: &Path) -> Result<()> {
    let path = socket_path(socket_dir);
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH_LEN {
        return Err(EmbeddedError::SocketPathTooLong { path, len });
    }
    Ok(())
}

fn socket_path(socket_dir: &Path) -> PathBuf {
    socket_dir.join(format!(".s.PGSQL.{PORT}"))
}

/// Where to look for the PostgreSQL server binaries.
#[derive(Debug, Clone)]
struct BinSearch {
    /// Value of `PATH`.
    path: Option<OsString>,
    /// Folder holding one `<version>/bin` per installed version.
    versioned_root: PathBuf,
}

impl BinSearch {
    fn from_env() -> Self {
        Self {
            path: std::env::var_os("PATH"),
            versioned_root: PathBuf::from(VERSIONED_ROOT),
        }
    }

    /// The first folder holding both `initdb` and `pg_ctl`: on PATH, then the
    /// one `pg_config --bindir` (found on PATH) names, then the highest
    /// version under the versioned root.
    fn find(&self) -> Option<PathBuf> {
        let path_dirs: Vec<PathBuf> = self
            .path
            .as_deref()
            .map(|path| {
                std::env::split_paths(path)
                    .filter(|dir| dir.is_absolute())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(dir) = path_dirs.iter().find(|dir| has_server_binaries(dir)) {
            return Some(dir.clone());
        }
        let from_pg_config = path_dirs
            .iter()
            .map(|dir| dir.join("pg_config"))
            .find(|pg_config| is_executable(pg_config))
            .and_then(|pg_config| pg_config_bindir(&pg_config))
            .filter(|dir| has_server_binaries(dir));
        if from_pg_config.is_some() {
            return from_pg_config;
        }
        highest_versioned_bin_dir(&self.versioned_root)
    }
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.mode() & 0o111 != 0)
}

fn has_server_binaries(dir: &Path) -> bool {
    is_executable(&dir.join("initdb")) && is_executable(&dir.join("pg_ctl"))
}

fn pg_config_bindir(pg_config: &Path) -> Option<PathBuf> {
    let output = Command::new(pg_config)
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8(output.stdout).ok()?;
    let dir = PathBuf::from(dir.trim());
    dir.is_absolute().then_some(dir)
}

/// `<root>/<version>/bin` with the highest numeric version (e.g. 16 > 9.6)
/// that holds the server binaries.
fn highest_versioned_bin_dir(root: &Path) -> Option<PathBuf> {
    fs::read_dir(root)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = parse_version(&entry.file_name())?;
            let bin = entry.path().join("bin");
            has_server_binaries(&bin).then_some((version, bin))
        })
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, bin)| bin)
}

fn parse_version(name: &OsStr) -> Option<Vec<u32>> {
    name.to_str()?
        .split('.')
        .map(|part| part.parse().ok())
        .collect()
}

/// Identity of a process: its pid and, where `/proc` tells it, its start time
/// (so that a recycled pid is not taken for the original process).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ProcessId {
    pid: u32,
    start_time: Option<u64>,
}

impl ProcessId {
    fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start_time: process_start_time(pid),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let mut fields = text.split_whitespace();
        let pid: u32 = fields.next()?.parse().ok()?;
        // Pid 0 or beyond i32 would name a process group for kill(2).
        if pid == 0 || i32::try_from(pid).is_err() {
            return None;
        }
        let start_time = fields.next().and_then(|field| field.parse().ok());
        Some(Self { pid, start_time })
    }

    fn render(&self) -> String {
        match self.start_time {
            Some(start) => format!("{} {start}\n", self.pid),
            None => format!("{}\n", self.pid),
        }
    }

    fn is_alive(&self) -> bool {
        let Ok(raw) = i32::try_from(self.pid) else {
            return false;
        };
        match signal::kill(Pid::from_raw(raw), None) {
            // EPERM: it exists but belongs to another user.
            Ok(()) | Err(Errno::EPERM) => {}
            Err(_) => return false,
        }
        match (self.start_time, process_start_time(self.pid)) {
            (Some(recorded), Some(actual)) => recorded == actual,
            _ => true,
        }
    }
}

/// Start time of a process in clock ticks since boot (Linux `/proc/<pid>/stat`, field 22).
fn process_start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: skip past its last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

fn read_owner(path: &Path) -> Option<ProcessId> {
    ProcessId::parse(&fs::read_to_string(path).ok()?)
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(EmbeddedError::Io {
            action: "remove",
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// The text appended to `path` after byte `offset`.
fn read_from(path: &Path, offset: u64) -> Option<String> {
    let mut file = File::open(path).ok()?;
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The useful part of a command's output, on one line.
fn command_excerpt(output: &Output) -> String {
    let stderr = excerpt(&String::from_utf8_lossy(&output.stderr));
    if !stderr.is_empty() {
        return stderr;
    }
    let stdout = excerpt(&String::from_utf8_lossy(&output.stdout));
    if !stdout.is_empty() {
        return stdout;
    }
    format!("exited with {} and no output", output.status)
}

/// The useful part of some command output or log, on one line: around its
/// last FATAL/PANIC/ERROR line (the line before, usually the cause, and the
/// DETAIL/HINT lines after) if any, else its last lines; joined with " | ",
/// without the log's timestamp and pid prefix.
fn excerpt(text: &str) -> String {
    const MAX_LINES: usize = 4;
    const MAX_CHARS: usize = 600;
    const NOISE: [&str; 2] = ["starting PostgreSQL", "database system is shut down"];
    let lines: Vec<&str> = text
        .lines()
        .map(|line| strip_log_prefix(line.trim()))
        .filter(|line| !line.is_empty() && !NOISE.iter().any(|noise| line.contains(noise)))
        .collect();
    let serious = lines.iter().rposition(|line| {
        ["FATAL:", "PANIC:", "ERROR:"]
            .iter()
            .any(|tag| line.starts_with(tag))
    });
    let chosen = match serious {
        Some(i) => {
            let details = lines[i + 1..]
                .iter()
                .take_while(|line| line.starts_with("DETAIL:") || line.starts_with("HINT:"))
                .count();
            &lines[i.saturating_sub(1)..=i + details]
        }
        None => &lines[lines.len().saturating_sub(MAX_LINES)..],
    };
    let joined = chosen.join(" | ").replace(":  ", ": ");
    match joined.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

/// `2025-01-02 03:04:05.678 UTC [123] FATAL:  x` becomes `FATAL:  x`.
fn strip_log_prefix(line: &str) -> &str {
    if line.starts_with(|c: char| c.is_ascii_digit())
        && let Some((_, rest)) = line.split_once("] ")
    {
        rest
    } else {
        line
    }
}

/// Quote `s` as one word for `/bin/sh`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Quote `s` as an item of a PostgreSQL list setting such as
/// `unix_socket_directories` (comma-separated, double quotes for items holding
/// commas or blanks).
fn guc_list_item(s: &str) -> String {
    if s.contains([',', '"']) || s.chars().any(char::is_whitespace) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Percent-encode every byte but the unreserved URL characters
/// (`A-Z a-z 0-9 - . _ ~`), for a URL path segment or query value.
fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xF)]));
        }
    }
    out
}

fn validate_database_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= MAX_IDENTIFIER_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(EmbeddedError::InvalidDatabaseName {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// A fake executable at `dir/name` printing `stdout`.
    fn fake_exe(dir: &Path, name: &str, stdout: &str) {
        fs::create_dir_all(dir).unwrap();
        let path = dir.join(name);
        fs::write(&path, format!("#!/bin/sh\necho '{stdout}'\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn search(path: &[&Path], versioned_root: &Path) -> BinSearch {
        BinSearch {
            path: Some(std::env::join_paths(path).unwrap()),
            versioned_root: versioned_root.to_path_buf(),
        }
    }

    #[test]
    fn discovery_prefers_a_path_dir_holding_both_binaries() {
        let tmp = tempfile::tempdir().unwrap();
        let only_initdb = tmp.path().join("only-initdb");
        let both = tmp.path().join("both");
        fake_exe(&only_initdb, "initdb", "");
        fake_exe(&both, "initdb", "");
        fake_exe(&both, "pg_ctl", "");
        let versioned = tmp.path().join("lib");
        fake_exe(&versioned.join("15/bin"), "initdb", "");
        fake_exe(&versioned.join("15/bin"), "pg_ctl", "");
        let found = search(&[&only_initdb, &both], &versioned).find();
        assert_eq!(found, Some(both));
    }

    #[test]
    fn discovery_falls_back_to_pg_config_then_highest_version() {
        let tmp = tempfile::tempdir().unwrap();
        let server = tmp.path().join("server/bin");
        fake_exe(&server, "initdb", "");
        fake_exe(&server, "pg_ctl", "");
        let tools = tmp.path().join("tools");
        fake_exe(&tools, "pg_config", server.to_str().unwrap());
        let versioned = tmp.path().join("lib");
        for version in ["9.6", "14", "16", "17"] {
            fake_exe(&versioned.join(version).join("bin"), "initdb", "");
            if version != "17" {
                fake_exe(&versioned.join(version).join("bin"), "pg_ctl", "");
            }
        }
        fake_exe(&versioned.join("not-a-version/bin"), "initdb", "");
        fake_exe(&versioned.join("not-a-version/bin"), "pg_ctl", "");

        assert_eq!(search(&[&tools], &versioned).find(), Some(server));
        // Without pg_config: 16 is the highest complete version (17 lacks pg_ctl).
        let empty = tmp.path().join("empty");
        fs::create_dir_all(&empty).unwrap();
        assert_eq!(
            search(&[&empty], &versioned).find(),
            Some(versioned.join("16/bin"))
        );
    }

    #[test]
    fn discovery_reports_missing_binaries() {
        let tmp = tempfile::tempdir().unwrap();
        let found = search(&[tmp.path()], &tmp.path().join("nowhere")).find();
        assert_eq!(found, None);
        let message = EmbeddedError::NoBinaries.to_string();
        assert!(!message.contains('\n'));
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
    }

    #[test]
    fn version_names_sort_numerically() {
        assert!(parse_version(OsStr::new("10")) > parse_version(OsStr::new("9.6")));
        assert_eq!(parse_version(OsStr::new("main")), None);
    }

    #[test]
    fn database_url_round_trips_through_sqlx() {
        let pg = EmbeddedPostgres {
            root_dir: PathBuf::from("/srv/my app,v2/.data/postgres"),
            data_dir: PathBuf::from("/srv/my app,v2/.data/postgres/pgdata"),
            socket_dir: PathBuf::from("/srv/my app,v2/.data/postgres"),
            log_file: PathBuf::from("/srv/my app,v2/.data/postgres/postgres.log"),
            bin_dir: PathBuf::from("/usr/lib/postgresql/15/bin"),
            user: ServerUser {
                name: "postgres".into(),
                uid: Uid::from_raw(101),
                gid: Gid::from_raw(104),
                switch: true,
            },
            started_here: false,
        };
        let url = pg.database_url("venue_access");
        assert_eq!(
            url,
            "postgres://postgres@localhost:5432/venue_access?host=%2Fsrv%2Fmy%20app%2Cv2%2F.data%2Fpostgres&sslmode=disable"
        );
        let parsed = PgConnectOptions::from_str(&url).unwrap();
        assert_eq!(parsed.get_socket(), Some(&pg.socket_dir));
        assert_eq!(parsed.get_port(), PORT);
        assert_eq!(parsed.get_username(), SUPERUSER);
        assert_eq!(parsed.get_database(), Some("venue_access"));
        assert!(matches!(parsed.get_ssl_mode(), PgSslMode::Disable));

        let options = pg.connect_options("venue_access");
        assert_eq!(options.get_socket(), Some(&pg.socket_dir));
        assert_eq!(options.get_database(), Some("venue_access"));
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
        assert_eq!(guc_list_item("/srv/app"), "/srv/app");
        assert_eq!(guc_list_item("/srv/my app,v2"), "\"/srv/my app,v2\"");
        assert!(path_str(Path::new("/srv/a\"b")).is_err());
        assert!(path_str(Path::new("/srv/it's here, ok")).is_ok());
    }

    #[test]
    fn database_names_are_restricted() {
        assert!(validate_database_name("venue_access_test_1").is_ok());
        for bad in ["", "Venue", "a-b", "a\"b", "a b", &"x".repeat(64)] {
            assert!(validate_database_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn excerpts_are_one_line_and_prefer_fatal_lines() {
        let log = "2025-01-02 03:04:05.678 UTC [9] LOG:  starting PostgreSQL 15.20\n\
                   2025-01-02 03:04:05.678 UTC [9] LOG:  invalid value for parameter \"shared_buffers\"\n\
                   2025-01-02 03:04:05.679 UTC [9] FATAL:  configuration file contains errors\n\
                   2025-01-02 03:04:05.679 UTC [9] HINT:  Is another postmaster running?\n\
                   2025-01-02 03:04:05.680 UTC [9] LOG:  database system is shut down\n";
        assert_eq!(
            excerpt(log),
            "LOG: invalid value for parameter \"shared_buffers\" | FATAL: configuration file contains errors \
             | HINT: Is another postmaster running?"
        );
        assert_eq!(excerpt("FATAL:  first line"), "FATAL: first line");
        assert_eq!(excerpt("one\n\ntwo\n"), "one | two");
        assert!(excerpt(&"x".repeat(2000)).chars().count() <= 601);
    }

    #[test]
    fn process_ids() {
        let me = ProcessId::current();
        assert!(me.is_alive());
        assert_eq!(ProcessId::parse(&me.render()), Some(me));
        assert_eq!(ProcessId::parse("0 12"), None);
        assert_eq!(ProcessId::parse("4294967295"), None);
        assert_eq!(ProcessId::parse("garbage"), None);
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(
            !ProcessId {
                pid,
                start_time: None
            }
            .is_alive()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn adopts_a_server_whose_starter_died() {
        let tmp = tempfile::Builder::new()
            .prefix("embedded-pg-")
            .tempdir_in("/tmp")
            .unwrap();
        let first = EmbeddedPostgres::ensure_running(tmp.path()).await.unwrap();
        assert!(first.started_here());
        // Pretend the starter was another process that has exited.
        let mut child = Command::new("true").spawn().unwrap();
        let dead = ProcessId {
            pid: child.id(),
            start_time: None,
        };
        child.wait().unwrap();
        fs::write(tmp.path().join(OWNER_FILE), dead.render()).unwrap();

        let adopter = EmbeddedPostgres::ensure_running(tmp.path()).await.unwrap();
        assert!(adopter.started_here(), "an orphaned server is adopted");
        assert_eq!(
            read_owner(&tmp.path().join(OWNER_FILE)),
            Some(ProcessId::current())
        );
        adopter.stop().await.unwrap();
        assert!(UnixStream::connect(first.socket_path()).is_err());
        // The original handle finds the server already stopped.
        first.stop().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn leaves_running_a_server_another_live_process_owns() {
        let tmp = tempfile::Builder::new()
            .prefix("embedded-pg-")
            .tempdir_in("/tmp")
            .unwrap();
        let pg = EmbeddedPostgres::ensure_running(tmp.path()).await.unwrap();
        let keeper = pg.duplicate();
        let socket = pg.socket_path();
        // Pretend another live process (pid 1) adopted the server.
        let owner_file = tmp.path().join(OWNER_FILE);
        let init = ProcessId {
            pid: 1,
            start_time: None,
        };
        fs::write(&owner_file, init.render()).unwrap();
        pg.stop().await.unwrap();
        assert!(UnixStream::connect(&socket).is_ok(), "left running");
        fs::remove_file(&owner_file).unwrap();
        keeper.stop().await.unwrap();
        assert!(UnixStream::connect(&socket).is_err());
    }
}
