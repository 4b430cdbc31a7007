//! Command-line definitions (clap). Dispatch lives in `main.rs`; handlers in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// rnn-lab: a terminal workbench for training and looking inside RNN, GRU and LSTM models.
///
/// With no subcommand it opens the TUI: the experiment browser, or EXPERIMENT directly.
#[derive(Debug, Parser)]
#[command(name = "rnn-lab", version, args_conflicts_with_subcommands = true, after_help = AFTER_HELP)]
pub struct Cli {
    /// Experiment file to open in the TUI (or to train with --headless); a run directory,
    /// checkpoint or runs/NAME@latest opens that run's checkpoint for inspection (g sample,
    /// p probe, v evaluate); a suite folder (`rnn-lab suite --out DIR`) opens the suite screen.
    pub experiment: Option<PathBuf>,
    /// Run EXPERIMENT without a terminal UI (same as `rnn-lab train EXPERIMENT`).
    #[arg(long)]
    pub headless: bool,
    /// Subcommand.
    #[command(subcommand)]
    pub command: Option<Command>,
}

const AFTER_HELP: &str = "Exit status: 0 ok, 2 bad input or usage (one-line message naming the file and place), \
3 training diverged (NaN or infinite values; nothing broken is saved), 1 anything else.\n\
Examples:\n  rnn-lab                                  open the experiment browser\n  rnn-lab experiments/default.toml         train it in the TUI\n  rnn-lab runs/default@latest              inspect its newest run in the TUI\n  rnn-lab train experiments/default.toml --steps 300\n  rnn-lab sample runs/default@latest --temperature 0.7   (the newest run of experiment `default`)";

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train an experiment headless: progress on stderr, run directory under --out. Exits with
    /// status 3 if training diverges (after rolling back; nothing broken is saved).
    Train(TrainArgs),
    /// Generate text from a checkpoint.
    Sample(SampleArgs),
    /// Score a checkpoint on a file: cross-entropy, bits/token and perplexity (language models), or
    /// the task's metrics (tagging: accuracy and conlleval chunk F1; classification: accuracy,
    /// macro-F1, confusion matrix; regression: MSE; generated tasks: the solved test).
    Eval(EvalArgs),
    /// Run a task model (tagging, classification, regression) on a file: tags per token, the
    /// class with its probabilities per line, or the predicted value.
    Predict(PredictArgs),
    /// A task's baseline without a network (most frequent tag per word, or the majority class),
    /// fitted on the experiment's training data and scored on its validation and test data.
    Baseline(BaselineArgs),
    /// The long-memory suite: cell × task × seed on the generated tasks, several runs at once,
    /// each stopped when solved; a live table, then suite.md, suite.csv and suite.json.
    Suite(SuiteArgs),
    /// Validate an experiment file and print the resolved config with defaults.
    Check(CheckArgs),
    /// Print the JSON Schema of experiment files.
    Schema,
    /// Print a checkpoint's hidden states, gates, entropy, top-5 and gradient norms on a text
    /// (or, for a task model, on one of its validation sequences).
    Probe(ProbeArgs),
    /// Compare analytic gradients with finite differences (f64) on small random models.
    Gradcheck(GradcheckArgs),
    /// Time training (forward + backward + Adam) or batch-1 sampling on random data.
    Bench(BenchArgs),
    /// Run a hyper-parameter sweep (grid or random search) here or as a Slurm job array.
    Sweep(SweepArgs),
    /// Run one point of a sweep (what each Slurm array task runs).
    #[command(hide = true)]
    SweepPoint(SweepPointArgs),
    /// Write a checkpoint as a PyTorch state_dict with model.py, vocabulary and README.
    Export(ExportArgs),
    /// Read a PyTorch state_dict (an export folder) back into a checkpoint or run directory.
    Import(ImportArgs),
    /// Word vectors (word2vec): train, nearest neighbours, analogies, evaluation.
    W2v(W2vArgs),
}

/// Where sweep points run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecutorArg {
    /// On this machine, --parallel points at once.
    Local,
    /// As one Slurm job array (sbatch), one task per point.
    Slurm,
}

/// How the results table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// GitHub markdown.
    Markdown,
    /// Comma-separated values.
    Csv,
    /// One JSON document.
    Json,
}

