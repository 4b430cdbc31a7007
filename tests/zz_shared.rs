#[test]
fn shared() {
    for name in ["default","dinos","shakespeare","shakespeare_gru","shakespeare_rnn","deep_lstm","ptb_words","tang_poems"] {
        let p = std::path::PathBuf::from(format!("experiments/{name}.toml"));
        let exp = rnn_lab::config::load(&p).unwrap();
        let t = std::time::Instant::now();
        match rnn_lab::data::load_dataset(&exp) {
            Ok(ds) => {
                let tb = ds.batcher(exp.training.batch_size, exp.training.seq_len, exp.seed);
                println!("{name}: vocab {} train {} val {} lines {:?} unk {} spe {} files {} in {:?}; probe {:?}", ds.vocab.len(), ds.train_tokens(), ds.val_tokens(), ds.line_counts(), ds.unknown, tb.steps_per_epoch(), ds.files.len(), t.elapsed(), ds.vocab.decode(&ds.probe_tokens(60)));
                if name == "ptb_words" { println!("{:?}", &ds.vocab.tokens()[..20]); }
            }
            Err(e) => println!("{name}: ERR {e}"),
        }
    }
}
