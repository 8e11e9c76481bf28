//! The contact form (new and edit): one labelled input per field, validation messages next to
//! their field, and a refusal line (e.g. a stale edit) at the top.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::{Channel, Stage};
use crate::tui::command::{Command, Context};
use crate::tui::keymap::Keymap;
use crate::tui::state::{FormDraft, FormField};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{centered, input_line, key_for, popup, safe};

const LABEL_WIDTH: usize = 14;

fn label(field: FormField) -> &'static str {
    match field {
        FormField::Name => strings::FORM_NAME,
        FormField::Organization => strings::FORM_ORG,
        FormField::Title => strings::FORM_TITLE,
        FormField::Emails => strings::FORM_EMAILS,
        FormField::Phones => strings::FORM_PHONES,
        FormField::Street => strings::FORM_STREET,
        FormField::Postcode => strings::FORM_POSTCODE,
        FormField::City => strings::FORM_CITY,
        FormField::Region => strings::FORM_REGION,
        FormField::Country => strings::FORM_COUNTRY,
        FormField::Tags => strings::FORM_TAGS,
        FormField::Stage => strings::FORM_STAGE,
        FormField::Tier => strings::FORM_TIER,
        FormField::Owner => strings::FORM_OWNER,
        FormField::Birthday => strings::FORM_BIRTHDAY,
        FormField::Language => strings::FORM_LANGUAGE,
        FormField::PreferredChannel => strings::FORM_CHANNEL,
        FormField::Source => strings::FORM_SOURCE,
        FormField::Custom => strings::FORM_CUSTOM,
        FormField::Consent => strings::FORM_CONSENT,
        FormField::ConsentPurpose => strings::FORM_PURPOSE,
        FormField::ConsentEvidence => strings::FORM_EVIDENCE,
        FormField::Notes => strings::FORM_NOTES,
    }
}

pub fn render(frame: &mut Frame, area: Rect, form: &FormDraft, theme: &Theme, keymap: &Keymap) {
    let contexts = [Context::Form, Context::Global];
    let choice_keys = [Command::PrevChoice, Command::NextChoice]
        .iter()
        .filter_map(|c| key_for(keymap, &contexts, *c))
        .collect::<Vec<_>>()
        .join("/");
    let title = if form.original.is_some() {
        strings::EDIT_CONTACT_TITLE
    } else {
        strings::NEW_CONTACT_TITLE
    };
    let rows = u16::try_from(FormField::ALL.len() + form.errors.len() + 3).unwrap_or(u16::MAX);
    let rect = centered(area, area.width.saturating_sub(4).min(76), rows);
    let inner = ratatui::widgets::Block::bordered().inner(rect);
    let width = usize::from(inner.width);
    let mut lines = Vec::new();
    if let Some(refusal) = &form.refusal {
        lines.push(Line::from(Span::styled(
            safe(refusal).into_owned(),
            theme.style("status.error"),
        )));
    }
    let mut focus_line = 0;
    for (index, field) in FormField::ALL.iter().enumerate() {
        let focused = index == form.focus;
        if focused {
            focus_line = lines.len();
        }
        let marker = if focused { "▸" } else { " " };
        let mut spans = vec![Span::styled(
            format!("{marker}{:<w$}", label(*field), w = LABEL_WIDTH - 1),
            theme.style("form.label"),
        )];
        if let Some(input) = form.inputs.get(index) {
            let choice = matches!(
                field,
                FormField::Stage | FormField::PreferredChannel | FormField::Tier
            );
            let hint = if focused && choice && !choice_keys.is_empty() {
                format!(" ({choice_keys})")
            } else {
                String::new()
            };
            let room = width.saturating_sub(LABEL_WIDTH + hint.chars().count());
            spans.extend(input_line(input, room, focused, theme.style("form.input")).spans);
            if !hint.is_empty() {
                spans.push(Span::styled(hint, theme.style("text.dim")));
            }
            // The values a choice takes, from the domain's own list.
            let choices = |names: Vec<&str>| Some(names.join(", "));
            let placeholder = match field {
                FormField::Emails | FormField::Phones => {
                    Some(strings::PLACEHOLDER_LABELLED.to_string())
                }
                FormField::Tags => Some(strings::PLACEHOLDER_LIST.to_string()),
                FormField::Birthday => Some(strings::PLACEHOLDER_BIRTHDAY.to_string()),
                FormField::Custom => Some(strings::PLACEHOLDER_CUSTOM.to_string()),
                FormField::Consent => Some(strings::PLACEHOLDER_CONSENT.to_string()),
                FormField::ConsentPurpose => Some(strings::PLACEHOLDER_PURPOSE.to_string()),
                FormField::ConsentEvidence => Some(strings::PLACEHOLDER_EVIDENCE.to_string()),
                FormField::Stage => choices(Stage::ALL.iter().map(|s| s.name()).collect()),
                FormField::Tier => choices(crate::domain::TIERS.to_vec()),
                FormField::PreferredChannel => {
                    choices(Channel::ALL.iter().map(|c| c.name()).collect())
                }
                _ => None,
            };
            if let Some(placeholder) = placeholder
                && input.is_empty()
                && !focused
            {
                spans.push(Span::styled(placeholder, theme.style("text.dim")));
            }
        }
        lines.push(Line::from(spans));
        if let Some(error) = form.errors.get(field.key()) {
            lines.push(Line::from(Span::styled(
                format!("{:LABEL_WIDTH$}{}", "", safe(error)),
                theme.style("form.error"),
            )));
        }
    }
    let height = usize::from(inner.height);
    let scroll = (focus_line + 2).saturating_sub(height);
    // Fields out of sight are announced in the title (the form scrolls with the focus).
    let title = match (scroll > 0, lines.len() > scroll + height) {
        (true, true) => format!("{title} {}", strings::FORM_MORE_BOTH),
        (false, true) => format!("{title} {}", strings::FORM_MORE_BELOW),
        (true, false) => format!("{title} {}", strings::FORM_MORE_ABOVE),
        (false, false) => title.to_string(),
    };
    let inner = popup(frame, rect, &title, theme);
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.style("popup"))
            .scroll((u16::try_from(scroll).unwrap_or(0), 0)),
        inner,
    );
}
