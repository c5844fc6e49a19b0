//! The `regroup` binary: parses the command line and hands over to the
//! library; every exit code comes from [`regroup::commands::Exit`].

use clap::Parser;
use regroup::cli::{Cli, Command};
use regroup::commands::{self, Exit, Overrides};

fn main() {
    let cli = Cli::parse();
    regroup::logging::init(cli.global.verbose);
    // The emulator serves many connections at once and wants every core;
    // the other commands wait on the network, and on one thread their
    // memory is reused rather than spread over per-thread malloc arenas.
    let runtime = match &cli.command {
        Command::Emulator(_) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    }
    .enable_all()
    .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Error: could not start the async runtime: {error}");
            std::process::exit(Exit::Failure as i32);
        }
    };
    let exit = match runtime.block_on(commands::run(cli, Overrides::default())) {
        Ok(exit) => exit,
        Err(error) => {
            commands::report_error(&error);
            Exit::Failure
        }
    };
    std::process::exit(exit as i32);
}
