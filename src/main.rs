//! The `regroup` binary: parses the command line and hands over to the
//! library; every exit code comes from [`regroup::Exit`].

use regroup::{Cli, Command, Exit, Overrides};

fn main() {
    // Terraform's one-dash long options (`-out=plan.json`) are read as
    // their two-dash spelling, never as short options with a value.
    let args = match regroup::with_terraform_spellings(std::env::args_os()) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(Exit::Failure as i32);
        }
    };
    let parsed = regroup::cli_command()
        .try_get_matches_from(args)
        .and_then(|matches| <Cli as clap::FromArgMatches>::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            // Help and --version go to stdout and succeed; every usage error
            // exits 1, never 2, which --detailed-exitcode means "changes".
            let _ = error.print();
            std::process::exit(if error.use_stderr() {
                Exit::Failure as i32
            } else {
                Exit::Success as i32
            });
        }
    };
    regroup::logging::init(cli.global.verbose, cli.global.no_color);
    // The emulator serves many connections at once and wants every core;
    // the other commands wait on the network, and on one thread their
    // memory is reused rather than spread over per-thread malloc arenas.
    let runtime = match &cli.command {
        Command::Emulator(_) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    }
    .enable_all()
    .build();
    let exit = match runtime {
        Ok(runtime) => match runtime.block_on(regroup::run(cli, Overrides::default())) {
            Ok(exit) => exit,
            Err(error) => regroup::exit_for_error(&error),
        },
        Err(error) => regroup::exit_for_error(
            &anyhow::Error::new(error).context("could not start the async runtime"),
        ),
    };
    std::process::exit(exit as i32);
}
