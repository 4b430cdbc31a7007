//! `rnn-lab w2v`: train word2vec, nearest neighbours, analogies, evaluation (docs/word2vec.md).

pub mod experiment;
mod train;

use std::path::Path;

use serde::Serialize;

use super::CliError;
use crate::cli::{W2vAnalogyArgs, W2vArgs, W2vCommand, W2vEvalArgs, W2vNeighboursArgs};
use crate::w2v::eval::{self, Matching};
use crate::w2v::{formats, model_file, Embeddings, W2vError};

/// Run a `w2v` subcommand.
pub fn run(a: &W2vArgs) -> Result<(), CliError> {
    match &a.command {
        W2vCommand::Train(t) => train::run(t),
        W2vCommand::Neighbours(n) => neighbours(n),
        W2vCommand::Analogy(x) => analogy(x),
        W2vCommand::Eval(e) => evaluate(e),
    }
}

/// A word2vec error as a command error: exit 2 for the user's input, 1 for a failed write.
pub(crate) fn cli(e: W2vError) -> CliError {
    if e.is_input() {
        CliError::input(e)
    } else {
        CliError::other(e)
    }
}

/// Read word vectors: a word2vec text or binary file, or a model written by `w2v train --model`.
///
/// # Errors
/// A one-line error naming the file and place.
pub fn load_vectors(path: &Path) -> Result<Embeddings, W2vError> {
    let bytes = std::fs::read(path).map_err(|e| W2vError::read(path, &e))?;
    let file = path.display().to_string();
    if model_file::is_model(&bytes) {
        Ok(model_file::parse(&bytes, &file)?.embeddings())
    } else {
        formats::parse(&bytes, &file)
    }
}

#[derive(Serialize)]
struct Scored<'a> {
    word: &'a str,
    cosine: f32,
}

fn scored<'a>(emb: &'a Embeddings, list: &[(u32, f32)]) -> Vec<Scored<'a>> {
    list.iter()
        .map(|&(i, c)| Scored {
            word: emb.word(i),
            cosine: c,
        })
        .collect()
}

fn print_list(list: &[Scored<'_>]) {
    let width = list.iter().map(|s| s.word.chars().count()).max().unwrap_or(0);
    for (k, s) in list.iter().enumerate() {
        let pad = width - s.word.chars().count();
        println!("{:>4}  {}{}  {:.4}", k + 1, s.word, " ".repeat(pad), s.cosine);
    }
}

fn json_line(v: &impl Serialize) -> Result<(), CliError> {
    println!("{}", serde_json::to_string(v).map_err(CliError::other)?);
    Ok(())
}

fn neighbours(a: &W2vNeighboursArgs) -> Result<(), CliError> {
    let emb = load_vectors(&a.vectors).map_err(cli)?;
    let file = a.vectors.display().to_string();
    let id = emb.lookup(&a.word, &file).map_err(cli)?;
    let list = emb.neighbours(id, a.n);
    let list = scored(&emb, &list);
    if a.json {
        #[derive(Serialize)]
        struct Out<'a> {
            word: &'a str,
            neighbours: Vec<Scored<'a>>,
        }
        return json_line(&Out {
            word: &a.word,
            neighbours: list,
        });
    }
    println!("nearest to `{}` by cosine ({file}, {} words):", a.word, emb.len());
    print_list(&list);
    Ok(())
}