/// `rnn-lab sweep`.
#[derive(Debug, Args)]
#[command(after_help = SWEEP_HELP)]
pub struct SweepArgs {
    /// Sweep file: a base experiment and axes over its keys (docs/experiment-format.md).
    pub sweep: PathBuf,
    /// Where the points run.
    #[arg(long, value_enum, default_value_t = ExecutorArg::Local)]
    pub executor: ExecutorArg,
    /// Local executor: points at once (the cores are shared out among them; default
    /// `[local] parallel` of the sweep file, else 1).
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Check everything and print what would run (the batch script for Slurm); run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the results table of what has run so far; run nothing.
    #[arg(long)]
    pub results: bool,
    /// Slurm: submit and return without following the job.
    #[arg(long)]
    pub no_wait: bool,
    /// Folder that holds sweep folders.
    #[arg(long, default_value = "sweeps")]
    pub out: PathBuf,
    /// Format of the table printed on stdout (all three are written into the sweep folder).
    #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
    pub format: TableFormat,
}

const SWEEP_HELP: &str = "Each point is an ordinary experiment file and run directories under <out>/<name>/; the results table \
(sorted by the best validation loss) goes to stdout and to results.md/.csv/.json there. Running the same command again \
skips finished points and resumes interrupted ones from their latest checkpoint. Ctrl-C stops the points (or scancels the \
Slurm job) with a checkpoint.\n\
Examples:\n  rnn-lab sweep experiments/sweeps/hidden_lr.toml --parallel 2\n  \
rnn-lab sweep experiments/sweeps/hidden_lr.toml --executor slurm --dry-run\n  \
rnn-lab sweep experiments/sweeps/hidden_lr.toml --results --format csv";

/// `rnn-lab sweep-point` (internal).
#[derive(Debug, Args)]
pub struct SweepPointArgs {
    /// The sweep folder (sweeps/<name>).
    pub dir: PathBuf,
    /// The point's index (the Slurm array index).
    pub index: usize,
    /// Training threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
}

/// `rnn-lab train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Experiment file.
    pub experiment: PathBuf,
    /// The step to train to (overrides [training] steps); with --resume, the total to reach,
    /// not a count from the checkpoint.
    #[arg(long)]
    pub steps: Option<u64>,
    /// Continue from this checkpoint: a .safetensors file, a run directory (its
    /// latest.safetensors) or runs/NAME@latest (the newest run of experiment NAME). A new run
    /// directory carries the old one's metrics on.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Folder that holds run directories.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
    /// Override the experiment's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// One JSON object per logged step on stdout (progress still on stderr).
    #[arg(long)]
    pub json: bool,
    /// Threads: the batch is split into this many row shards (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop after this many minutes of training (evaluation and sampling not counted); the
    /// progress line's ETA is that of whichever of --steps and --minutes ends the run first.
    #[arg(long)]
    pub minutes: Option<f64>,
    /// What to do when training diverges (NaN/∞, or a loss above [training] divergence_factor ×
    /// its running median): stop (roll back, exit with status 3) or lower-lr (roll back, halve
    /// the learning rate and go on, at most --max-retries times, then stop).
    #[arg(long, value_enum, default_value_t = DivergenceArg::Stop)]
    pub on_divergence: DivergenceArg,
    /// With --on-divergence lower-lr: how many times the run may halve its learning rate.
    #[arg(long, default_value_t = 3)]
    pub max_retries: u32,
}

/// `--on-divergence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DivergenceArg {
    /// Roll back to the last good checkpoint and exit with status 3.
    Stop,
    /// Roll back, halve the learning rate and go on (at most --max-retries times).
    LowerLr,
}

