//! The live board of `watch` on a terminal (SPEC §8): one row per pane with its session
//! (whose id names the worker), phase, current task, open subagents, counts, how long
//! its file has been silent and, when there is room, its latest finding (the columns
//! fit the terminal's width); Enter opens a pane's findings, `q` quits. It redraws only when
//! something changed (at most ten times a second, and once a second for the ages), and
//! the terminal is restored on exit, on a panic and on a signal.
//!
//! Everything shown from a transcript is escaped ([`crate::sanitize`]): a pane cannot
//! write a control sequence through the board.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event as Input, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, List, ListItem, ListState, Paragraph, Row, Table, TableState,
};

use super::Fatal;
use super::watch::{Fleet, POLL, WithReports};
use crate::cli::WatchArgs;
use crate::event::{Event, EventKind, Marker};
use crate::finding::Finding;
use crate::interrupt;
use crate::report::set::Reports;
use crate::rule::{Rule, Severity};
use crate::sanitize;
use crate::sink::{Flow, Item};
use crate::state::{SessionState, Status};
use crate::summary::{FileSummary, Totals};

/// Findings kept per pane for its detail view.
const KEPT: usize = 500;

/// Where a pane's worker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No session seen yet.
    Waiting,
    Start,
    Tasks,
    Distillation,
    Complete,
    Crashed,
    Stalled,
    /// The CLI waits for a rate limit to reset.
    RateLimited,
    /// The CLI hangs (worker-hung).
    Hung,
}

impl Phase {
    fn word(self) -> &'static str {
        match self {
            Phase::Waiting => "waiting",
            Phase::Start => "start",
            Phase::Tasks => "tasks",
            Phase::Distillation => "distillation",
            Phase::Complete => "complete",
            Phase::Crashed => "crashed",
            Phase::Stalled => "stalled",
            Phase::RateLimited => "rate-limited",
            Phase::Hung => "hung",
        }
    }
}

/// One pane's row.
struct Pane {
    session: String,
    /// The session's id as the input has it (which session a `SessionEnd` is about).
    session_id: String,
    phase: Phase,
    task: String,
    subagents: u64,
    tasks: u64,
    files: u64,
    /// How long its file has been silent (from its modification time at first).
    silent: Option<Duration>,
    totals: Totals,
    latest: String,
    findings: VecDeque<(Severity, String)>,
    /// The usage its CLI reported (`602k $0.66`).
    usage: String,
    /// The phase before a rate-limit wait.
    before_wait: Option<Phase>,
}

impl Pane {
    fn new() -> Pane {
        Pane {
            session: String::new(),
            session_id: String::new(),
            phase: Phase::Waiting,
            task: String::new(),
            subagents: 0,
            tasks: 0,
            files: 0,
            silent: None,
            totals: Totals::default(),
            latest: String::new(),
            findings: VecDeque::new(),
            usage: String::new(),
            before_wait: None,
        }
    }

    fn keep(&mut self, severity: Severity, text: String) {
        if self.findings.len() >= KEPT {
            self.findings.pop_front();
        }
        self.findings.push_back((severity, text));
    }
}

/// The board's state: the panes, what is selected, what the user opened.
struct Board {
    panes: BTreeMap<String, Pane>,
    selected: usize,
    /// The pane whose findings are open.
    open: Option<String>,
    dirty: bool,
    color: bool,
    /// The summaries told when the watch ends, printed after the board is gone.
    summaries: Vec<String>,
    /// The watch is ending: notes go with the summaries.
    ending: bool,
}

impl Board {
    fn pane(&mut self, file: &str) -> &mut Pane {
        self.dirty = true;
        self.panes.entry(file.to_owned()).or_insert_with(Pane::new)
    }

    fn style(&self, color: Color) -> Style {
        if self.color {
            Style::default().fg(color)
        } else {
            Style::default()
        }
    }
}

