//! The resolved experiment back to TOML (`rnn-lab check`, run directories, checkpoints), and the
//! things derived from it: the model spec, the run length.

use super::experiment::{Batches, Experiment, Level, Mode, TaskSection, TaskSource};
use crate::nn::dropout::DropoutKind;
use crate::nn::spec::{GruVariant, HeadKind, Init, InputKind, ModelSpec, RecurrentInit};
use crate::nn::LossNorm;
use crate::optim::spec::{OptimizerKind, Schedule};
use crate::task::data::FileFormat;
use crate::task::encode::UnknownWords;
use crate::task::generators::FutureRule;
use crate::task::readers::Separator;
use crate::task::Synthetic;

/// A TOML string literal.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML float that reads back as the same f64 (`{:?}` keeps a `.0` or exponent).
fn float(x: f64) -> String {
    format!("{x:?}")
}

impl Experiment {
    /// The full resolved config in the format [`crate::config::load`] accepts, every key written
    /// out with its value (defaults filled in). `load(to_toml(x))` gives `x` back (from the same
    /// path: data paths stay relative to the experiment file's folder).
    pub fn to_toml(&self) -> String {
        let mut s = String::new();
        let mut w = |line: String| {
            s.push_str(&line);
            s.push('\n');
        };
        w("[experiment]".into());
        w(format!("name = {}", quote(&self.name)));
        w(format!("seed = {}", self.seed));
        w(String::new());

        let lm = self.task.is_language_model();
        let list = |v: &[String]| v.iter().map(|f| quote(f)).collect::<Vec<_>>().join(", ");
        let d = &self.data;
        let generated = matches!(self.task.source, TaskSource::Generated { .. });
        let columns = matches!(
            self.task.source,
            TaskSource::Files {
                format: FileFormat::Columns(_),
                ..
            }
        );
        if !generated {
            w("[data]".into());
            if lm && d.valid.is_empty() {
                w(format!("files = [{}]", list(&d.files)));
            } else {
                w(format!("train = [{}]", list(if lm { &d.files } else { &d.train })));
            }
            if !d.valid.is_empty() {
                w(format!("valid = [{}]", list(&d.valid)));
            }
            if !d.test.is_empty() {
                w(format!("test = [{}]", list(&d.test)));
            }
            if !columns {
                w(format!(
                    "level = \"{}\"",
                    match d.level {
                        Level::Char => "char",
                        Level::Word => "word",
                    }
                ));
            }
            if lm {
                w(format!(
                    "mode = \"{}\"",
                    match d.mode {
                        Mode::Stream => "stream",
                        Mode::Lines => "lines",
                    }
                ));
            }
            if d.valid.is_empty() {
                w(format!("val_fraction = {}", float(d.val_fraction)));
            }
            w(format!("min_count = {}", d.min_count));
            w(format!("max_vocab = {}", d.max_vocab));
            w(format!("lowercase = {}", d.lowercase));
            if d.level == Level::Word && !columns {
                w(format!("split_punctuation = {}", d.split_punctuation));
            }
            w(String::new());
        }

        let m = &self.model;
        w("[model]".into());
        w(format!("cell = \"{}\"", m.cell.name()));
        w(format!("hidden = {}", m.hidden));
        w(format!("layers = {}", m.layers));
        w(format!("bidirectional = {}", m.bidirectional));
        // With embedding_init and the size not yet read from the vectors file, `embedding` is
        // left out (it follows the file); `embedding = 0` would mean one-hot.
        if m.embedding > 0 || m.embedding_init.is_none() {
            w(format!("embedding = {}", m.embedding));
        }
        if let Some(path) = &m.embedding_init {
            w(format!("embedding_init = {}", quote(path)));
            w(format!("embedding_freeze = {}", m.embedding_freeze));
        }
        w(format!(
            "gru_variant = \"{}\"",
            match m.gru_variant {
                GruVariant::Course => "course",
                GruVariant::Pytorch => "pytorch",
            }
        ));
        match m.init {
            Init::Uniform(k) => {
                w("init = \"uniform\"".into());
                w(format!("init_range = {}", float(k)));
            }
            Init::Xavier => w("init = \"xavier\"".into()),
            Init::Pytorch => w("init = \"pytorch\"".into()),
        }
        w(format!(
            "init_recurrent = \"{}\"",
            match m.init_recurrent {
                RecurrentInit::Same => "same",
                RecurrentInit::Orthogonal => "orthogonal",
            }
        ));
        w(format!("forget_bias = {}", float(m.forget_bias)));
        w(format!("tie_weights = {}", m.tie_weights));
        let dr = &m.dropout;
        w(format!(
            "dropout_kind = \"{}\"",
            match dr.kind {
                DropoutKind::Standard => "standard",
                DropoutKind::Variational => "variational",
            }
        ));
        w(format!("dropout_input = {}", float(dr.input)));
        w(format!("dropout_hidden = {}", float(dr.hidden)));
        w(format!("dropout_output = {}", float(dr.output)));
        if dr.kind == DropoutKind::Variational {
            w(format!("dropout_recurrent = {}", float(dr.recurrent)));
        }
        w(format!("dropout_embedding = {}", float(dr.embedding)));
        w(String::new());

        let t = &self.training;
        let o = &t.optim;
        w("[training]".into());
        match o.kind {
            OptimizerKind::Sgd { momentum } => {
                w("optimizer = \"sgd\"".into());
                w(format!("lr = {}", float(o.lr)));
                w(format!("momentum = {}", float(momentum)));
            }
            OptimizerKind::Adagrad { eps } => {
                w("optimizer = \"adagrad\"".into());
                w(format!("lr = {}", float(o.lr)));
                w(format!("eps = {}", float(eps)));
            }
            OptimizerKind::Rmsprop { decay, eps } => {
                w("optimizer = \"rmsprop\"".into());
                w(format!("lr = {}", float(o.lr)));
                w(format!("decay = {}", float(decay)));
                w(format!("eps = {}", float(eps)));
            }
            OptimizerKind::Adam { beta1, beta2, eps } => {
                w("optimizer = \"adam\"".into());
                w(format!("lr = {}", float(o.lr)));
                w(format!("beta1 = {}", float(beta1)));
                w(format!("beta2 = {}", float(beta2)));
                w(format!("eps = {}", float(eps)));
            }
        }
        match o.schedule {
            Schedule::Constant => w("schedule = \"constant\"".into()),
            Schedule::Step { every, gamma } => {
                w("schedule = \"step\"".into());
                w(format!("step_every = {every}"));
                w(format!("step_gamma = {}", float(gamma)));
            }
            Schedule::EpochStep { after, gamma, .. } => {
                w("schedule = \"epoch_step\"".into());
                w(format!("decay_after_epochs = {after}"));
                w(format!("step_gamma = {}", float(gamma)));
            }
            Schedule::Cosine { min_factor, .. } => {
                w("schedule = \"cosine\"".into());
                w(format!("min_lr_factor = {}", float(min_factor)));
            }
        }
        w(format!("clip_norm = {}", float(o.clip_norm.unwrap_or(0.0))));
        w(format!("clip_value = {}", float(o.clip_value.unwrap_or(0.0))));
        w(format!("weight_decay = {}", float(o.weight_decay)));
        w(format!("warmup_steps = {}", o.warmup));
        w(format!(
            "loss = \"{}\"",
            match t.loss {
                LossNorm::Sum => "sum",
                LossNorm::Mean => "mean",
            }
        ));
        if self.data.mode == Mode::Stream {
            w(format!(
                "batches = \"{}\"",
                match t.batches {
                    Batches::Contiguous => "contiguous",
                    Batches::Random => "random",
                }
            ));
        }
        w(format!("batch_size = {}", t.batch_size));
        if lm {
            w(format!("seq_len = {}", t.seq_len));
        }
        match t.epochs {
            Some(ep) => w(format!("epochs = {}", float(ep))),
            None => w(format!("steps = {}", t.steps)),
        }
        w(format!("log_every = {}", t.log_every));
        // `None` (no periodic one) is written as the file's 0.
        let every = |n: Option<std::num::NonZeroU64>| n.map_or(0, std::num::NonZeroU64::get);
        w(format!("eval_every = {}", every(t.eval_every)));
        w(format!("checkpoint_every = {}", every(t.checkpoint_every)));
        if lm {
            w(format!("sample_every = {}", every(t.sample_every)));
        }
        w(format!("probe_every = {}", every(t.probe_every)));
        if lm {
            w(format!("max_val_tokens = {}", t.max_val_tokens));
        }
        w(format!("divergence_factor = {}", float(t.divergence_factor)));
        w(format!("divergence_window = {}", t.divergence_window));
        w(String::new());

        if lm {
            let p = &self.sampling;
            w("[sampling]".into());
            w(format!("temperature = {}", float(p.temperature)));
            w(format!("top_k = {}", p.top_k));
            w(format!("length = {}", p.length));
            w(format!("prime = {}", quote(&p.prime)));
        } else {
            for line in task_toml(&self.task) {
                w(line);
            }
        }
        s
    }

