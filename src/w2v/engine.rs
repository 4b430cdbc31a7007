//! The training loop: steps (runs of ~10,000 corpus words, see `corpus.rs`) taken by worker
//! threads that update the shared matrices without locks (Hogwild, `hogwild.rs`), or by the
//! calling thread alone in the deterministic mode (`threads = 1`).
//!
//! Every random number of step s (subsampling, window shrinking, negatives) comes from ChaCha8
//! seeded with the run's seed on stream s + 1 (stream 0 draws the initial vectors), and the
//! learning rate of a sentence is a function of its place in the whole run. So a step computes
//! the same thing whichever thread takes it and whenever: with one thread the run is
//! deterministic, and a run stopped after step s and resumed is bit-identical to one that never
//! stopped. With two threads the only difference is the interleaving of the Hogwild updates.
//!
//! The loss is the objective being optimised, per training example: one example is a
//! (centre, context) pair for skip-gram and a centre word with its context for CBOW; its loss is
//! −log σ(u_w·h) − Σ_k log σ(−u_k·h) for negative sampling (the k negatives actually drawn; a
//! draw equal to the true word is skipped, as in `word2vec.c`, and adds nothing), or
//! Σ_d −log σ((1 − 2·code_d)·u_d·h) over the Huffman path for hierarchical softmax. It is
//! computed for every example in f32 from the same dot products the update uses, summed per
//! step in f64 (never in a running f32 total, never across epochs), and reported as the mean per
//! example of each step and of each epoch (gensim issues #999, #1172, #2735, #2920 in
//! docs/word2vec.md).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::corpus::Corpus;
use super::hogwild::SharedRows;
use super::huffman::Huffman;
use super::kernels::{has_avx2_fma, sigmoid_and_loss, Plain, Rows};
use super::sampling::{keep_thresholds, slot, UnigramTable};
use super::settings::{Arch, Objective, Settings};
use super::vectors::Embeddings;
use super::W2vError;

/// Sums over the steps done of one epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochSums {
    /// Σ loss over the examples, nats.
    pub loss: f64,
    /// Training examples (skip-gram pairs or CBOW centre words).
    pub examples: u64,
    /// Corpus words.
    pub words: u64,
    /// Words left after subsampling.
    pub trained_words: u64,
    /// Steps done.
    pub steps: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Where a run is: everything besides the matrices that resuming needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Steps done over all epochs; the next step to take.
    pub step: u64,
    /// Wall-clock seconds spent training.
    pub seconds: f64,
    /// Sums of the epoch in progress (the one holding `step`).
    pub epoch: EpochSums,
    /// Mean loss per example of each finished epoch.
    pub epoch_losses: Vec<f64>,
}

/// One step done.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepReport {
    /// Number of this step, 1-based, over the whole run.
    pub step: u64,
    /// Steps in the whole run.
    pub total_steps: u64,
    /// Epoch of this step, 1-based.
    pub epoch: u32,
    /// Mean loss per training example over this step, nats.
    pub loss: f64,
    /// Training examples in this step.
    pub examples: u64,
    /// Corpus words in this step.
    pub words: u64,
    /// Words left after subsampling.
    pub trained_words: u64,
    /// Learning rate at the start of the step.
    pub lr: f64,
    /// Corpus words per second over the last couple of seconds (all threads).
    pub words_per_s: f64,
    /// Wall-clock seconds of training so far.
    pub seconds: f64,
}

/// One epoch finished.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochReport {
    /// Epoch, 1-based.
    pub epoch: u32,
    /// Mean loss per training example over the epoch, nats.
    pub loss: f64,
    /// Training examples.
    pub examples: u64,
    /// Corpus words.
    pub words: u64,
    /// Words left after subsampling.
    pub trained_words: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Corpus words per second.
    pub words_per_s: f64,
}

/// What [`Trainer::run`] tells its caller as it goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Report {
    /// A step is done (in the order steps finish; with several threads not strictly by number).
    Step(StepReport),
    /// An epoch is done (always in order, after its last step's report).
    Epoch(EpochReport),
}

/// A word2vec model being trained: settings, corpus, matrices, derived tables and progress.
pub struct Trainer {
    settings: Settings,
    corpus: Corpus,
    /// Input vectors `[V, dim]` (`syn0`): the word vectors.
    syn0: Vec<f32>,
    /// Output vectors: `syn1neg` `[V, dim]` (negative sampling) or `syn1` `[V − 1, dim]`
    /// (hierarchical softmax, one row per inner node).
    out: Vec<f32>,
    table: Option<UnigramTable>,
    keep: Vec<u32>,
    tree: Option<Huffman>,
    progress: Progress,
}

