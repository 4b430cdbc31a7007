//! `rnn-lab sample`.

use super::loaded::open;
use super::CliError;
use crate::cli::SampleArgs;
use crate::config::Mode;
use crate::infer::sample::{SampleOpts, Sampler, EMPTY_SAMPLE};
use crate::nn::HeadKind;

/// Print `count` samples separated by blank lines.
pub fn run(a: &SampleArgs) -> Result<(), CliError> {
    let l = open(&a.checkpoint)?;
    if let Some(t) = &l.task {
        return Err(CliError::input(format!(
            "{}: this is a {} model, not a language model; it cannot generate text (use rnn-lab predict)",
            a.checkpoint.display(),
            t.kind.name()
        )));
    }
    if l.model.spec.head != HeadKind::PerStep || l.model.spec.bidirectional {
        return Err(CliError::input(format!(
            "{}: this model is not a language model; it cannot generate text",
            l.path.display()
        )));
    }
    let temperature = a.temperature.unwrap_or(l.exp.sampling.temperature);
    if !(temperature.is_finite() && temperature >= 0.0) {
        return Err(CliError::input(format!(
            "--temperature {temperature}: must be 0 (greedy) or positive"
        )));
    }
    let prime_text = match (&a.prime, &a.prime_file) {
        (Some(p), _) => p.clone(),
        (None, Some(f)) => std::fs::read_to_string(f).map_err(|e| CliError::input(format!("{}: {e}", f.display())))?,
        (None, None) => l.exp.sampling.prime.clone(),
    };
    let (prime, unknown) = l.vocab.encode(&prime_text);
    if unknown > 0 {
        eprintln!(
            "rnn-lab: warning: {unknown} token(s) of the prime text are not in the checkpoint's vocabulary ({}) and were {}",
            l.vocab.name_unknown(&prime_text),
            l.vocab.unknown_fate()
        );
    }
    let opts = SampleOpts {
        temperature,
        top_k: a.top_k.unwrap_or(l.exp.sampling.top_k),
        length: a.length.unwrap_or(l.exp.sampling.length),
        stop: if l.exp.data.mode == Mode::Lines {
            l.vocab.eos()
        } else {
            None
        },
    };
    for i in 0..a.count {
        let mut s = Sampler::new(&l.model, a.seed.wrapping_add(i as u64));
        s.prime(&prime);
        let ids = s.generate(&opts);
        if i > 0 {
            println!();
        }
        if ids.is_empty() {
            let sep = if prime_text.is_empty() { "" } else { " " };
            println!("{prime_text}{sep}{EMPTY_SAMPLE}");
        } else {
            println!("{}{}", prime_text, l.vocab.decode_after(prime.last().copied(), &ids));
        }
    }
    Ok(())
}
