//! The customer dashboard: the R×F segment grid as a heat map with counts, revenue and margin
//! by month, the satisfaction trend, top customers and products by margin, and the customers
//! slipping away who spent most. Every figure is printed as a number (shade and bars only
//! repeat it), so it reads the same in 16 colours and with `NO_COLOR`. Figures come from
//! [`crate::analytics::reports::dashboard`], the `rolo report` functions.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::analytics::reports::Dashboard;
use crate::tui::state::State;
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
    let top_height = if area.height >= 30 { 15 } else { 9 };
    let [top, bottom] =
        Layout::vertical([Constraint::Length(top_height), Constraint::Min(3)]).areas(area);
    let [grid_area, months_area] =
        Layout::horizontal([Constraint::Length(44), Constraint::Min(20)]).areas(top);
    let [sat_area, best_area, risk_area] = Layout::horizontal([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(bottom);
    grid(frame, grid_area, d, theme);
    months(frame, months_area, d, theme);
    satisfaction(frame, sat_area, d, theme);
    best(frame, best_area, d, theme);
    risk(frame, risk_area, d, theme);
}

fn grid(frame: &mut Frame, area: Rect, d: &Dashboard, theme: &Theme) {
    let title = strings::dashboard_grid_title(d.customers, &d.as_of.to_string());
    let block = pane_block(&title, false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let max = d.grid.iter().flatten().copied().max().unwrap_or(0);
    let head = theme.style("list.header");
    let mut lines = vec![Line::from(Span::styled(
        "R\\F     1      2      3      4      5",
        head,
    ))];
    for (i, row) in d.grid.iter().enumerate() {
        let mut spans = vec![Span::styled(format!("R{}  ", 5 - i), head)];
        for n in row {
            spans.push(Span::styled(
                format!("{n:>6}{}", shade(*n, max)),
                theme.style("detail.value"),
            ));
        }
        lines.push(Line::from(spans));
    }
    // Under the grid, as much of the segment list as fits (largest first).
    let mut segments: Vec<_> = d.segments.iter().filter(|s| s.customers > 0).collect();
    segments.sort_by_key(|s| std::cmp::Reverse(s.customers));
    let room = usize::from(inner.height).saturating_sub(lines.len());
    for s in segments.iter().take(room) {
        lines.push(Line::from(vec![
            Span::styled(fit(&s.label, 18), theme.style("detail.label")),
            Span::styled(
                format!("{:>7} {:>5.1} %", s.customers, s.share * 100.0),
                theme.style("detail.value"),
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn months(frame: &mut Frame, area: Rect, d: &Dashboard, theme: &Theme) {
    let currency = d.currency.as_deref().unwrap_or("");
    let block = pane_block(&strings::dashboard_months_title(currency), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = usize::from(inner.height);
    let shown = &d.months[d.months.len().saturating_sub(rows)..];
    let max = shown.iter().map(|m| m.amount).max().unwrap_or(0);
    // month (8) · bar · revenue / margin (16)
    let bar_width = usize::from(inner.width).saturating_sub(8 + 16);
    let lines: Vec<Line> = shown
        .iter()
        .map(|m| {
            Line::from(vec![
                Span::styled(format!("{} ", m.month), theme.style("detail.label")),
                Span::styled(
                    fit(&bar(m.amount, max, bar_width), bar_width),
                    theme.style("timeline.satisfaction"),
                ),
                Span::styled(
                    format!("{:>7} /{:>7}", short_money(m.amount), short_money(m.margin)),
                    theme.style("detail.value"),
                ),
            ])
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

fn best(frame: &mut Frame, area: Rect, d: &Dashboard, theme: &Theme) {
    let block = pane_block(strings::DASHBOARD_BEST, false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let room = usize::from(inner.height);
    let products = (room / 3).max(1).min(d.top_products.len());
    let customers = room.saturating_sub(products + 1);
    let mut lines = Vec::new();
    for (_, name, margin) in d.top_customers.iter().take(customers) {
        lines.push(row(name, &short_money(*margin), width, theme));
    }
    lines.push(Line::from(Span::styled(
        strings::DASHBOARD_PRODUCTS,
        theme.style("list.header"),
    )));
    for (product, margin) in d.top_products.iter().take(products) {
        lines.push(row(product, &short_money(*margin), width, theme));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn risk(frame: &mut Frame, area: Rect, d: &Dashboard, theme: &Theme) {
    let title = strings::dashboard_risk_title(d.slipping);
    let block = pane_block(&title, false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let lines: Vec<Line> = d
        .churn_risk
        .iter()
        .take(usize::from(inner.height))
        .map(|c| {
            let value = format!("{:.0}% {}", c.p_alive * 100.0, short_money(c.monetary));
            row(&c.name, &value, width, theme)
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