/// What a worker sends back after a step.
struct StepStats {
    step: u64,
    words: u64,
    trained: u64,
    examples: u64,
    loss: f64,
    lr: f64,
}

/// A thread's scratch buffers, reused across steps.
struct Scratch {
    kept: Vec<u32>,
    negs: Vec<u32>,
    neu1: Vec<f32>,
    neu1e: Vec<f32>,
}

impl Trainer {
    /// A fresh model: input vectors uniform in [−1/dim, 1/dim) (as gensim 4's `prep_vectors`;
    /// `word2vec.c` draws from half that range), output vectors zero.
    ///
    /// # Errors
    /// [`W2vError::Settings`] for settings that cannot train.
    pub fn new(settings: Settings, corpus: Corpus) -> Result<Trainer, W2vError> {
        settings.check()?;
        let (v, d) = (corpus.vocab.len(), settings.dim);
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
        // v_ij = (2·r − 1)/dim, r uniform in [0, 1). With word2vec.c's (r − 0.5)/dim the PTB
        // vectors scored lower, seed for seed (CBOW: 11 of 12 comparisons; docs/word2vec.md).
        let syn0 = (0..v * d)
            .map(|_| (2.0 * rng.random::<f32>() - 1.0) / d as f32)
            .collect();
        let rows = out_rows(&settings, v);
        Trainer::assemble(settings, corpus, syn0, vec![0.0; rows * d], Progress::default())
    }

    /// A model read back from a file, to continue training on `corpus`.
    ///
    /// # Errors
    /// [`W2vError::Settings`] when the matrices do not fit the settings and vocabulary.
    pub fn from_parts(
        settings: Settings,
        corpus: Corpus,
        syn0: Vec<f32>,
        out: Vec<f32>,
        progress: Progress,
    ) -> Result<Trainer, W2vError> {
        settings.check()?;
        let (v, d) = (corpus.vocab.len(), settings.dim);
        if syn0.len() != v * d || out.len() != out_rows(&settings, v) * d {
            return Err(W2vError::Settings(format!(
                "matrices of {} and {} floats do not fit {v} words × {d} dimensions",
                syn0.len(),
                out.len()
            )));
        }
        Trainer::assemble(settings, corpus, syn0, out, progress)
    }