    /// The model this experiment trains on a vocabulary of `vocab` tokens: a language model
    /// (per-step softmax over the same vocabulary), one-hot input when `embedding = 0`.
    pub fn model_spec(&self, vocab: usize) -> ModelSpec {
        let m = &self.model;
        ModelSpec {
            cell: m.cell,
            gru_variant: m.gru_variant,
            vocab,
            input: if m.embedding == 0 {
                InputKind::OneHot
            } else {
                InputKind::Embedding(m.embedding)
            },
            hidden: m.hidden,
            layers: m.layers,
            bidirectional: m.bidirectional,
            head: HeadKind::PerStep,
            outputs: vocab,
            init: m.init,
            forget_bias: m.forget_bias,
            init_recurrent: m.init_recurrent,
            tie_weights: m.tie_weights,
        }
    }

    /// Optimizer steps of the whole run, given the data's steps per epoch: `steps`, or
    /// ⌈epochs × steps_per_epoch⌉ (at least 1) when the file gives `epochs`.
    pub fn total_steps(&self, steps_per_epoch: u64) -> u64 {
        match self.training.epochs {
            Some(ep) => ((ep * steps_per_epoch.max(1) as f64).ceil() as u64).max(1),
            None => self.training.steps,
        }
    }

    /// Fix the run length: `training.steps` = [`Self::total_steps`], a cosine schedule's
    /// `total` with it, and an epoch_step schedule's steps per epoch. Call once the data is loaded (an `epochs` file has `steps = 0` until then).
    /// `epochs` is kept, so `to_toml` still prints what the user wrote.
    pub fn resolve_epochs(&mut self, steps_per_epoch: u64) {
        let total = self.total_steps(steps_per_epoch);
        self.training.steps = total;
        match self.training.optim.schedule {
            Schedule::Cosine { min_factor, .. } => {
                self.training.optim.schedule = Schedule::Cosine { total, min_factor };
            }
            Schedule::EpochStep { after, gamma, .. } => {
                self.training.optim.schedule = Schedule::EpochStep {
                    after,
                    gamma,
                    steps_per_epoch: steps_per_epoch.max(1),
                };
            }
            _ => {}
        }
    }

