//! Every key of the experiment format in one table: its section, type, default and meaning.
//!
//! The table drives the unknown-key check (with suggestions), the JSON Schema
//! (`rnn-lab schema`, `experiments/schema.json`) and is the reference docs/experiment-format.md
//! is written from. Range checks with their messages live in `check.rs`.

use serde_json::{json, Map, Value};

/// The value type of a key.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A string.
    Str,
    /// A boolean.
    Bool,
    /// An integer ≥ `min`.
    Int {
        /// Smallest allowed value.
        min: i64,
    },
    /// A number in a range (bounds inclusive unless marked exclusive).
    Float {
        /// Lower bound.
        min: Option<f64>,
        /// Lower bound is exclusive.
        min_exclusive: bool,
        /// Upper bound.
        max: Option<f64>,
        /// Upper bound is exclusive.
        max_exclusive: bool,
    },
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// A list of strings.
    StrList,
}

/// A key's default, as written in TOML.
#[derive(Clone, Copy, Debug)]
pub enum DefaultValue {
    /// No fixed default (required, or depends on other keys: see the description).
    None,
    /// A string default.
    Str(&'static str),
    /// A boolean default.
    Bool(bool),
    /// An integer default.
    Int(i64),
    /// A float default.
    Float(f64),
}

/// One key of one section.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Section name without brackets.
    pub section: &'static str,
    /// Key name.
    pub key: &'static str,
    /// Value type and range.
    pub kind: Kind,
    /// Default.
    pub default: DefaultValue,
    /// One-line description.
    pub doc: &'static str,
}

/// Section names in file order, with a description each.
pub const SECTIONS: &[(&str, &str)] = &[
    ("experiment", "Name and seed of the experiment."),
    ("data", "Text files, tokenisation and the validation split."),
    ("model", "The recurrent network."),
    (
        "training",
        "Optimizer, schedule, batching, run length and how often to log, evaluate, checkpoint, sample and probe.",
    ),
    (
        "sampling",
        "Defaults for generating text (also used by samples during training).",
    ),
    (
        "task",
        "What the experiment trains: a language model (default), or tagging, classification or regression from files or a built-in generator.",
    ),
];

const fn f(section: &'static str, key: &'static str, kind: Kind, default: DefaultValue, doc: &'static str) -> Field {
    Field {
        section,
        key,
        kind,
        default,
        doc,
    }
}
const fn int(min: i64) -> Kind {
    Kind::Int { min }
}
const fn num(min: f64, min_exclusive: bool) -> Kind {
    Kind::Float {
        min: Some(min),
        min_exclusive,
        max: None,
        max_exclusive: false,
    }
}
const fn range(min: f64, min_exclusive: bool, max: f64, max_exclusive: bool) -> Kind {
    Kind::Float {
        min: Some(min),
        min_exclusive,
        max: Some(max),
        max_exclusive,
    }
}
const ANY_NUM: Kind = Kind::Float {
    min: None,
    min_exclusive: false,
    max: None,
    max_exclusive: false,
};

