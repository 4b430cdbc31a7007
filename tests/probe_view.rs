//! Snapshot and behaviour tests of the probe views, on synthetic reports with known contents.

#[path = "fixtures/probes.rs"]
mod probes;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::widgets::Widget;

use rnn_lab::infer::probe::{Direction, ProbeReport};
use rnn_lab::tui::keys::{probe_action, Key, Mode, KEYS};
use rnn_lab::tui::probe_view::{
    decay_per_step, describe, Feature, Palette, ProbeView, ProbeWidget, SortMode, ViewKind,
};

fn render(view: &ProbeView, report: Option<&ProbeReport>, compare: Option<&ProbeReport>, w: u16, h: u16) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    ProbeWidget { view, report, compare }.render(area, &mut buf);
    buf
}

/// The buffer's symbols, one line per row.
fn text(buf: &Buffer) -> String {
    let w = usize::from(buf.area.width);
    buf.content()
        .chunks(w.max(1))
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

/// Press a key through the key table's probe rows; false when the probe pane does not use it.
fn press_key(view: &mut ProbeView, report: Option<&ProbeReport>, ev: KeyEvent) -> bool {
    match probe_action(ev) {
        Some(a) => {
            view.apply(a, report);
            true
        }
        None => false,
    }
}

fn press(view: &mut ProbeView, report: Option<&ProbeReport>, keys: &str) {
    for c in keys.chars() {
        assert!(press_key(view, report, key(c)), "key {c:?} not a probe key");
    }
}

fn view_on(kind: ViewKind, palette: Palette) -> ProbeView {
    let mut v = ProbeView::with_palette(palette);
    v.set_view(kind);
    v
}

#[test]
fn no_probe_yet() {
    let v = ProbeView::new(false);
    let buf = render(&v, None, None, 80, 24);
    insta::assert_snapshot!("no_probe_80x24", text(&buf));
    assert!(text(&buf).contains("no probe yet — press p to probe now"));
}

#[test]
fn hidden_heatmap_colour_80x24() {
    let r = probes::lstm();
    let v = view_on(ViewKind::Hidden, Palette::Rgb);
    let buf = render(&v, Some(&r), None, 80, 24);
    insta::assert_snapshot!("hidden_rgb_80x24", text(&buf));
    // Row 3 holds units 0 (upper, fg) and 1 (lower, bg); column 0 of the data is t = 0, 'H',
    // outside quotes: unit 0 = −0.9 (blue end), unit 1 = −1 (line start).
    let label_w = 6; // "23" digits → "dd dd "
    let cell = buf.cell((label_w, 3)).expect("in area");
    assert_eq!(cell.symbol(), "▀");
    assert!(
        matches!(cell.fg, Color::Rgb(r, _, b) if b > r),
        "upper unit is blue: {cell:?}"
    );
    assert_eq!(cell.bg, Color::Rgb(70, 150, 255), "lower unit at −1 is the blue end");
}

#[test]
fn hidden_heatmap_colour_styles_small() {
    let r = probes::report(probes::Cell::Lstm, "ab \"c\"", 4, 1, false);
    let v = view_on(ViewKind::Hidden, Palette::Ansi16);
    let buf = render(&v, Some(&r), None, 40, 8);
    insta::assert_debug_snapshot!("hidden_ansi16_40x8_styles", buf);
}

#[test]
fn hidden_heatmap_no_color() {
    let r = probes::lstm();
    let v = ProbeView::new(true);
    let buf = render(&v, Some(&r), None, 80, 24);
    insta::assert_snapshot!("hidden_nocolor_80x24", text(&buf));
    // NO_COLOR: no colour anywhere.
    for c in buf.content() {
        assert_eq!((c.fg, c.bg), (Color::Reset, Color::Reset), "colour in NO_COLOR: {c:?}");
    }
}

#[test]
fn hidden_sorted_by_correlation_120x40() {
    let r = probes::lstm();
    let mut v = ProbeView::new(true);
    // f: correlation with the next feature after "position in line" = inside quotes.
    press(&mut v, Some(&r), "f");
    assert_eq!(v.sort(), SortMode::Correlation);
    assert_eq!(v.feature(), Feature::InsideQuotes);
    press(&mut v, Some(&r), "u");
    assert_eq!(v.unit(), 0, "unit 0 tracks the quotes");
    let buf = render(&v, Some(&r), None, 120, 40);
    insta::assert_snapshot!("hidden_corr_quotes_nocolor_120x40", text(&buf));
}

#[test]
fn hidden_heatmap_scrolls() {
    let r = probes::report(probes::Cell::Gru, &probes::TEXT.repeat(6), 70, 1, false);
    let mut v = ProbeView::new(true);
    for _ in 0..130 {
        press_key(&mut v, Some(&r), KeyEvent::new(KeyCode::Right, KeyModifiers::NONE));
    }
    for _ in 0..3 {
        press_key(&mut v, Some(&r), KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE));
    }
    assert_eq!((v.cursor(), v.unit()), (130, 48));
    let t = text(&render(&v, Some(&r), None, 80, 24));
    assert!(
        t.contains("units 40–59 of 70") && t.contains("steps 77–153 of 300"),
        "{t}"
    );
    insta::assert_snapshot!("hidden_scrolled_nocolor_80x24", t);
    let v = ProbeView::new(false);
    let t = text(&render(&v, Some(&r), None, 80, 24));
    assert!(t.contains("units 0–39 of 70"), "two units per row: {t}");
}