fn esc(s: &str, max: usize) -> String {
    let s = sanitize::escape(s.as_bytes());
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

impl Board {
    fn followed(&mut self, file: &str) {
        self.pane(file);
    }

    fn event(&mut self, file: &str, event: &Event) {
        let pane = self.pane(file);
        match &event.kind {
            EventKind::Usage(usage) => {
                pane.usage = crate::usage::short(usage.tokens.total_tokens);
                if let Some(cost) = usage.cost_usd {
                    pane.usage.push_str(&format!(" ${cost:.2}"));
                }
                return;
            }
            EventKind::RateLimited { .. } => {
                if pane.phase != Phase::RateLimited {
                    pane.before_wait = Some(pane.phase);
                    pane.phase = Phase::RateLimited;
                }
                return;
            }
            EventKind::Marker(_) => {}
            // Any other record: a wait on a rate limit is over.
            _ => {
                if let Some(phase) = pane.before_wait.take() {
                    pane.phase = phase;
                }
                return;
            }
        }
        let EventKind::Marker(marker) = &event.kind else {
            return;
        };
        if let Some(phase) = pane.before_wait.take() {
            pane.phase = phase;
        }
        if matches!(pane.phase, Phase::Stalled | Phase::Hung) {
            pane.phase = if pane.task.is_empty() {
                Phase::Start
            } else {
                Phase::Tasks
            };
        }
        match marker {
            Marker::SessionStart { session } => {
                pane.session = esc(&session.id, 80);
                pane.session_id.clone_from(&session.id);
                pane.phase = Phase::Start;
                pane.task.clear();
                pane.subagents = 0;
                pane.tasks = 0;
                pane.files = 0;
                pane.totals.sessions += 1;
            }
            Marker::TaskStart { task } => {
                pane.task = esc(task, 24);
                pane.phase = Phase::Tasks;
            }
            Marker::TaskComplete { .. } => {
                pane.tasks += 1;
                pane.task.clear();
            }
            Marker::SubagentSpawn { .. } => pane.subagents += 1,
            Marker::SubagentComplete { .. } => pane.subagents = pane.subagents.saturating_sub(1),
            // The completion block restates the session's total: not added again.
            Marker::FilesCreated { count } if pane.phase != Phase::Complete => {
                pane.files = pane.files.saturating_add(*count);
            }
            Marker::DistillationRequest { .. } | Marker::DistillationComplete => {
                pane.phase = Phase::Distillation;
            }
            Marker::SessionComplete { .. } => {
                pane.phase = Phase::Complete;
                pane.task.clear();
            }
            _ => {}
        }
    }

    fn finding(&mut self, file: &str, finding: &Finding) {
        let pane = self.pane(file);
        match finding.severity {
            Severity::Error => pane.totals.errors += 1,
            Severity::Warning => pane.totals.warnings += 1,
        }
        if finding.rule == Rule::WorkerStalled {
            pane.phase = Phase::Stalled;
        }
        if finding.rule == Rule::WorkerHung {
            pane.phase = Phase::Hung;
        }
        let text = format!(
            "line {}: {} {}",
            finding.primary.at.line,
            finding.rule,
            esc(&finding.message, 200)
        );
        pane.latest = esc(&format!("{}: {}", finding.rule, finding.message), 200);
        pane.keep(finding.severity, text);
    }

    fn session_end(&mut self, file: &str, state: &SessionState) {
        let pane = self.pane(file);
        // The end of an earlier session (cut off by a nested `SESSION_START`) does not
        // change the row of the session that follows it.
        if state.session_id != pane.session_id {
            return;
        }
        pane.phase = match state.status {
            Status::Complete => Phase::Complete,
            Status::Crashed => Phase::Crashed,
        };
        pane.files = state.files_created;
    }

    fn note(&mut self, file: &str, message: &str) {
        if self.ending {
            // Said after the board is gone, with the summaries.
            self.summaries
                .push(format!("{}: {}", esc(file, 200), esc(message, 400)));
        }
        let pane = self.pane(file);
        pane.keep(Severity::Warning, format!("note: {message}"));
        pane.latest = esc(message, 200);
    }

    fn summary(&mut self, summary: &FileSummary<'_>) {
        self.summaries.push(format!(
            "{}: {}",
            summary.file,
            crate::report::human::describe(summary.totals)
        ));
    }
}

impl crate::sink::Sink for Board {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::Followed => self.followed(input),
            Item::Event(event) => self.event(input, event),
            Item::Finding(f) => self.finding(input, &f),
            Item::SessionEnd(state) => self.session_end(input, state),
            Item::Note(message) => self.note(input, message),
            Item::InputEnd(summary) => self.summary(summary),
            // The board shows phases and counts; the pictures and the run's end are the
            // reports' (its totals line is written when the watch ends).
            Item::SessionDrawn(..)
            | Item::Settled(_)
            | Item::Unreadable(_)
            | Item::RunEnd { .. } => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}

/// `3s`, `12m`, `2h`: how long a pane's file has been silent.
fn age(silent: Option<Duration>) -> String {
    let Some(silent) = silent else {
        return "-".into();
    };
    let s = silent.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        _ => format!("{}h", s / 3600),
    }
}

