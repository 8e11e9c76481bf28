//! Small prompts: the yes/no confirmation (delete to trash), the reschedule date input and the
//! new follow-up (what + when).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::FollowUp;
use crate::tui::command::{Command, Context};
use crate::tui::input::TextInput;
use crate::tui::keymap::Keymap;
use crate::tui::state::{Confirm, FollowUpDraft, Overlay};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{centered, input_line, key_for, popup, safe};

pub fn render(frame: &mut Frame, area: Rect, confirm: &Confirm, theme: &Theme, keymap: &Keymap) {
    let height = if matches!(confirm, Confirm::LoadDemo { .. }) {
        9
    } else {
        6
    };
    let question = match confirm {
        Confirm::DeleteContact { name, .. } => strings::confirm_delete(&safe(name)),
        Confirm::DeleteInteraction(i) => {
            strings::confirm_delete_interaction(i.channel.name(), &safe(&i.summary))
        }
        Confirm::LoadDemo { path, existing } => strings::confirm_demo(&safe(path), *existing),
    };
    let contexts = [Context::Confirm];
    let yes = key_for(keymap, &contexts, Command::ConfirmYes).unwrap_or_default();
    let no = key_for(keymap, &contexts, Command::ConfirmNo).unwrap_or_default();
    let keys = strings::confirm_keys(&yes, &no);
    question_popup(frame, area, (60, height), question, keys, theme);
}

/// A question with the keys that answer it under, centred in `area` (`size`: at most width,
/// exactly height).
fn question_popup(
    frame: &mut Frame,
    area: Rect,
    size: (u16, u16),
    question: String,
    keys: String,
    theme: &Theme,
) {
    let rect = centered(area, area.width.saturating_sub(4).min(size.0), size.1);
    let inner = popup(frame, rect, strings::CONFIRM_TITLE, theme);
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(Span::styled(question, theme.style("popup"))),
            Line::from(""),
            Line::from(Span::styled(keys, theme.style("help.key"))),
        ])
        .wrap(Wrap { trim: false })
        .style(theme.style("popup")),
        inner,
    );
}

/// A new contact shares an email or phone with someone: save anyway, open them, merge, or back.
pub fn shared_on_add(
    frame: &mut Frame,
    area: Rect,
    shared: &crate::tui::state::SharedOnAdd,
    theme: &Theme,
    keymap: &Keymap,
) {
    let contexts = [Context::Confirm, Context::Global];
    let key = |c| key_for(keymap, &contexts, c).unwrap_or_default();
    let question = strings::shared_on_add(
        &safe(&shared.value),
        &safe(&shared.owner_name),
        shared.owner,
    );
    let keys = strings::shared_on_add_keys(
        &key(Command::ConfirmYes),
        &key(Command::OpenExisting),
        &key(Command::MergeExisting),
        &key(Command::ConfirmNo),
    );
    question_popup(frame, area, (64, 8), question, keys, theme);
}

/// "Discard what you typed?" over the form it is about: the keys for discarding (or quitting)
/// and for going back to the form, from the keymap.
pub fn discard(
    frame: &mut Frame,
    area: Rect,
    form: &Overlay,
    quitting: bool,
    theme: &Theme,
    keymap: &Keymap,
) {
    let what = match form {
        Overlay::Log(_) => strings::FORM_KIND_LOG,
        Overlay::NewFollowUp(_) | Overlay::Reschedule { .. } => strings::FORM_KIND_FOLLOW_UP,
        _ => strings::FORM_KIND_CONTACT,
    };
    let question = if quitting {
        strings::confirm_quit_discard(what)
    } else {
        strings::confirm_discard(what)
    };
    let contexts = [Context::Confirm, Context::Global];
    let yes = key_for(keymap, &contexts, Command::ConfirmYes).unwrap_or_default();
    let no = key_for(keymap, &contexts, Command::ConfirmNo).unwrap_or_default();
    let keys = strings::discard_keys(&yes, &no, quitting);
    question_popup(frame, area, (60, 6), question, keys, theme);
}

pub fn reschedule(
    frame: &mut Frame,
    area: Rect,
    follow_up: &FollowUp,
    input: &TextInput,
    error: Option<&str>,
    theme: &Theme,
) {
    let rect = centered(area, area.width.saturating_sub(4).min(60), 7);
    let inner = popup(frame, rect, strings::RESCHEDULE_TITLE, theme);
    let width = usize::from(inner.width);
    let mut lines = vec![
        Line::from(Span::styled(
            safe(&follow_up.what).into_owned(),
            theme.style("popup"),
        )),
        Line::from(vec![
            Span::styled(
                format!("{}: ", strings::FIELD_DUE),
                theme.style("form.label"),
            ),
            Span::styled(strings::PLACEHOLDER_FOLLOW_UP, theme.style("text.dim")),
        ]),
        input_line(input, width, true, theme.style("form.input")),
    ];
    if let Some(error) = error {
        lines.push(Line::from(Span::styled(
            safe(error).into_owned(),
            theme.style("form.error"),
        )));
    }
    frame.render_widget(Paragraph::new(lines).style(theme.style("popup")), inner);
}

pub fn new_follow_up(frame: &mut Frame, area: Rect, draft: &FollowUpDraft, theme: &Theme) {
    let rect = centered(area, area.width.saturating_sub(4).min(72), 7);
    let title = format!(
        "{} — {}",
        strings::FOLLOW_UP_TITLE,
        safe(&draft.contact_name)
    );
    let inner = popup(frame, rect, &title, theme);
    let width = usize::from(inner.width);
    let label_width = 14;
    let mut lines = Vec::new();
    for (index, (label, placeholder)) in [
        (strings::FIELD_WHAT, ""),
        (strings::FIELD_DUE, strings::PLACEHOLDER_FOLLOW_UP),
    ]
    .iter()
    .enumerate()
    {
        let focused = index == draft.focus;
        let marker = if focused { "▸" } else { " " };
        let mut spans = vec![Span::styled(
            format!("{marker}{label:<w$}", w = label_width - 1),
            theme.style("form.label"),
        )];
        let input = &draft.inputs[index];
        if input.is_empty() && !focused {
            spans.push(Span::styled(
                placeholder.to_string(),
                theme.style("text.dim"),
            ));
        } else {
            let room = width.saturating_sub(label_width);
            spans.extend(input_line(input, room, focused, theme.style("form.input")).spans);
        }
        lines.push(Line::from(spans));
    }
    if let Some(error) = &draft.error {
        lines.push(Line::from(Span::styled(
            safe(error).into_owned(),
            theme.style("form.error"),
        )));
    }
    frame.render_widget(Paragraph::new(lines).style(theme.style("popup")), inner);
}
