//! A mini-batch in time-major layout, as the core consumes it.

use crate::nn::error::NnError;

/// Input token meaning "no input": x⟨t⟩ = 0 (the course's x⟨1⟩ = 0 at the start of a line,
/// and padding after the end of a short sequence).
pub const NO_INPUT: u32 = u32::MAX;

/// What the model is trained to predict for a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// One class per (t, b), time-major `[T * B]`; positions with mask 0 are ignored.
    PerStep(Vec<u32>),
    /// One class per sequence `[B]` (many-to-one classification).
    Class(Vec<u32>),
    /// One real vector per sequence, row-major `[B, outputs]` (many-to-one regression).
    Real(Vec<f64>),
}

/// `T` time steps of `B` sequences. Index `(t, b)` is at `t * B + b`.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Time steps T.
    pub steps: usize,
    /// Sequences B.
    pub batch: usize,
    /// Input token per (t, b), or [`NO_INPUT`].
    pub inputs: Vec<u32>,
    /// Targets.
    pub targets: Targets,
    /// 1 where (t, b) is a real step, 0 for padding after the sequence's end. Empty = all real.
    /// Sequences are left-aligned: once a row's mask is 0 it stays 0.
    pub mask: Vec<u8>,
    /// Real-valued inputs instead of tokens (the adding problem's (value, marker) pairs):
    /// `[T·B, V]` row-major, x⟨t⟩ of (t, b) at row `t * B + b`, V = the model's input size;
    /// zero rows for padding. Empty = token inputs (`inputs`); when given, `inputs` is all
    /// [`NO_INPUT`].
    pub features: Vec<f32>,
}

impl Batch {
    /// A batch with every step real.
    pub fn dense(steps: usize, batch: usize, inputs: Vec<u32>, targets: Targets) -> Self {
        Batch {
            steps,
            batch,
            inputs,
            targets,
            mask: Vec::new(),
            features: Vec::new(),
        }
    }

    /// True if (t, b) is a real step.
    #[inline]
    pub fn is_real(&self, i: usize) -> bool {
        self.mask.is_empty() || self.mask[i] != 0
    }

    /// Number of real (unpadded) time steps: the tokens read, whatever the head (throughput).
    pub fn real_steps(&self) -> usize {
        if self.mask.is_empty() {
            self.steps * self.batch
        } else {
            self.mask.iter().filter(|&&m| m != 0).count()
        }
    }

    /// Number of scored positions: real steps with a per-step target, or sequences.
    pub fn scored(&self) -> usize {
        match &self.targets {
            Targets::PerStep(_) => {
                if self.mask.is_empty() {
                    self.steps * self.batch
                } else {
                    self.mask.iter().filter(|&&m| m != 0).count()
                }
            }
            Targets::Class(_) | Targets::Real(_) => self.batch,
        }
    }

    /// Check sizes and index ranges against a vocabulary size and output size.
    pub fn check(&self, vocab: usize, outputs: usize) -> Result<(), NnError> {
        let n = self.steps * self.batch;
        let shape = |what: &str, expected: usize, got: usize| NnError::Shape {
            what: what.to_string(),
            expected: expected.to_string(),
            got: got.to_string(),
        };
        if self.steps == 0 || self.batch == 0 {
            return Err(shape("batch steps × sequences", 1, 0));
        }
        if self.inputs.len() != n {
            return Err(shape("batch inputs", n, self.inputs.len()));
        }
        if !self.mask.is_empty() && self.mask.len() != n {
            return Err(shape("batch mask", n, self.mask.len()));
        }
        if !self.features.is_empty() && self.features.len() != n * vocab {
            return Err(shape("batch dense inputs", n * vocab, self.features.len()));
        }
        for &x in &self.inputs {
            if x != NO_INPUT && x as usize >= vocab {
                return Err(NnError::Index {
                    what: "input token",
                    index: x,
                    size: vocab,
                });
            }
        }
        match &self.targets {
            Targets::PerStep(y) => {
                if y.len() != n {
                    return Err(shape("per-step targets", n, y.len()));
                }
                for (i, &c) in y.iter().enumerate() {
                    if self.is_real(i) && c as usize >= outputs {
                        return Err(NnError::Index {
                            what: "target",
                            index: c,
                            size: outputs,
                        });
                    }
                }
            }
            Targets::Class(y) => {
                if y.len() != self.batch {
                    return Err(shape("class targets", self.batch, y.len()));
                }
                if let Some(&c) = y.iter().find(|&&c| c as usize >= outputs) {
                    return Err(NnError::Index {
                        what: "class",
                        index: c,
                        size: outputs,
                    });
                }
            }
            Targets::Real(y) => {
                if y.len() != self.batch * outputs {
                    return Err(shape("regression targets", self.batch * outputs, y.len()));
                }
                if let Some((pos, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                    return Err(NnError::NonFiniteData {
                        what: "regression targets",
                        pos,
                        value,
                    });
                }
            }
        }
        Ok(())
    }
}