/// `rnn-lab sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Checkpoint: a .safetensors file, a run directory (its best.safetensors) or
    /// runs/NAME@latest (the newest run of experiment NAME).
    pub checkpoint: PathBuf,
    /// Softmax temperature; 0 = greedy.
    #[arg(long, short = 't')]
    pub temperature: Option<f64>,
    /// Keep only the K most likely tokens (0 = all).
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Text to feed in before sampling.
    #[arg(long, conflicts_with = "prime_file")]
    pub prime: Option<String>,
    /// File whose text is fed in before sampling.
    #[arg(long)]
    pub prime_file: Option<PathBuf>,
    /// Tokens to generate per sample.
    #[arg(long, short = 'n')]
    pub length: Option<usize>,
    /// Number of samples.
    #[arg(long, short = 'c', default_value_t = 1)]
    pub count: usize,
    /// Random seed (same seed, same text).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `rnn-lab eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Checkpoint: a .safetensors file, a run directory (its best.safetensors) or
    /// runs/NAME@latest (the newest run of experiment NAME).
    pub checkpoint: PathBuf,
    /// File to score: text (language models) or a file in the task's format with its labels.
    /// Without it: the experiment's `[data] test` files (a language model), the fresh test
    /// sequences (a generated task).
    pub file: Option<PathBuf>,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rnn-lab predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Checkpoint (.safetensors) of a tagging, classification or regression model.
    pub checkpoint: PathBuf,
    /// Input: a column file (tagging from column files), one text per line (classification,
    /// regression; a `label<TAB>` prefix is ignored), one sequence per line (generated tasks:
    /// the task's symbols, or `value,marker` pairs for the adding problem).
    pub file: PathBuf,
    /// One JSON object per sequence on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rnn-lab baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Experiment file of a tagging or classification task.
    pub experiment: PathBuf,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rnn-lab suite`.
#[derive(Debug, Args)]
pub struct SuiteArgs {
    /// The quick suite: shorter sequences and step budgets (adding T = 50, temporal order
    /// T = 30, copy of 3 symbols after 20 steps), one seed.
    #[arg(long)]
    pub quick: bool,
    /// Seeds per cell and task (default: 1 with --quick, else 3).
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Cells, comma-separated (default: rnn,gru,lstm).
    #[arg(long, value_delimiter = ',')]
    pub cells: Vec<String>,
    /// Tasks, comma-separated (default: adding,reber,temporal_order,copy,future_tags,future_tags_uni).
    #[arg(long, value_delimiter = ',')]
    pub tasks: Vec<String>,
    /// Override every run's step budget (each run still stops when solved).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Runs at once (default: the core count); each trains on one thread.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Folder of the suite: experiments/, runs/, results/ and the tables (default:
    /// runs/suite-quick or runs/suite). Runs whose result is there are not run again.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `rnn-lab check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Experiment file.
    pub experiment: PathBuf,
}

/// `rnn-lab probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Checkpoint: a .safetensors file, a run directory (its best.safetensors) or
    /// runs/NAME@latest (the newest run of experiment NAME).
    pub checkpoint: PathBuf,
    /// Text to run the model on (a language model needs it; a task model without it is probed
    /// on a sequence of its validation data, see --sequence).
    #[arg(long)]
    pub text: Option<String>,
    /// Task models without --text: which validation sequence to probe (0 = the first), read
    /// from the experiment's data as the TUI's `p` does (a generated task such as the adding
    /// problem draws its validation set from its seed).
    #[arg(long, conflicts_with = "text")]
    pub sequence: Option<usize>,
    /// One JSON document on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Units shown per layer in the table.
    #[arg(long, default_value_t = 8)]
    pub units: usize,
}

/// `rnn-lab export`.
#[derive(Debug, Args)]
#[command(
    after_help = "Writes into DIR: model.safetensors (the state_dict: embed.weight, rnn.weight_ih_l0 …, head.weight, head.bias), \
model.json, vocab.json, config.toml, model.py (the nn.Module), course_gru.py (course GRU only), check.safetensors, README.md.\n\
Load it in Python:\n  import sys; sys.path.insert(0, \"DIR\")\n  from model import load\n  model, vocab = load(\"DIR\")\n\
Check the load: python DIR/model.py   (largest logit difference from rnn-lab). See docs/scale.md."
)]
pub struct ExportArgs {
    /// Checkpoint: a .safetensors file, a run directory (its best.safetensors) or
    /// runs/NAME@latest (the newest run of experiment NAME).
    pub checkpoint: PathBuf,
    /// Folder to write the PyTorch export into (created if needed).
    #[arg(long, value_name = "DIR")]
    pub pytorch: PathBuf,
    /// Replace an existing DIR/model.safetensors (it may hold weights trained since).
    #[arg(long)]
    pub force: bool,
}

