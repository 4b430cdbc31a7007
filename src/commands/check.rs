//! `rnn-lab check` and `rnn-lab schema`.

use super::CliError;
use crate::cli::CheckArgs;

/// Validate an experiment and print its resolved config (defaults filled in).
pub fn run(a: &CheckArgs) -> Result<(), CliError> {
    if crate::w2v::experiment::is_word2vec_file(&a.experiment) {
        let exp = crate::w2v::experiment::load(&a.experiment).map_err(super::w2v::cli)?;
        print!("{}", exp.to_toml());
        match exp.corpus_files() {
            Ok(files) => eprintln!(
                "rnn-lab: {} is valid (word2vec); data: {} file(s)",
                a.experiment.display(),
                files.len()
            ),
            Err(e) => eprintln!(
                "rnn-lab: warning: {} is valid, but its data is not ready: {e}",
                a.experiment.display()
            ),
        }
        return Ok(());
    }
    let exp = crate::config::load(&a.experiment).map_err(CliError::input)?;
    print!("{}", exp.to_toml());
    match exp.resolve_files() {
        Ok(files) => eprintln!(
            "rnn-lab: {} is valid; data: {} file(s)",
            a.experiment.display(),
            files.len()
        ),
        Err(e) => eprintln!(
            "rnn-lab: warning: {} is valid, but its data is not ready: {e}",
            a.experiment.display()
        ),
    }
    Ok(())
}

/// Print the JSON Schema of experiment files.
pub fn schema() -> Result<(), CliError> {
    let s = serde_json::to_string_pretty(&crate::config::json_schema()).map_err(CliError::other)?;
    println!("{s}");
    Ok(())
}
