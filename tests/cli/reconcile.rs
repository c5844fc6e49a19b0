//! `regroup reconcile` (issue 29), run as a user would: a long-running
//! process against the emulator, its `/metrics` read with the Prometheus
//! project's own text parser, a resource moved behind its back with the
//! official SDK, and SIGTERM to stop it.

use std::io::{BufRead, Read, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::harness::{assert_has_line, read_json, Running, Setup, ALL_INTO_PROD, KEY_ID, SECRET};
use crate::tools;

/// The Prometheus project's Python client, whose `parser` reads the text
/// format as Prometheus does.
const PROMETHEUS_CLIENT: &str = "prometheus-client==0.21.1";

/// Moves a resource of cn-hangzhou to `group` with the official SDK and
/// `key`, as someone else would: tests/sdk/official_sdk.py (signature V3).
pub fn sdk_move(env: &Running, key: &str, secret: &str, id: &str, group: &str) {
    let python = tools::python(&["alibabacloud_ecs20140526==7.11.8"]);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/official_sdk.py");
    let moved = tools::loopback_only(&mut std::process::Command::new(python))
        .arg(script)
        .args([
            &env.emulator.addr().to_string(),
            key,
            secret,
            "cn-hangzhou",
            id,
            group,
        ])
        .output()
        .expect("the python runs");
    assert!(
        moved.status.success(),
        "the SDK moved {id}: {}{}",
        String::from_utf8_lossy(&moved.stdout),
        String::from_utf8_lossy(&moved.stderr)
    );
}

/// A running `regroup reconcile`, its stdout read line by line.
pub(crate) struct Loop {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Loop {
    pub(crate) fn start(env: &Running, args: &[&str]) -> Loop {
        let mut command = env.process(&[&["reconcile"], args].concat());
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = command.spawn().expect("regroup reconcile starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Loop {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line that `wanted` accepts, waiting at most `limit`.
    pub(crate) fn line(&mut self, limit: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    let _ = self.child.kill();
                    panic!(
                        "no awaited line within {limit:?}; it printed:\n{}",
                        self.seen.join("\n")
                    );
                }
            }
        }
    }

    /// The address `--metrics-listen 127.0.0.1:0` was bound to.
    pub(crate) fn metrics_address(&mut self) -> String {
        let line = self.line(Duration::from_secs(30), |l| {
            l.starts_with("Serving metrics on ")
        });
        line.trim_start_matches("Serving metrics on http://")
            .trim_end_matches("/metrics")
            .to_owned()
    }

    /// SIGTERM, then the exit code, waiting at most 5 s for it.
    pub(crate) fn terminate(mut self) -> (i32, Vec<String>) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM sent");
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waitpid") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("reconcile did not exit within 5 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // The process has exited, but the reader thread may not have passed
        // on its last lines yet: read until it hangs up at the end of the
        // pipe (bounded), not just what has arrived so far.
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line);
        }
        (status.code().unwrap_or(-1), self.seen)
    }
}

/// GET `path` from `address`: the status line and the body.
fn http_get(address: &str, path: &str) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(address).expect("the metrics port answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").expect("the request is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("headers and a body");
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}

/// `/metrics` as the Prometheus text parser reads it: each sample as
/// `[name, labels, value]`.
pub(crate) fn scrape(address: &str) -> Vec<(String, serde_json::Value, f64)> {
    let (status, body) = http_get(address, "/metrics");
    assert!(status.contains("200"), "/metrics answered {status}");
    let python = tools::python(&[PROMETHEUS_CLIENT]);
    let mut parser = std::process::Command::new(python);
    parser.args([
        "-c",
        "import json, sys\n\
         from prometheus_client.parser import text_string_to_metric_families\n\
         samples = [[s.name, s.labels, s.value] for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]\n\
         print(json.dumps(samples))",
    ]);
    let (parsed, printed, complaint) = piped(parser, &body);
    assert!(
        parsed,
        "the Prometheus parser refused /metrics: {complaint}\n{body}"
    );
    let samples: Vec<(String, serde_json::Value, f64)> =
        serde_json::from_str(&printed).expect("the parser printed JSON");
    samples
}