fn draw(board: &mut Board, frame: &mut ratatui::Frame<'_>) {
    let [top, bottom] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(frame.area());
    let keys = match &board.open {
        Some(_) => "Esc back · ↑/↓ scroll · q quit",
        None => "↑/↓ select · Enter findings · q quit",
    };
    frame.render_widget(
        Paragraph::new(keys).style(board.style(Color::DarkGray)),
        bottom,
    );
    if let Some(file) = board.open.clone() {
        let Some(pane) = board.panes.get(&file) else {
            board.open = None;
            return;
        };
        let items: Vec<ListItem<'_>> = pane
            .findings
            .iter()
            .map(|(severity, text)| {
                let color = match severity {
                    Severity::Error => Color::Red,
                    Severity::Warning => Color::Yellow,
                };
                ListItem::new(Line::from(Span::styled(text.clone(), board.style(color))))
            })
            .collect();
        let title = format!(
            " {} — {} ",
            file,
            crate::report::human::describe(pane.totals)
        );
        let mut state = ListState::default().with_selected(items.len().checked_sub(1));
        let list = List::new(items)
            .block(Block::default().borders(Borders::ALL).title(title))
            .highlight_style(Style::default().add_modifier(Modifier::BOLD));
        frame.render_stateful_widget(list, top, &mut state);
        return;
    }
    // Pane names as the files are named, without their extension when narrow.
    let names: Vec<String> = board.panes.keys().map(|f| pane_name(f, false)).collect();
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(4);
    let mut layout = Columns::fit(top.width.saturating_sub(2), longest);
    let short = layout.pane < longest as u16;
    if short {
        let longest = board
            .panes
            .keys()
            .map(|f| pane_name(f, true).chars().count())
            .max()
            .unwrap_or(4);
        layout = Columns::fit(top.width.saturating_sub(2), longest);
    }
    let header = Row::new(layout.titles()).style(Style::default().add_modifier(Modifier::BOLD));
    let rows: Vec<Row<'_>> = board
        .panes
        .iter()
        .map(|(file, p)| {
            let phase_color = match p.phase {
                Phase::Complete => Color::Green,
                Phase::Crashed | Phase::Stalled | Phase::Hung => Color::Red,
                Phase::Distillation => Color::Cyan,
                Phase::RateLimited => Color::Yellow,
                Phase::Waiting | Phase::Start | Phase::Tasks => Color::Reset,
            };
            let mut cells = vec![
                Cell::from(tail(&pane_name(file, short), layout.pane)),
                Cell::from(middle(&p.session, layout.session)),
                Cell::from(p.phase.word()).style(board.style(phase_color)),
                Cell::from(p.task.clone()),
                Cell::from(p.subagents.to_string()),
                Cell::from(p.tasks.to_string()),
                Cell::from(p.files.to_string()),
                Cell::from(age(p.silent)),
                Cell::from(p.totals.errors.to_string()).style(if p.totals.errors > 0 {
                    board.style(Color::Red)
                } else {
                    Style::default()
                }),
                Cell::from(p.totals.warnings.to_string()),
            ];
            if layout.usage {
                cells.insert(7, Cell::from(p.usage.clone()));
            }
            if layout.latest > 0 {
                cells.push(Cell::from(p.latest.clone()));
            }
            Row::new(cells)
        })
        .collect();
    let widths = layout.widths();
    let count = board.panes.len();
    let title = format!(
        " quant-session watch — {} pane{} ",
        count,
        if count == 1 { "" } else { "s" }
    );
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::default().borders(Borders::ALL).title(title))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut state =
        TableState::default().with_selected((count > 0).then_some(board.selected.min(count - 1)));
    frame.render_stateful_widget(table, top, &mut state);
}

