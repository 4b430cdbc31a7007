//! Experiment files: the invalid-config fixtures, round trips, shipped experiments, the schema.

use std::fs;
use std::path::{Path, PathBuf};

use rnn_lab::config::{self, json_schema, parse_str, Experiment};
use rnn_lab::data::load_dataset;
use rnn_lab::nn::spec::{HeadKind, InputKind};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The one-line error an experiment file gives: from the config, or else from its data.
fn error_of(path: &Path) -> Option<String> {
    match config::load(path) {
        Err(e) => Some(e.to_string()),
        Ok(exp) if exp.task.is_language_model() => load_dataset(&exp).err().map(|e| e.to_string()),
        Ok(exp) => rnn_lab::task::load::load_task(&exp).err().map(|e| e.to_string()),
    }
}

/// Every fixture in tests/invalid_configs is rejected with the message its first line expects
/// (`# expect: …`), on one line, at the place its second line gives (`# at: line:col`).
#[test]
fn invalid_configs_are_rejected_with_their_message() {
    let dir = repo().join("tests/invalid_configs");
    let mut fixtures: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    fixtures.sort();
    assert!(
        fixtures.len() >= 20,
        "expected the fixture folder, found {}",
        fixtures.len()
    );
    let mut failures = Vec::new();
    for f in &fixtures {
        let text = fs::read_to_string(f).expect("fixture text");
        let mut lines = text.lines();
        let expect = lines
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .expect("# expect: line");
        let at = lines.next().and_then(|l| l.strip_prefix("# at: "));
        let Some(msg) = error_of(f) else {
            failures.push(format!("{}: accepted", f.display()));
            continue;
        };
        if msg.contains('\n') {
            failures.push(format!("{}: message has several lines: {msg:?}", f.display()));
        }
        if !msg.contains(expect) {
            failures.push(format!("{}:\n   expected {expect:?}\n   got      {msg:?}", f.display()));
        }
        if let Some(at) = at {
            let place = format!("{}:{at}: ", f.display());
            if !msg.starts_with(&place) {
                failures.push(format!(
                    "{}: expected to start with {place:?}, got {msg:?}",
                    f.display()
                ));
            }
        } else if !msg.contains(&*f.file_name().unwrap().to_string_lossy()) && !msg.contains("invalid_configs/data/") {
            failures.push(format!("{}: message names no file: {msg:?}", f.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn shipped() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(repo().join("experiments"))
        .expect("experiments folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn shipped_experiments_parse_and_start_with_schema_line() {
    let names: Vec<String> = shipped()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "default",
        "dinos",
        "shakespeare",
        "shakespeare_gru",
        "shakespeare_rnn",
        "ptb_words",
        "deep_lstm",
        "tang_poems",
        "adding",
        "reber",
        "temporal_order",
        "copy",
        "future_tags",
        "future_tags_uni",
        "chunking",
        "pos_ud",
        "names",
    ] {
        assert!(names.iter().any(|n| n == want), "experiments/{want}.toml missing");
    }
    for p in shipped() {
        let text = fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("#:schema ./schema.json\n"),
            "{} lacks the #:schema line",
            p.display()
        );
        let exp = config::load(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            exp.name,
            p.file_stem().unwrap().to_string_lossy(),
            "{}: name",
            p.display()
        );
    }
}

#[test]
fn to_toml_round_trips_every_shipped_experiment() {
    for p in shipped() {
        let exp = config::load(&p).unwrap();
        let text = exp.to_toml();
        let back = parse_str(&text, &p).unwrap_or_else(|e| panic!("{}: {e}\n{text}", p.display()));
        assert_eq!(back, exp, "{}", p.display());
    }
}

#[test]
fn to_toml_round_trips_every_option() {
    let path = Path::new("some/where/x.toml");
    let variants = [
        r#"[data]
files = ["a.txt", "b/*.txt"]
level = "word"
mode = "lines"
val_fraction = 0.125
min_count = 3
max_vocab = 5000
lowercase = true
[model]
cell = "gru"
gru_variant = "pytorch"
init = "xavier"
hidden = 7
layers = 3
embedding = 16
forget_bias = -0.5
[training]
optimizer = "rmsprop"
lr = 0.0003
decay = 0.9
eps = 1e-6
schedule = "step"
step_every = 10
step_gamma = 0.7
clip_norm = 0
clip_value = 1.5
epochs = 2.5
[sampling]
temperature = 0
top_k = 5
length = 9
prime = "quote \" and\nnewline ☃"
"#,
        r#"[experiment]
name = "sgd-run"
seed = 18446744073709551615
[data]
files = ["x.txt"]
[training]
optimizer = "sgd"
momentum = 0.9
schedule = "cosine"
min_lr_factor = 0.0
steps = 77
"#,
        "[data]\nfiles = [\"x\"]\n[training]\noptimizer = \"adagrad\"\n",
    ];
    for v in variants {
        let exp = parse_str(v, path).unwrap_or_else(|e| panic!("{e}"));
        let back = parse_str(&exp.to_toml(), path).unwrap_or_else(|e| panic!("{e}\n{}", exp.to_toml()));
        assert_eq!(back, exp);
    }
}

#[test]
fn defaults_are_filled_in() {
    let exp = parse_str("[data]\nfiles = [\"t.txt\"]\n", Path::new("dir/my_exp.toml")).unwrap();
    assert_eq!(exp.name, "my_exp");
    assert_eq!(exp.seed, 1);
    assert_eq!(exp.model.hidden, 128);
    assert_eq!(exp.training.optim.lr, 2e-3);
    assert_eq!(exp.training.optim.clip_norm, Some(5.0));
    assert_eq!(exp.training.optim.clip_value, None);
    assert_eq!(exp.training.steps, 2000);
    assert_eq!(exp.training.batch_size, 32);
    assert_eq!(exp.training.seq_len, 64);
    assert_eq!(exp.data.val_fraction, 0.05);
    assert_eq!(exp.sampling.temperature, 0.8);
    match exp.training.optim.kind {
        rnn_lab::optim::spec::OptimizerKind::Adam { beta1, beta2, eps } => {
            assert_eq!((beta1, beta2, eps), (0.9, 0.999, 1e-8));
        }
        other => panic!("default optimizer {other:?}"),
    }
    let spec = exp.model_spec(65);
    assert_eq!(
        (spec.vocab, spec.outputs, spec.head, spec.input),
        (65, 65, HeadKind::PerStep, InputKind::OneHot)
    );
    assert!(spec.check().is_ok());
}

#[test]
fn epochs_resolve_into_steps() {
    let mut exp: Experiment = parse_str(
        "[data]\nfiles = [\"t\"]\n[training]\nepochs = 1.5\nschedule = \"cosine\"\n",
        Path::new("e.toml"),
    )
    .unwrap();
    assert_eq!(exp.training.steps, 0);
    assert_eq!(exp.total_steps(10), 15);
    exp.resolve_epochs(10);
    assert_eq!(exp.training.steps, 15);
    assert!(matches!(
        exp.training.optim.schedule,
        rnn_lab::optim::spec::Schedule::Cosine { total: 15, .. }
    ));
    exp.set_steps(40);
    assert_eq!((exp.training.steps, exp.training.epochs), (40, None));
}

/// `schedule = "epoch_step"`: the steps per epoch come from the data; the keys read back from
/// the emitted config; keys of other schedules are refused.
#[test]
fn epoch_step_schedule_resolves_with_the_data() {
    use rnn_lab::optim::spec::Schedule;
    let text = "[data]\nfiles = [\"t\"]\n[training]\noptimizer = \"sgd\"\nepochs = 13\n\
                schedule = \"epoch_step\"\ndecay_after_epochs = 4\nstep_gamma = 0.5\n";
    let mut exp: Experiment = parse_str(text, Path::new("e.toml")).unwrap();
    exp.resolve_epochs(1327);
    assert_eq!(exp.training.steps, 13 * 1327);
    assert_eq!(
        exp.training.optim.schedule,
        Schedule::EpochStep {
            after: 4,
            gamma: 0.5,
            steps_per_epoch: 1327
        }
    );
    let back = parse_str(&exp.to_toml(), Path::new("e.toml")).unwrap();
    assert!(matches!(
        back.training.optim.schedule,
        Schedule::EpochStep { after: 4, gamma, .. } if gamma == 0.5
    ));
    for (bad, key) in [
        ("schedule = \"step\"\ndecay_after_epochs = 2", "decay_after_epochs"),
        (
            "schedule = \"epoch_step\"\ndecay_after_epochs = 0",
            "decay_after_epochs",
        ),
        ("schedule = \"epoch_step\"\nstep_every = 10", "step_every"),
        ("schedule = \"cosine\"\nstep_gamma = 0.5", "step_gamma"),
    ] {
        let e = parse_str(
            &format!("[data]\nfiles = [\"t\"]\n[training]\n{bad}\n"),
            Path::new("e.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(key), "{bad}: {e}");
    }
}

#[test]
fn unknown_keys_without_a_close_match_list_the_valid_ones() {
    let e = parse_str("[data]\nfiles = [\"t\"]\n[sampling]\nzzzzzz = 1\n", Path::new("e.toml")).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("e.toml:4:1: unknown key `zzzzzz` in [sampling] (valid keys: temperature, top_k"),
        "{msg}"
    );
}

/// experiments/schema.json is `rnn-lab schema` output; regenerate with
/// `UPDATE_SCHEMA=1 cargo test --release --test config schema`.
#[test]
fn shipped_schema_is_fresh() {
    let want = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
    let path = repo().join("experiments/schema.json");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        fs::write(&path, &want).unwrap();
    }
    let have = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "experiments/schema.json is stale: run UPDATE_SCHEMA=1 cargo test --test config schema"
    );
}

/// Every key the loader accepts is in the schema, and the schema has nothing more.
#[test]
fn schema_lists_exactly_the_accepted_keys() {
    let schema = json_schema();
    let mut accepted = 0;
    for (section, props) in schema["properties"].as_object().unwrap() {
        for key in props["properties"].as_object().unwrap().keys() {
            // A file with just this key must not fail as "unknown key" (it may fail otherwise).
            let extra = if section == "data" {
                String::new()
            } else {
                format!("[{section}]\n{key} = 0\n")
            };
            let data = if section == "data" {
                format!("{key} = 0\n")
            } else {
                String::new()
            };
            let text = format!("[data]\nfiles = [\"t\"]\n{data}{extra}");
            if let Err(e) = parse_str(&text, Path::new("k.toml")) {
                assert!(!e.to_string().contains("unknown key"), "{section}.{key}: {e}");
            }
            accepted += 1;
        }
    }
    assert_eq!(accepted, rnn_lab::config::fields::FIELDS.len());
}

/// The default experiment trains on files every clone has.
#[test]
fn default_experiment_data_is_in_the_repo() {
    let exp = config::load(&repo().join("experiments/default.toml")).unwrap();
    if !repo().join("README.md").exists() {
        eprintln!("README.md not written yet: skipping the default data check");
        return;
    }
    let data = load_dataset(&exp).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        data.train_tokens() > 50_000,
        "only {} training characters",
        data.train_tokens()
    );
    assert!(data.files.iter().any(|f| f.ends_with("README.md")));
}

/// docs/experiment-format.md has a table row for every key.
#[test]
fn format_doc_lists_every_key() {
    let doc = fs::read_to_string(repo().join("docs/experiment-format.md")).unwrap();
    for f in rnn_lab::config::fields::FIELDS {
        assert!(
            doc.contains(&format!("| `{}` |", f.key)),
            "docs/experiment-format.md lacks `{}`",
            f.key
        );
    }
}

#[test]
fn experiment_file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("latin1.toml");
    fs::write(&p, b"[data]\nfiles = [\"caf\xe9.txt\"]\n").unwrap();
    let msg = config::load(&p).unwrap_err().to_string();
    assert!(
        msg.ends_with("latin1.toml:2:14: not UTF-8: invalid byte 0xe9 at byte offset 20; save the file as UTF-8"),
        "{msg}"
    );
    let msg = config::load(&dir.path().join("nope.toml")).unwrap_err().to_string();
    assert!(
        msg.ends_with("nope.toml: cannot read experiment file: no such file"),
        "{msg}"
    );
    let msg = parse_str("", Path::new("empty.toml")).unwrap_err().to_string();
    assert!(msg.starts_with("empty.toml:1:1: missing [data] section"), "{msg}");
}

#[test]
fn integers_are_accepted_where_numbers_are_expected() {
    let exp = parse_str(
        "[data]\nfiles = [\"t\"]\nval_fraction = 0.5\n[training]\nlr = 1\nclip_norm = 1\n[sampling]\ntemperature = 1\n",
        Path::new("i.toml"),
    )
    .unwrap();
    assert_eq!(
        (
            exp.training.optim.lr,
            exp.training.optim.clip_norm,
            exp.sampling.temperature
        ),
        (1.0, Some(1.0), 1.0)
    );
}
