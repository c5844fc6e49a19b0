//! The builder every CLI test shares: [`Setup`] makes an account and a
//! manifest; [`Setup::start`] serves it from an in-process emulator on
//! 127.0.0.1:0 ([`Running`]), [`Setup::spawn`] from `regroup emulator` as a
//! process of its own ([`Spawned`]). Both run the real `regroup` binary in a
//! [`Folder`]: a scrubbed environment whose HOME and working directory are
//! the test's temporary folder.

use std::ops::Deref;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use regroup::emulator::fleet::{AccessKey, Fleet, FleetGroup, FleetResource, OidcToken};
use regroup::emulator::{Emulator, LoggedRequest, Settings};
use regroup::resource::ResourceType;

pub const KEY_ID: &str = "testid";
pub const SECRET: &str = "testsecret";

/// Builds an account and a manifest for one test.
pub struct Setup {
    pub fleet: Fleet,
    /// `None`: no manifest of the test's own, and no `-f` added.
    manifest: Option<String>,
    settings: Settings,
    examples: bool,
    env_keys: bool,
}

impl Setup {
    /// An account with groups `default`, `prod`, `legacy` and `dev`, and no
    /// resources yet; an empty manifest.
    pub fn new() -> Setup {
        let group = |id: &str, name: &str, default: bool| FleetGroup {
            id: id.into(),
            name: name.into(),
            default,
            display_name: None,
            status: None,
        };
        Setup {
            fleet: Fleet {
                account_id: "1234567890123456".into(),
                access_keys: Vec::new(),
                resource_groups: vec![
                    group("rg-default", "default", true),
                    group("rg-prod", "prod", false),
                    group("rg-legacy", "legacy", false),
                    group("rg-dev", "dev", false),
                ],
                resources: Vec::new(),
                oidc_tokens: Vec::new(),
                auto_grouping: None,
                accounts: Vec::new(),
                folders: Vec::new(),
            },
            manifest: Some(String::new()),
            settings: Settings {
                record_requests: true,
                ..Settings::default()
            },
            examples: false,
            env_keys: true,
        }
        .key(KEY_ID, SECRET, None)
    }

    /// Adds a resource in cn-hangzhou, in `group` (`None`: the default).
    pub fn resource(self, rtype: ResourceType, id: &str, group: Option<&str>) -> Setup {
        self.resource_in("cn-hangzhou", rtype, id, group)
    }

    /// Adds a resource in `region`, in `group` (`None`: the default).
    pub fn resource_in(
        mut self,
        region: &str,
        rtype: ResourceType,
        id: &str,
        group: Option<&str>,
    ) -> Setup {
        self.fleet.resources.push(FleetResource {
            group: group.map(str::to_owned),
            ..crate::support::resource(rtype, id, region)
        });
        self
    }

    /// Adds `count` instances `i-bp1test<n>` to the default group.
    pub fn instances(self, count: usize) -> Setup {
        self.many(ResourceType::Instance, count)
    }

    /// Adds `count` resources of a type, `<prefix>bp1test<n>`, to the
    /// default group.
    pub fn many(mut self, rtype: ResourceType, count: usize) -> Setup {
        let prefix = rtype.id_prefix().unwrap_or("key-");
        for n in 0..count {
            self = self.resource(rtype, &format!("{prefix}bp1test{n:05}"), None);
        }
        self
    }

    /// Changes how the emulator behaves (rate limit, faults, …).
    pub fn emulator(mut self, change: impl FnOnce(&mut Settings)) -> Setup {
        change(&mut self.settings);
        self
    }

    /// Adds an access key; with a token, an STS key.
    pub fn key(mut self, id: &str, secret: &str, token: Option<&str>) -> Setup {
        self.fleet.access_keys.push(AccessKey {
            id: id.into(),
            secret: secret.into(),
            security_token: token.map(str::to_owned),
            denied_actions: Vec::new(),
        });
        self
    }

