//! The sweep file's parser: a walk over the parsed TOML (with spans) that checks each section and
//! key and reports problems at their line and column.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use super::{
    located, Axis, Domain, Setting, SlurmSpec, SweepSpec, DISTRIBUTIONS, LOCAL_KEYS, MAX_POINTS, SECTIONS, SLURM_KEYS,
    SWEEP_KEYS,
};
use crate::config::overrides;
use crate::sweep::SweepError;

/// A key (dotted for experiment keys), its span, and its value with span.
type Entry<'a, 'i> = (String, Range<usize>, &'a toml::Spanned<DeValue<'i>>);

pub(crate) struct Parser<'t> {
    pub text: &'t str,
    pub path: &'t Path,
}

impl Parser<'_> {
    fn at(&self, offset: usize, message: impl Into<String>) -> SweepError {
        located(self.path, self.text, offset, message)
    }

    /// The value at `span` as an owned TOML value (parsed again from its source text).
    fn value(&self, span: Range<usize>) -> Result<toml::Value, SweepError> {
        let src = self.text.get(span.clone()).unwrap_or_default();
        let doc: toml::Table = toml::from_str(&format!("v = {src}"))
            .map_err(|e| self.at(span.start, format!("invalid value: {}", e.message())))?;
        doc.get("v")
            .cloned()
            .ok_or_else(|| self.at(span.start, "invalid value"))
    }

    pub fn parse(&self) -> Result<SweepSpec, SweepError> {
        let doc = DeTable::parse(self.text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            self.at(offset, format!("invalid TOML: {}", e.message().trim()))
        })?;
        let mut sweep = None;
        let (mut set, mut axes, mut slurm, mut local) = (Vec::new(), Vec::new(), None, None);
        for (k, v) in doc.get_ref().iter() {
            let name: &str = k.get_ref();
            let Some(table) = v.get_ref().as_table() else {
                let msg = if SWEEP_KEYS.contains(&name) {
                    format!("key `{name}` must be inside a section: put it under [sweep]")
                } else if name.contains('.') {
                    format!("experiment key \"{name}\" must be under [axes] (swept) or [set] (fixed)")
                } else {
                    format!("unknown top-level key `{name}`; sweep files have the sections [sweep], [set], [axes], [slurm], [local]")
                };
                return Err(self.at(k.span().start, msg));
            };
            match name {
                "sweep" => sweep = Some((k.span(), table)),
                "set" => flatten(table, None, &mut set).map_err(|(o, m)| self.at(o, m))?,
                "axes" => flatten(table, None, &mut axes).map_err(|(o, m)| self.at(o, m))?,
                "slurm" => slurm = Some(table),
                "local" => local = Some(table),
                _ => {
                    let hint = match overrides::did_you_mean(name, SECTIONS) {
                        Some(c) => format!(", did you mean [{c}]?"),
                        None => " (sections: [sweep], [set], [axes], [slurm], [local])".to_string(),
                    };
                    return Err(self.at(k.span().start, format!("unknown section [{name}]{hint}")));
                }
            }
        }
        let Some((sweep_span, sweep)) = sweep else {
            return Err(self.at(
                0,
                "missing [sweep] section: add [sweep] with base = \"your-experiment.toml\"",
            ));
        };
        let mut spec = self.sweep_section(sweep_span, sweep)?;
        spec.set = self.settings(&set)?;
        spec.axes = self.axes(&axes, &spec.set)?;
        if let Some(t) = slurm {
            spec.slurm = self.slurm(t)?;
        }
        if let Some(t) = local {
            spec.parallel = self.local(t)?;
        }
        self.check_shape(&spec, sweep, &doc)?;
        Ok(spec)
    }

    fn unknown_key(&self, k: &toml::Spanned<toml::de::DeString<'_>>, section: &str, valid: &[&str]) -> SweepError {
        let name: &str = k.get_ref();
        let hint = match overrides::did_you_mean(name, valid) {
            Some(c) => format!(", did you mean `{c}`?"),
            None => format!(" (valid keys: {})", valid.join(", ")),
        };
        self.at(k.span().start, format!("unknown key `{name}` in [{section}]{hint}"))
    }

    fn sweep_section(&self, span: Range<usize>, t: &DeTable<'_>) -> Result<SweepSpec, SweepError> {
        let (mut name, mut base, mut trials, mut seed) = (None, None, None, 1u64);
        for (k, v) in t.iter() {
            let key: &str = k.get_ref();
            let at = v.span().start;
            match key {
                "name" => name = Some((self.string(v.get_ref(), "name", "sweep", at)?, at)),
                "base" => base = Some((self.string(v.get_ref(), "base", "sweep", at)?, v.span())),
                "trials" => {
                    let n = self.int(v.get_ref(), "trials", "sweep", at, 1)?;
                    trials = Some(usize::try_from(n).unwrap_or(usize::MAX));
                }
                "seed" => seed = self.int(v.get_ref(), "seed", "sweep", at, 0)? as u64,
                _ => return Err(self.unknown_key(k, "sweep", SWEEP_KEYS)),
            }
        }
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (name, name_at) = name.unwrap_or((stem, span.start));
        if name.trim().is_empty()
            || name == "."
            || name == ".."
            || name.contains(['/', '\\'])
            || name.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(self.at(
                name_at,
                format!("`name` = {name:?} in [sweep]: must be a non-empty name without slashes or spaces (it names the folder sweeps/<name>/)"),
            ));
        }
        let Some((base_text, base_span)) = base else {
            return Err(self.at(
                span.start,
                "missing `base` in [sweep]: name the experiment every point starts from, e.g. base = \"../default.toml\"",
            ));
        };
        let folder = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = folder.join(&base_text);
        if !base.is_file() {
            let looked = std::path::absolute(&base).unwrap_or_else(|_| base.clone());
            return Err(self.at(
                base_span.start,
                format!(
                    "base experiment \"{base_text}\" not found (looked at {}); the path is relative to the sweep file's folder",
                    looked.display()
                ),
            ));
        }
        Ok(SweepSpec {
            path: self.path.to_path_buf(),
            text: self.text.to_string(),
            name,
            base,
            base_at: base_span.start,
            trials,
            seed,
            set: Vec::new(),
            axes: Vec::new(),
            slurm: SlurmSpec {
                cpus: 1,
                ..SlurmSpec::default()
            },
            parallel: None,
        })
    }

    fn string(&self, v: &DeValue<'_>, key: &str, section: &str, at: usize) -> Result<String, SweepError> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| self.at(at, format!("`{key}` in [{section}]: expected a string")))
    }

    fn int(&self, v: &DeValue<'_>, key: &str, section: &str, at: usize, min: i64) -> Result<i64, SweepError> {
        let n = v
            .as_integer()
            .and_then(|i| i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok());
        match n {
            Some(n) if n >= min => Ok(n),
            _ => Err(self.at(at, format!("`{key}` in [{section}]: expected a whole number ≥ {min}"))),
        }
    }

    fn strings(&self, v: &DeValue<'_>, key: &str, at: usize) -> Result<Vec<String>, SweepError> {
        let err = || self.at(at, format!("`{key}` in [slurm]: expected a list of strings"));
        let arr = v.as_array().ok_or_else(err)?;
        arr.iter()
            .map(|x| x.get_ref().as_str().map(str::to_string).ok_or_else(err))
            .collect()
    }

    fn settings(&self, entries: &[Entry<'_, '_>]) -> Result<Vec<Setting>, SweepError> {
        let mut out: Vec<Setting> = Vec::new();
        for (key, kspan, v) in entries {
            self.check_key(key, kspan.start, "setting")?;
            if out.iter().any(|s| &s.key == key) {
                return Err(self.at(kspan.start, format!("\"{key}\" is set twice in [set]")));
            }
            out.push(Setting {
                key: key.clone(),
                value: self.value(v.span())?,
                at: kspan.start,
            });
        }
        Ok(out)
    }

    fn check_key(&self, key: &str, at: usize, what: &str) -> Result<(), SweepError> {
        overrides::lookup(key).map_err(|m| self.at(at, format!("{what} \"{key}\": {m}")))?;
        if key == "experiment.name" {
            return Err(self.at(
                at,
                format!("{what} \"experiment.name\": the sweep names its points itself (<sweep>-p000, …); name the sweep with [sweep] name"),
            ));
        }
        Ok(())
    }

    fn axes(&self, entries: &[Entry<'_, '_>], set: &[Setting]) -> Result<Vec<Axis>, SweepError> {
        let mut out: Vec<Axis> = Vec::new();
        for (key, kspan, v) in entries {
            self.check_key(key, kspan.start, "axis")?;
            if out.iter().any(|a| &a.key == key) {
                return Err(self.at(kspan.start, format!("axis \"{key}\" is given twice")));
            }
            if set.iter().any(|s| &s.key == key) {
                return Err(self.at(
                    kspan.start,
                    format!("\"{key}\" is both in [set] and in [axes]: keep one"),
                ));
            }
            let domain = self.domain(key, v)?;
            out.push(Axis {
                key: key.clone(),
                domain,
                at: kspan.start,
            });
        }
        Ok(out)
    }

    fn domain(&self, key: &str, v: &toml::Spanned<DeValue<'_>>) -> Result<Domain, SweepError> {
        let at = v.span().start;
        match v.get_ref() {
            DeValue::Array(a) => {
                if a.is_empty() {
                    return Err(self.at(
                        at,
                        format!("axis \"{key}\" is empty: list at least one value, e.g. [64, 128]"),
                    ));
                }
                let toml::Value::Array(values) = self.value(v.span())? else {
                    return Err(self.at(at, format!("axis \"{key}\": expected a list")));
                };
                Ok(Domain::Grid(values))
            }
            DeValue::Table(t) => {
                let mut it = t.iter();
                let (Some((dk, dv)), None) = (it.next(), it.next()) else {
                    return Err(self.at(
                        at,
                        format!("axis \"{key}\": a distribution has one key, one of {}", DISTRIBUTIONS.join(", ")),
                    ));
                };
                let dist: &str = dk.get_ref();
                let dat = dv.span().start;
                let pair = |want_int: bool| -> Result<(toml::Value, toml::Value), SweepError> {
                    let bad = || {
                        self.at(
                            dat,
                            format!(
                                "axis \"{key}\": {dist} takes [low, high], two {}",
                                if want_int { "whole numbers" } else { "numbers" }
                            ),
                        )
                    };
                    match self.value(dv.span())? {
                        toml::Value::Array(a) if a.len() == 2 => {
                            let ok = |x: &toml::Value| x.is_integer() || (!want_int && x.is_float());
                            if ok(&a[0]) && ok(&a[1]) {
                                Ok((a[0].clone(), a[1].clone()))
                            } else {
                                Err(bad())
                            }
                        }
                        _ => Err(bad()),
                    }
                };
                let num = |x: &toml::Value| x.as_float().or_else(|| x.as_integer().map(|i| i as f64)).unwrap_or(f64::NAN);
                let ordered = |low: f64, high: f64| {
                    if !(low.is_finite() && high.is_finite()) {
                        Err(self.at(dat, format!("axis \"{key}\": {dist} bounds must be finite numbers")))
                    } else if low > high {
                        Err(self.at(
                            dat,
                            format!("axis \"{key}\": {dist} low {low} is above high {high}; write [low, high]"),
                        ))
                    } else {
                        Ok(())
                    }
                };
                match dist {
                    "uniform" => {
                        let (l, h) = pair(false)?;
                        let (low, high) = (num(&l), num(&h));
                        ordered(low, high)?;
                        Ok(Domain::Uniform { low, high })
                    }
                    "log_uniform" => {
                        let (l, h) = pair(false)?;
                        let (low, high) = (num(&l), num(&h));
                        ordered(low, high)?;
                        if low <= 0.0 {
                            return Err(self.at(
                                dat,
                                format!("axis \"{key}\": log_uniform needs low > 0 (got {low}); use uniform for ranges that reach 0"),
                            ));
                        }
                        Ok(Domain::LogUniform { low, high })
                    }
                    "int_uniform" => {
                        let (l, h) = pair(true)?;
                        let (low, high) = (l.as_integer().unwrap_or(0), h.as_integer().unwrap_or(0));
                        ordered(low as f64, high as f64)?;
                        Ok(Domain::IntUniform { low, high })
                    }
                    "choice" => match self.value(dv.span())? {
                        toml::Value::Array(a) if !a.is_empty() => Ok(Domain::Choice(a)),
                        toml::Value::Array(_) => Err(self.at(
                            dat,
                            format!("axis \"{key}\": choice is empty: list at least one value"),
                        )),
                        _ => Err(self.at(dat, format!("axis \"{key}\": choice takes a list of values"))),
                    },
                    _ => {
                        let hint = match overrides::did_you_mean(dist, DISTRIBUTIONS) {
                            Some(c) => format!(", did you mean `{c}`?"),
                            None => format!(" (distributions: {})", DISTRIBUTIONS.join(", ")),
                        };
                        Err(self.at(dk.span().start, format!("axis \"{key}\": unknown distribution `{dist}`{hint}")))
                    }
                }
            }
            _ => Err(self.at(
                at,
                format!(
                    "axis \"{key}\": expected a list of values (a grid) or a distribution such as {{ log_uniform = [1e-4, 1e-2] }}; to fix a key for every point, put it under [set]"
                ),
            )),
        }
    }

    fn slurm(&self, t: &DeTable<'_>) -> Result<SlurmSpec, SweepError> {
        let mut s = SlurmSpec {
            cpus: 1,
            ..SlurmSpec::default()
        };
        for (k, v) in t.iter() {
            let key: &str = k.get_ref();
            let at = v.span().start;
            let val = v.get_ref();
            match key {
                "cpus" => s.cpus = self.int(val, key, "slurm", at, 1)? as usize,
                "max_running" => s.max_running = Some(self.int(val, key, "slurm", at, 1)? as usize),
                "mem" => {
                    s.mem = Some(match val.as_integer() {
                        // A bare number is megabytes, as sbatch reads it.
                        Some(_) => self.int(val, key, "slurm", at, 1)?.to_string(),
                        None => self.option(val, key, at)?,
                    })
                }
                "time" => {
                    s.time = Some(match val.as_integer() {
                        // A bare number is minutes, as sbatch reads it.
                        Some(_) => self.int(val, key, "slurm", at, 1)?.to_string(),
                        None => self.option(val, key, at)?,
                    })
                }
                "partition" => s.partition = Some(self.option(val, key, at)?),
                "sbatch" => s.sbatch = self.strings(val, key, at)?,
                "setup" => s.setup = self.strings(val, key, at)?,
                "rnn_lab" => s.rnn_lab = Some(PathBuf::from(self.option(val, key, at)?)),
                _ => return Err(self.unknown_key(k, "slurm", SLURM_KEYS)),
            }
        }
        Ok(s)
    }

    /// A string that goes into the batch script: one line, not empty.
    fn option(&self, v: &DeValue<'_>, key: &str, at: usize) -> Result<String, SweepError> {
        let s = self.string(v, key, "slurm", at)?;
        if s.trim().is_empty() || s.contains(['\n', '\r']) {
            return Err(self.at(at, format!("`{key}` in [slurm]: must be one non-empty line")));
        }
        Ok(s)
    }

    fn local(&self, t: &DeTable<'_>) -> Result<Option<usize>, SweepError> {
        let mut parallel = None;
        for (k, v) in t.iter() {
            match &**k.get_ref() {
                "parallel" => parallel = Some(self.int(v.get_ref(), "parallel", "local", v.span().start, 1)? as usize),
                _ => return Err(self.unknown_key(k, "local", LOCAL_KEYS)),
            }
        }
        Ok(parallel)
    }

    /// Axes present, trials given exactly when something is random, size within bounds.
    fn check_shape(
        &self,
        spec: &SweepSpec,
        sweep: &DeTable<'_>,
        doc: &toml::Spanned<DeTable<'_>>,
    ) -> Result<(), SweepError> {
        let axes_at = doc
            .get_ref()
            .iter()
            .find(|(k, _)| &**k.get_ref() == "axes")
            .map_or(0, |(k, _)| k.span().start);
        if spec.axes.is_empty() {
            return Err(self.at(
                axes_at,
                "no axes: add an [axes] section with at least one key, e.g. \"model.hidden\" = [64, 128]",
            ));
        }
        let trials_at = sweep
            .iter()
            .find(|(k, _)| &**k.get_ref() == "trials")
            .map_or(0, |(k, _)| k.span().start);
        match (spec.axes.iter().find(|a| a.domain.is_random()), spec.trials) {
            (Some(a), None) => {
                return Err(self.at(
                    a.at,
                    format!("random axis \"{}\" needs `trials` in [sweep]: how many points to draw, e.g. trials = 20", a.key),
                ))
            }
            (None, Some(_)) => {
                return Err(self.at(
                    trials_at,
                    "`trials` in [sweep] applies to random axes (distributions) and every axis here is a list: remove it, or make an axis a distribution",
                ))
            }
            _ => {}
        }
        let n = spec.point_count();
        if n > MAX_POINTS {
            return Err(self.at(
                axes_at,
                format!("this sweep has {n} points; at most {MAX_POINTS}: use fewer values or trials"),
            ));
        }
        Ok(())
    }
}

