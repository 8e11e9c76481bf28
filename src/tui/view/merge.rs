//! The merge overlays: the likely duplicates of the selected contact (pick one), then both
//! records side by side, one row per field. The kept side of each row is marked `●` and drawn in
//! `search.match`; the other side is dimmed; rows where both agree are dimmed whole. The line
//! under the table shows the highlighted field as it will be saved.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::merge::{MergeField, Pick};
use crate::tui::state::{MergeChoice, MergeState};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{centered, fit, popup, safe, truncate};

pub fn choice(frame: &mut Frame, area: Rect, choice: &MergeChoice, theme: &Theme) {
    let height = u16::try_from(choice.candidates.len() + 4).unwrap_or(u16::MAX);
    let rect = centered(area, area.width.saturating_sub(4).min(100), height);
    let inner = popup(frame, rect, strings::MERGE_CHOICE_TITLE, theme);
    if inner.height == 0 {
        return;
    }
    let width = usize::from(inner.width);
    let mut lines = vec![
        Line::from(Span::styled(
            truncate(
                &strings::merge_choice_of(&safe(&choice.subject_name)),
                width,
            ),
            theme.style("popup"),
        )),
        Line::from(""),
    ];
    let rows = usize::from(inner.height).saturating_sub(2);
    let offset = (choice.selected + 1).saturating_sub(rows);
    let name_width = (width * 30 / 100).max(10);
    let org_width = (width * 20 / 100).max(6);
    for (index, c) in choice.candidates.iter().enumerate().skip(offset).take(rows) {
        let base = if index == choice.selected {
            theme.style("list.selected")
        } else {
            theme.style("popup")
        };
        let score = format!("{:>3}% ", c.score);
        let reason_width = width.saturating_sub(name_width + org_width + score.len() + 2);
        lines.push(Line::from(vec![
            Span::styled(score, base.patch(theme.style("search.match"))),
            Span::styled(fit(&c.name, name_width), base),
            Span::raw(" "),
            Span::styled(
                fit(&c.organization, org_width),
                base.patch(theme.style("text.dim")),
            ),
            Span::raw(" "),
            Span::styled(fit(&c.reason, reason_width), base),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).style(theme.style("popup")), inner);
}

pub fn side_by_side(frame: &mut Frame, area: Rect, merge: &MergeState, theme: &Theme) {
    // Just tall enough for every field, or the whole main area.
    let wanted = u16::try_from(MergeField::ALL.len() + 8).unwrap_or(u16::MAX);
    let rect = centered(area, area.width, wanted);
    let inner = popup(frame, rect, strings::MERGE_TITLE, theme);
    if inner.height < 4 || inner.width < 20 {
        return;
    }
    let plan = &merge.plan;
    let width = usize::from(inner.width);
    // Marker and label (13), then the `both`/`same` tag (6).
    let label_width = 19;
    let column = width.saturating_sub(label_width) / 2;
    let name =
        |c: &crate::domain::Contact, role: &str| format!("{role} {} #{}", safe(&c.name), c.id);
    let mut lines = vec![
        Line::from(vec![
            Span::raw(" ".repeat(label_width)),
            Span::styled(
                fit(&name(&plan.left, strings::MERGE_KEEP), column),
                theme.style("title.focused"),
            ),
            Span::styled(
                fit(&name(&plan.right, strings::MERGE_ABSORB), column),
                theme.style("detail.value"),
            ),
        ]),
        Line::from(vec![
            Span::raw(" ".repeat(label_width)),
            Span::styled(
                fit(&strings::merge_history(plan.left_history), column),
                theme.style("text.dim"),
            ),
            Span::styled(
                fit(&strings::merge_history(plan.right_history), column),
                theme.style("text.dim"),
            ),
        ]),
    ];
    lines.push(Line::from(Span::styled(
        "─".repeat(width),
        theme.style("popup.border"),
    )));

    // Header (3) and footer (3) stay; the field rows scroll to keep the highlighted one in view.
    let rows = usize::from(inner.height).saturating_sub(6).max(1);
    let offset = (merge.row + 1).saturating_sub(rows);
    for (index, &field) in MergeField::ALL.iter().enumerate().skip(offset).take(rows) {
        lines.push(field_row(
            merge,
            field,
            index == merge.row,
            label_width,
            column,
            theme,
        ));
    }

    lines.push(Line::from(Span::styled(
        "─".repeat(width),
        theme.style("popup.border"),
    )));
    let field = merge.field();
    let (footer, style) = match &merge.error {
        Some(error) => (safe(error).into_owned(), theme.style("form.error")),
        None => {
            let value = plan.display(field, plan.pick(field));
            (
                format!("{} → {}", field.label(), safe(&value)),
                theme.style("detail.value"),
            )
        }
    };
    lines.push(Line::from(Span::styled(truncate(&footer, width), style)));
    lines.push(Line::from(Span::styled(
        truncate(
            &strings::merge_summary(plan.right_history, plan.left_history + plan.right_history),
            width,
        ),
        theme.style("text.dim"),
    )));
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.style("popup"))
            .wrap(Wrap { trim: false }),
        inner,
    );
}

fn field_row<'a>(
    merge: &MergeState,
    field: MergeField,
    selected: bool,
    label_width: usize,
    column: usize,
    theme: &Theme,
) -> Line<'a> {
    let plan = &merge.plan;
    let base = if selected {
        theme.style("list.selected")
    } else {
        theme.style("popup")
    };
    let pick = plan.pick(field);
    let agrees = plan.agrees(field);
    let kept = |side: Pick| pick == side || pick == Pick::Both;
    let cell = |side: Pick| -> Span<'a> {
        let value = plan.display(field, side);
        let (mark, style): (&str, Style) = if agrees {
            (" ", theme.style("text.dim"))
        } else if kept(side) {
            ("●", theme.style("search.match"))
        } else {
            ("○", theme.style("text.dim"))
        };
        let shown = if value.is_empty() {
            "—".to_string()
        } else {
            value
        };
        Span::styled(
            format!("{mark} {}", fit(&shown, column.saturating_sub(3))),
            base.patch(style),
        )
    };
    let marker = if selected { "▸" } else { " " };
    let tag = if agrees {
        strings::MERGE_SAME
    } else if pick == Pick::Both {
        strings::MERGE_BOTH
    } else {
        ""
    };
    let label = format!("{marker}{:<w$}", field.label(), w = label_width - 7);
    Line::from(vec![
        Span::styled(label, base.patch(theme.style("detail.label"))),
        Span::styled(format!("{tag:<5} "), base.patch(theme.style("text.dim"))),
        cell(Pick::Left),
        Span::styled(" ", base),
        cell(Pick::Right),
    ])
}