/// The sum of the samples named `name` whose labels include `labels`.
pub(crate) fn total(
    samples: &[(String, serde_json::Value, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(k).and_then(|x| x.as_str()) == Some(v))
        })
        .map(|(_, _, value)| value)
        .sum()
}

fn instance(n: usize) -> String {
    format!("i-bp1test{n:05}")
}

#[test]
fn correct_mode_converges_puts_back_what_the_sdk_moved_and_stops_on_sigterm() {
    let env = Setup::new().instances(30).manifest(ALL_INTO_PROD).start();
    let mut reconcile = Loop::start(
        &env,
        &[
            "--mode",
            "correct",
            "--interval",
            "2s",
            "--metrics-listen",
            "127.0.0.1:0",
            "--report-dir",
            "reports",
        ],
    );
    let address = reconcile.metrics_address();
    reconcile.line(Duration::from_secs(60), |l| {
        l.starts_with("Apply complete! 30 moved")
    });
    assert!(
        (0..30).all(|n| env.group_of(&instance(n)) == "rg-prod"),
        "the first run put every instance in prod"
    );
    reconcile.line(Duration::from_secs(30), |l| {
        l.contains("correct: No changes")
    });

    // Behind its back, with the official SDK (tests/sdk/official_sdk.py
    // moves the instance with JoinResourceGroup, signature V3).
    sdk_move(&env, KEY_ID, SECRET, &instance(7), "rg-dev");
    // Within two intervals: the run under way may have planned before the
    // move; the next one sees it.
    let seen = (0..2).any(|_| {
        reconcile
            .line(Duration::from_secs(30), |l| l.contains(" correct: "))
            .contains("Plan: 1 to move")
    });
    assert!(seen, "one of the next two runs plans the move back");
    reconcile.line(Duration::from_secs(30), |l| {
        l.starts_with("Apply complete! 1 moved")
    });
    assert_eq!(env.group_of(&instance(7)), "rg-prod", "moved back");

    let samples = scrape(&address);
    assert!(
        total(
            &samples,
            "regroup_last_reconcile_success_timestamp_seconds",
            &[]
        ) > 1.7e9,
        "a success time is shown: {samples:?}"
    );
    assert!(
        samples
            .iter()
            .any(|(n, l, _)| n == "regroup_drifted_resources"
                && l.get("group").and_then(|g| g.as_str()) == Some("prod")),
        "the drift gauge has a series for prod: {samples:?}"
    );
    assert_eq!(
        total(&samples, "regroup_moves_total", &[("status", "moved")]),
        31.0,
        "30 moves, then the one back"
    );
    assert!(
        total(
            &samples,
            "regroup_api_calls_total",
            &[("action", "JoinResourceGroup"), ("code", "OK")]
        ) >= 31.0,
        "every join is counted by action and code: {samples:?}"
    );
    let (status, body) = http_get(&address, "/healthz");
    assert!(status.contains("200") && body == "ok\n", "{status} {body}");

    let (code, printed) = reconcile.terminate();
    assert_eq!(code, 0, "SIGTERM ends with 0: {}", printed.join("\n"));
    assert!(
        printed
            .last()
            .is_some_and(|l| l.starts_with("Stopped after ")),
        "it says it stopped: {}",
        printed.join("\n")
    );
    let mut reports: Vec<_> = std::fs::read_dir(env.path("reports"))
        .expect("the report folder exists")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    reports.sort();
    let first = read_json(&reports[0]);
    assert_eq!(first["mode"], "correct", "{first}");
    assert_eq!(first["result"], "success", "{first}");
    assert_eq!(first["apply"]["moved"], 30, "{first}");
    assert_eq!(first["drift"].as_array().map(Vec::len), Some(30), "{first}");
    let back = reports
        .iter()
        .map(|path| read_json(path))
        .find(|report| report["apply"]["moved"] == 1)
        .expect("a report shows the move back");
    assert_eq!(back["drift"][0]["resource"]["id"], instance(7), "{back}");
}