/// The experiment format.
pub const FIELDS: &[Field] = &[
    f("experiment", "name", Kind::Str, DefaultValue::None, "Name of the experiment, used for run directories. Default: the file name without .toml."),
    f("experiment", "seed", int(0), DefaultValue::Int(1), "Seed for initialisation, the train/validation split, batching and sampling."),
    f("data", "files", Kind::StrList, DefaultValue::None, "Language models: the training text: files (UTF-8) or glob patterns (*, ?, **), relative to the experiment file's folder. Required for language models (or the same list as train)."),
    f("data", "train", Kind::StrList, DefaultValue::None, "Tasks: training files or patterns (column files, label<TAB>text files, or one file per class); required for tasks read from files. Language models: another name for files (give one of them)."),
    f("data", "valid", Kind::StrList, DefaultValue::None, "Validation files; without them val_fraction of the training examples (tasks, lines) or the end of the training stream is held out. A language model's vocabulary is then the training text's."),
    f("data", "test", Kind::StrList, DefaultValue::None, "Test files, scored by rnn-lab eval CKPT (without a FILE) and at the end of a headless run."),
    f("data", "level", Kind::Enum(&["char", "word"]), DefaultValue::Str("char"), "Tokens: Unicode characters, or words with punctuation split off."),
    f("data", "mode", Kind::Enum(&["stream", "lines"]), DefaultValue::Str("stream"), "stream: one continuous text trained with truncated BPTT; lines: each line is a sequence from a zero state, ending with <eos>."),
    f("data", "val_fraction", range(0.0, true, 1.0, true), DefaultValue::Float(0.05), "Fraction held out for validation: the end of the token stream (stream) or a seeded random choice of lines (lines)."),
    f("data", "min_count", int(1), DefaultValue::Int(1), "Tokens seen fewer times in the data become <unk>."),
    f("data", "max_vocab", int(0), DefaultValue::Int(0), "Keep at most this many tokens, the most frequent first, specials included; 0 = no limit."),
    f("data", "lowercase", Kind::Bool, DefaultValue::Bool(false), "Lower-case the text before tokenising."),
    f(
        "data",
        "split_punctuation",
        Kind::Bool,
        DefaultValue::Bool(true),
        "Word level: split punctuation into tokens of its own; false = split on whitespace only (for pre-tokenised text such as PTB). Only with level = \"word\".",
    ),
    f("model", "cell", Kind::Enum(&["rnn", "gru", "lstm"]), DefaultValue::Str("lstm"), "Recurrent cell of every layer."),
    f("model", "hidden", int(1), DefaultValue::Int(128), "Hidden size H of every layer."),
    f("model", "layers", int(1), DefaultValue::Int(1), "Stacked layers L."),
    f("model", "bidirectional", Kind::Bool, DefaultValue::Bool(false), "Forward and backward pass per layer. Language models cannot be bidirectional (they would need the future); tagging, classification and regression can."),
    f("model", "embedding", int(0), DefaultValue::Int(0), "Embedding size E; 0 = one-hot input. With embedding_init: the vectors file's dimension (give it only to check the file)."),
    f("model", "embedding_init", Kind::Str, DefaultValue::None, "Word vectors (word2vec text or binary, e.g. from a word2vec experiment) that initialise the embedding, relative to the experiment file's folder: each vocabulary token found in the file takes its vector, the others keep the random init; the coverage is reported at start. Token inputs only (language models, tasks read from files)."),
    f("model", "embedding_freeze", Kind::Bool, DefaultValue::Bool(false), "With embedding_init: keep the embedding as loaded (no gradient step) instead of fine-tuning it."),
    f("model", "gru_variant", Kind::Enum(&["course", "pytorch"]), DefaultValue::Str("course"), "GRU equations: the course's (reset gate before the recurrent product) or PyTorch's (after it)."),
    f("model", "init", Kind::Enum(&["uniform", "xavier", "pytorch"]), DefaultValue::Str("uniform"), "Weight initialisation: uniform in ±init_range; Xavier/Glorot uniform; or PyTorch's defaults (layers U(±1/√H), head U(±1/√fan_in), embedding N(0, 1))."),
    f("model", "init_range", num(0.0, true), DefaultValue::Float(0.08), "Range k of uniform initialisation (±k). Only with init = \"uniform\"."),
    f("model", "init_recurrent", Kind::Enum(&["same", "orthogonal"]), DefaultValue::Str("same"), "Recurrent matrices W_aa: as the other weights (same), or each gate's H×H block a random orthogonal matrix."),
    f("model", "forget_bias", ANY_NUM, DefaultValue::Float(1.0), "Initial LSTM forget-gate bias."),
    f("model", "tie_weights", Kind::Bool, DefaultValue::Bool(false), "Share one tensor between the embedding and the output head (Press & Wolf 2017). Needs embedding = hidden."),
    f("model", "dropout", range(0.0, false, 1.0, true), DefaultValue::Float(0.0), "Dropout rate on every non-recurrent connection (the input, between layers, before the head) during training, in [0, 1); the per-place keys below override it."),
    f("model", "dropout_kind", Kind::Enum(&["standard", "variational"]), DefaultValue::Str("standard"), "standard: a new mask at every time step (Zaremba et al. 2014); variational: one mask per sequence, the same at every step (Gal & Ghahramani 2016)."),
    f("model", "dropout_input", range(0.0, false, 1.0, true), DefaultValue::None, "Dropout on the input x⟨t⟩ of the first layer. Default: dropout."),
    f("model", "dropout_hidden", range(0.0, false, 1.0, true), DefaultValue::None, "Dropout on a⟨t⟩ between stacked layers. Default: dropout."),
    f("model", "dropout_output", range(0.0, false, 1.0, true), DefaultValue::None, "Dropout on the top layer's a⟨t⟩ before the head. Default: dropout."),
    f("model", "dropout_recurrent", range(0.0, false, 1.0, true), DefaultValue::Float(0.0), "Dropout on a⟨t−1⟩ entering the recurrent product (not the memory path), one mask per sequence. Only with dropout_kind = \"variational\"."),
    f("model", "dropout_embedding", range(0.0, false, 1.0, true), DefaultValue::Float(0.0), "Whole-token dropout: each token type's input (embedding row or one-hot column) dropped for a whole sequence."),
    f("training", "optimizer", Kind::Enum(&["sgd", "adagrad", "rmsprop", "adam"]), DefaultValue::Str("adam"), "Update rule."),
    f("training", "lr", num(0.0, true), DefaultValue::None, "Learning rate. Default: sgd 1.0, adagrad 0.1, rmsprop 0.002, adam 0.002."),
    f("training", "momentum", range(0.0, false, 1.0, true), DefaultValue::Float(0.0), "SGD momentum μ in [0, 1). Only with optimizer = \"sgd\"."),
    f("training", "beta1", range(0.0, false, 1.0, true), DefaultValue::Float(0.9), "Adam β1 in [0, 1). Only with optimizer = \"adam\"."),
    f("training", "beta2", range(0.0, false, 1.0, true), DefaultValue::Float(0.999), "Adam β2 in [0, 1). Only with optimizer = \"adam\"."),
    f("training", "eps", num(0.0, true), DefaultValue::Float(1e-8), "ε of adagrad, rmsprop and adam."),
    f("training", "decay", range(0.0, false, 1.0, true), DefaultValue::Float(0.95), "RMSprop decay ρ in [0, 1). Only with optimizer = \"rmsprop\"."),
    f("training", "schedule", Kind::Enum(&["constant", "step", "epoch_step", "cosine"]), DefaultValue::Str("constant"), "Learning-rate schedule: constant; step (× step_gamma every step_every steps); epoch_step (lr for decay_after_epochs epochs, then × step_gamma at the end of every further epoch, as Zaremba et al. 2014); cosine (down to min_lr_factor × lr at the last step)."),
    f("training", "step_every", int(1), DefaultValue::Int(1000), "Steps between decays of the step schedule."),
    f("training", "step_gamma", range(0.0, true, 1.0, false), DefaultValue::Float(0.5), "Factor per decay of the step and epoch_step schedules, in (0, 1]."),
    f("training", "decay_after_epochs", int(1), DefaultValue::Int(1), "Epochs at the full rate before the epoch_step schedule starts decaying (Zaremba's small model: 4)."),
    f("training", "min_lr_factor", range(0.0, false, 1.0, false), DefaultValue::Float(0.1), "Final learning rate of the cosine schedule, as a fraction of lr."),
    f("training", "clip_norm", num(0.0, false), DefaultValue::Float(5.0), "Clip the global gradient norm to this; 0 = off."),
    f("training", "clip_value", num(0.0, false), DefaultValue::Float(0.0), "Clip every gradient element to ±this; 0 = off."),
    f("training", "weight_decay", num(0.0, false), DefaultValue::Float(0.0), "Decoupled weight decay λ (AdamW; for every optimizer): each update first shrinks every weight matrix, θ ← θ − lr·λ·θ (biases are not decayed)."),
    f("training", "warmup_steps", int(0), DefaultValue::Int(0), "Learning-rate warm-up: the rate rises linearly from lr/N to lr over the first N steps, then follows the schedule; 0 = none."),
    f("training", "loss", Kind::Enum(&["sum", "mean"]), DefaultValue::Str("sum"), "What the training objective is: cross-entropy summed over time steps and averaged over sequences (sum), or averaged over tokens (mean, ~T times smaller gradients). Reported losses are per token either way."),
    f("training", "batches", Kind::Enum(&["contiguous", "random"]), DefaultValue::Str("contiguous"), "Stream mode: contiguous chunks of B streams with the state carried from chunk to chunk (truncated BPTT), or random windows of seq_len tokens from a zero state. Only with mode = \"stream\"."),
    f("training", "batch_size", int(1), DefaultValue::Int(32), "Sequences per batch B."),
    f("training", "seq_len", int(1), DefaultValue::Int(64), "Time steps per chunk T (truncated BPTT length); in lines mode, the longest line kept (longer lines are cut)."),
    f("training", "steps", int(1), DefaultValue::Int(2000), "Optimizer steps to run. Give steps or epochs, not both."),
    f("training", "epochs", num(0.0, true), DefaultValue::None, "Passes over the training data, instead of steps (rounded up to whole steps)."),
    f("training", "log_every", int(1), DefaultValue::Int(10), "Log a metrics line every N steps."),
    f("training", "eval_every", int(0), DefaultValue::Int(200), "Evaluate on the validation data every N steps; 0 = only at the end of the run."),
    f("training", "checkpoint_every", int(0), DefaultValue::Int(500), "Write latest.safetensors every N steps; 0 = only at the end of the run."),
    f("training", "sample_every", int(0), DefaultValue::Int(200), "Generate a sample every N steps; 0 = only on request (the TUI's g)."),
    f("training", "probe_every", int(0), DefaultValue::Int(100), "Probe gates and states for the views every N steps (and once at the start); 0 = only on request (the TUI's p)."),
    f("training", "max_val_tokens", int(0), DefaultValue::Int(100_000), "Score at most this many validation tokens per evaluation; 0 = all."),
    f("training", "divergence_factor", num(0.0, false), DefaultValue::Float(10.0), "Loss blow-up check: a step whose training loss is above this × the running median of the last divergence_window step losses (and above the run's first loss) counts as a divergence, caught before it turns into NaN; above 1, or 0 = off."),
    f("training", "divergence_window", int(1), DefaultValue::Int(100), "Step losses the running median of the loss blow-up check is taken over."),
    f("sampling", "temperature", num(0.0, false), DefaultValue::Float(0.8), "Softmax temperature; 0 = greedy (always the most likely token)."),
    f("sampling", "top_k", int(0), DefaultValue::Int(0), "Draw only from the k most likely tokens; 0 = all."),
    f("sampling", "length", int(1), DefaultValue::Int(200), "Tokens to generate (lines mode stops earlier at <eos>)."),
    f("sampling", "prime", Kind::Str, DefaultValue::Str(""), "Text fed to the model before generating."),
    f("task", "kind", Kind::Enum(&["language_model", "tagging", "classification", "regression"]), DefaultValue::Str("language_model"), "language_model: next-token prediction; tagging: a class per token; classification: a class per sequence; regression: a value per sequence. Implied by `generator`."),
    f("task", "format", Kind::Enum(&["columns", "labelled", "class_files"]), DefaultValue::None, "Files: columns (tagging: one token per line with its tag, blank line between sentences), labelled (label<TAB>text per line), class_files (one file per class, the file name is the label). Default: columns for tagging, labelled otherwise."),
    f("task", "token_column", int(1), DefaultValue::Int(1), "Column files: the token's column (from 1)."),
    f("task", "tag_column", int(1), DefaultValue::None, "Column files: the tag's column (from 1). Default: the last column."),
    f("task", "separator", Kind::Enum(&["auto", "tab", "whitespace"]), DefaultValue::Str("auto"), "Column files: tabs, any whitespace, or auto (tabs when the first line holds one)."),
    f("task", "unknown_words", Kind::Enum(&["unk", "signature"]), DefaultValue::Str("unk"), "Tagging: a word outside the vocabulary becomes <unk>, or its word-shape class (<unk-Cap-ing>, …); with signature, training words seen fewer than min_count times train the classes."),
    f("task", "word_dropout", range(0.0, false, 1.0, true), DefaultValue::Float(0.0), "Files: share of training tokens replaced by their unknown-word class at each step (a regulariser)."),
    f("task", "generator", Kind::Enum(&["adding", "reber", "temporal_order", "copy", "future_tags"]), DefaultValue::None, "A built-in synthetic task instead of files (docs/tasks.md): adding (regression), reber, copy, future_tags (tagging), temporal_order (classification)."),
    f("task", "length", int(1), DefaultValue::None, "adding, temporal_order: T (lengths from [T, T + T/10]); copy: the gap T. Default: 100."),
    f("task", "symbols", int(1), DefaultValue::None, "copy: symbols to recall (default 10); future_tags: alphabet size (default 8)."),
    f("task", "embedded", Kind::Bool, DefaultValue::Bool(true), "reber: the embedded grammar (long memory) or the plain one."),
    f("task", "min_len", int(1), DefaultValue::Int(10), "future_tags: shortest sequence."),
    f("task", "max_len", int(1), DefaultValue::Int(20), "future_tags: longest sequence."),
    f("task", "rule", Kind::Enum(&["ahead", "again"]), DefaultValue::Str("ahead"), "future_tags: the tag is the symbol `distance` steps ahead, or whether the symbol occurs again later."),
    f("task", "distance", int(1), DefaultValue::Int(2), "future_tags with rule = \"ahead\": how far ahead."),
    f("task", "val_size", int(1), DefaultValue::Int(1000), "Generated tasks: validation sequences."),
    f("task", "test_size", int(1), DefaultValue::None, "Generated tasks: fresh sequences of the solved test. Default: the task's (2560; reber 256)."),
    f("task", "max_wrong", range(0.0, false, 1.0, true), DefaultValue::None, "Generated tasks: solved when at most this share of the test sequences is wrong. Default: the task's (3/2560; reber 0; copy, future_tags 0.01)."),
];