#[test]
fn gates_heatmaps() {
    let r = probes::lstm();
    let mut v = view_on(ViewKind::Gates, Palette::Glyph);
    press(&mut v, Some(&r), "g"); // forget
    insta::assert_snapshot!("gate_forget_nocolor_80x24", text(&render(&v, Some(&r), None, 80, 24)));
    press(&mut v, Some(&r), "gg"); // output, then the cell
    let buf = render(&v, Some(&r), None, 80, 24);
    assert!(text(&buf).contains("cell tanh(c⟨t⟩)"));
    insta::assert_snapshot!("cell_nocolor_80x24", text(&buf));
    press(&mut v, Some(&r), "g"); // wraps to update
    assert!(text(&render(&v, Some(&r), None, 80, 24)).contains("Γu update"));
    let v = view_on(ViewKind::Gates, Palette::Rgb);
    insta::assert_snapshot!("gate_update_rgb_120x40", text(&render(&v, Some(&r), None, 120, 40)));
}

#[test]
fn rnn_has_no_gates() {
    let r = probes::rnn();
    for kind in [ViewKind::Gates, ViewKind::Saturation] {
        let v = view_on(kind, Palette::Rgb);
        let t = text(&render(&v, Some(&r), None, 80, 24));
        assert!(t.contains("no gates"), "{t}");
    }
}

#[test]
fn saturation_view() {
    let r = probes::lstm();
    let v = view_on(ViewKind::Saturation, Palette::Rgb);
    insta::assert_snapshot!("saturation_rgb_120x40", text(&render(&v, Some(&r), None, 120, 40)));
    let v = view_on(ViewKind::Saturation, Palette::Glyph);
    insta::assert_snapshot!("saturation_nocolor_80x24", text(&render(&v, Some(&r), None, 80, 24)));
    // Narrow: only the chosen gate.
    let mut v = view_on(ViewKind::Saturation, Palette::Glyph);
    press(&mut v, Some(&r), "g");
    let t = text(&render(&v, Some(&r), None, 40, 20));
    assert!(t.contains("Γf forget") && !t.contains("Γu update"), "{t}");
}

#[test]
fn gradient_view_with_compare() {
    let lstm = probes::lstm();
    let rnn = probes::rnn();
    let v = view_on(ViewKind::Gradient, Palette::Rgb);
    let buf = render(&v, Some(&lstm), Some(&rnn), 80, 24);
    let t = text(&buf);
    assert!(t.contains("lstm 1×24") && t.contains("rnn 1×24"), "legend: {t}");
    assert!(t.contains("×0.950 per step") && t.contains("×0.600 per step"), "{t}");
    insta::assert_snapshot!("gradient_compare_rgb_80x24", t);
    let v = view_on(ViewKind::Gradient, Palette::Glyph);
    insta::assert_snapshot!(
        "gradient_compare_nocolor_120x40",
        text(&render(&v, Some(&rnn), Some(&lstm), 120, 40))
    );
    let mut v = view_on(ViewKind::Gradient, Palette::Rgb);
    v.set_labels(Some("mine".into()), Some("theirs".into()));
    let t = text(&render(&v, Some(&lstm), Some(&lstm), 80, 24));
    assert!(t.contains("mine") && t.contains("theirs"), "{t}");
}

