//! Rendering never panics: every view × colour mode × size from 1×1 to 200×60 × degenerate
//! reports (empty, T = 0, H = 0/1, ragged rows, NaN/∞, non-positive gradient norms, wide and
//! control-character tokens, deep bidirectional, long), with and without a compare report,
//! and with the selection far outside the report: each view first moves, on a real report (a
//! 3-layer bidirectional LSTM), to a far unit, the last step, the next gate, another layer and
//! the backward direction — checked — and is then drawn over reports that have none of them.

#[path = "fixtures/probes.rs"]
mod probes;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

use rnn_lab::infer::probe::{Direction, ProbeReport};
use rnn_lab::tui::keys::probe_action;
use rnn_lab::tui::probe_view::{Palette, ProbeView, ProbeWidget, SortMode, ViewKind};

const WIDTHS: [u16; 10] = [1, 2, 3, 5, 9, 17, 33, 80, 121, 200];
const HEIGHTS: [u16; 9] = [1, 2, 3, 4, 5, 7, 14, 24, 60];

/// Press a key through the key table's probe rows.
fn press(v: &mut ProbeView, report: Option<&ProbeReport>, code: KeyCode) {
    if let Some(a) = probe_action(KeyEvent::new(code, KeyModifiers::NONE)) {
        v.apply(a, report);
    }
}

fn views() -> Vec<ProbeView> {
    let real = probes::report(probes::Cell::Lstm, probes::TEXT, 24, 3, true);
    let last_step = real.tokens.len() - 1;
    let mut out = Vec::new();
    for palette in [Palette::Rgb, Palette::Ansi16, Palette::Glyph] {
        for kind in ViewKind::ALL {
            let mut v = ProbeView::with_palette(palette);
            v.set_view(kind);
            out.push(v.clone());
            // Sorted by correlation, units down, next gate, the layer above, backward.
            for c in "fjjjjg]d".chars() {
                press(&mut v, Some(&real), KeyCode::Char(c));
            }
            // The far end: the last step, the last unit in the sort order.
            for _ in 0..300 {
                press(&mut v, Some(&real), KeyCode::Char('l'));
                press(&mut v, Some(&real), KeyCode::PageDown);
            }
            let at = format!("{kind:?} {palette:?}");
            assert_eq!(v.sort(), SortMode::Correlation, "{at}");
            assert_eq!((v.layer(), v.direction()), (1, Direction::Bwd), "{at}");
            assert_eq!(v.cursor(), last_step, "{at}");
            if kind != ViewKind::Text {
                assert_eq!(v.gate(), 1, "{at}: g picks the next gate");
            }
            let far = v.unit();
            press(&mut v, Some(&real), KeyCode::PageDown);
            assert_eq!(v.unit(), far, "{at}: the unit is the last in the sort order");
            let mut first = v.clone();
            press(&mut first, Some(&real), KeyCode::Char('u'));
            assert_ne!(first.unit(), far, "{at}: the far unit is not the first");
            press(&mut first, Some(&real), KeyCode::PageDown);
            assert_ne!(
                first.unit(),
                far,
                "{at}: 16 units down from the first is not the last of 24"
            );
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
                press(&mut v, Some(&report), KeyCode::Char(c));
                for &code in &codes {
                    press(&mut v, Some(&report), code);
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
