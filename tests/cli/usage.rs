//! The command line itself: exit codes of usage errors and `--help`,
//! numeric options out of range, what each command's help lists, shell
//! completions and `--version`.

use crate::harness::{assert_has_line, assert_no_calls, ok, stdout_of, Setup, EXAMPLE};

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let env = Setup::new().example_fleet().start();
    let (code, _, err) = env.run(&["plan", "--detailed-exitcode", "--bogus"]);
    assert_eq!(code, 1, "{err}");
    assert_has_line(&err, "error: unexpected argument '--bogus' found");
    let (code, _, err) = env.run(&["emulator"]);
    assert_eq!(code, 1, "{err}");
    for asked in [&["--help"][..], &["plan", "--help"], &["--version"]] {
        let (code, out, err) = env.run(asked);
        assert_eq!(code, 0, "{asked:?}: {err}");
        assert!(!out.is_empty(), "{asked:?} prints to stdout");
    }
}

#[test]
fn numeric_options_out_of_range_are_usage_errors() {
    let env = Setup::new().example_fleet().start();
    let cases: [(&[&str], &str); 4] = [
        (&["apply", "--rate", "0"], "0.1"),
        (&["apply", "--rate", "NaN"], "0.1"),
        (&["apply", "--rate", "0.001"], "0.1"),
        (
            &[
                "emulator",
                "--fleet",
                "examples/fleet.yaml",
                "--phantom-rate",
                "7",
            ],
            "between 0 and 1",
        ),
    ];
    for (args, says) in cases {
        let (code, _, err) = env.run(args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_no_calls(&env.emulator.requests());
}

#[test]
fn offline_commands_help_lists_no_network_option_and_plan_describes_format() {
    let env = Setup::new().example_fleet().start();
    let network = [
        "--endpoint",
        "--profile",
        "--max-tries",
        "--signature",
        "--retry-for",
        "--request-timeout",
    ];
    for command in ["validate", "schema", "completions", "policy", "show"] {
        let (out, _) = ok(&env, &[command, "--help"]);
        for option in network {
            assert!(
                !out.contains(option),
                "{command} --help lists {option}:\n{out}"
            );
        }
        assert!(
            out.contains("--file"),
            "{command} --help still lists -f:\n{out}"
        );
    }
    let (plan, _) = ok(&env, &["plan", "--help"]);
    for option in network {
        assert!(plan.contains(option), "plan --help lists {option}");
    }
    assert!(
        plan.contains("--format <FORMAT>             How to print the plan: text for a terminal, markdown for a pull"),
        "plan --help describes --format:\n{plan}"
    );
    // Still accepted where hidden: a global option is a global option.
    ok(&env, &["validate", "-f", EXAMPLE, "--max-tries", "3"]);
}

#[test]
fn completions_and_version() {
    let env = Setup::new().start();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, out, _) = stdout_of(env.regroup(&["completions", shell]));
        assert_eq!(code, 0, "{shell}");
        assert!(
            out.contains("regroup") && out.contains("apply") && out.contains("auto-approve"),
            "{shell}"
        );
    }
    let (code, out, _) = stdout_of(env.regroup(&["--version"]));
    assert_eq!(code, 0, "exit code 0 expected:\n{out}");
    assert!(
        out.contains(env!("CARGO_PKG_VERSION"))
            && out.contains("ECS 2014-05-26")
            && out.contains("Resource Manager 2020-03-31"),
        "{out}"
    );
}
