//! What a view colours: the hidden state, a gate or the LSTM cell of one layer and direction,
//! as a `[T][H]` matrix with its scale.

use crate::infer::probe::DirProbe;

use super::palette::{self, Scale};

/// Where a coloured matrix comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// The hidden state a⟨t⟩.
    Hidden,
    /// Gate `i` of the layer.
    Gate(usize),
    /// The LSTM cell c⟨t⟩.
    Cell,
}

/// The gates view's sources: every gate, then the LSTM cell.
pub(super) fn gate_sources(dir: &DirProbe) -> Vec<Source> {
    let mut v: Vec<Source> = (0..dir.gates.len()).map(Source::Gate).collect();
    if dir.cell.is_some() {
        v.push(Source::Cell);
    }
    v
}

/// The text view's sources: the hidden state, then the gates view's.
pub(super) fn text_sources(dir: &DirProbe) -> Vec<Source> {
    let mut v = vec![Source::Hidden];
    v.extend(gate_sources(dir));
    v
}

/// Source `i`, wrapping; `None` when there is none.
pub(super) fn pick(sources: &[Source], i: usize) -> Option<Source> {
    if sources.is_empty() {
        None
    } else {
        sources.get(i % sources.len()).copied()
    }
}

/// One `[T][H]` matrix with how to colour it.
#[derive(Clone, Debug)]
pub(super) struct Channel<'r> {
    /// Name for titles, e.g. "Γf forget".
    pub(super) name: String,
    /// `[T][H]` values.
    pub(super) values: &'r [Vec<f32>],
    /// How values map to colours.
    pub(super) scale: Scale,
    /// Pass values through tanh before colouring (the unbounded LSTM cell).
    pub(super) squash: bool,
}

impl<'r> Channel<'r> {
    /// The matrix of `source` in `dir`, if the layer has it.
    pub(super) fn of(dir: &'r DirProbe, source: Source) -> Option<Self> {
        match source {
            Source::Hidden => Some(Self {
                name: "hidden a⟨t⟩".into(),
                values: &dir.hidden,
                scale: Scale::Diverging,
                squash: false,
            }),
            Source::Gate(i) => dir.gates.get(i).map(|g| Self {
                name: gate_title(&g.name),
                values: &g.values,
                scale: Scale::Sequential,
                squash: false,
            }),
            Source::Cell => dir.cell.as_ref().map(|c| Self {
                name: "cell tanh(c⟨t⟩)".into(),
                values: c,
                scale: Scale::Diverging,
                squash: true,
            }),
        }
    }

    /// Value at `[t][u]` ready for the scale (squashed if needed), when present and finite.
    pub(super) fn get(&self, t: usize, u: usize) -> Option<f32> {
        crate::infer::analysis::value(self.values, t, u).map(|v| if self.squash { palette::squash(v) } else { v })
    }
}

/// "update" → "Γu update" and so on, in the course notation.
pub(super) fn gate_title(name: &str) -> String {
    let sym = match name {
        "update" => "Γu ",
        "relevance" => "Γr ",
        "forget" => "Γf ",
        "output" => "Γo ",
        "reset" => "r ",
        "update_z" => "z ",
        _ => "",
    };
    format!("{sym}{name}")
}