    fn assemble(
        settings: Settings,
        corpus: Corpus,
        syn0: Vec<f32>,
        out: Vec<f32>,
        progress: Progress,
    ) -> Result<Trainer, W2vError> {
        let counts = corpus.vocab.counts();
        let (table, tree) = match settings.objective {
            Objective::Ns => (
                Some(UnigramTable::new(counts, settings.ns_exponent, settings.table_size)),
                None,
            ),
            Objective::Hs => (None, Some(Huffman::new(counts))),
        };
        let keep = keep_thresholds(counts, settings.sample);
        Ok(Trainer {
            settings,
            corpus,
            syn0,
            out,
            table,
            keep,
            tree,
            progress,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The corpus (and its vocabulary).
    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }

    /// Input vectors `[V, dim]`, row i = word i of the vocabulary.
    pub fn syn0(&self) -> &[f32] {
        &self.syn0
    }

    /// Output vectors (`syn1neg` `[V, dim]` or `syn1` `[V − 1, dim]`).
    pub fn out(&self) -> &[f32] {
        &self.out
    }

    /// Where the run is.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Steps in the whole run: epochs × steps per epoch.
    pub fn total_steps(&self) -> u64 {
        u64::from(self.settings.epochs) * self.corpus.steps_per_epoch()
    }

    /// Whether every step is done.
    pub fn finished(&self) -> bool {
        self.progress.step >= self.total_steps()
    }

    /// The learning rate after `words_done` corpus words of the whole run: linear from `lr` to
    /// `min_lr` over epochs × corpus words (gensim's form; `word2vec.c` decays to 0 and floors
    /// at lr·10⁻⁴, the same line to within lr·10⁻⁴).
    pub fn lr_at(&self, words_done: u64) -> f64 {
        lr_at(&self.settings, self.corpus.words(), words_done)
    }

    /// The learning rate at the next step.
    pub fn current_lr(&self) -> f64 {
        let spe = self.corpus.steps_per_epoch();
        let s = self.progress.step.min(self.total_steps().saturating_sub(1));
        let words = (s / spe) * self.corpus.words() + self.corpus.step((s % spe) as usize).word_start;
        self.lr_at(words)
    }

    /// A copy of the input vectors with their words, for queries.
    pub fn embeddings(&self) -> Embeddings {
        Embeddings::new(self.corpus.vocab.words().to_vec(), self.settings.dim, self.syn0.clone())
    }

    /// Train until `until` steps are done (capped at [`Self::total_steps`]) or `stop` is set,
    /// on `threads` threads (1 = deterministic, in the calling thread). `on` is called on the
    /// calling thread for every step and epoch finished; it may set `stop`. Steps already begun
    /// when `stop` is seen are finished, so the steps done are always a prefix of the plan.
    /// Returns the number of steps done by this call.
    pub fn run(&mut self, until: u64, threads: usize, stop: &AtomicBool, on: &mut dyn FnMut(&Report)) -> u64 {
        let until = until.min(self.total_steps());
        let start = self.progress.step;
        if start >= until {
            return 0;
        }
        let Trainer {
            settings,
            corpus,
            syn0,
            out,
            table,
            keep,
            tree,
            progress,
        } = self;
        let (dim, negative) = (settings.dim, settings.negative);
        let ctx = Ctx {
            s: settings,
            corpus,
            syn0: SharedRows::new(syn0, dim),
            out: SharedRows::new(out, dim),
            table: table.as_ref(),
            keep,
            tree: tree.as_ref(),
            simd: has_avx2_fma(),
        };
        let mut book = Book::new(progress, corpus.steps_per_epoch(), u64::from(settings.epochs));
        if threads <= 1 {
            let mut scratch = Scratch::new(dim, negative);
            let mut s = start;
            while s < until && !stop.load(Ordering::Relaxed) {
                let st = ctx.step(&mut scratch, s);
                book.record(&st, on);
                s += 1;
            }
            book.finish(s);
        } else {
            let next = AtomicU64::new(start);
            let (tx, rx) = mpsc::channel::<StepStats>();
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    let (tx, ctx, next) = (tx.clone(), &ctx, &next);
                    scope.spawn(move || {
                        let mut scratch = Scratch::new(dim, negative);
                        while !stop.load(Ordering::Relaxed) {
                            let s = next.fetch_add(1, Ordering::Relaxed);
                            if s >= until {
                                break;
                            }
                            if tx.send(ctx.step(&mut scratch, s)).is_err() {
                                break;
                            }
                        }
                    });
                }
                drop(tx);
                for st in rx {
                    book.record(&st, on);
                }
            });
            // Every step claimed below `until` was finished before its thread ended.
            book.finish(next.load(Ordering::Relaxed).min(until));
        }
        self.progress.step - start
    }
}

fn out_rows(s: &Settings, v: usize) -> usize {
    match s.objective {
        Objective::Ns => v,
        Objective::Hs => v.saturating_sub(1),
    }
}

fn lr_at(s: &Settings, corpus_words: u64, words_done: u64) -> f64 {
    let planned = f64::from(s.epochs) * corpus_words as f64;
    let p = if planned > 0.0 {
        words_done as f64 / planned
    } else {
        1.0
    };
    (s.lr - (s.lr - s.min_lr) * p).max(s.min_lr)
}

impl Scratch {
    fn new(dim: usize, negative: usize) -> Self {
        Scratch {
            kept: Vec::with_capacity(10_000),
            negs: vec![0; negative],
            neu1: vec![0.0; dim],
            neu1e: vec![0.0; dim],
        }
    }
}

/// What the threads share: read-only tables and the two Hogwild matrices.
struct Ctx<'a> {
    s: &'a Settings,
    corpus: &'a Corpus,
    syn0: SharedRows<'a>,
    out: SharedRows<'a>,
    table: Option<&'a UnigramTable>,
    keep: &'a [u32],
    tree: Option<&'a Huffman>,
    simd: bool,
}