/// The board's columns, fitted to the terminal's width: the counts keep the width of
/// their titles, the pane and session names take what is left (a session id whole when
/// it fits, else its end, which tells sessions apart), and the latest finding gets a
/// column only when there is room for it (it is in the findings view anyway).
struct Columns {
    pane: u16,
    session: u16,
    task: u16,
    latest: u16,
    usage: bool,
}

/// The fixed columns after TASK: title and width.
const COUNTS: [(&str, u16); 6] = [
    ("SUBAG", 5),
    ("TASKS", 5),
    ("FILES", 5),
    ("LAST", 4),
    ("ERR", 4),
    ("WARN", 4),
];
/// The USAGE column (tokens and cost), after FILES, when the board is this wide.
const USAGE: u16 = 10;
const USAGE_FROM: u16 = 100;
const PHASE: u16 = 12;

impl Columns {
    /// The columns for a board `width` wide whose longest pane name is `longest`.
    fn fit(width: u16, longest: usize) -> Columns {
        // USAGE takes room from the latest finding when that stays 25 wide, else from
        // the names on a board wide enough; an 80-column board has none.
        let base = Columns::fit_with(width, longest, false);
        if base.latest > 25 + USAGE {
            return Columns {
                latest: base.latest - (USAGE + 1),
                usage: true,
                ..base
            };
        }
        if base.latest == 0 && width >= USAGE_FROM {
            return Columns::fit_with(width, longest, true);
        }
        base
    }

    fn fit_with(width: u16, longest: usize, usage: bool) -> Columns {
        let counts: u16 =
            COUNTS.iter().map(|(_, w)| w + 1).sum::<u16>() + if usage { USAGE + 1 } else { 0 };
        // PANE, SESSION, PHASE, TASK and the counts, one space between columns.
        let free = width.saturating_sub(counts + PHASE + 4);
        let pane = (longest as u16).clamp(4, (free / 3).clamp(4, 24));
        let task = (free / 5).clamp(5, 12);
        // A session id whole (`researcher-2026-11-23T10:15:30.123456` is 37).
        let session = free.saturating_sub(pane + task).clamp(8, 40);
        let rest = free.saturating_sub(pane + task + session);
        Columns {
            pane,
            session,
            task,
            latest: if rest > 30 { rest - 1 } else { 0 },
            usage,
        }
    }

    fn titles(&self) -> Vec<&'static str> {
        let mut titles = vec!["PANE", "SESSION", "PHASE", "TASK"];
        titles.extend(COUNTS.iter().map(|(t, _)| *t));
        if self.usage {
            titles.insert(7, "USAGE");
        }
        if self.latest > 0 {
            titles.push("LATEST FINDING");
        }
        titles
    }

    fn widths(&self) -> Vec<Constraint> {
        let mut widths = vec![
            Constraint::Length(self.pane),
            Constraint::Length(self.session),
            Constraint::Length(PHASE),
            Constraint::Length(self.task),
        ];
        widths.extend(COUNTS.iter().map(|(_, w)| Constraint::Length(*w)));
        if self.usage {
            widths.insert(7, Constraint::Length(USAGE));
        }
        if self.latest > 0 {
            widths.push(Constraint::Min(self.latest));
        }
        widths
    }
}

/// A pane's name on the board: its file's name, without its extension when `short`.
fn pane_name(file: &str, short: bool) -> String {
    let path = std::path::Path::new(file);
    let name = if short {
        path.file_stem()
    } else {
        path.file_name()
    };
    let name = name.map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned());
    esc(&name, 80)
}

/// A session id in at most `width` characters: whole, or the worker type it starts
/// with, `…`, and its end (the time that tells sessions apart).
fn middle(text: &str, width: u16) -> String {
    let width = usize::from(width);
    let n = text.chars().count();
    if n <= width || width < 8 {
        return tail(text, width as u16);
    }
    let worker = text.split('-').next().unwrap_or("").chars().count();
    let head = worker.min(width / 2 - 1);
    let keep_tail = width - head - 1;
    text.chars()
        .take(head)
        .chain(std::iter::once('…'))
        .chain(text.chars().skip(n - keep_tail))
        .collect()
}

