//! Rendering never panics: every view × colour mode × size from 1×1 to 200×60 × degenerate
//! reports (empty, T = 0, H = 0/1, ragged rows, NaN/∞, non-positive gradient norms, wide and
//! control-character tokens, deep bidirectional, long), with and without a compare report,
//! and with the cursor and unit far outside the report.

#[path = "fixtures/probes.rs"]
mod probes;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

use rnn_lab::tui::probe_view::{Palette, ProbeView, ProbeWidget, ViewKind};

const WIDTHS: [u16; 10] = [1, 2, 3, 5, 9, 17, 33, 80, 121, 200];
const HEIGHTS: [u16; 9] = [1, 2, 3, 4, 5, 7, 14, 24, 60];

fn views() -> Vec<ProbeView> {
    let mut out = Vec::new();
    for palette in [Palette::Rgb, Palette::Ansi16, Palette::Glyph] {
        for kind in ViewKind::ALL {
            let mut v = ProbeView::with_palette(palette);
            v.set_view(kind);
            out.push(v.clone());
            // Sorted by correlation, a far unit, cursor at the end, next gate, other layer.
            for c in "fjjjjg]d".chars() {
                v.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), None);
            }
            for _ in 0..300 {
                v.on_key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::NONE), None);
                v.on_key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE), None);
            }
            out.push(v);
        }
    }
    out
}

#[test]
fn renders_everything_without_panic() {
    let reports = probes::degenerate();
    let lstm = probes::lstm();
    let views = views();
    for (name, report) in &reports {
        for view in &views {
            for &w in &WIDTHS {
                for &h in &HEIGHTS {
                    for compare in [None, Some(&lstm), Some(report)] {
                        let area = Rect::new(0, 0, w, h);
                        let mut buf = Buffer::empty(area);
                        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            ProbeWidget {
                                view,
                                report: Some(report),
                                compare,
                            }
                            .render(area, &mut buf);
                        }));
                        assert!(
                            result.is_ok(),
                            "panic: report {name}, view {:?} {:?}, {w}×{h}",
                            view.view(),
                            view.palette()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn keys_on_degenerate_reports_never_panic() {
    let codes = [
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
    ];
    for (_, report) in probes::degenerate() {
        let mut v = ProbeView::new(false);
        for round in 0..3 {
            for c in "12345vVjkuhl[]dgGofm".chars() {
                v.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), Some(&report));
                for &code in &codes {
                    v.on_key(KeyEvent::new(code, KeyModifiers::NONE), Some(&report));
                }
                let area = Rect::new(0, 0, 40 + round * 20, 12);
                let mut buf = Buffer::empty(area);
                ProbeWidget {
                    view: &v,
                    report: Some(&report),
                    compare: None,
                }
                .render(area, &mut buf);
            }
        }
    }
}

#[test]
fn renders_into_offset_areas_and_small_buffers() {
    let r = probes::lstm();
    for kind in ViewKind::ALL {
        let mut v = ProbeView::new(false);
        v.set_view(kind);
        let mut buf = Buffer::empty(Rect::new(5, 3, 30, 10));
        // An area larger than, and offset from, the buffer.
        ProbeWidget {
            view: &v,
            report: Some(&r),
            compare: Some(&r),
        }
        .render(Rect::new(0, 0, 100, 50), &mut buf);
        ProbeWidget {
            view: &v,
            report: Some(&r),
            compare: None,
        }
        .render(Rect::new(20, 8, 30, 10), &mut buf);
        ProbeWidget {
            view: &v,
            report: None,
            compare: None,
        }
        .render(Rect::new(34, 12, 1, 1), &mut buf);
    }
}
