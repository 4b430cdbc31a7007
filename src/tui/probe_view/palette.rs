//! Colour scales for the probe views, and their fallbacks.
//!
//! Two scales: *diverging* for values in [−1, 1] (hidden states, tanh-squashed cell) with a dark
//! neutral at 0, blue below and orange-red above; *sequential* for values in [0, 1] (gates), a
//! viridis-like ramp. Each has three renderings: 24-bit RGB, the 16 ANSI colours, and a glyph
//! ramp ` ░▒▓█` for NO_COLOR terminals.

use ratatui::style::Color;

/// How colours are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Palette {
    /// 24-bit colour, smooth scales.
    Rgb,
    /// The 16 ANSI colours, five steps per scale.
    Ansi16,
    /// No colour at all (NO_COLOR): values become the glyph ramp ` ░▒▓█`.
    Glyph,
}

impl Palette {
    /// The next mode in the cycle RGB → 16 colours → glyphs → RGB.
    pub fn next(self) -> Self {
        match self {
            Palette::Rgb => Palette::Ansi16,
            Palette::Ansi16 => Palette::Glyph,
            Palette::Glyph => Palette::Rgb,
        }
    }

    /// Short name for the status line.
    pub fn name(self) -> &'static str {
        match self {
            Palette::Rgb => "rgb",
            Palette::Ansi16 => "16 colours",
            Palette::Glyph => "glyphs",
        }
    }
}

/// Which range a value lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// [−1, 1], 0 neutral (hidden states, tanh(c⟨t⟩)).
    Diverging,
    /// [0, 1] (gate activations).
    Sequential,
}

impl Scale {
    /// Position of `v` along the scale, in [0, 1] (NaN → the neutral point).
    pub fn unit(self, v: f32) -> f32 {
        let x = match self {
            Scale::Diverging => (v + 1.0) / 2.0,
            Scale::Sequential => v,
        };
        if x.is_nan() {
            0.5
        } else {
            x.clamp(0.0, 1.0)
        }
    }

    /// The (low, high) ends of the scale, for legends.
    pub fn ends(self) -> (&'static str, &'static str) {
        match self {
            Scale::Diverging => ("−1", "+1"),
            Scale::Sequential => ("0", "1"),
        }
    }
}

/// The glyph ramp, low to high.
pub const RAMP: [char; 5] = [' ', '░', '▒', '▓', '█'];

/// Diverging RGB stops: −1, 0, +1.
pub const DIVERGING_LOW: (u8, u8, u8) = (70, 150, 255);
/// Neutral (value 0) of the diverging scale: a dark grey that recedes on dark terminals.
pub const DIVERGING_MID: (u8, u8, u8) = (40, 40, 44);
/// +1 end of the diverging scale.
pub const DIVERGING_HIGH: (u8, u8, u8) = (255, 105, 50);

/// Sequential RGB stops at 0, ¼, ½, ¾, 1 (viridis).
const SEQUENTIAL: [(u8, u8, u8); 5] = [
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
];

