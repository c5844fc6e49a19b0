//! `regroup show PLAN`: a saved plan printed as `plan` printed it.

use crate::harness::{assert_has_line, ok, Setup, EXAMPLE};

#[test]
fn show_prints_a_saved_plan_as_plan_printed_it() {
    let env = Setup::new().example_fleet().start();
    for format in ["text", "markdown", "json"] {
        let (planned, _) = ok(
            &env,
            &["plan", "-f", EXAMPLE, "--format", format, "-o", "plan.json"],
        );
        let (shown, _) = ok(&env, &["show", "plan.json", "--format", format]);
        let planned = planned
            .split("\nSaved the plan to")
            .next()
            .unwrap_or_default();
        assert_eq!(shown, planned, "show --format {format}");
    }
    let (json, _) = ok(&env, &["show", "plan.json", "--format", "json"]);
    let saved = std::fs::read_to_string(env.path("plan.json")).expect("the plan reads");
    assert_eq!(json, saved, "JSON is the saved plan");
    let (applied, _) = ok(&env, &["apply", "plan.json", "-f", EXAMPLE]);
    let moves = applied.find("instance/i-bp1aaaaaaaaaaaaaaaaa");
    let done = applied.find("Apply complete!");
    assert!(
        moves.is_some() && moves < done,
        "apply PLAN lists the moves before applying: {applied}"
    );
}

#[test]
fn show_of_a_file_that_is_no_plan_says_so() {
    let env = Setup::new().example_fleet().start();
    env.write("notes.json", "{}");
    let (code, _, err) = env.run(&["show", "notes.json"]);
    assert_eq!(code, 1, "{err}");
    assert_has_line(&err, "Error: notes.json is not a plan regroup can use");
    assert!(env.emulator.requests().is_empty(), "show is offline");
}
