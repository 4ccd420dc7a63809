//! Starting a guest: load the image, build the stack, run the main thread
//! on a host thread with a large stack, return the exit status.

use crate::arch;
use crate::context::{Process, RunOptions, Stop, ThreadContext};
use crate::dispatch::{run_thread, CodeProvider};
use crate::error::RuntimeError;
use crate::loader::{build_stack, map_image, map_sigtramp, parse_elf, LoadedImage, StackContents};
use crate::mmu::GuestMemory;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Exit status when the guest cannot be started (bad ELF, no memory):
/// the shell's "cannot execute".
pub const START_FAILURE_STATUS: i32 = 126;

/// A loaded guest, ready to run.
pub struct Guest {
    /// The process (memory, dispositions, options).
    pub process: Arc<Process>,
    /// Where the image was mapped.
    pub image: LoadedImage,
    /// Initial stack pointer.
    pub sp: u64,
}

fn bytes_of<A: AsRef<OsStr>>(items: &[A]) -> Vec<Vec<u8>> {
    items
        .iter()
        .map(|a| a.as_ref().as_bytes().to_vec())
        .collect()
}

fn absolute(path: &str) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| PathBuf::from(path))
    })
}

fn random_bytes() -> [u8; 16] {
    let mut b = [0u8; 16];
    // SAFETY: getrandom fills the 16-byte buffer; on failure the bytes stay zero.
    unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    b
}

impl Guest {
    /// Maps `image_bytes` (the guest ELF) and builds its initial stack.
    pub fn load<A: AsRef<OsStr>, E: AsRef<OsStr>>(
        image_bytes: &[u8],
        guest_path: &str,
        argv: &[A],
        envp: &[E],
        provider: Arc<dyn CodeProvider>,
        options: &RunOptions,
    ) -> Result<Guest, RuntimeError> {
        let info = parse_elf(image_bytes, guest_path)?;
        let ops = arch::ops(info.arch).ok_or(RuntimeError::UnsupportedArch(info.arch))?;
        let mem = GuestMemory::reserve_for(options.guest_base)?;
        let image = map_image(&mem, &info, image_bytes, guest_path, options.pie_base)?;
        let exe = options
            .exe_path
            .clone()
            .unwrap_or_else(|| absolute(guest_path));
        let (argv, envp) = (bytes_of(argv), bytes_of(envp));
        let contents = StackContents {
            argv: &argv,
            envp: &envp,
            execfn: guest_path.as_bytes(),
            random: random_bytes(),
        };
        let sp = build_stack(&mem, ops, &image, options.stack_size, &contents)?;
        let process = Process::new(ops, mem, provider, options.clone(), exe);
        let tramp = map_sigtramp(&process.mem, ops)?;
        process.sigtramp.store(tramp, Ordering::Release);
        Ok(Guest { process, image, sp })
    }

    /// Runs the guest's main thread on the calling thread until the guest
    /// exits; returns the exit status. A guest killed by a signal kills the
    /// host process by the same signal instead of returning, and in a
    /// forked child (where no host thread waits for this one) the host
    /// process exits with the status.
    pub fn run_here(&self) -> i32 {
        let pid = std::process::id() as i32;
        let ctx = ThreadContext::new(Arc::clone(&self.process), pid);
        let regs = self.process.ops.regs();
        self.process.ops.init_registers(&ctx.state);
        ctx.state.set_reg(regs.sp, self.sp);
        ctx.set_pc(self.image.entry);
        crate::fault::install(&ctx);
        // Rust runtimes ignore SIGPIPE; a guest starts with the default
        // (killed by SIGPIPE when writing to a closed pipe).
        crate::fault::mirror_disposition(libc::SIGPIPE, crate::signals::SIG_DFL, 0);
        crate::fault::enter_guest_thread(&ctx);
        self.process
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pid, Arc::clone(&ctx.shared));
        self.process.live_threads.fetch_add(1, Ordering::AcqRel);
        let stop = run_thread(&ctx, self.image.entry);
        crate::syscall::finish_thread(&ctx);
        let forked = std::process::id() as i32 != pid;
        conclude(stop, forked)
    }

    /// Runs the guest on a new host thread with `options.host_stack_size`
    /// of stack (guest call depth is host call depth) and waits for it.
    pub fn run(self) -> Result<i32, RuntimeError> {
        let stack = self.process.options.host_stack_size;
        let handle = std::thread::Builder::new()
            .name("vmtrans-guest-main".into())
            .stack_size(stack)
            .spawn(move || self.run_here())
            .map_err(RuntimeError::Thread)?;
        Ok(handle.join().unwrap_or(START_FAILURE_STATUS))
    }
}

/// What the guest's main thread ending with `stop` means for the host
/// process: the exit status to return to the thread waiting for it, or
/// (not returning) death by the guest's fatal signal, or — in a child
/// the guest forked, which has no waiting thread — the host process exit.
pub fn conclude(stop: Stop, forked: bool) -> i32 {
    let status = match stop {
        Stop::Killed(sig) => crate::fault::die_by_signal(sig),
        Stop::ExitProcess(status) | Stop::ExitThread(status) => status,
    };
    if forked {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        std::process::exit(status);
    }
    status
}

/// Runs a guest program to completion (the CLI's JIT mode): loads
/// `image_bytes`, starts it with `argv` and `envp`, gets host code from
/// `provider` and returns the host exit status. Load failures are printed
/// (`vmtrans: <path>: ...`) and give [`START_FAILURE_STATUS`].
pub fn run_guest<A: AsRef<OsStr>, E: AsRef<OsStr>>(
    image_bytes: &[u8],
    guest_path: &str,
    argv: &[A],
    envp: &[E],
    provider: Arc<dyn CodeProvider>,
    options: &RunOptions,
) -> i32 {
    match Guest::load(image_bytes, guest_path, argv, envp, provider, options).and_then(Guest::run) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("vmtrans: {e}");
            START_FAILURE_STATUS
        }
    }
}