#[test]
fn detect_mode_moves_nothing_counts_the_drift_and_keeps_the_last_good_manifest() {
    let env = Setup::new().instances(5).manifest(ALL_INTO_PROD).start();
    let mut reconcile = Loop::start(
        &env,
        &["--interval", "1s", "--metrics-listen", "127.0.0.1:0"],
    );
    let address = reconcile.metrics_address();
    reconcile.line(Duration::from_secs(30), |l| {
        l.contains(" detect: Plan: 5 to move")
    });
    let samples = scrape(&address);
    assert_eq!(
        total(
            &samples,
            "regroup_drifted_resources",
            &[("group", "prod"), ("account", "1234567890123456")]
        ),
        5.0,
        "the gauge counts the drift: {samples:?}"
    );
    assert_eq!(
        total(
            &samples,
            "regroup_reconcile_runs_total",
            &[("result", "success")]
        ),
        1.0,
        "{samples:?}"
    );

    // A broken manifest: the last good one is kept, and the loop says so.
    std::fs::write(&env.manifest, "version: 1\ngroups: [").expect("the manifest is broken");
    let warning = reconcile.line(Duration::from_secs(30), |l| l.starts_with("Warning: "));
    assert!(
        warning.contains("no longer loads, so the last good version"),
        "{warning}"
    );
    reconcile.line(Duration::from_secs(30), |l| {
        l.contains(" detect: Plan: 5 to move")
    });
    let (code, printed) = reconcile.terminate();
    assert_eq!(code, 0, "{}", printed.join("\n"));
    assert_eq!(env.writes(), 0, "detect mode moves nothing");
    assert!(
        (0..5).all(|n| env.group_of(&instance(n)) == "rg-default"),
        "detect mode leaves every instance in rg-default"
    );
}