impl Ctx<'_> {
    /// Train step `s` (global index) and return its sums.
    fn step(&self, sc: &mut Scratch, s: u64) -> StepStats {
        #[cfg(target_arch = "x86_64")]
        if self.simd {
            // SAFETY: `simd` is true only when the CPU has AVX2 and FMA.
            return unsafe { self.step_avx2(sc, s) };
        }
        self.step_with::<Plain>(sc, s)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn step_avx2(&self, sc: &mut Scratch, s: u64) -> StepStats {
        self.step_with::<super::kernels::Avx2>(sc, s)
    }

    #[inline(always)]
    fn step_with<K: Rows>(&self, sc: &mut Scratch, s: u64) -> StepStats {
        let corpus = self.corpus;
        let spe = corpus.steps_per_epoch();
        let plan = corpus.step((s % spe) as usize);
        let mut rng = ChaCha8Rng::seed_from_u64(self.s.seed);
        rng.set_stream(s + 1);
        let mut done = (s / spe) * corpus.words() + plan.word_start;
        let mut st = StepStats {
            step: s,
            words: plan.words,
            trained: 0,
            examples: 0,
            loss: 0.0,
            lr: lr_at(self.s, corpus.words(), done),
        };
        let (window, dim) = (self.s.window, self.s.dim);
        let Scratch {
            kept,
            neu1,
            neu1e,
            negs,
        } = sc;
        for si in plan.sentences.clone() {
            let sentence = corpus.sentence(si);
            let lr = lr_at(self.s, corpus.words(), done) as f32;
            done += sentence.len() as u64;
            // Subsampling: keep an occurrence of w with probability ≈ (threshold_w + 1) / 2³².
            kept.clear();
            for &w in sentence {
                let t = self.keep[w as usize];
                if t == u32::MAX || rng.next_u32() <= t {
                    kept.push(w);
                }
            }
            st.trained += kept.len() as u64;
            let n = kept.len();
            for pos in 0..n {
                let w = kept[pos];
                // Random shrinking: this centre word's window is r ∈ 1..=window, uniform.
                let r = window - slot(rng.next_u32(), window);
                let (lo, hi) = (pos.saturating_sub(r), (pos + r + 1).min(n));
                match self.s.arch {
                    Arch::Skipgram => {
                        for c in (lo..hi).filter(|&c| c != pos) {
                            // The context word's input vector h = v_c predicts the centre w.
                            let h = self.syn0.row(kept[c]);
                            neu1e.fill(0.0);
                            // SAFETY: h is a row of dim floats of syn0; neu1e is dim floats
                            // local to this thread; the output rows belong to `out`.
                            unsafe {
                                st.loss += self.output::<K>(h, w, lr, &mut rng, negs, neu1e.as_mut_ptr());
                                K::axpy(1.0, neu1e.as_ptr(), h, dim); // v_c += Σ g·u
                            }
                            st.examples += 1;
                        }
                    }
                    Arch::Cbow => {
                        // h = mean of the context's input vectors.
                        neu1.fill(0.0);
                        let mut cw = 0u32;
                        for c in (lo..hi).filter(|&c| c != pos) {
                            // SAFETY: a syn0 row and the thread's own neu1, dim floats each.
                            unsafe { K::axpy(1.0, self.syn0.row(kept[c]), neu1.as_mut_ptr(), dim) };
                            cw += 1;
                        }
                        if cw == 0 {
                            continue;
                        }
                        let inv = 1.0 / cw as f32;
                        neu1.iter_mut().for_each(|x| *x *= inv);
                        neu1e.fill(0.0);
                        // SAFETY: neu1 and neu1e are this thread's dim floats; rows of `out`.
                        unsafe {
                            st.loss += self.output::<K>(neu1.as_ptr(), w, lr, &mut rng, negs, neu1e.as_mut_ptr());
                        }
                        // Every context word gets the whole error (as word2vec.c and gensim).
                        for c in (lo..hi).filter(|&c| c != pos) {
                            // SAFETY: as above.
                            unsafe { K::axpy(1.0, neu1e.as_ptr(), self.syn0.row(kept[c]), dim) };
                        }
                        st.examples += 1;
                    }
                }
            }
        }
        st
    }

    /// One example's output layer: update the output rows, accumulate ∂(−L)/∂h·lr into `neu1e`
    /// and return the example's loss. For each binary prediction with score f = h·u and label y:
    /// g = (y − σ(f))·lr; neu1e += g·u; u += g·h.
    ///
    /// # Safety
    /// `h` and `neu1e` point to `dim` floats, `neu1e` not inside `out`, `h` not inside `out`.
    #[inline(always)]
    unsafe fn output<K: Rows>(
        &self,
        h: *const f32,
        w: u32,
        lr: f32,
        rng: &mut ChaCha8Rng,
        negs: &mut [u32],
        neu1e: *mut f32,
    ) -> f64 {
        let dim = self.s.dim;
        let mut loss = 0.0f32;
        let mut predict = |u: *mut f32, label: bool| {
            let f = K::dot(h, u, dim);
            let (sigma, l) = sigmoid_and_loss(f, label);
            loss += l;
            let g = (if label { 1.0 } else { 0.0 } - sigma) * lr;
            K::axpy(g, u, neu1e, dim);
            K::axpy(g, h, u, dim);
        };
        match (self.table, self.tree) {
            (Some(table), _) => {
                // Draw the negatives first and ask for their rows, so the k cache misses
                // overlap instead of following one another (same draws, same order).
                let k = self.s.negative.min(negs.len());
                for n in negs[..k].iter_mut() {
                    *n = table.draw(rng.next_u64());
                    K::prefetch(self.out.row(*n), dim);
                }
                predict(self.out.row(w), true);
                for &t in &negs[..k] {
                    if t != w {
                        predict(self.out.row(t), false);
                    }
                }
            }
            (None, Some(tree)) => {
                for (&code, &node) in tree.code(w).iter().zip(tree.points(w)) {
                    predict(self.out.row(node), code == 0);
                }
            }
            (None, None) => {}
        }
        f64::from(loss)
    }
}

