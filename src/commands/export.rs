//! `rnn-lab export CKPT --pytorch DIR`: a checkpoint as a PyTorch export folder
//! (see [`crate::interop`]).

use super::CliError;
use crate::cli::ExportArgs;
use crate::interop::export_dir::{export, three_lines};
use crate::interop::InteropError;

/// Map an interop failure to the exit status: 1 when writing failed, 2 for bad input.
pub fn cli_error(e: InteropError) -> CliError {
    CliError {
        code: e.exit_code(),
        ..CliError::input(e)
    }
}

/// Write the export and print what to type next.
pub fn run(a: &ExportArgs) -> Result<(), CliError> {
    let checkpoint = super::loaded::checkpoint_arg(&a.checkpoint, crate::train::rundir::Pick::Best)?;
    let s = export(&checkpoint, &a.pytorch, a.force).map_err(cli_error)?;
    let m = &s.model;
    eprintln!(
        "rnn-lab: exported {} ({} {}×{}{}, step {}) → {}: {}",
        checkpoint.display(),
        m.torch_module,
        m.layers,
        m.hidden,
        if m.bidirectional { ", bidirectional" } else { "" },
        m.step,
        s.dir.display(),
        s.files.join(", ")
    );
    print!("{}", three_lines(&s.dir.display().to_string()));
    Ok(())
}