/// `text` in at most `width` characters: whole, or `…` and its end.
fn tail(text: &str, width: u16) -> String {
    let width = usize::from(width);
    let n = text.chars().count();
    if n <= width || width == 0 {
        return text.to_owned();
    }
    let skip = n - (width - 1);
    std::iter::once('…')
        .chain(text.chars().skip(skip))
        .collect()
}

/// Whether colours are used: `--color`, then NO_COLOR.
fn colored(args: &WatchArgs) -> bool {
    use crate::cli::ColorChoice;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color,
    }
}

pub(super) fn run(
    args: &WatchArgs,
    fleet: &mut Fleet<'_>,
    reports: &mut Reports<'_>,
) -> Result<(Option<i32>, Totals), Fatal> {
    let mut board = Board {
        panes: BTreeMap::new(),
        selected: 0,
        open: None,
        dirty: true,
        color: colored(args),
        summaries: Vec::new(),
        ending: false,
    };
    // Raw mode, the alternate screen, and a panic hook that restores the terminal.
    let mut terminal = ratatui::init();
    let result = board_loop(&mut terminal, &mut board, fleet, reports);
    ratatui::restore();
    let interrupted = result?;
    board.ending = true;
    let mut both = WithReports::new(&mut board, reports);
    let totals = fleet.finish(&mut both)?;
    let mut text = board.summaries.join("\n");
    text.push('\n');
    super::write_stdout(text.as_bytes())?;
    Ok((interrupted, totals))
}

/// Runs the board until `q`, Ctrl-C or a signal; returns the signal, if one ended it.
fn board_loop(
    terminal: &mut ratatui::DefaultTerminal,
    board: &mut Board,
    fleet: &mut Fleet<'_>,
    reports: &mut Reports<'_>,
) -> Result<Option<i32>, Fatal> {
    let drawing = |e: io::Error| Fatal::write(super::WriteTo::Stdout, e);
    let mut last_step: Option<Instant> = None;
    let mut last_draw: Option<Instant> = None;
    loop {
        if let Some(sig) = interrupt::signal() {
            return Ok(Some(sig));
        }
        if event::poll(Duration::from_millis(100)).map_err(drawing)? {
            match event::read().map_err(drawing)? {
                Input::Key(key) if key.kind == KeyEventKind::Press => {
                    let count = board.panes.len();
                    match key.code {
                        KeyCode::Char('q') => return Ok(None),
                        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                            return Ok(Some(signal_hook::consts::SIGINT));
                        }
                        KeyCode::Up | KeyCode::Char('k') => {
                            board.selected = board.selected.saturating_sub(1);
                        }
                        KeyCode::Down | KeyCode::Char('j') if count > 0 => {
                            board.selected = (board.selected + 1).min(count - 1);
                        }
                        KeyCode::Enter if board.open.is_none() => {
                            board.open = board.panes.keys().nth(board.selected).cloned();
                        }
                        KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace => board.open = None,
                        _ => {}
                    }
                    board.dirty = true;
                }
                Input::Resize(..) => board.dirty = true,
                _ => {}
            }
        }
        if last_step.is_none_or(|t| t.elapsed() >= POLL) {
            let mut both = WithReports::new(&mut *board, reports);
            fleet.step(&mut both)?;
            last_step = Some(Instant::now());
        }
        for (name, silent) in fleet.silences() {
            if let Some(pane) = board.panes.get_mut(name) {
                pane.silent = Some(silent);
            }
        }
        // At most ten frames a second; once a second for the ages.
        let since = last_draw.map_or(Duration::MAX, |t| t.elapsed());
        if (board.dirty && since >= Duration::from_millis(100)) || since >= Duration::from_secs(1) {
            terminal.draw(|f| draw(board, f)).map_err(drawing)?;
            board.dirty = false;
            last_draw = Some(Instant::now());
        }
    }
}