    /// RAM denies these actions (`ecs:DescribeDisks`, …) to the key
    /// [`KEY_ID`].
    pub fn deny(mut self, actions: &[&str]) -> Setup {
        let key = self
            .fleet
            .access_keys
            .iter_mut()
            .find(|k| k.id == KEY_ID)
            .expect("the test key is in the account");
        key.denied_actions = actions.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    /// An OIDC token that `AssumeRoleWithOIDC` accepts for `role`.
    pub fn oidc_token(mut self, token: &str, role: &str, provider: &str) -> Setup {
        self.fleet.oidc_tokens.push(OidcToken {
            token: token.into(),
            role_arn: role.into(),
            provider_arn: provider.into(),
        });
        self
    }

    /// Replaces the account with a generated one.
    pub fn fleet(mut self, fleet: Fleet) -> Setup {
        self.fleet = fleet;
        self
    }

    /// The example account, examples/fleet.yaml, with [`Setup::examples`].
    pub fn example_fleet(self) -> Setup {
        let fleet = Fleet::load(&examples().join("fleet.yaml")).expect("the example fleet loads");
        self.fleet(fleet).examples()
    }

    /// A copy of the files of examples/ in the folder, and no manifest of
    /// the test's own: commands name theirs with `-f`, as the README does.
    pub fn examples(mut self) -> Setup {
        self.examples = true;
        self.manifest = None;
        self
    }

    pub fn manifest(mut self, text: &str) -> Setup {
        self.manifest = Some(text.to_owned());
        self
    }

    /// No access key in the environment: the tests of the other
    /// credential sources set up their own.
    pub fn without_env_keys(mut self) -> Setup {
        self.env_keys = false;
        self
    }

    /// The emulator in this process.
    pub fn start(self) -> Running {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let mut folder = self.folder();
        let emulator = runtime
            .block_on(Emulator::start(
                self.fleet,
                self.settings,
                "127.0.0.1:0".parse().expect("an address"),
            ))
            .expect("the emulator starts");
        folder.endpoint = emulator.url();
        Running {
            runtime,
            emulator,
            folder,
        }
    }

    /// `regroup emulator --listen 127.0.0.1:0 --fleet fleet.yaml ARGS` as a
    /// process of its own, to kill or stop, run in the folder (relative
    /// paths in ARGS are the folder's). The settings of
    /// [`Setup::emulator`] are not used: ARGS says how it behaves.
    pub fn spawn(self, args: &[&str]) -> Spawned {
        let mut folder = self.folder();
        let fleet = folder.write("fleet.yaml", &fleet_json(&self.fleet));
        let mut all: Vec<&std::ffi::OsStr> = vec!["--fleet".as_ref(), fleet.as_ref()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        let (child, url) = crate::support::spawn_emulator_in(folder.home(), &all);
        folder.endpoint = url;
        Spawned { child, folder }
    }

    /// The folder, its endpoint still to be set.
    fn folder(&self) -> Folder {
        let dir = tempfile::tempdir().expect("a temporary folder");
        if self.examples {
            let copy = dir.path().join("examples");
            std::fs::create_dir_all(&copy).expect("examples/ is created");
            for entry in std::fs::read_dir(examples()).expect("examples/ is readable") {
                let entry = entry.expect("an entry");
                if entry.path().is_file() {
                    std::fs::copy(entry.path(), copy.join(entry.file_name())).expect("copied");
                }
            }
        }
        let manifest = dir.path().join("regroup.yaml");
        if let Some(text) = &self.manifest {
            std::fs::write(&manifest, text).expect("the manifest is written");
        }
        Folder {
            dir,
            manifest,
            pass_manifest: self.manifest.is_some(),
            env_keys: self.env_keys,
            endpoint: String::new(),
        }
    }
}

/// The repository's `examples/` folder.
fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// A fleet as `regroup emulator --fleet` reads it.
fn fleet_json(fleet: &Fleet) -> String {
    serde_json::to_string(fleet).expect("a fleet serializes")
}

/// The test's folder, with the manifest, and `regroup` run in it against
/// the emulator.
pub struct Folder {
    dir: tempfile::TempDir,
    pub manifest: PathBuf,
    pass_manifest: bool,
    env_keys: bool,
    endpoint: String,
}

impl Folder {
    /// `regroup ARGS` against the emulator, in a scrubbed environment whose
    /// HOME is the test's folder, with the manifest as `-f` unless ARGS
    /// name one.
    pub fn regroup(&self, args: &[&str]) -> Command {
        Command::from_std(self.process(args))
    }

    /// The same as a plain process, to run in a pseudo-terminal or signal.
    pub fn process(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("regroup"));
        command
            .env_clear()
            .env("HOME", self.dir.path())
            .env("REGROUP_ENDPOINT", &self.endpoint)
            // Never the ECS metadata address from a test.
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .current_dir(self.dir.path());
        if self.env_keys {
            command
                .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
                .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET);
        }
        if self.pass_manifest && !args.contains(&"-f") {
            command.arg("-f").arg(&self.manifest);
        }
        command.args(args);
        command
    }

