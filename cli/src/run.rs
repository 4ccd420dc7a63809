//! `vmtrans run`: run a guest program through the JIT, like qemu-user.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use vmtrans_runtime::{run_guest, RunOptions};
use vmtrans_translator::lifter_for;
use vmtrans_translator::loader::GuestImage;

use vmtrans::jit::{DiscoveryScope, JitProvider};

/// Arguments of `vmtrans run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Stop the guest at the first system call vmtrans does not implement
    /// (instead of returning ENOSYS to it).
    #[arg(long)]
    pub strict: bool,
    /// Print every system call the guest makes (like strace).
    #[arg(long)]
    pub trace_syscalls: bool,
    /// Print what was translated and how long it took.
    #[arg(short, long)]
    pub verbose: bool,
    /// The guest's `argv[0]` (default: the guest program path as given),
    /// like qemu-user's `-0`.
    #[arg(long, value_name = "NAME")]
    pub argv0: Option<String>,
    /// The guest program.
    pub guest: PathBuf,
    /// Arguments passed to the guest (after `--` if they start with `-`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Runs the guest; returns its exit status (128 + signal for a fatal signal).
pub fn run(args: &RunArgs) -> Result<i32> {
    let bytes = std::fs::read(&args.guest).with_context(|| format!("{}", args.guest.display()))?;
    let image = Arc::new(GuestImage::from_bytes(&args.guest, &bytes)?);
    let lifter = lifter_for(image.arch).map_err(|e| anyhow!("{}: {e}", args.guest.display()))?;
    let provider = Arc::new(JitProvider::new(
        image,
        lifter,
        DiscoveryScope::WholeProgram,
        args.verbose,
    )?);
    let argv0 = args
        .argv0
        .clone()
        .unwrap_or_else(|| args.guest.display().to_string());
    let mut argv = vec![argv0];
    argv.extend(args.args.iter().cloned());
    let envp: Vec<String> = std::env::vars_os()
        .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
        .collect();
    let options = RunOptions {
        strict: args.strict,
        trace_syscalls: args.trace_syscalls,
        exe_path: Some(std::fs::canonicalize(&args.guest).unwrap_or_else(|_| args.guest.clone())),
        guest_runner: Some(guest_runner(args)),
        ..RunOptions::default()
    };
    let start = Instant::now();
    let status = run_guest(
        &bytes,
        &args.guest.display().to_string(),
        &argv,
        &envp,
        provider.clone(),
        &options,
    );
    if args.verbose {
        let s = provider.stats();
        eprintln!(
            "vmtrans: exit status {status} after {:.2?}; translated {} functions ({} guest instructions) in {:.2?}",
            start.elapsed(),
            s.functions,
            s.guest_insns,
            s.time
        );
    }
    Ok(status)
}

/// The command that runs a guest program the guest `execve`s: this
/// `vmtrans` binary's `run` with the same options. It is named by the host
/// `/proc/self/exe`, which still reaches this binary after its file was
/// replaced (a rebuild while a guest runs).
fn guest_runner(args: &RunArgs) -> Vec<OsString> {
    let mut cmd = vec![OsString::from("/proc/self/exe"), OsString::from("run")];
    for (on, flag) in [
        (args.strict, "--strict"),
        (args.trace_syscalls, "--trace-syscalls"),
        (args.verbose, "--verbose"),
    ] {
        if on {
            cmd.push(OsString::from(flag));
        }
    }
    cmd
}
