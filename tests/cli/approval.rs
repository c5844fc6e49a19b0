//! `apply`'s approval: the prompt takes only `yes`, and without a terminal
//! `--auto-approve` is required.

use crate::harness::{assert_has_line, stdout_of, Setup, TWO_INTO_PROD};

#[test]
fn the_prompt_accepts_only_yes() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    for (answer, moved) in [("y", false), ("YES", false), ("", false), ("yes", true)] {
        let mut session =
            rexpect::session::spawn_command(env.process(&["apply"]), Some(20_000)).unwrap();
        session
            .exp_string("Do you want to perform these actions?")
            .unwrap();
        session.exp_string("Enter a value:").unwrap();
        session.send_line(answer).unwrap();
        let rest = session.exp_eof().unwrap();
        if moved {
            assert_has_line(&rest, "Apply complete! 2 moved, 0 failed.");
        } else {
            assert!(rest.contains("Apply cancelled."), "{answer:?}: {rest}");
            assert_eq!(env.writes(), 0, "{answer:?} approved");
        }
    }
    assert_eq!(
        env.group_of("i-bp1test00001"),
        "rg-prod",
        "i-bp1test00001 should end in rg-prod"
    );
}

#[test]
fn without_a_terminal_apply_needs_auto_approve() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let (code, _, err) = stdout_of(env.regroup(&["apply"]));
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert_has_line(&err, "Error: apply needs approval, but stdin is not a terminal; pass --auto-approve to apply without asking");
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
}
