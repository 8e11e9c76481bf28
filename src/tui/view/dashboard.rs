//! The customer dashboard: the R×F segment grid as a heat map with counts, revenue and margin
//! by month, the satisfaction trend, top customers and products by margin, and the customers
//! slipping away who spent most. Every figure is printed as a number (shade and bars only
//! repeat it), so it reads the same in 16 colours and with `NO_COLOR`. Figures come from
//! [`crate::analytics::reports::dashboard`], the `rolo report` functions.
//!
//! The focus moves over the grid's cells and the panels' rows ([`Shown`] says which rows are
//! on screen, for `update` too); the focused item carries a `>` and the selected style, and the
//! focused panel a thick border and the focus marker — visible with or without colour.
//! [`Shown::drill`] names what `enter` opens.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::analytics::reports::{CustomerClv, Dashboard, MonthBar, SegmentRow};
use crate::domain::Id;
use crate::tui::state::{DashboardFocus, DashboardPanel, State};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{fit, pane_block, truncate};

/// Money in whole units with a k/M suffix, e.g. `12.3k`.
fn short_money(minor: i64) -> String {
    let units = minor as f64 / 100.0;
    let abs = units.abs();
    if abs >= 1e6 {
        format!("{:.1}M", units / 1e6)
    } else if abs >= 1e4 {
        format!("{:.0}k", units / 1e3)
    } else if abs >= 1e3 {
        format!("{:.1}k", units / 1e3)
    } else {
        format!("{units:.0}")
    }
}

/// A shade for `n` of `max`: blank, ░, ▒, ▓, █.
fn shade(n: u64, max: u64) -> char {
    if n == 0 || max == 0 {
        return ' ';
    }
    match n * 4 / max {
        0 => '░',
        1 => '▒',
        2 | 3 => '▓',
        _ => '█',
    }
}

/// A horizontal bar of `value / max` over `width` cells, in eighths.
fn bar(value: i64, max: i64, width: usize) -> String {
    if value <= 0 || max <= 0 || width == 0 {
        return String::new();
    }
    let eighths = (value as f64 / max as f64 * width as f64 * 8.0).round() as usize;
    let mut out = "█".repeat(eighths / 8);
    let rest = ['▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    if eighths % 8 > 0 {
        out.push(rest[eighths % 8 - 1]);
    }
    out
}

/// Where each panel goes inside the dashboard's area.
struct Areas {
    grid: Rect,
    months: Rect,
    satisfaction: Rect,
    best: Rect,
    risk: Rect,
}

fn areas(area: Rect) -> Areas {
    let top_height = if area.height >= 30 { 15 } else { 9 };
    let [top, bottom] =
        Layout::vertical([Constraint::Length(top_height), Constraint::Min(3)]).areas(area);
    let [grid, months] =
        Layout::horizontal([Constraint::Length(44), Constraint::Min(20)]).areas(top);
    let [satisfaction, best, risk] = Layout::horizontal([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(bottom);
    Areas {
        grid,
        months,
        satisfaction,
        best,
        risk,
    }
}

/// The inside of a bordered panel.
fn inner(area: Rect) -> Rect {
    ratatui::widgets::Block::bordered().inner(area)
}

/// What each focusable panel shows at this size, in drawing order: the rows focus moves over.
pub struct Shown<'a> {
    /// Segments with customers, largest first, as many as fit under the grid.
    pub segments: Vec<&'a SegmentRow>,
    /// The latest months that fit.
    pub months: &'a [MonthBar],
    pub customers: &'a [(Id, String, i64)],
    pub products: &'a [(String, i64)],
    pub risk: &'a [CustomerClv],
}

/// What `enter` on a dashboard item opens: the contacts a query finds, or one contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drill {
    Query(String),
    Contact(Id),
}