/// Keys of one section, in table order.
pub fn keys_of(section: &str) -> Vec<&'static str> {
    FIELDS.iter().filter(|f| f.section == section).map(|f| f.key).collect()
}

/// The field `section.key`, if it exists.
pub fn field(section: &str, key: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.section == section && f.key == key)
}

fn field_schema(f: &Field) -> Value {
    let mut m = Map::new();
    m.insert("description".into(), Value::String(f.doc.to_string()));
    match f.kind {
        Kind::Str => {
            m.insert("type".into(), json!("string"));
        }
        Kind::Bool => {
            m.insert("type".into(), json!("boolean"));
        }
        Kind::Int { min } => {
            m.insert("type".into(), json!("integer"));
            m.insert("minimum".into(), json!(min));
        }
        Kind::Float {
            min,
            min_exclusive,
            max,
            max_exclusive,
        } => {
            m.insert("type".into(), json!("number"));
            if let Some(v) = min {
                let k = if min_exclusive { "exclusiveMinimum" } else { "minimum" };
                m.insert(k.into(), json!(v));
            }
            if let Some(v) = max {
                let k = if max_exclusive { "exclusiveMaximum" } else { "maximum" };
                m.insert(k.into(), json!(v));
            }
        }
        Kind::Enum(values) => {
            m.insert("type".into(), json!("string"));
            m.insert("enum".into(), json!(values));
        }
        Kind::StrList => {
            m.insert("type".into(), json!("array"));
            m.insert("items".into(), json!({ "type": "string" }));
            m.insert("minItems".into(), json!(1));
        }
    }
    match f.default {
        DefaultValue::None => {}
        DefaultValue::Str(s) => {
            m.insert("default".into(), json!(s));
        }
        DefaultValue::Bool(b) => {
            m.insert("default".into(), json!(b));
        }
        DefaultValue::Int(i) => {
            m.insert("default".into(), json!(i));
        }
        DefaultValue::Float(x) => {
            m.insert("default".into(), json!(x));
        }
    }
    Value::Object(m)
}

/// A JSON Schema (draft-07, as Taplo / Even Better TOML read it) of the experiment format.
pub fn json_schema() -> Value {
    let mut sections = Map::new();
    for (name, doc) in SECTIONS {
        let mut props = Map::new();
        for fd in FIELDS.iter().filter(|fd| fd.section == *name) {
            props.insert(fd.key.to_string(), field_schema(fd));
        }
        let sec = json!({
            "type": "object",
            "description": doc,
            "additionalProperties": false,
            "properties": Value::Object(props),
        });
        sections.insert(name.to_string(), sec);
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "rnn-lab experiment",
        "description": "An rnn-lab experiment file: data, model, training and sampling. See docs/experiment-format.md.",
        "type": "object",
        "additionalProperties": false,
        "properties": Value::Object(sections),
    })
}
