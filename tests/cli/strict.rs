//! `--strict`: what is a warning otherwise (a rule that selects nothing)
//! fails `plan` and `apply`.

use crate::harness::{assert_has_line, Running, Setup, EXAMPLE};

/// The README's manifest with a typo in a tag value.
fn typo_manifest(env: &Running) -> &'static str {
    let text = std::fs::read_to_string(env.path(EXAMPLE)).expect("the example reads");
    let typo = text.replace("team: payments", "team: paymnts");
    assert_ne!(typo, text, "the example has the tag");
    std::fs::write(env.path("typo.yaml"), typo).expect("written");
    "typo.yaml"
}

#[test]
fn strict_fails_plan_and_apply_on_a_rule_that_selects_nothing() {
    let env = Setup::new().example_fleet().start();
    let typo = typo_manifest(&env);
    let (code, out, err) = env.run(&["plan", "-f", typo, "--detailed-exitcode"]);
    assert_eq!(code, 2, "without --strict the typo is a warning: {err}");
    assert_has_line(
        &out,
        "Warning: typo.yaml:14:9: this select rule matches no resource",
    );
    for (args, strict_env) in [
        (
            &["plan", "-f", typo, "--strict", "-o", "typo.json"][..],
            None,
        ),
        (&["plan", "-f", typo, "-o", "typo.json"][..], Some("1")),
        (&["apply", "-f", typo, "--auto-approve"][..], Some("1")),
    ] {
        let mut command = env.regroup(args);
        if let Some(value) = strict_env {
            command.env("REGROUP_STRICT", value);
        }
        let (code, _, err) = crate::harness::stdout_of(command);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(
            err.contains("--strict fails the run on 1 warning:\n  typo.yaml:14:9: this select rule matches no resource"),
            "{args:?} names the rule: {err}"
        );
        assert!(!env.path("typo.json").exists(), "{args:?}: no plan saved");
    }
    assert_eq!(env.writes(), 0, "a strict failure moves nothing");
}
