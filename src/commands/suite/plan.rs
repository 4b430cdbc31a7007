//! The suite's runs: which task with which settings, as ordinary experiment files (each run's
//! TOML is written beside the results, so any run can be repeated with `rnn-lab train`).

use crate::nn::spec::CellKind;

/// One task of the suite, with its quick and full settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SuiteTask {
    /// The name on the command line and in the table.
    pub name: &'static str,
    /// `[task]` lines of the quick suite.
    pub quick: &'static str,
    /// `[task]` lines of the full suite.
    pub full: &'static str,
    /// Bidirectional layers.
    pub bidirectional: bool,
    /// Hidden units.
    pub hidden: usize,
    /// Adam's learning rate for each cell: rnn, gru, lstm.
    pub lr: [f64; 3],
    /// The LSTM's initial forget-gate bias (`[model] forget_bias`; the other cells have none).
    pub forget_bias: f64,
    /// Training steps (batches of 32) at most: quick, full. A run stops at the first
    /// evaluation that passes the solved test.
    pub steps: (u64, u64),
    /// Steps between evaluations (each runs the solved test on fresh sequences).
    pub eval_every: u64,
}

/// Every task, in table order. The settings are the ones docs/tasks.md reports.
pub const TASKS: &[SuiteTask] = &[
    SuiteTask {
        name: "adding",
        quick: "generator = \"adding\"\nlength = 50",
        full: "generator = \"adding\"\nlength = 100",
        bidirectional: false,
        hidden: 64,
        lr: [1e-2; 3],
        forget_bias: 3.0,
        steps: (8000, 30000),
        eval_every: 100,
    },
    SuiteTask {
        name: "reber",
        quick: "generator = \"reber\"\nembedded = true",
        full: "generator = \"reber\"\nembedded = true",
        bidirectional: false,
        hidden: 16,
        lr: [1e-2; 3],
        forget_bias: 1.0,
        steps: (1500, 10000),
        eval_every: 50,
    },
    SuiteTask {
        name: "temporal_order",
        quick: "generator = \"temporal_order\"\nlength = 30",
        full: "generator = \"temporal_order\"\nlength = 100",
        bidirectional: false,
        hidden: 32,
        lr: [1e-2; 3],
        forget_bias: 3.0,
        steps: (3000, 30000),
        eval_every: 100,
    },
    SuiteTask {
        name: "copy",
        quick: "generator = \"copy\"\nlength = 20\nsymbols = 3",
        full: "generator = \"copy\"\nlength = 50\nsymbols = 10",
        bidirectional: false,
        hidden: 64,
        lr: [1e-2; 3],
        forget_bias: 3.0,
        steps: (8000, 30000),
        eval_every: 100,
    },
    SuiteTask {
        name: "future_tags",
        quick: "generator = \"future_tags\"\nrule = \"ahead\"\ndistance = 2",
        full: "generator = \"future_tags\"\nrule = \"ahead\"\ndistance = 2",
        bidirectional: true,
        hidden: 32,
        lr: [1e-2; 3],
        forget_bias: 1.0,
        steps: (2000, 5000),
        eval_every: 100,
    },
    SuiteTask {
        name: "future_tags_uni",
        quick: "generator = \"future_tags\"\nrule = \"ahead\"\ndistance = 2",
        full: "generator = \"future_tags\"\nrule = \"ahead\"\ndistance = 2",
        bidirectional: false,
        hidden: 32,
        lr: [1e-2; 3],
        forget_bias: 1.0,
        steps: (2000, 5000),
        eval_every: 100,
    },
];

/// The task called `name`.
pub fn task(name: &str) -> Option<&'static SuiteTask> {
    TASKS.iter().find(|t| t.name == name)
}

/// One run: a task, a cell and a seed.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPlan {
    /// The task.
    pub task: &'static SuiteTask,
    /// The cell.
    pub cell: CellKind,
    /// The seed (1, 2, …).
    pub seed: u64,
    /// Quick settings.
    pub quick: bool,
    /// Override of the step budget (`--steps`).
    pub steps: Option<u64>,
}

impl RunPlan {
    /// `adding-lstm-s1`: the run's name (its experiment, run directory and result file).
    pub fn name(&self) -> String {
        format!("{}-{}-s{}", self.task.name, self.cell.name(), self.seed)
    }

    /// The step budget.
    pub fn steps(&self) -> u64 {
        if let Some(s) = self.steps {
            s
        } else if self.quick {
            self.task.steps.0
        } else {
            self.task.steps.1
        }
    }

    /// Adam's learning rate of this run's cell.
    pub fn lr(&self) -> f64 {
        match self.cell {
            CellKind::Rnn => self.task.lr[0],
            CellKind::Gru => self.task.lr[1],
            CellKind::Lstm => self.task.lr[2],
        }
    }

    /// The run's experiment file.
    pub fn toml(&self) -> String {
        let t = self.task;
        // Only the LSTM has a forget gate; the others' files do not mention it.
        let forget_bias = if self.cell == CellKind::Lstm {
            format!("forget_bias = {:?}\n", t.forget_bias)
        } else {
            String::new()
        };
        format!(
            "#:schema ../../../experiments/schema.json\n\
             # rnn-lab suite{}: {} with a {} cell, seed {}.\n\
             [experiment]\nname = \"{}\"\nseed = {}\n\n\
             [task]\n{}\n\n\
             [model]\ncell = \"{}\"\nhidden = {}\nbidirectional = {}\n{}\n\
             [training]\noptimizer = \"adam\"\nlr = {}\nbatch_size = 32\nsteps = {}\n\
             log_every = {}\neval_every = {}\ncheckpoint_every = 0\nprobe_every = 0\n",
            if self.quick { " --quick" } else { "" },
            t.name,
            self.cell.name(),
            self.seed,
            self.name(),
            self.seed,
            if self.quick { t.quick } else { t.full },
            self.cell.name(),
            t.hidden,
            t.bidirectional,
            forget_bias,
            self.lr(),
            self.steps(),
            t.eval_every,
            t.eval_every,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_run_is_a_valid_experiment() {
        for t in TASKS {
            for cell in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
                for quick in [true, false] {
                    let p = RunPlan {
                        task: t,
                        cell,
                        seed: 2,
                        quick,
                        steps: None,
                    };
                    let e = crate::config::parse_str(&p.toml(), Path::new("suite.toml"))
                        .unwrap_or_else(|e| panic!("{}: {e}\n{}", p.name(), p.toml()));
                    assert_eq!(e.name, p.name());
                    assert_eq!(e.seed, 2);
                    assert_eq!(e.model.bidirectional, t.bidirectional);
                    assert_eq!(e.training.optim.lr, p.lr());
                    if cell == CellKind::Lstm {
                        assert_eq!(e.model.forget_bias, t.forget_bias);
                    } else {
                        assert!(!p.toml().contains("forget_bias"));
                    }
                    assert!(!e.task.is_language_model());
                }
            }
        }
    }
}