    /// Runs `regroup ARGS` to the end: exit code, stdout and stderr.
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        stdout_of(self.regroup(args))
    }

    /// The test's folder, HOME of every command.
    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file in the folder, making its parent folders.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the folder is made");
        }
        std::fs::write(&path, text).expect("the file is written");
        path
    }
}

/// A running emulator with a folder beside it.
pub struct Running {
    pub runtime: tokio::runtime::Runtime,
    pub emulator: Emulator,
    folder: Folder,
}

impl Deref for Running {
    type Target = Folder;

    fn deref(&self) -> &Folder {
        &self.folder
    }
}

impl Running {
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.emulator.requests()
    }

    /// The account as it is now.
    pub fn snapshot(&self) -> Fleet {
        self.runtime.block_on(self.emulator.snapshot())
    }

    /// Writes the account as it is now to `name`, for `regroup emulator
    /// --fleet`.
    pub fn save_fleet(&self, name: &str) -> PathBuf {
        self.write(name, &fleet_json(&self.snapshot()))
    }

    /// Changes the account behind regroup's back, as the console would.
    pub fn edit(&self, change: impl FnOnce(&mut regroup::emulator::state::Account)) {
        self.runtime.block_on(self.emulator.edit(change));
    }

    /// Removes a resource from the account.
    pub fn delete(&self, rtype: ResourceType, id: &str) {
        self.edit(|account| {
            account
                .resources
                .remove(&(rtype, "cn-hangzhou".to_owned(), id.to_owned()));
        });
    }

    pub fn writes(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.action == "JoinResourceGroup")
            .count()
    }

    pub fn group_of(&self, id: &str) -> String {
        let resource = self
            .snapshot()
            .resources
            .into_iter()
            .find(|r| r.id == id)
            .expect("the resource exists");
        resource.group.unwrap_or_else(|| "rg-default".into())
    }
}

/// `regroup emulator` as its own process, with a folder beside it.
pub struct Spawned {
    pub child: std::process::Child,
    folder: Folder,
}

impl Deref for Spawned {
    type Target = Folder;

    fn deref(&self) -> &Folder {
        &self.folder
    }
}

