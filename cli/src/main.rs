//! The `vmtrans` command line.

mod inspect;
mod run;
mod translate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// vmtrans: run and translate Linux programs built for riscv64, aarch64 and
/// x86_64 on an x86_64 host.
#[derive(Parser, Debug)]
#[command(name = "vmtrans", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show what vmtrans sees in a guest program: ELF summary, discovered
    /// functions and coverage; with --function, one function's code, IR and CFG.
    Inspect(inspect::InspectArgs),
    /// Run a guest program through the JIT, like qemu-user: same arguments,
    /// environment, output and exit status.
    Run(run::RunArgs),
    /// Translate a guest program ahead of time into a native x86_64
    /// executable that takes the same arguments and environment.
    Translate(translate::TranslateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&args).map(|()| 0),
        Command::Run(args) => run::run(&args),
        Command::Translate(args) => translate::run(&args).map(|()| 0),
    };
    match result {
        Ok(status) => ExitCode::from(status.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("vmtrans: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
