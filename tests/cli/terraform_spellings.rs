//! Terraform's one-dash spellings (`-auto-approve`, `-out=FILE`, …) are
//! read as their two-dash options; an unknown one-dash word is refused
//! naming the right option.

use crate::harness::{assert_has_line, Setup, EXAMPLE};

// Issue 24: Terraform habits, --strict, `show`.

#[test]
fn terraform_one_dash_options_are_read_as_their_two_dash_spelling() {
    let env = Setup::new().example_fleet().start();
    let (code, _, err) = env.run(&[
        "plan",
        "-f",
        EXAMPLE,
        "-out=plan.json",
        "-detailed-exitcode",
    ]);
    assert_eq!(code, 2, "-detailed-exitcode: changes exit 2: {err}");
    assert!(
        env.path("plan.json").is_file(),
        "-out=plan.json writes plan.json"
    );
    assert!(
        !env.path("ut=plan.json").exists(),
        "never a file named after a misread flag"
    );
    let (code, out, err) = env.run(&["apply", "-auto-approve", "-parallelism=4", "-f", EXAMPLE]);
    assert_eq!(code, 0, "-auto-approve -parallelism=4: {err}");
    assert_has_line(&out, "Apply complete! 10 moved, 0 failed.");
}

#[test]
fn an_unknown_one_dash_word_is_refused_naming_the_right_option() {
    let env = Setup::new().example_fleet().start();
    let (code, _, err) = env.run(&["plan", "-f", EXAMPLE, "-outfile=plan.json"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.trim(),
        "error: `-outfile=plan.json` is not an option: long options take two dashes: did you mean `--out`?",
        "the error names the option"
    );
    let written: Vec<_> = std::fs::read_dir(env.home())
        .expect("the folder lists")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("plan.json"))
        .collect();
    assert!(written.is_empty(), "no file written: {written:?}");
    assert!(env.emulator.requests().is_empty(), "no call made");
}
