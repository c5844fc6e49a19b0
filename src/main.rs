//! The `regroup` binary: parses the command line and hands over to the
//! library; every exit code comes from [`regroup::commands::Exit`].

use clap::Parser;
use regroup::cli::Cli;
use regroup::commands::{self, Exit, Overrides};

fn main() {
    let cli = Cli::parse();
    regroup::logging::init(cli.global.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
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