#[test]
fn decay_and_describe() {
    let f = decay_per_step(&probes::grads(30, 1.0, 0.5)).expect("fit");
    assert!((f - 0.5).abs() < 1e-6);
    assert_eq!(decay_per_step(&[1.0]), None);
    assert_eq!(decay_per_step(&[0.0, f32::NAN]), None);
    assert_eq!(describe(&probes::lstm()), "lstm 1×24");
    assert_eq!(
        describe(&probes::report(probes::Cell::Gru, "ab", 8, 2, true)),
        "gru 2×8 bi"
    );
}

#[test]
fn text_view() {
    let r = probes::lstm();
    let mut v = view_on(ViewKind::Text, Palette::Rgb);
    // Cursor to t = 9 ('h' of "hi", inside quotes), colour by unit 0 (the quote unit).
    press(&mut v, Some(&r), "lllllllll");
    assert_eq!(v.cursor(), 9);
    let buf = render(&v, Some(&r), None, 80, 24);
    let t = text(&buf);
    assert!(t.contains("entropy") && t.contains("next-token guesses"), "{t}");
    insta::assert_snapshot!("text_rgb_80x24", t);
    // Inside the quotes unit 0 is +0.9 (warm), outside −0.9 (cool).
    let inside = buf.cell((10, 2)).expect("cell").bg;
    let outside = buf.cell((0, 2)).expect("cell").bg;
    assert!(matches!(inside, Color::Rgb(r, _, b) if r > b), "{inside:?}");
    assert!(matches!(outside, Color::Rgb(r, _, b) if b > r), "{outside:?}");

    let mut v = view_on(ViewKind::Text, Palette::Glyph);
    press(&mut v, Some(&r), "g"); // colour by the update gate
    insta::assert_snapshot!(
        "text_update_gate_nocolor_120x40",
        text(&render(&v, Some(&r), None, 120, 40))
    );
}

#[test]
fn layers_and_directions() {
    let r = probes::report(probes::Cell::Lstm, probes::TEXT, 8, 3, true);
    let mut v = ProbeView::new(true);
    press(&mut v, Some(&r), "]]]");
    assert_eq!(v.layer(), 2, "clamps at the top layer");
    press(&mut v, Some(&r), "d");
    assert_eq!(v.direction(), Direction::Bwd);
    let t = text(&render(&v, Some(&r), None, 80, 24));
    assert!(t.contains("layer 2/3 bwd") && t.contains("L2 bwd"), "{t}");
    insta::assert_snapshot!("deep_bi_layer2_bwd_nocolor_80x24", t);
    press(&mut v, Some(&r), "[[[[");
    assert_eq!(v.layer(), 0);
    // A unidirectional model keeps Fwd.
    let uni = probes::lstm();
    let mut v = ProbeView::new(true);
    press(&mut v, Some(&uni), "d");
    assert_eq!(v.direction(), Direction::Fwd);
}