impl<'a> Shown<'a> {
    /// The rows of `d` visible in the dashboard drawn in `area`.
    pub fn new(d: &'a Dashboard, area: Rect) -> Shown<'a> {
        let a = areas(area);
        let mut segments: Vec<&SegmentRow> =
            d.segments.iter().filter(|s| s.customers > 0).collect();
        segments.sort_by_key(|s| std::cmp::Reverse(s.customers));
        // Header and five grid rows come first.
        segments.truncate(usize::from(inner(a.grid).height).saturating_sub(6));
        let month_rows = usize::from(inner(a.months).height);
        let months = &d.months[d.months.len().saturating_sub(month_rows)..];
        let room = usize::from(inner(a.best).height);
        let products = (room / 3).max(1).min(d.top_products.len());
        let customers = room.saturating_sub(products + 1).min(d.top_customers.len());
        let risk = usize::from(inner(a.risk).height).min(d.churn_risk.len());
        Shown {
            segments,
            months,
            customers: &d.top_customers[..customers],
            products: &d.top_products[..products],
            risk: &d.churn_risk[..risk],
        }
    }

    /// How many rows `panel` shows (the grid: its five R rows).
    pub fn rows(&self, panel: DashboardPanel) -> usize {
        match panel {
            DashboardPanel::Grid => 5,
            DashboardPanel::Segments => self.segments.len(),
            DashboardPanel::Months => self.months.len(),
            DashboardPanel::Customers => self.customers.len(),
            DashboardPanel::Products => self.products.len(),
            DashboardPanel::Risk => self.risk.len(),
        }
    }

    /// What the focused item opens: a grid cell its R and F scores, a segment `rfm:`, a month
    /// its buyers, a product its buyers, a customer that contact.
    pub fn drill(&self, focus: DashboardFocus) -> Option<Drill> {
        let row = focus.row;
        Some(match focus.panel {
            DashboardPanel::Grid => {
                Drill::Query(format!("r:{} f:{}", 5 - row.min(4), focus.col.min(4) + 1))
            }
            DashboardPanel::Segments => Drill::Query(format!(
                "rfm:{}",
                self.segments.get(row)?.segment.key().replace('_', "-")
            )),
            DashboardPanel::Months => {
                Drill::Query(format!("month:{}", self.months.get(row)?.month))
            }
            DashboardPanel::Customers => Drill::Contact(self.customers.get(row)?.0),
            DashboardPanel::Products => Drill::Query(format!(
                "bought:\"{}\"",
                self.products.get(row)?.0.replace('"', "")
            )),
            DashboardPanel::Risk => Drill::Contact(self.risk.get(row)?.contact),
        })
    }
}

/// The focused row of `panel`, if the focus is there.
fn focused_row(focus: DashboardFocus, panel: DashboardPanel) -> Option<usize> {
    (focus.panel == panel).then_some(focus.row)
}

/// A row of a focusable list: in the focused panel every row gets a one-cell gutter, `>` on
/// the focused row (drawn selected), so focus shows without colour too.
fn gutter<'a>(line: Line<'a>, focused: Option<usize>, at: usize, theme: &Theme) -> Line<'a> {
    match focused {
        None => line,
        Some(row) if row == at => {
            let selected = theme.style("list.selected");
            let mut spans = vec![Span::styled(strings::DASHBOARD_MARKER, selected)];
            spans.extend(
                line.spans
                    .into_iter()
                    .map(|s| Span::styled(s.content, s.style.patch(selected))),
            );
            Line::from(spans)
        }
        Some(_) => {
            let mut spans = vec![Span::raw(" ")];
            spans.extend(line.spans);
            Line::from(spans)
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(d) = state.dashboard.as_deref() else {
        let block = pane_block(strings::DASHBOARD_TITLE, true, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new(strings::LOADING), inner);
        return;
    };
    if d.customers == 0 {
        let block = pane_block(strings::DASHBOARD_TITLE, true, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(
            Paragraph::new(strings::DASHBOARD_EMPTY).style(theme.style("text.dim")),
            inner,
        );
        return;
    }
    let a = areas(area);
    let shown = Shown::new(d, area);
    let focus = state.dashboard_focus;
    grid(frame, a.grid, d, &shown, focus, theme);
    months(frame, a.months, d, &shown, focus, theme);
    satisfaction(frame, a.satisfaction, d, theme);
    best(frame, a.best, &shown, focus, theme);
    risk(frame, a.risk, d, &shown, focus, theme);
}

fn grid(
    frame: &mut Frame,
    area: Rect,
    d: &Dashboard,
    shown: &Shown,
    focus: DashboardFocus,
    theme: &Theme,
) {
    // The date goes first when the pane is narrow (80 columns), then the count.
    let room = usize::from(area.width.saturating_sub(6));
    let title = [
        strings::dashboard_grid_title(d.customers, Some(&d.as_of.to_string())),
        strings::dashboard_grid_title(d.customers, None),
    ]
    .into_iter()
    .find(|t| t.chars().count() <= room)
    .unwrap_or_else(|| strings::DASHBOARD_GRID.to_string());
    let here = matches!(focus.panel, DashboardPanel::Grid | DashboardPanel::Segments);
    let block = pane_block(&title, here, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let max = d.grid.iter().flatten().copied().max().unwrap_or(0);
    let head = theme.style("list.header");
    let mut lines = vec![Line::from(Span::styled(
        "R\\F     1      2      3      4      5",
        head,
    ))];
    let cell_focus = (focus.panel == DashboardPanel::Grid).then_some((focus.row, focus.col));
    for (i, row) in d.grid.iter().enumerate() {
        let mut spans = vec![Span::styled(format!("R{}  ", 5 - i), head)];
        for (j, n) in row.iter().enumerate() {
            // The focused cell: `>` before its count, drawn selected.
            spans.push(if cell_focus == Some((i, j)) {
                Span::styled(
                    format!("{}{n:>5}{}", strings::DASHBOARD_MARKER, shade(*n, max)),
                    theme.style("list.selected"),
                )
            } else {
                Span::styled(
                    format!("{n:>6}{}", shade(*n, max)),
                    theme.style("detail.value"),
                )
            });
        }
        lines.push(Line::from(spans));
    }
    // Under the grid, as much of the segment list as fits (largest first).
    let row_focus = focused_row(focus, DashboardPanel::Segments);
    for (at, s) in shown.segments.iter().enumerate() {
        let line = Line::from(vec![
            Span::styled(fit(&s.label, 18), theme.style("detail.label")),
            Span::styled(
                format!("{:>7} {:>5.1} %", s.customers, s.share * 100.0),
                theme.style("detail.value"),
            ),
        ]);
        lines.push(gutter(line, row_focus, at, theme));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn months(
    frame: &mut Frame,
    area: Rect,
    d: &Dashboard,
    shown: &Shown,
    focus: DashboardFocus,
    theme: &Theme,
) {
    let currency = d.currency.as_deref().unwrap_or("");
    let row_focus = focused_row(focus, DashboardPanel::Months);
    let block = pane_block(
        &strings::dashboard_months_title(currency),
        row_focus.is_some(),
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let max = shown.months.iter().map(|m| m.amount).max().unwrap_or(0);
    // month (8) · bar · revenue / margin (16), and the gutter when focused
    let bar_width =
        usize::from(inner.width).saturating_sub(8 + 16 + usize::from(row_focus.is_some()));
    let lines: Vec<Line> = shown
        .months
        .iter()
        .enumerate()
        .map(|(at, m)| {
            let line = Line::from(vec![
                Span::styled(format!("{} ", m.month), theme.style("detail.label")),
                Span::styled(
                    fit(&bar(m.amount, max, bar_width), bar_width),
                    theme.style("timeline.satisfaction"),
                ),
                Span::styled(
                    format!("{:>7} /{:>7}", short_money(m.amount), short_money(m.margin)),
                    theme.style("detail.value"),
                ),
            ]);
            gutter(line, row_focus, at, theme)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn satisfaction(frame: &mut Frame, area: Rect, d: &Dashboard, theme: &Theme) {
    let block = pane_block(strings::DASHBOARD_SATISFACTION, false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let s = &d.satisfaction;
    let pct = |v: Option<f64>| v.map_or_else(|| "—".to_string(), |v| format!("{:.0}%", v * 100.0));
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "CSAT {} · mean {} · n {}",
            pct(s.csat),
            s.average.map_or_else(|| "—".into(), |a| format!("{a:.2}")),
            s.count
        ),
        theme.style("detail.value"),
    ))];
    // The trend as a row of blocks (mean 1–5 → ▁..█), then the months with their numbers.
    let blocks = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let width = usize::from(inner.width);
    let months = &d.satisfaction_months[d.satisfaction_months.len().saturating_sub(width)..];
    let spark: String = months
        .iter()
        .map(|m| {
            m.average.map_or(' ', |a| {
                blocks[(((a - 1.0) / 4.0 * 7.0).round().clamp(0.0, 7.0)) as usize]
            })
        })
        .collect();
    lines.push(Line::from(Span::styled(
        spark,
        theme.style("timeline.satisfaction"),
    )));
    let room = usize::from(inner.height).saturating_sub(lines.len());
    for m in months.iter().rev().take(room) {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", m.key), theme.style("detail.label")),
            Span::styled(
                format!(
                    "{:>4} {:>4} n{}",
                    pct(m.csat),
                    m.average.map_or_else(|| "—".into(), |a| format!("{a:.1}")),
                    m.count
                ),
                theme.style("detail.value"),
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn best(frame: &mut Frame, area: Rect, shown: &Shown, focus: DashboardFocus, theme: &Theme) {
    let customer_focus = focused_row(focus, DashboardPanel::Customers);
    let product_focus = focused_row(focus, DashboardPanel::Products);
    let here = customer_focus.is_some() || product_focus.is_some();
    let block = pane_block(strings::DASHBOARD_BEST, here, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let mut lines = Vec::new();
    let list_width = |focused: Option<usize>| width - usize::from(focused.is_some()).min(width);
    for (at, (_, name, margin)) in shown.customers.iter().enumerate() {
        let line = row(
            name,
            &short_money(*margin),
            list_width(customer_focus),
            theme,
        );
        lines.push(gutter(line, customer_focus, at, theme));
    }
    lines.push(Line::from(Span::styled(
        strings::DASHBOARD_PRODUCTS,
        theme.style("list.header"),
    )));
    for (at, (product, margin)) in shown.products.iter().enumerate() {
        let line = row(
            product,
            &short_money(*margin),
            list_width(product_focus),
            theme,
        );
        lines.push(gutter(line, product_focus, at, theme));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn risk(
    frame: &mut Frame,
    area: Rect,
    d: &Dashboard,
    shown: &Shown,
    focus: DashboardFocus,
    theme: &Theme,
) {
    let title = strings::dashboard_risk_title(d.slipping);
    let row_focus = focused_row(focus, DashboardPanel::Risk);
    let block = pane_block(&title, row_focus.is_some(), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width =
        usize::from(inner.width) - usize::from(row_focus.is_some()).min(usize::from(inner.width));
    let lines: Vec<Line> = shown
        .risk
        .iter()
        .enumerate()
        .map(|(at, c)| {
            let value = format!("{:.0}% {}", c.p_alive * 100.0, short_money(c.monetary));
            gutter(row(&c.name, &value, width, theme), row_focus, at, theme)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `label ……… value`, the value right-aligned.
fn row<'a>(label: &str, value: &str, width: usize, theme: &Theme) -> Line<'a> {
    let value_width = value.chars().count() + 1;
    let label_width = width.saturating_sub(value_width);
    Line::from(vec![
        Span::styled(
            fit(&truncate(label, label_width), label_width),
            theme.style("detail.label"),
        ),
        Span::styled(format!(" {value}"), theme.style("detail.value")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_shades_and_bars() {
        assert_eq!(short_money(12_345), "123");
        assert_eq!(short_money(1_234_500), "12k");
        assert_eq!(short_money(123_450), "1.2k");
        assert_eq!(short_money(-250_000_000), "-2.5M");
        assert_eq!(shade(0, 10), ' ');
        assert_eq!(shade(10, 10), '█');
        assert_eq!(shade(1, 10), '░');
        assert_eq!(bar(10, 10, 4), "████");
        assert_eq!(bar(5, 10, 3), "█▌");
        assert_eq!(bar(-5, 10, 3), "");
    }
}