fn analogy(a: &W2vAnalogyArgs) -> Result<(), CliError> {
    let emb = load_vectors(&a.vectors).map_err(cli)?;
    let file = a.vectors.display().to_string();
    let ia = emb.lookup(&a.a, &file).map_err(cli)?;
    let ib = emb.lookup(&a.b, &file).map_err(cli)?;
    let ic = emb.lookup(&a.c, &file).map_err(cli)?;
    let list = emb.analogy(ia, ib, ic, a.n);
    let list = scored(&emb, &list);
    if a.json {
        #[derive(Serialize)]
        struct Out<'a> {
            a: &'a str,
            b: &'a str,
            c: &'a str,
            answers: Vec<Scored<'a>>,
        }
        return json_line(&Out {
            a: &a.a,
            b: &a.b,
            c: &a.c,
            answers: list,
        });
    }
    println!(
        "{} : {} :: {} : ?   (nearest to {} − {} + {}, cosine)",
        a.a, a.b, a.c, a.b, a.a, a.c
    );
    print_list(&list);
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn evaluate(a: &W2vEvalArgs) -> Result<(), CliError> {
    if a.analogies.is_empty() && a.pairs.is_empty() {
        return Err(CliError::input(
            "w2v eval: give --analogies FILE and/or --pairs FILE (e.g. ../shared/data/eval/questions-words.txt)",
        ));
    }
    if a.restrict_vocab == Some(0) {
        return Err(CliError::input("--restrict-vocab must be at least 1"));
    }
    // Read every file first, so a bad one fails before any work.
    let analogy_sets = a
        .analogies
        .iter()
        .map(|p| eval::read_analogies(p).map(|s| (p, s)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(cli)?;
    let pair_sets = a
        .pairs
        .iter()
        .map(|p| eval::read_pairs(p).map(|s| (p, s)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(cli)?;
    let emb = load_vectors(&a.vectors).map_err(cli)?;
    let m = Matching {
        restrict: a.restrict_vocab,
        case_sensitive: a.case_sensitive,
    };
    let vocab = m.restrict.map_or(emb.len(), |r| r.min(emb.len()));
    if !a.json {
        println!(
            "{}: {} words × {}{}",
            a.vectors.display(),
            emb.len(),
            emb.dim(),
            if vocab < emb.len() {
                format!(" (the {vocab} most frequent take part)")
            } else {
                String::new()
            }
        );
    }
    for (path, set) in &analogy_sets {
        let r = eval::evaluate_analogies(&emb, set, m);
        if a.json {
            #[derive(Serialize)]
            struct Out<'a> {
                file: String,
                kind: &'static str,
                accuracy: f64,
                coverage: f64,
                #[serde(flatten)]
                report: &'a eval::AnalogyReport,
            }
            json_line(&Out {
                file: path.display().to_string(),
                kind: "analogies",
                accuracy: r.total.accuracy(),
                coverage: r.total.coverage(),
                report: &r,
            })?;
            continue;
        }
        println!(
            "\nanalogies {} (top-1 accuracy over answered questions; coverage = answered / questions)",
            path.display()
        );
        let width = r.sections.iter().map(|s| s.name.len()).max().unwrap_or(0).max(10);
        let row = |name: &str, t: &eval::Tally| {
            println!(
                "  {name:<width$}  {:>7} of {:>5} answered ({:>6} coverage of {:>5})",
                pct(t.accuracy()),
                t.answered,
                pct(t.coverage()),
                t.questions
            );
        };
        for s in &r.sections {
            row(&s.name, &s.tally);
        }
        row("semantic", &r.semantic);
        row("syntactic", &r.syntactic);
        row("total", &r.total);
    }
    for (path, set) in &pair_sets {
        let r = eval::evaluate_pairs(&emb, set, m);
        if a.json {
            #[derive(Serialize)]
            struct Out<'a> {
                file: String,
                kind: &'static str,
                coverage: f64,
                #[serde(flatten)]
                report: &'a eval::PairsReport,
            }
            json_line(&Out {
                file: path.display().to_string(),
                kind: "pairs",
                coverage: r.coverage(),
                report: &r,
            })?;
            continue;
        }
        let fmt = |x: Option<f64>| x.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
        println!(
            "\npairs {}: Spearman ρ {} (Pearson r {}) over {} of {} pairs ({} coverage)",
            path.display(),
            fmt(r.spearman),
            fmt(r.pearson),
            r.covered,
            r.pairs,
            pct(r.coverage())
        );
    }
    Ok(())
}