#[test]
fn keys() {
    let r = probes::lstm();
    let mut v = ProbeView::new(false);
    for (c, kind) in ['1', '2', '3', '4', '5'].into_iter().zip(ViewKind::ALL) {
        press(&mut v, Some(&r), &c.to_string());
        assert_eq!(v.view(), kind);
    }
    press(&mut v, Some(&r), "v");
    assert_eq!(v.view(), ViewKind::Hidden);
    press(&mut v, Some(&r), "V");
    assert_eq!(v.view(), ViewKind::Text);
    // Units move in sort order and clamp.
    press(&mut v, Some(&r), "1jjj");
    assert_eq!(v.unit(), 3);
    press(&mut v, Some(&r), "kkkkk");
    assert_eq!(v.unit(), 0);
    assert!(press_key(
        &mut v,
        Some(&r),
        KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE)
    ));
    assert_eq!(v.unit(), 16);
    assert!(press_key(
        &mut v,
        Some(&r),
        KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE)
    ));
    assert_eq!(v.unit(), 23);
    press(&mut v, Some(&r), "o");
    assert_eq!(v.sort(), SortMode::Variance);
    // Cursor clamps to the probe.
    assert!(press_key(
        &mut v,
        Some(&r),
        KeyEvent::new(KeyCode::End, KeyModifiers::NONE)
    ));
    assert_eq!(v.cursor(), r.tokens.len() - 1);
    press(&mut v, Some(&r), "l");
    assert_eq!(v.cursor(), r.tokens.len() - 1);
    assert!(press_key(
        &mut v,
        Some(&r),
        KeyEvent::new(KeyCode::Home, KeyModifiers::NONE)
    ));
    assert_eq!(v.cursor(), 0);
    press(&mut v, Some(&r), "m");
    assert_eq!(v.palette(), Palette::Ansi16);
    // Host keys pass through.
    for c in ['q', '?', ' ', '+', '-', 'e', 's', 'S', 'p', 'P', 'r'] {
        assert!(!press_key(&mut v, Some(&r), key(c)), "{c:?} must not be a probe key");
    }
    for code in [KeyCode::Tab, KeyCode::BackTab, KeyCode::Esc, KeyCode::Enter] {
        assert!(!press_key(&mut v, Some(&r), KeyEvent::new(code, KeyModifiers::NONE)));
    }
    assert!(!press_key(
        &mut v,
        Some(&r),
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
    ));
    assert!(!press_key(
        &mut v,
        Some(&r),
        KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL)
    ));
    // Without a report keys still work and nothing panics.
    let mut v = ProbeView::new(true);
    for c in "12345vVjkuhl[]dgGofm".chars() {
        assert!(press_key(&mut v, None, key(c)));
    }
    // The probe pane's rows take no key the host needs everywhere on the training screen.
    let rows: Vec<_> = KEYS.iter().filter(|r| r.mode == Mode::Probes).collect();
    assert!(rows.len() >= 10);
    for row in rows {
        for k in row.binds.iter().flat_map(|b| b.keys) {
            for bad in [
                "q",
                "?",
                "space",
                "Tab",
                "Shift-Tab",
                "+",
                "-",
                "e",
                "s",
                "S",
                "p",
                "P",
                "r",
                "Ctrl-c",
            ] {
                assert_ne!(k.name(), bad, "probe row {:?} uses host key {bad}", row.help);
            }
            assert!(matches!(k, Key::Plain(_)));
        }
    }
}

#[test]
fn degenerate_reports_say_what_is_missing() {
    let reports = probes::degenerate();
    let get = |name: &str| {
        reports
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r.clone())
            .expect("fixture")
    };
    let v = ProbeView::new(true);
    let t = text(&render(&v, Some(&get("empty")), None, 40, 6));
    assert!(t.contains("no layers"), "{t}");
    let t = text(&render(&v, Some(&get("t0")), None, 40, 6));
    assert!(t.contains("empty"), "{t}");
    let mut all = String::new();
    for (name, size) in [("h1", (30, 6)), ("t1", (30, 6))] {
        for kind in ViewKind::ALL {
            let mut v = ProbeView::new(true);
            v.set_view(kind);
            all.push_str(&format!("── {name} {kind:?}\n"));
            all.push_str(&text(&render(&v, Some(&get(name)), None, size.0, size.1)));
            all.push('\n');
        }
    }
    insta::assert_snapshot!("tiny_reports_nocolor_30x6", all);
    // 1×1 shows the first character of something, never panics.
    let t = text(&render(&v, Some(&probes::lstm()), None, 1, 1));
    assert_eq!(t.chars().count(), 1);
}

/// Every glyph of the token escaping (`data::token`) takes exactly one terminal cell, so a
/// heatmap column stays one token wide.
#[test]
fn token_glyphs_are_one_cell_wide() {
    use ratatui::text::Span;
    use rnn_lab::data::token::{glyph, visible_token};
    for c in (0u32..0xa0).filter_map(char::from_u32) {
        if let Some(g) = glyph(c) {
            assert_eq!(Span::raw(g.to_string()).width(), 1, "{c:?} → {g:?}");
        }
    }
    assert_eq!(Span::raw(visible_token(" ")).width(), 1);
}