#[test]
fn metrics_stay_on_loopback_unless_asked() {
    let env = Setup::new().manifest(ALL_INTO_PROD).start();
    let (code, out, err) = env.run(&["reconcile", "--metrics-listen", "0.0.0.0:0"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_has_line(&err, "Error: --metrics-listen 0.0.0.0:0 is not a loopback address; add --metrics-public to serve metrics beyond this machine");
    assert!(env.requests().is_empty(), "no call was made");
}

/// The Kubernetes objects of examples/kubernetes/, as JSON, read by
/// PyYAML (a dependency of kubernetes-validate).
const KUBERNETES_VALIDATE: &str = "kubernetes-validate==1.37.0";
const PROMETHEUS_OPERATOR_MODELS: &str = "@kubernetes-models/prometheus-operator@6.0.0";

fn kubernetes_example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/kubernetes")
        .join(name)
}

/// Runs `command` with `input` on stdin: whether it succeeded, its stdout
/// and its stderr.
fn piped(mut command: std::process::Command, input: &str) -> (bool, String, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the validator runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("the input is passed on");
    let output = child.wait_with_output().expect("the validator ends");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The Deployment and Service against Kubernetes 1.33's own schemas
/// (strict: unknown fields are errors), from the kubernetes-validate
/// package; the YAML text comes on stdin.
fn kubernetes_schema_check(yaml: &str) -> (bool, String, String) {
    let python = tools::python(&[KUBERNETES_VALIDATE]);
    let mut command = std::process::Command::new(python);
    command.args([
        "-c",
        "import sys, yaml, kubernetes_validate\n\
         kubernetes_validate.validate(yaml.safe_load(sys.stdin.read()), '1.33.0', strict=True)\n\
         print('valid')",
    ]);
    piped(command, yaml)
}

/// A ServiceMonitor or PrometheusRule (JSON on stdin) against the Prometheus
/// Operator's CRD schemas, from the @kubernetes-models/prometheus-operator
/// package.
fn operator_schema_check(kind: &str, json: &str) -> (bool, String, String) {
    let modules = tools::node_modules(&[PROMETHEUS_OPERATOR_MODELS]);
    let mut command = std::process::Command::new("node");
    // An ES module resolves packages from its folder: the one holding
    // node_modules.
    command
        .current_dir(modules.parent().expect("node_modules has a parent"))
        .args([
            "--input-type=module",
            "-e",
            &format!(
                "import {{ {kind} }} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/{kind}';\n\
                 let text = '';\n\
                 for await (const chunk of process.stdin) text += chunk;\n\
                 new {kind}(JSON.parse(text)).validate();\n\
                 console.log('valid');"
            ),
        ]);
    piped(command, json)
}

fn yaml_as_json(yaml: &str) -> String {
    regroup::yaml_to_json("example", yaml)
        .expect("the example is YAML")
        .to_string()
}

#[test]
fn the_kubernetes_example_passes_the_kubernetes_and_operator_schemas() {
    for name in ["deployment.yaml", "service.yaml"] {
        let yaml = std::fs::read_to_string(kubernetes_example(name)).expect("the example exists");
        let (valid, said, complaint) = kubernetes_schema_check(&yaml);
        assert!(valid, "{name}: {said}{complaint}");
        // The check can fail: a port given as text is refused.
        let broken = yaml
            .replacen("containerPort: 9464", "containerPort: nine", 1)
            .replacen("port: 9464", "port: nine", 1);
        let (valid, said, complaint) = kubernetes_schema_check(&broken);
        assert!(
            !valid,
            "{name} with a port as text passed: {said}{complaint}"
        );
    }
    for (name, kind) in [
        ("servicemonitor.yaml", "ServiceMonitor"),
        ("prometheusrule.yaml", "PrometheusRule"),
    ] {
        let yaml = std::fs::read_to_string(kubernetes_example(name)).expect("the example exists");
        let (valid, said, complaint) = operator_schema_check(kind, &yaml_as_json(&yaml));
        assert!(valid, "{name}: {said}{complaint}");
        let broken = yaml
            .replacen("path: /metrics", "path: 9", 1)
            .replacen("expr:", "exp:", 1);
        let (valid, said, complaint) = operator_schema_check(kind, &yaml_as_json(&broken));
        assert!(!valid, "a broken {name} passed: {said}{complaint}");
    }
}

/// The Deployment's arguments are ones `regroup reconcile` takes: run once
/// against the emulator, with the paths and the port made local.
#[test]
fn the_kubernetes_deployment_runs_reconcile_with_arguments_it_takes() {
    let yaml =
        std::fs::read_to_string(kubernetes_example("deployment.yaml")).expect("the example exists");
    let deployment = regroup::yaml_to_json("deployment.yaml", &yaml).expect("the example is YAML");
    let args: Vec<String> = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .expect("the container has args")
        .iter()
        .filter_map(|arg| {
            let arg = arg.as_str().expect("each arg is text");
            match arg.split_once('=') {
                // The test's manifest is passed as -f.
                Some(("--file", _)) => None,
                Some(("--report-dir", _)) => Some("--report-dir=reports".to_owned()),
                Some(("--metrics-listen", _)) => Some("--metrics-listen=127.0.0.1:0".to_owned()),
                _ => Some(arg.to_owned()),
            }
        })
        .collect();
    assert_eq!(args[0], "reconcile", "{args:?}");
    let env = Setup::new().instances(3).manifest(ALL_INTO_PROD).start();
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--runs", "1"]);
    let (code, out, err) = env.run(&all);
    assert_eq!(code, 0, "{out}{err}");
    assert_has_line(&out, "Apply complete! 3 moved, 0 failed.");
}

#[test]
fn a_dead_endpoint_fails_each_run_and_the_loop_goes_on() {
    let env = Setup::new().instances(2).manifest(ALL_INTO_PROD).start();
    // A port that was free a moment ago: nothing answers there.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let endpoint = format!("http://{dead}");
    let (code, out, err) = env.run(&[
        "--endpoint",
        &endpoint,
        "--max-tries",
        "1",
        "reconcile",
        "--runs",
        "2",
        "--interval",
        "10ms",
        "--report-dir",
        "reports",
    ]);
    assert_eq!(code, 1, "the last run failed: {out}{err}");
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("Run failed: "))
            .count(),
        2,
        "both runs ran and failed: {out}"
    );
    assert!(out.ends_with("Stopped after 2 run(s).\n"), "{out}");
    let reports: Vec<_> = std::fs::read_dir(env.path("reports"))
        .expect("the report folder exists")
        .map(|entry| read_json(&entry.expect("an entry").path()))
        .collect();
    assert_eq!(reports.len(), 2, "a report per run");
    assert!(
        reports
            .iter()
            .all(|r| r["result"] == "failure" && r["error"].is_string()),
        "{reports:?}"
    );
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
}
