//! Colour: `NO_COLOR` is honoured and logs off a terminal carry none.

use crate::harness::{assert_has_line, stdout_of, Setup, EXAMPLE};

#[test]
fn a_non_empty_no_color_is_honoured_not_parsed_as_a_flag() {
    let env = Setup::new().example_fleet().start();
    for value in ["1", "true", "yes"] {
        let (code, out, err) = stdout_of(
            env.regroup(&["validate", "-f", EXAMPLE])
                .env("NO_COLOR", value),
        );
        assert_eq!(code, 0, "NO_COLOR={value}: {err}");
        assert_has_line(
            &out,
            "examples/regroup.yaml is valid: 2 groups, 6 explicit resources, 1 select rule.",
        );
    }
}

#[test]
fn logs_off_a_terminal_carry_no_colour() {
    let env = Setup::new().example_fleet().start();
    let (code, _, err) = env.run(&["plan", "-f", EXAMPLE, "-vv"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("credentials"), "-vv logs: {err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}
