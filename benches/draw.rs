//! Frame time of the TUI: one whole `draw()` of the app on ratatui's `TestBackend` (layout,
//! every widget, the buffer diff), as television measures its UI. The figures the docs quote
//! (docs/tui.md, "Responsiveness") come from here:
//!
//!     /work/bin/cpu-exclusive cargo bench --bench draw
//!
//! Tests assert no timings (CI is a loaded 2-core machine); this is where frame time is watched.

#[path = "../tests/support/fake_backend.rs"]
mod fake_backend;
#[path = "../tests/support/fixtures.rs"]
mod fixtures;
#[path = "../tests/fixtures/probes.rs"]
mod probes;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rnn_lab::train::protocol::Event;
use rnn_lab::tui::action::Action;
use rnn_lab::tui::app::{update, App};
use rnn_lab::tui::history::Point;

/// The training screen after 200 000 logged steps (the histories at their bounds).
fn long_run() -> App {
    let mut app = fixtures::training(2000);
    for step in 2001..=200_000 {
        app.run.train.push(Point {
            step,
            time_s: step as f64 * 0.02,
            value: 1.5 + 1.0 / (step as f64).sqrt(),
        });
    }
    app
}

/// The probes pane over a 2-layer LSTM of 128 units on a 51-character probe.
fn probes_pane() -> App {
    let mut app = fixtures::training(2000);
    let report = probes::report(probes::Cell::Lstm, probes::TEXT, 128, 2, false);
    update(&mut app, Action::Trainer(Event::Probe(Box::new(report))));
    fixtures::key(&mut app, KeyCode::Tab);
    fixtures::key(&mut app, KeyCode::Tab);
    app
}

fn draw(c: &mut Criterion) {
    let cases = [
        ("training 160x48, 200k steps", long_run(), (160, 48)),
        ("training 80x24, 200k steps", long_run(), (80, 24)),
        ("probes 160x48, lstm 2x128", probes_pane(), (160, 48)),
    ];
    for (name, app, (w, h)) in cases {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| match e {});
        c.bench_function(name, |b| {
            b.iter(|| {
                let frame = terminal.draw(|f| f.render_widget(black_box(&app), f.area()));
                black_box(frame.is_ok())
            })
        });
    }
}

criterion_group!(benches, draw);
criterion_main!(benches);
