//! The progress bar `apply` draws on a terminal.

use crate::harness::{assert_has_line, Setup, ALL_INTO_PROD};
use crate::support;
use regroup::emulator::fleet::FleetResource;
use regroup::resource::ResourceType;

#[test]
fn a_terminal_gets_a_progress_bar() {
    let env = Setup::new()
        .instances(200)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            s.latency = std::time::Duration::from_millis(20);
            s.record_requests = false;
        })
        .start();
    let mut command = env.process(&["apply", "--auto-approve", "--parallelism", "2"]);
    command.env("TERM", "xterm");
    let mut session = rexpect::session::spawn_command(command, Some(60_000)).unwrap();
    // The bar's counter, drawn on the terminal while the moves run.
    session.exp_regex(r"\d+/200").unwrap();
    let rest = session.exp_eof().unwrap();
    assert_has_line(&rest, "Apply complete! 200 moved, 0 failed.");
    assert!(
        !rest.contains("Applying: "),
        "a terminal gets the bar, not log lines"
    );
}

/// The example account and `extra` more instances in the default group of
/// cn-hangzhou.
fn example_with_instances(extra: usize) -> Setup {
    let mut setup = Setup::new().example_fleet();
    for n in 0..extra {
        setup.fleet.resources.push(FleetResource {
            name: format!("extra-{n}"),
            ..support::resource(
                ResourceType::Instance,
                &format!("i-bp1extra{n:05}"),
                "cn-hangzhou",
            )
        });
    }
    setup
}

const INSTANCES_TO_PROD: &str = "\
version: 1
regions: [cn-hangzhou]
groups:
  prod:
    select:
      - {type: instance}
";

#[test]
fn the_progress_bar_rounds_its_rate() {
    let env = example_with_instances(150)
        .emulator(|s| s.latency = std::time::Duration::from_millis(20))
        .start();
    env.write("all.yaml", INSTANCES_TO_PROD);
    let mut command = env.process(&[
        "apply",
        "-f",
        "all.yaml",
        "--auto-approve",
        "--parallelism",
        "2",
    ]);
    command.env("TERM", "xterm");
    let mut session = rexpect::session::spawn_command(command, Some(60_000)).expect("a terminal");
    // The bar, drawn while the moves run, with its rate.
    let (_, drawn) = session
        .exp_regex(r"[1-9]\d+/1\d\d \d+ failed \[[^\]]*/s")
        .expect("a bar");
    let rest = session.exp_eof().expect("apply ends");
    assert!(rest.contains("Apply complete!"), "{rest}");
    let rate = drawn
        .rsplit(", ")
        .next()
        .expect("the rate follows the elapsed time");
    let number = rate.trim_end_matches("/s");
    assert!(
        number.parse::<f64>().is_ok() && number.split('.').nth(1).is_none_or(|d| d.len() <= 1),
        "{drawn}"
    );
}