/// The calling thread's bookkeeping: per-epoch sums, throughput, reports.
struct Book<'a> {
    progress: &'a mut Progress,
    spe: u64,
    total: u64,
    epochs: BTreeMap<u64, EpochSums>,
    last: Instant,
    /// (time, cumulative words) over the last couple of seconds.
    window: VecDeque<(Instant, u64)>,
    words: u64,
}

impl<'a> Book<'a> {
    fn new(progress: &'a mut Progress, spe: u64, epochs: u64) -> Self {
        let now = Instant::now();
        let mut map = BTreeMap::new();
        map.insert(progress.step / spe, progress.epoch);
        Book {
            progress,
            spe,
            total: spe * epochs,
            epochs: map,
            last: now,
            window: VecDeque::from([(now, 0)]),
            words: 0,
        }
    }

    fn record(&mut self, st: &StepStats, on: &mut dyn FnMut(&Report)) {
        let now = Instant::now();
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.progress.seconds += dt;
        let e = st.step / self.spe;
        let acc = self.epochs.entry(e).or_default();
        acc.loss += st.loss;
        acc.examples += st.examples;
        acc.words += st.words;
        acc.trained_words += st.trained;
        acc.steps += 1;
        acc.seconds += dt;
        self.words += st.words;
        self.window.push_back((now, self.words));
        while self.window.len() > 2 && now.duration_since(self.window[1].0).as_secs_f64() > 2.0 {
            self.window.pop_front();
        }
        let (t0, w0) = self.window[0];
        let span = now.duration_since(t0).as_secs_f64();
        on(&Report::Step(StepReport {
            step: st.step + 1,
            total_steps: self.total,
            epoch: e as u32 + 1,
            loss: if st.examples > 0 {
                st.loss / st.examples as f64
            } else {
                0.0
            },
            examples: st.examples,
            words: st.words,
            trained_words: st.trained,
            lr: st.lr,
            words_per_s: if span > 0.0 {
                (self.words - w0) as f64 / span
            } else {
                0.0
            },
            seconds: self.progress.seconds,
        }));
        // Epochs are reported in order, once all their steps are in.
        while let Some((&e, acc)) = self.epochs.first_key_value() {
            if acc.steps < self.spe {
                break;
            }
            let acc = *acc;
            self.epochs.remove(&e);
            let loss = if acc.examples > 0 {
                acc.loss / acc.examples as f64
            } else {
                0.0
            };
            self.progress.epoch_losses.push(loss);
            on(&Report::Epoch(EpochReport {
                epoch: e as u32 + 1,
                loss,
                examples: acc.examples,
                words: acc.words,
                trained_words: acc.trained_words,
                seconds: acc.seconds,
                words_per_s: if acc.seconds > 0.0 {
                    acc.words as f64 / acc.seconds
                } else {
                    0.0
                },
            }));
        }
    }

    /// All steps below `done` are finished: keep the sums of the epoch holding `done`.
    fn finish(self, done: u64) {
        self.progress.step = done;
        self.progress.epoch = self.epochs.get(&(done / self.spe)).copied().unwrap_or_default();
    }
}
