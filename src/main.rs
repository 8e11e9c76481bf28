//! The `rolo` binary: parse the command line, run, and turn failures into one clear line on
//! stderr and a documented exit code (see the README).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: an import allocates each record on the reader
/// thread and frees it on the writer, which glibc's per-thread arenas turn into lock
/// contention (measured: 13% of the writer at 200k vCards).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns what mimalloc holds freed to the operating system ([`rolo::memory`]).
#[allow(unsafe_code)]
fn release_free_memory() {
    // SAFETY: `mi_collect` has no preconditions: it frees pages and segments mimalloc holds
    // unused, and may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// mimalloc's `mi_option_purge_delay` (its position in `mi_option_e`, mimalloc.h; the sys
/// crate names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// A server purges freed pages after 100 ms instead of 1 s ([`rolo::memory::serving`]).
#[allow(unsafe_code)]
fn tune_for_serving() {
    // SAFETY: `mi_option_set` only stores the value; mimalloc reads options atomically, and
    // the purge delay may change at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 100) }
}

fn main() -> ExitCode {
    rolo::memory::set_release(release_free_memory);
    rolo::memory::set_serving(tune_for_serving);
    let cli = match rolo::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors quote the arguments as typed: shown through `visible` so an argument
        // holding escapes cannot drive the terminal. (Help and version hold none.)
        Err(error) if error.use_stderr() => {
            let _ = write!(
                std::io::stderr(),
                "{}",
                rolo::domain::text::visible(&error.render().to_string(), true)
            );
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
        Err(error) => error.exit(),
    };
    rolo::cli::progress::set_quiet(cli.quiet);
    if cli.command.is_some() {
        // Subcommands show a database upgrade as a spinner on stderr; the full-screen
        // interface must not have stderr drawn over it.
        rolo::store::set_observer(rolo::cli::progress::observe_store);
    }
    match rolo::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) if failure.code == rolo::cli::exit::BROKEN_PIPE => failure.exit_code(),
        Err(failure) => {
            // Not `eprintln!`: it panics when stderr is gone (a hung-up terminal).
            let _ = writeln!(
                std::io::stderr(),
                "rolo: {}",
                rolo::domain::text::visible(&failure.message, true)
            );
            failure.exit_code()
        }
    }
}
