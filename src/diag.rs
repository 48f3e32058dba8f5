//! Diagnostics as data: what went wrong, where, and what to do about it.
//!
//! Every stage reports problems by pushing [`Diagnostic`]s; none stops at the first one.
//! Rendering (human, short) lives here too, so the CLI, the build.rs API and the tests
//! print the same text.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde_saphyr::Location;

/// A schema file as read: its display name (never an absolute path) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// Byte range of a parsed location. Falls back to the start of the line when the YAML
    /// reader knows the line and column but not the byte offset.
    pub fn span_of(&self, loc: &Location) -> Span {
        let len = loc.span().byte_len().unwrap_or(0) as usize;
        if let Some(off) = loc.span().byte_offset() {
            return Span {
                offset: off as usize,
                len,
            };
        }
        if loc.line() == 0 {
            return Span { offset: 0, len: 0 };
        }
        let line_start: usize = self
            .text
            .split_inclusive('\n')
            .take(loc.line() as usize - 1)
            .map(str::len)
            .sum();
        let col = self.text[line_start.min(self.text.len())..]
            .char_indices()
            .nth(loc.column().saturating_sub(1) as usize)
            .map_or(0, |(i, _)| i);
        Span {
            offset: (line_start + col).min(self.text.len()),
            len,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

/// A byte range in a [`Source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One finding about a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier, e.g. `dyngen::unknown_placeholder`.
    pub code: &'static str,
    pub message: String,
    /// The first label is the primary location.
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// The entities and patterns (schema names) a lint is about, for `allow:` lists.
    pub subjects: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            subjects: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    /// Names an entity or pattern the diagnostic is about (for `allow:`).
    pub fn about(mut self, subject: impl Into<String>) -> Self {
        self.subjects.push(subject.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    fn primary_offset(&self) -> usize {
        self.labels.first().map_or(0, |l| l.span.offset)
    }
}

/// Sorts diagnostics by position, then code, then message, so output never depends on the
/// order in which checks ran.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.primary_offset(), a.code, &a.message, a.severity).cmp(&(
            b.primary_offset(),
            b.code,
            &b.message,
            b.severity,
        ))
    });
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// A framed snippet with labels and a hint (colour when printing to a terminal).
    #[default]
    Human,
    /// One `file:line:col: severity[code]: message` line each, for editors and grep, with
    /// the hint after it on an indented `help:` line.
    Short,
    /// One JSON object per line (JSON Lines): file, line, column, end, severity, code,
    /// message, help and every label, for tools.
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…::message`), which show as
    /// annotations on the pull request's diff.
    Github,
}

/// Renders diagnostics in the given format; `color` only affects `Human`.
pub fn render_all(source: &Source, diags: &[Diagnostic], format: Format, color: bool) -> String {
    let mut out = String::new();
    for d in diags {
        match format {
            Format::Human => out.push_str(&render_human(source, d, color)),
            Format::Short => out.push_str(&render_short(source, d)),
            Format::Json => out.push_str(&render_json(source, d)),
            Format::Github => out.push_str(&render_github(source, d)),
        }
    }
    out
}

fn render_short(source: &Source, d: &Diagnostic) -> String {
    let (line, col) = source.line_col(d.primary_offset());
    let sev = severity_word(d.severity);
    let mut out = format!(
        "{}:{line}:{col}: {sev}[{}]: {}\n",
        source.name,
        d.code,
        one_line(&d.message)
    );
    if let Some(help) = &d.help {
        out.push_str(&format!("  help: {}\n", one_line(help)));
    }
    out
}

/// A message on one line (the short forms are line-oriented).
fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `(line, column, end line, end column)` of a span, 1-based, the end exclusive.
fn position(source: &Source, span: Span) -> (usize, usize, usize, usize) {
    let (line, col) = source.line_col(span.offset);
    let (end_line, end_col) = source.line_col(span.offset + span.len);
    (line, col, end_line, end_col)
}

fn render_json(source: &Source, d: &Diagnostic) -> String {
    let primary = d.labels.first().map_or(Span::default(), |l| l.span);
    let (line, column, end_line, end_column) = position(source, primary);
    let labels: Vec<serde_json::Value> = d
        .labels
        .iter()
        .map(|l| {
            let (line, column, end_line, end_column) = position(source, l.span);
            serde_json::json!({
                "line": line, "column": column, "end_line": end_line,
                "end_column": end_column, "text": l.text,
            })
        })
        .collect();
    let value = serde_json::json!({
        "file": source.name,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "severity": severity_word(d.severity),
        "code": d.code,
        "message": d.message,
        "help": d.help,
        "labels": labels,
    });
    format!("{value}\n")
}

/// A workflow command: `::error file=F,line=L,col=C,endLine=…,endColumn=…,title=CODE::…`.
fn render_github(source: &Source, d: &Diagnostic) -> String {
    let primary = d.labels.first().map_or(Span::default(), |l| l.span);
    let (line, col, end_line, end_col) = position(source, primary);
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!(
        "::{} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}\n",
        severity_word(d.severity),
        github_property(&source.name),
        github_property(d.code),
        github_data(&message)
    )
}

/// GitHub's escaping of a command's message.
pub fn github_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping of a command's property values.
pub fn github_property(s: &str) -> String {
    github_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn render_human(source: &Source, d: &Diagnostic, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut shown = far_labels_as_notes(source, d);
    let spans: Vec<Span> = shown.labels.iter().map(|l| l.span).collect();
    let (text, spans) = windowed(&source.text, &spans);
    for (label, span) in shown.labels.iter_mut().zip(spans) {
        label.span = span;
    }
    let report = Report {
        source: NamedSource::new(&source.name, text),
        diag: &shown,
    };
    let mut out = String::new();
    // Rendering into a String cannot fail for lack of space; a failure would be a bug in
    // the renderer, and then the short form still tells the user what is wrong.
    if handler.render_report(&mut out, &report).is_err() {
        return render_short(source, d);
    }
    out
}

/// Labels more than a few lines from the primary one would make the snippet show every
/// line between them; they become notes with their location instead.
fn far_labels_as_notes(source: &Source, d: &Diagnostic) -> Diagnostic {
    const NEAR: usize = 4;
    let mut shown = d.clone();
    let Some(primary) = d.labels.first() else {
        return shown;
    };
    let line_of = |s: Span| source.line_col(s.offset).0;
    let home = line_of(primary.span);
    let mut near = Vec::new();
    let mut far = Vec::new();
    for (i, l) in d.labels.iter().enumerate() {
        if i == 0 || line_of(l.span).abs_diff(home) <= NEAR {
            near.push(l.clone());
        } else {
            far.push(l.clone());
        }
    }
    if far.is_empty() {
        return shown;
    }
    shown.labels = near;
    let mut help = shown.help.take().unwrap_or_default();
    for l in far {
        let (line, col) = source.line_col(l.span.offset);
        if !help.is_empty() {
            help.push('\n');
        }
        help.push_str(&format!("{} at {}:{line}:{col}", l.text, source.name));
    }
    shown.help = Some(help);
    shown
}

/// The longest line a snippet shows whole; longer ones are cut to a window around the
/// first label on them (a minified or generated YAML line can be megabytes).
const MAX_SHOWN_LINE: usize = 200;

/// The text to show and the labels moved onto it: lines over [`MAX_SHOWN_LINE`] bytes are
/// cut to a window around their first label (or their start), marked with `…`.
fn windowed(text: &str, spans: &[Span]) -> (String, Vec<Span>) {
    if text.lines().all(|l| l.len() <= MAX_SHOWN_LINE) {
        return (text.to_string(), spans.to_vec());
    }
    // (original start, original end, start in the new text) of each piece kept.
    let mut pieces: Vec<(usize, usize, usize)> = Vec::new();
    let mut out = String::with_capacity(text.len().min(1 << 20));
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let end = start + body.len();
        let (a, b) = if body.len() <= MAX_SHOWN_LINE {
            (start, end)
        } else {
            let anchor = spans
                .iter()
                .map(|s| s.offset)
                .filter(|o| (start..=end).contains(o))
                .min()
                .unwrap_or(start);
            let a = floor_char(text, anchor.saturating_sub(MAX_SHOWN_LINE / 3).max(start));
            let b = floor_char(text, (a + MAX_SHOWN_LINE).min(end));
            (a, b)
        };
        if a > start {
            out.push('…');
        }
        pieces.push((a, b, out.len()));
        out.push_str(&text[a..b]);
        if b < end {
            out.push('…');
        }
        out.push_str(&line[body.len()..]);
        start += line.len();
    }
    let moved = spans
        .iter()
        .map(|s| {
            let piece = pieces
                .iter()
                .find(|(a, b, _)| (*a..=*b).contains(&s.offset))
                .or_else(|| pieces.iter().rev().find(|(a, _, _)| *a <= s.offset));
            match piece {
                Some((a, b, new)) => {
                    let offset = s.offset.clamp(*a, *b);
                    Span {
                        offset: new + (offset - a),
                        len: s.len.min(b - offset),
                    }
                }
                None => Span { offset: 0, len: 0 },
            }
        })
        .collect();
    (out, moved)
}

/// The largest character boundary at or before `i`.
fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Adapter from our plain data to miette's trait, built only for rendering.
struct Report<'a> {
    source: NamedSource<String>,
    diag: &'a Diagnostic,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.diag.labels.is_empty() {
            // Still show where: the top of the file.
            return Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
                None,
                SourceSpan::from((0, 0)),
            ))));
        }
        Some(Box::new(self.diag.labels.iter().enumerate().map(
            |(i, l)| {
                let span = SourceSpan::from((l.span.offset, l.span.len));
                let text = (!l.text.is_empty()).then(|| l.text.clone());
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, span)
                } else {
                    LabeledSpan::new_with_span(text, span)
                }
            },
        )))
    }
}

/// The candidate closest to `name` (at most two edits away, ignoring case), for "did you
/// mean" hints.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}