    /// Override the run length (`--steps N`): sets `steps`, drops `epochs`, rescales a cosine
    /// schedule to the new length.
    pub fn set_steps(&mut self, steps: u64) {
        self.training.steps = steps;
        self.training.epochs = None;
        if let Schedule::Cosine { min_factor, .. } = self.training.optim.schedule {
            self.training.optim.schedule = Schedule::Cosine {
                total: steps,
                min_factor,
            };
        }
    }
}

/// The `[task]` section of a task that is not a language model, one line per key.
fn task_toml(t: &TaskSection) -> Vec<String> {
    let mut v = vec!["[task]".to_string(), format!("kind = \"{}\"", t.kind.name())];
    match &t.source {
        TaskSource::Text => {}
        TaskSource::Files {
            format,
            unknown_words,
            word_dropout,
        } => {
            match format {
                FileFormat::Columns(c) => {
                    v.push("format = \"columns\"".into());
                    v.push(format!("token_column = {}", c.token_column));
                    if let Some(tc) = c.tag_column {
                        v.push(format!("tag_column = {tc}"));
                    }
                    v.push(format!(
                        "separator = \"{}\"",
                        match c.separator {
                            Separator::Auto => "auto",
                            Separator::Tab => "tab",
                            Separator::Whitespace => "whitespace",
                        }
                    ));
                    v.push(format!(
                        "unknown_words = \"{}\"",
                        match unknown_words {
                            UnknownWords::Unk => "unk",
                            UnknownWords::Signature => "signature",
                        }
                    ));
                }
                FileFormat::Labelled => v.push("format = \"labelled\"".into()),
                FileFormat::ClassFiles => v.push("format = \"class_files\"".into()),
            }
            v.push(format!("word_dropout = {}", float(*word_dropout)));
        }
        TaskSource::Generated {
            generator,
            val_size,
            criterion,
        } => {
            v.push(format!("generator = \"{}\"", generator.name()));
            match generator {
                Synthetic::Adding(g) => v.push(format!("length = {}", g.length)),
                Synthetic::TemporalOrder(g) => v.push(format!("length = {}", g.length)),
                Synthetic::Reber(g) => v.push(format!("embedded = {}", g.embedded)),
                Synthetic::Copy(g) => {
                    v.push(format!("length = {}", g.length));
                    v.push(format!("symbols = {}", g.symbols));
                }
                Synthetic::FutureTags(g) => {
                    v.push(format!("symbols = {}", g.symbols));
                    v.push(format!("min_len = {}", g.min_len));
                    v.push(format!("max_len = {}", g.max_len));
                    v.push(format!(
                        "rule = \"{}\"",
                        match g.rule {
                            FutureRule::Ahead => "ahead",
                            FutureRule::Again => "again",
                        }
                    ));
                    v.push(format!("distance = {}", g.distance));
                }
            }
            v.push(format!("val_size = {val_size}"));
            v.push(format!("test_size = {}", criterion.test_size));
            v.push(format!("max_wrong = {}", float(criterion.max_wrong)));
        }
    }
    v
}

impl Experiment {
    /// The model of a task other than a language model: the task's inputs (one-hot, an
    /// embedding, or real values) and outputs, the head of its kind.
    pub fn task_model_spec(&self, task: &crate::task::data::TaskData) -> ModelSpec {
        let mut spec = self.model_spec(task.input_size());
        spec.outputs = task.outputs();
        spec.head = match task.kind {
            crate::task::TaskKind::Classification => HeadKind::SeqClassify,
            crate::task::TaskKind::Regression => HeadKind::SeqRegress,
            _ => HeadKind::PerStep,
        };
        spec
    }
}