/// Entries of `[set]` or `[axes]` as dotted keys, in file order. A key without a dot whose value
/// is a table that is not a distribution is a section (`[axes.model]`, or `model.hidden = …`
/// written without quotes).
fn flatten<'a, 'i>(
    t: &'a DeTable<'i>,
    section: Option<&str>,
    out: &mut Vec<Entry<'a, 'i>>,
) -> Result<(), (usize, String)> {
    for (k, v) in t.iter() {
        let name: &str = k.get_ref();
        let full = match section {
            Some(s) => format!("{s}.{name}"),
            None => name.to_string(),
        };
        let is_distribution = v
            .get_ref()
            .as_table()
            .is_some_and(|t| t.iter().any(|(dk, _)| DISTRIBUTIONS.contains(&&**dk.get_ref())));
        match v.get_ref().as_table() {
            Some(inner) if section.is_none() && !name.contains('.') && !is_distribution => {
                flatten(inner, Some(name), out)?;
            }
            Some(_) if section.is_some() && !is_distribution => {
                return Err((
                    k.span().start,
                    format!("\"{full}\": expected a value, a list or a distribution, not a table"),
                ));
            }
            _ => out.push((full, k.span(), v)),
        }
    }
    out.sort_by_key(|(_, span, _)| span.start);
    Ok(())
}
