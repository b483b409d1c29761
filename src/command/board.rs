//! The live board of `watch` on a terminal (SPEC §8): one row per pane with its worker,
//! session, phase, current task, open subagents, counts, the age of its last marker and
//! its latest finding; Enter opens a pane's findings, `q` quits. It redraws only when
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
        }
    }
}

/// One pane's row.
struct Pane {
    worker: String,
    session: String,
    phase: Phase,
    task: String,
    subagents: u64,
    tasks: u64,
    files: u64,
    last_marker: Option<Instant>,
    totals: Totals,
    latest: String,
    findings: VecDeque<(Severity, String)>,
}

impl Pane {
    fn new() -> Pane {
        Pane {
            worker: String::new(),
            session: String::new(),
            phase: Phase::Waiting,
            task: String::new(),
            subagents: 0,
            tasks: 0,
            files: 0,
            last_marker: None,
            totals: Totals::default(),
            latest: String::new(),
            findings: VecDeque::new(),
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
        let EventKind::Marker(marker) = &event.kind else {
            return;
        };
        let pane = self.pane(file);
        pane.last_marker = Some(Instant::now());
        if pane.phase == Phase::Stalled {
            pane.phase = if pane.task.is_empty() {
                Phase::Start
            } else {
                Phase::Tasks
            };
        }
        match marker {
            Marker::SessionStart { session } => {
                pane.session = esc(&session.id, 40);
                pane.worker = esc(&session.worker_type, 16);
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
            Marker::FilesCreated { count } => pane.files = pane.files.saturating_add(*count),
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
        let text = format!(
            "line {}: {} {}",
            finding.primary.at.line,
            finding.rule,
            esc(&finding.message, 200)
        );
        pane.latest = esc(&format!("{}: {}", finding.rule, finding.message), 60);
        pane.keep(finding.severity, text);
    }

    fn session_end(&mut self, file: &str, state: &SessionState) {
        let pane = self.pane(file);
        pane.phase = match state.status {
            Status::Complete => Phase::Complete,
            Status::Crashed => Phase::Crashed,
        };
    }

    fn note(&mut self, file: &str, message: &str) {
        let pane = self.pane(file);
        pane.keep(Severity::Warning, format!("note: {message}"));
        pane.latest = esc(message, 60);
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

/// `3s`, `12m`, `2h`: the age of a pane's last marker.
fn age(at: Option<Instant>) -> String {
    let Some(at) = at else { return "-".into() };
    let s = at.elapsed().as_secs();
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
    let header = Row::new([
        "PANE",
        "WORKER",
        "SESSION",
        "PHASE",
        "TASK",
        "SUBAG",
        "TASKS",
        "FILES",
        "LAST",
        "ERR",
        "WARN",
        "LATEST FINDING",
    ])
    .style(Style::default().add_modifier(Modifier::BOLD));
    let rows: Vec<Row<'_>> = board
        .panes
        .iter()
        .map(|(file, p)| {
            let phase_color = match p.phase {
                Phase::Complete => Color::Green,
                Phase::Crashed | Phase::Stalled => Color::Red,
                Phase::Distillation => Color::Cyan,
                Phase::Waiting | Phase::Start | Phase::Tasks => Color::Reset,
            };
            let name = std::path::Path::new(file)
                .file_name()
                .map_or_else(|| file.clone(), |n| n.to_string_lossy().into_owned());
            Row::new([
                Cell::from(esc(&name, 24)),
                Cell::from(p.worker.clone()),
                Cell::from(p.session.clone()),
                Cell::from(p.phase.word()).style(board.style(phase_color)),
                Cell::from(p.task.clone()),
                Cell::from(p.subagents.to_string()),
                Cell::from(p.tasks.to_string()),
                Cell::from(p.files.to_string()),
                Cell::from(age(p.last_marker)),
                Cell::from(p.totals.errors.to_string()).style(if p.totals.errors > 0 {
                    board.style(Color::Red)
                } else {
                    Style::default()
                }),
                Cell::from(p.totals.warnings.to_string()),
                Cell::from(p.latest.clone()),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(14),
        Constraint::Length(11),
        Constraint::Length(30),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Min(10),
    ];
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
    };
    // Raw mode, the alternate screen, and a panic hook that restores the terminal.
    let mut terminal = ratatui::init();
    let result = board_loop(&mut terminal, &mut board, fleet, reports);
    ratatui::restore();
    let interrupted = result?;
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
        if fleet.changed() || last_step.is_none_or(|t| t.elapsed() >= POLL) {
            let mut both = WithReports::new(&mut *board, reports);
            fleet.step(&mut both)?;
            last_step = Some(Instant::now());
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