/// `rnn-lab import`.
#[derive(Debug, Args)]
#[command(
    after_help = "SOURCE is a folder written by `rnn-lab export` (or by model.save(DIR) in PyTorch), or a state_dict \
.safetensors file with that folder's model.json and vocab.json beside it.\n\
--out FILE.safetensors writes one checkpoint (rnn-lab probe/eval/sample, train --resume); any other --out is a new run \
directory (config.toml, latest.safetensors, best.safetensors) that the TUI's runs screen lists and continues with `t`."
)]
pub struct ImportArgs {
    /// Export folder or state_dict .safetensors file.
    pub source: PathBuf,
    /// Checkpoint file (ends in .safetensors) or new run directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing checkpoint file.
    #[arg(long)]
    pub force: bool,
}

/// Cell selection for gradcheck and bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CellArg {
    /// Vanilla RNN.
    Rnn,
    /// GRU (both variants in gradcheck).
    Gru,
    /// LSTM.
    Lstm,
    /// All three.
    All,
}

/// `rnn-lab gradcheck`.
#[derive(Debug, Args)]
pub struct GradcheckArgs {
    /// Cell to check.
    #[arg(long, value_enum, default_value_t = CellArg::All)]
    pub cell: CellArg,
    /// Stacked layers.
    #[arg(long, default_value_t = 1)]
    pub layers: usize,
    /// Bidirectional layers.
    #[arg(long)]
    pub bidirectional: bool,
    /// Also check every case under standard and variational dropout (rate 0.3 at every place,
    /// masks held fixed).
    #[arg(long)]
    pub dropout: bool,
    /// One JSON object per tensor on stdout.
    #[arg(long)]
    pub json: bool,
}

/// What `bench` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchModeArg {
    /// Training steps.
    Train,
    /// Evaluation: forward passes with loss, no backward.
    Eval,
    /// Batch-1 sampling.
    Sample,
}

/// `rnn-lab bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Cell (all = one line each).
    #[arg(long, value_enum, default_value_t = CellArg::Lstm)]
    pub cell: CellArg,
    /// Hidden size.
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    /// Layers.
    #[arg(long, default_value_t = 1)]
    pub layers: usize,
    /// Time steps per batch.
    #[arg(long, default_value_t = 64)]
    pub seq: usize,
    /// Sequences per batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Threads: the batch is split into this many row shards (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Timed steps (train) or tokens per repetition (sample).
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Train, eval (forward only) or sample (batch 1).
    #[arg(long, value_enum, default_value_t = BenchModeArg::Train)]
    pub mode: BenchModeArg,
    /// Learned embedding of this size instead of one-hot input.
    #[arg(long)]
    pub embedding: Option<usize>,
    /// Bidirectional layers (separate sequences: the state is not carried between batches).
    #[arg(long)]
    pub bidirectional: bool,
    /// Masked batches of variable-length sequences, lengths uniform in [T/4, T] (only real
    /// tokens are counted).
    #[arg(long)]
    pub variable_length: bool,
    /// Many-to-one classification into this many classes (one softmax per sequence, read after
    /// its last step) instead of a softmax at every step.
    #[arg(long)]
    pub classes: Option<usize>,
    /// One JSON line per result on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rnn-lab w2v`.
#[derive(Debug, Args)]
#[command(after_help = W2V_AFTER_HELP)]
pub struct W2vArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: W2vCommand,
}

const W2V_AFTER_HELP: &str = "VECTORS is a word2vec text or binary file (told apart by content) or a model .safetensors written by `w2v train --model`.\n\
Examples:\n  rnn-lab w2v train ../shared/data/ptb/ptb.train.txt --out ptb.bin --model ptb.safetensors\n  rnn-lab w2v neighbours ptb.bin president -n 10\n  rnn-lab w2v analogy ptb.bin man king woman\n  rnn-lab w2v eval ptb.bin --analogies questions-words.txt --pairs EN-WS-353-ALL.txt";

/// `rnn-lab w2v` subcommands.
#[derive(Debug, Subcommand)]
pub enum W2vCommand {
    /// Train word2vec on text files (one sentence per line) and write the vectors.
    Train(W2vTrainArgs),
    /// The words nearest to WORD by cosine similarity.
    #[command(alias = "neighbors")]
    Neighbours(W2vNeighboursArgs),
    /// A is to B as C is to ?: the words nearest to B − A + C (unit vectors, cosine), A, B and C left out.
    Analogy(W2vAnalogyArgs),
    /// Analogy accuracy (top-1, per section, semantic/syntactic, coverage) and word-similarity Spearman ρ.
    Eval(W2vEvalArgs),
}

