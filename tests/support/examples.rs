//! An emulator started in-process on 127.0.0.1:0 and the real `regroup`
//! binary run against it in a scrubbed environment, from a temporary folder
//! that holds a copy of `examples/`.

use std::path::{Path, PathBuf};

use regroup::emulator::fleet::Fleet;
use regroup::emulator::{Emulator, Settings};

/// The key of the example fleet (`examples/fleet.yaml`).
pub const KEY_ID: &str = "testid";
pub const SECRET: &str = "testsecret";

/// A running emulator and a folder to run `regroup` in.
pub struct Emulated {
    /// Runs the emulator's tasks for as long as this lives.
    _runtime: tokio::runtime::Runtime,
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
}

/// What a finished command gave: exit code, stdout and stderr.
pub struct Ran {
    pub code: i32,
    pub out: String,
    pub err: String,
}

/// The repository's `examples/` folder.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// The example account.
pub fn example_fleet() -> Fleet {
    Fleet::load(&examples().join("fleet.yaml")).expect("the example fleet loads")
}

impl Emulated {
    /// Serves `fleet` with `settings`; the folder holds `examples/`.
    pub fn start(fleet: Fleet, settings: Settings) -> Emulated {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let emulator = runtime
            .block_on(Emulator::start(
                fleet,
                settings,
                "127.0.0.1:0".parse().expect("an address"),
            ))
            .expect("the emulator starts");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let copy = dir.path().join("examples");
        std::fs::create_dir_all(&copy).expect("examples/ is created");
        for entry in std::fs::read_dir(examples()).expect("examples/ is readable") {
            let entry = entry.expect("an entry");
            if entry.path().is_file() {
                std::fs::copy(entry.path(), copy.join(entry.file_name())).expect("copied");
            }
        }
        Emulated {
            _runtime: runtime,
            emulator,
            dir,
        }
    }

    /// The example fleet, without faults, keeping every request.
    pub fn example() -> Emulated {
        let settings = Settings {
            record_requests: true,
            ..Settings::default()
        };
        Emulated::start(example_fleet(), settings)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `regroup ARGS` against the emulator, with the fleet's key in the
    /// environment, HOME in the folder and no metadata service.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_regroup"));
        command
            .env_clear()
            .env("HOME", self.dir.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .env("REGROUP_ENDPOINT", self.emulator.url())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .current_dir(self.dir.path())
            .args(args);
        command
    }

    /// Runs `regroup ARGS` to the end.
    pub fn run(&self, args: &[&str]) -> Ran {
        run(self.command(args))
    }
}

/// Runs a command to the end.
pub fn run(mut command: std::process::Command) -> Ran {
    let output = command.output().expect("regroup runs");
    Ran {
        code: output.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&output.stdout).into_owned(),
        err: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