/// Runs a command: its exit code, stdout and stderr.
pub fn stdout_of(mut command: impl std::borrow::BorrowMut<Command>) -> (i32, String, String) {
    let output = command.borrow_mut().output().expect("regroup runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub const TWO_INTO_PROD: &str = "\
version: 1
regions: [cn-hangzhou]
groups:
  prod:
    resources:
      - instance/i-bp1test00000
      - instance/i-bp1test00001
";

/// Calls per action that one `plan` made.
pub fn calls_of(env: &Running) -> std::collections::BTreeMap<String, usize> {
    let mut calls = std::collections::BTreeMap::new();
    for request in env.requests() {
        *calls.entry(request.action).or_default() += 1;
    }
    calls
}

/// Starts `regroup emulator` as its own process and returns it with its URL.
pub fn spawn_emulator(args: &[&str]) -> (std::process::Child, String) {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    crate::support::spawn_emulator(&args)
}

/// Every instance `i-bp1test*` into prod, by rule.
pub const ALL_INTO_PROD: &str = "\
version: 1
regions: [cn-hangzhou]
groups:
  prod:
    select:
      - type: instance
";

/// `apply --auto-approve --undo-plan undo.json --report report.json`:
/// its exit code, the undo plan's and the report's paths, and what it
/// printed on stdout and stderr.
pub fn run_recorded(env: &Running) -> (i32, PathBuf, PathBuf, String, String) {
    let (undo, report) = (env.path("undo.json"), env.path("report.json"));
    let (code, out, err) = stdout_of(env.regroup(&[
        "apply",
        "--auto-approve",
        "--undo-plan",
        undo.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]));
    (code, undo, report, out, err)
}

/// [`run_recorded`], which must succeed: the undo plan's and the report's
/// paths, and what apply printed.
pub fn apply_recorded(env: &Running) -> (PathBuf, PathBuf, String) {
    let (code, undo, report, out, err) = run_recorded(env);
    assert_eq!(code, 0, "{out}{err}");
    (undo, report, out)
}

/// `apply --auto-approve ARGS --report`, which must move all `count`
/// resources; returns the report and what apply printed on stderr.
pub fn apply_all_with_report(
    env: &Running,
    args: &[&str],
    count: usize,
) -> (serde_json::Value, String) {
    let report = env.path("report.json");
    let mut all = vec![
        "apply",
        "--auto-approve",
        "--report",
        report.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let (code, out, err) = stdout_of(env.regroup(&all));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Apply complete! {count} moved, 0 failed.")),
        "{out}"
    );
    (read_json(&report), err)
}

pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the file exists"))
        .expect("the file is JSON")
}

/// The manifest of the README's tour.
pub const EXAMPLE: &str = "examples/regroup.yaml";

/// Runs a command that must succeed: its stdout and stderr.
pub fn ok(env: &Running, args: &[&str]) -> (String, String) {
    let (code, out, err) = env.run(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    (out, err)
}

/// Where every instance `i-bp1test<n>` is, in order.
pub fn groups_of(env: &Running, count: usize) -> Vec<String> {
    (0..count)
        .map(|n| env.group_of(&format!("i-bp1test{n:05}")))
        .collect()
}

/// Makes a named pipe (FIFO) at `path`.
pub fn mkfifo(path: &Path) {
    let name = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(name.as_ptr(), 0o600) },
        0,
        "mkfifo {} failed",
        path.display()
    );
}

/// An account whose group names and key pair names YAML 1.1 readers would
/// take for booleans, with a group named like another group's id.
pub const TRICKY_FLEET: &str = r#"
account_id: "1234567890123456"
access_keys: [{id: testid, secret: testsecret}]
resource_groups:
  - {id: rg-default, name: default, default: true}
  - {id: rg-a, name: "yes"}
  - {id: rg-b, name: rg-c}
  - {id: rg-c, name: legacy}
resources:
  - {type: keypair, id: "on", region: cn-hangzhou, group: rg-a}
  - {type: keypair, id: "No", region: cn-shanghai, group: rg-a}
  - {type: keypair, id: "y1", region: cn-hangzhou}
  - {type: instance, id: i-bp1b, region: cn-hangzhou, group: rg-b}
  - {type: instance, id: i-bp1c, region: cn-hangzhou, group: rg-c}
"#;

/// Asserts that `line` is a whole line of `text` (trailing spaces aside):
/// stronger than `contains`, which a longer or a cut line would also pass.
#[track_caller]
pub fn assert_has_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l.trim_end() == line),
        "expected the line {line:?} in:\n{text}"
    );
}

/// Asserts that the emulator saw no call at all, naming the ones it saw.
#[track_caller]
pub fn assert_no_calls(requests: &[LoggedRequest]) {
    let actions: Vec<&str> = requests.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, Vec::<&str>::new(), "no call may be made");
}
