//! One AFL++ binary for every target of `../targets.rs`, chosen by the environment variable
//! `FUZZ_TARGET` (see `run.sh`). Outside afl-fuzz it reads one input from standard input, which
//! replays a crash: `FUZZ_TARGET=checkpoint target/release/fuzz < crash-file`.

#[path = "../targets.rs"]
mod targets;

fn main() {
    let name = std::env::var("FUZZ_TARGET").unwrap_or_default();
    let Some(f) = targets::target(&name) else {
        let names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("FUZZ_TARGET must be one of: {}", names.join(", "));
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| {
        f(data);
    });
}