/// Skip-gram or CBOW.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchArg {
    /// Each context word predicts the centre word.
    Skipgram,
    /// The mean of the context predicts the centre word.
    Cbow,
}

/// Negative sampling or hierarchical softmax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    /// Negative sampling.
    Ns,
    /// Hierarchical softmax (Huffman tree).
    Hs,
}

/// Word or character tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    /// Whitespace-separated words.
    Word,
    /// Every non-whitespace character.
    Char,
}

/// `rnn-lab w2v train`.
#[derive(Debug, Args)]
pub struct W2vTrainArgs {
    /// Text files (UTF-8); every line is a sentence.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the word vectors here (word2vec binary for a .bin name, text otherwise).
    #[arg(long, short = 'o')]
    pub out: Option<PathBuf>,
    /// Save the whole model (input and output vectors, vocabulary, progress) here, to resume.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Continue training from a model saved with --model, on the same files; every training setting comes from the model (the flags below are ignored).
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Architecture.
    #[arg(long, value_enum, default_value_t = ArchArg::Skipgram)]
    pub arch: ArchArg,
    /// Output layer and loss.
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Ns)]
    pub objective: ObjectiveArg,
    /// Tokens: words or characters.
    #[arg(long, value_enum, default_value_t = LevelArg::Word)]
    pub level: LevelArg,
    /// Vector dimension.
    #[arg(long, default_value_t = 100)]
    pub dim: usize,
    /// Largest window (each centre word draws its window from 1..=window).
    #[arg(long, default_value_t = 5)]
    pub window: usize,
    /// Negative words per example (negative sampling).
    #[arg(long, default_value_t = 5)]
    pub negative: usize,
    /// Subsampling threshold t (0 = off).
    #[arg(long, default_value_t = 1e-3)]
    pub sample: f64,
    /// Drop words seen fewer times.
    #[arg(long, default_value_t = 5)]
    pub min_count: u64,
    /// Passes over the corpus.
    #[arg(long, default_value_t = 5)]
    pub epochs: u32,
    /// Starting learning rate (default 0.025 skip-gram, 0.05 CBOW).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Final learning rate (default lr × 1e-4).
    #[arg(long)]
    pub min_lr: Option<f64>,
    /// Entries of the negative-sampling table.
    #[arg(long, default_value_t = 100_000_000)]
    pub table_size: usize,
    /// Seed (initial vectors and every random draw).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Threads (1 = deterministic; default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop after this many steps of ~10,000 words (the run can be resumed from --model).
    #[arg(long)]
    pub steps: Option<u64>,
    /// One JSON object per step and per epoch on stdout (progress stays on stderr).
    #[arg(long)]
    pub json: bool,
}

/// `rnn-lab w2v neighbours`.
#[derive(Debug, Args)]
pub struct W2vNeighboursArgs {
    /// Vectors file.
    pub vectors: PathBuf,
    /// The word.
    pub word: String,
    /// How many neighbours.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub n: usize,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rnn-lab w2v analogy`.
#[derive(Debug, Args)]
pub struct W2vAnalogyArgs {
    /// Vectors file.
    pub vectors: PathBuf,
    /// A (subtracted).
    pub a: String,
    /// B (added).
    pub b: String,
    /// C (added).
    pub c: String,
    /// How many answers.
    #[arg(short = 'n', long, default_value_t = 5)]
    pub n: usize,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rnn-lab w2v eval`.
#[derive(Debug, Args)]
pub struct W2vEvalArgs {
    /// Vectors file.
    pub vectors: PathBuf,
    /// Analogy file (`: section` lines and `a b c d` lines, as questions-words.txt); repeatable.
    #[arg(long)]
    pub analogies: Vec<PathBuf>,
    /// Word-similarity file (`word1 word2 score` lines, as WordSim-353, SimLex-999, MEN); repeatable.
    #[arg(long)]
    pub pairs: Vec<PathBuf>,
    /// Only the N most frequent words (the first N rows) take part.
    #[arg(long)]
    pub restrict_vocab: Option<usize>,
    /// Match words exactly (default: ignore case, as gensim).
    #[arg(long)]
    pub case_sensitive: bool,
    /// One JSON object per file on stdout.
    #[arg(long)]
    pub json: bool,
}