fn lerp(a: (u8, u8, u8), b: (u8, u8, u8), f: f32) -> Color {
    let mix = |x: u8, y: u8| -> u8 {
        let v = f32::from(x) + (f32::from(y) - f32::from(x)) * f;
        // In range by construction (f in [0, 1]); the cast saturates anyway.
        v.round().clamp(0.0, 255.0) as u8
    };
    Color::Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Index 0…4 of the five-step quantisation of a scale position in [0, 1].
fn step5(x: f32) -> usize {
    // x in [0, 1]; 1.0 lands in the top bin.
    ((x * 5.0).floor() as usize).min(4)
}

/// The 24-bit colour of `v` on `scale`.
pub fn rgb(scale: Scale, v: f32) -> Color {
    let x = scale.unit(v);
    match scale {
        Scale::Diverging => {
            if x < 0.5 {
                lerp(DIVERGING_LOW, DIVERGING_MID, x * 2.0)
            } else {
                lerp(DIVERGING_MID, DIVERGING_HIGH, (x - 0.5) * 2.0)
            }
        }
        Scale::Sequential => {
            let pos = x * 4.0;
            let i = (pos.floor() as usize).min(3);
            let f = pos - i as f32;
            match (SEQUENTIAL.get(i), SEQUENTIAL.get(i + 1)) {
                (Some(&a), Some(&b)) => lerp(a, b, f),
                _ => Color::Reset,
            }
        }
    }
}

/// The 16-colour rendering of `v` on `scale` (five steps).
pub fn ansi16(scale: Scale, v: f32) -> Color {
    let i = step5(scale.unit(v));
    let ramp = match scale {
        Scale::Diverging => [
            Color::LightBlue,
            Color::Blue,
            Color::DarkGray,
            Color::Red,
            Color::LightRed,
        ],
        Scale::Sequential => [Color::Black, Color::Blue, Color::Cyan, Color::Green, Color::LightYellow],
    };
    ramp.get(i).copied().unwrap_or(Color::Reset)
}

/// The glyph of `v` on `scale`: ` ` at the low end, `▒` at the middle, `█` at the high end.
pub fn glyph(scale: Scale, v: f32) -> char {
    RAMP.get(step5(scale.unit(v))).copied().unwrap_or(' ')
}

/// The colour of `v` in `palette` (`None` for [`Palette::Glyph`]).
pub fn color(palette: Palette, scale: Scale, v: f32) -> Option<Color> {
    match palette {
        Palette::Rgb => Some(rgb(scale, v)),
        Palette::Ansi16 => Some(ansi16(scale, v)),
        Palette::Glyph => None,
    }
}

/// A foreground that stays readable on background `bg`.
pub fn readable_on(bg: Color) -> Color {
    match bg {
        Color::Rgb(r, g, b) => {
            let lum = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
            if lum > 140.0 {
                Color::Black
            } else {
                Color::White
            }
        }
        Color::LightYellow | Color::LightRed | Color::Cyan | Color::Green | Color::LightBlue => Color::Black,
        _ => Color::White,
    }
}

/// Squash an unbounded value (the LSTM cell c⟨t⟩) into [−1, 1] for the diverging scale.
pub fn squash(v: f32) -> f32 {
    v.tanh()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_endpoints() {
        assert_eq!(rgb(Scale::Diverging, -1.0), Color::Rgb(70, 150, 255));
        assert_eq!(rgb(Scale::Diverging, 0.0), Color::Rgb(40, 40, 44));
        assert_eq!(rgb(Scale::Diverging, 1.0), Color::Rgb(255, 105, 50));
        assert_eq!(rgb(Scale::Diverging, -7.0), rgb(Scale::Diverging, -1.0));
        assert_eq!(rgb(Scale::Diverging, f32::NAN), rgb(Scale::Diverging, 0.0));
        assert_eq!(glyph(Scale::Diverging, -1.0), ' ');
        assert_eq!(glyph(Scale::Diverging, 0.0), '▒');
        assert_eq!(glyph(Scale::Diverging, 1.0), '█');
        assert_eq!(ansi16(Scale::Diverging, 0.0), Color::DarkGray);
        assert_ne!(ansi16(Scale::Diverging, -1.0), ansi16(Scale::Diverging, 1.0));
    }

    #[test]
    fn sequential_endpoints() {
        assert_eq!(rgb(Scale::Sequential, 0.0), Color::Rgb(68, 1, 84));
        assert_eq!(rgb(Scale::Sequential, 1.0), Color::Rgb(253, 231, 37));
        assert_eq!(glyph(Scale::Sequential, 0.0), ' ');
        assert_eq!(glyph(Scale::Sequential, 0.5), '▒');
        assert_eq!(glyph(Scale::Sequential, 1.0), '█');
    }
}
