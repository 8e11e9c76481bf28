//! The detail pane: the selected contact's profile — contact points, organisation, stage, tier,
//! owner, tags, custom fields, consent per channel, for customers their RFM scores, purchases
//! and outlook (P(alive), expected purchases, 12-month value), deals and notes. Scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::domain::{Channel, Labelled};
use crate::tui::state::{ContactView, State};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{layout, pane_block, safe};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    focused: bool,
    other_tab: &str,
) {
    let block = pane_block(
        &format!("{}{other_tab}", strings::DETAIL_TITLE),
        focused,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(view) = state.selected_detail() else {
        let text = if state.list.ids.is_empty() {
            strings::NO_SELECTION
        } else {
            strings::LOADING
        };
        frame.render_widget(Paragraph::new(text).style(theme.style("text.dim")), inner);
        return;
    };
    let paragraph = paragraph(view, &others_here(state, view), &|slot| theme.style(slot));
    let max_scroll = paragraph
        .line_count(inner.width)
        .saturating_sub(usize::from(inner.height));
    let scroll = state.detail_scroll.min(max_scroll);
    frame.render_widget(
        paragraph.scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        inner,
    );
}

/// The furthest the detail pane scrolls at this terminal size: its last wrapped line at the
/// bottom of the pane (0 when everything fits or no detail is shown). `update` clamps with it,
/// so `G` then `k` moves at once.
pub fn max_scroll(state: &State) -> usize {
    let areas = layout::areas(Rect::new(0, 0, state.width, state.height), state);
    let (Some(area), Some(view)) = (areas.detail, state.selected_detail()) else {
        return 0;
    };
    let inner = Block::bordered().inner(area);
    paragraph(view, &others_here(state, view), &|_| Style::default())
        .line_count(inner.width)
        .saturating_sub(usize::from(inner.height))
}

/// The profile as it is drawn, wrapped to the pane; `style` maps theme slots to styles (the
/// wrapped height does not depend on them).
/// Who else is on this contact right now (team mode), most involved first, one per agent.
fn others_here(state: &State, view: &ContactView) -> Vec<(String, &'static str)> {
    let mut here: Vec<&crate::api::Presence> = state
        .presence
        .iter()
        .filter(|p| p.contact == view.contact.id)
        .collect();
    here.sort_by_key(|p| (std::cmp::Reverse(p.mode), p.agent.clone()));
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for p in here {
        if !out.iter().any(|(a, _)| *a == p.agent) {
            out.push((safe(&p.agent).into_owned(), p.mode.verb()));
        }
    }
    out
}

fn paragraph(
    view: &ContactView,
    others: &[(String, &'static str)],
    style: &dyn Fn(&str) -> Style,
) -> Paragraph<'static> {
    let c = &view.contact;
    let label = style("detail.label");
    let value = style("detail.value");
    let field = |name: &str, text: String| -> Line<'static> {
        Line::from(vec![
            Span::styled(format!("{:<13}", safe(name)), label),
            Span::styled(safe(&text).into_owned(), value),
        ])
    };
    let mut lines = vec![Line::from(Span::styled(
        safe(&c.name).into_owned(),
        style("title.focused"),
    ))];
    if !others.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("● {}", strings::presence_line(others)),
            style("status.info"),
        )));
    }
    let mut role = Vec::new();
    if !c.title.is_empty() {
        role.push(c.title.clone());
    }
    if !view.organization.is_empty() {
        role.push(view.organization.clone());
    }
    if !role.is_empty() {
        lines.push(field(strings::LABEL_ORG, role.join(", ")));
    }
    // Imported addresses often carry no label: show none rather than `()`.
    let labelled = |l: &Labelled| match l.label.as_str() {
        "" => l.value.clone(),
        label => format!("{} ({label})", l.value),
    };
    for e in &c.emails {
        lines.push(field(strings::LABEL_EMAIL, labelled(e)));
    }
    for p in &c.phones {
        lines.push(field(strings::LABEL_PHONE, labelled(p)));
    }
    for a in &c.addresses {
        lines.push(field(strings::LABEL_ADDRESS, a.one_line()));
    }
    lines.push(field(strings::LABEL_STAGE, c.stage.to_string()));
    if !c.tier.is_empty() {
        lines.push(field(strings::LABEL_TIER, c.tier.clone()));
    }
    if let Some(a) = &view.customer {
        let money = |minor: i64, currency: &str| {
            crate::domain::Money {
                minor,
                currency: currency.to_string(),
            }
            .to_string()
        };
        lines.push(field(
            strings::LABEL_RFM,
            strings::rfm_line(a.rfm.r, a.rfm.f, a.rfm.m, a.rfm.segment.label()),
        ));
        lines.push(field(
            strings::LABEL_PURCHASES,
            strings::purchases_line(
                a.purchase_days,
                a.lines,
                &money(a.spent, &a.currency),
                money(a.margin, "").trim_end(),
                a.other_currencies,
            ),
        ));
        lines.push(field(
            strings::LABEL_LAST_BOUGHT,
            strings::last_bought_line(
                &a.last_purchase.to_string(),
                a.days_since_last,
                &a.first_purchase.to_string(),
            ),
        ));
        // A prediction that is not a number is left out, never shown as "NaN" or 0.
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        if let (Some(p), Some(expected)) = (finite(a.p_alive), finite(a.expected_purchases)) {
            lines.push(field(
                strings::LABEL_OUTLOOK,
                strings::outlook_line(p, expected),
            ));
        }
        if let (Some(value), Some(spend), Some(currency)) = (
            finite(a.lifetime_value),
            finite(a.expected_spend),
            a.value_currency.as_deref(),
        ) {
            lines.push(field(
                strings::LABEL_VALUE,
                strings::value_line(
                    &money(value.round() as i64, currency),
                    &money(spend.round() as i64, currency),
                ),
            ));
        }
    }
    lines.push(field(strings::LABEL_OWNER, c.owner.clone()));
    if !c.language.is_empty() {
        lines.push(field(strings::LABEL_LANGUAGE, c.language.clone()));
    }
    if let Some(b) = c.birthday {
        lines.push(field(strings::LABEL_BIRTHDAY, b.to_string()));
    }
    if !c.tags.is_empty() {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<13}", strings::LABEL_TAGS), label),
            Span::styled(
                safe(
                    &c.tags
                        .iter()
                        .map(|t| format!("#{t}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                )
                .into_owned(),
                style("list.tag"),
            ),
        ]));
    }
    for (key, v) in &c.custom {
        lines.push(field(key, v.to_string()));
    }
    let consent: Vec<String> = [Channel::Email, Channel::Call, Channel::Sms, Channel::Post]
        .iter()
        .map(|ch| format!("{ch} {}", c.consent_for(*ch)))
        .collect();
    lines.push(field(strings::LABEL_CONSENT, consent.join(" · ")));
    for d in &view.deals {
        lines.push(field(
            strings::LABEL_DEALS,
            format!(
                "{} — {} {} ({})",
                d.title,
                crate::domain::Money {
                    minor: d.value,
                    currency: d.currency.clone()
                },
                d.stage,
                d.status
            ),
        ));
    }
    if !c.notes.is_empty() {
        lines.push(Line::from(Span::styled(strings::LABEL_NOTES, label)));
        for note in c.notes.lines() {
            lines.push(Line::from(Span::styled(safe(note).into_owned(), value)));
        }
    }
    Paragraph::new(lines).wrap(Wrap { trim: false })
}
