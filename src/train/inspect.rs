//! A model that is not training — a run that has finished, or a checkpoint opened for
//! inspection — answering the commands that need no training (`Sample`, `Probe`) with the
//! trainer's own events, on a thread of its own. The TUI talks to it exactly as to a trainer,
//! so `g` and `p` work the same before, during and after a run.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};

use super::checkpoint;
use super::protocol::{Command, Event, SampleEvent};
use crate::config::{Experiment, Mode};
use crate::data::Vocab;
use crate::infer::probe::{probe, ProbeReport};
use crate::infer::sample::{sample_seed, sample_text, SampleOpts};
use crate::nn::{HeadKind, Model};

/// Start a thread holding the checkpoint `path`. It sends `Event::Failed` (and ends) when the
/// checkpoint cannot be read; then answers `Sample` (each one a new draw, seeded by the step
/// and how many came before) and `Probe` (the text given, else the last text probed, else the
/// run's `probe.json` beside the checkpoint) until `Stop` or the command channel closes.
/// Training commands get a `Warning` saying the model is not training.
///
/// # Errors
/// Only when the operating system cannot start a thread.
pub fn spawn(path: PathBuf) -> std::io::Result<(Sender<Command>, Receiver<Event>)> {
    let (commands, crx) = mpsc::channel();
    let (etx, events) = mpsc::channel();
    std::thread::Builder::new()
        .name("inspector".into())
        .spawn(move || match Inspector::open(&path) {
            Ok(i) => i.serve(&crx, &etx),
            Err(e) => {
                let _ = etx.send(Event::Failed(e));
            }
        })?;
    Ok((commands, events))
}

struct Inspector {
    model: Model<f32>,
    vocab: Vocab,
    exp: Experiment,
    step: u64,
    probe_tokens: Vec<u32>,
    draws: u64,
}

impl Inspector {
    fn open(path: &Path) -> Result<Self, String> {
        let c = checkpoint::load(path).map_err(|e| e.to_string())?;
        let vocab = Vocab::from_json(&c.vocab_json).map_err(|e| format!("{}: vocabulary: {e}", path.display()))?;
        let exp = crate::config::parse_str(&c.config_toml, path)
            .map_err(|e| format!("{}: config metadata: {e}", path.display()))?;
        let probe_tokens = path
            .parent()
            .map(|d| d.join("probe.json"))
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<ProbeReport>(&b).ok())
            .map(|r| tokens_of(&vocab, &r.tokens))
            .unwrap_or_default();
        Ok(Inspector {
            model: c.model,
            vocab,
            exp,
            step: c.step,
            probe_tokens,
            draws: 0,
        })
    }

    fn serve(mut self, commands: &Receiver<Command>, events: &Sender<Event>) {
        while let Ok(cmd) = commands.recv() {
            let ev = match cmd {
                Command::Sample(req) => {
                    if self.model.spec.head != HeadKind::PerStep || self.model.spec.bidirectional {
                        Event::Warning("this model is not a language model; it cannot generate text".into())
                    } else {
                        self.draws += 1;
                        let opts = SampleOpts {
                            temperature: req.temperature,
                            top_k: req.top_k,
                            length: req.length,
                            stop: None,
                        };
                        let lines = self.exp.data.mode == Mode::Lines;
                        let seed = sample_seed(self.exp.seed, self.step, self.draws);
                        let (text, _) = sample_text(&self.model, &self.vocab, lines, &opts, &req.prime, seed);
                        Event::Sample(Box::new(SampleEvent {
                            step: self.step,
                            request: req,
                            text,
                        }))
                    }
                }
                Command::Probe(text) => {
                    if let Some(t) = text {
                        let (ids, _) = self.vocab.encode(&t);
                        if ids.len() >= 2 {
                            self.probe_tokens = ids;
                        } else {
                            let _ = events.send(Event::Warning("probe text needs at least 2 known tokens".into()));
                        }
                    }
                    if self.probe_tokens.len() < 2 {
                        Event::Warning("no probe text yet: P probes a text you type".into())
                    } else {
                        let vocab = &self.vocab;
                        match probe(&self.model, &self.probe_tokens, self.step, &|t| vocab.display(t)) {
                            Ok(r) => Event::Probe(Box::new(r)),
                            Err(e) => Event::Warning(format!("probe failed: {e}")),
                        }
                    }
                }
                Command::SetSampling(_) => continue,
                Command::Stop => return,
                Command::Pause | Command::Resume | Command::StepOnce | Command::SaveNow | Command::SetLr(_) => {
                    Event::Warning("this model is not training (the run has ended); t continues it".into())
                }
            };
            if events.send(ev).is_err() {
                return;
            }
        }
    }
}

/// Token ids of a probe report's tokens, which are in their visible form
/// ([`Vocab::display`]: `␣`, `↵`, …): each vocabulary entry's visible form, looked up.
fn tokens_of(vocab: &Vocab, shown: &[String]) -> Vec<u32> {
    let by_shown: std::collections::HashMap<String, u32> =
        (0..vocab.len() as u32).map(|id| (vocab.display(id), id)).collect();
    shown.iter().filter_map(|t| by_shown.get(t).copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_checkpoint_fails_with_its_path() {
        let (_tx, rx) = spawn(PathBuf::from("/nonexistent/latest.safetensors")).expect("thread");
        match rx.recv() {
            Ok(Event::Failed(m)) => assert!(m.contains("/nonexistent/latest.safetensors"), "{m}"),
            other => panic!("expected Failed, got {other:?}"),
        }
    }
}
