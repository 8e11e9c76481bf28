//! The OpenSSH forced-command gateway (gitolite's model). Each key in the service account's
//! `authorized_keys` runs `restrict,pty,command="rolo attach --agent NAME"`: with no command the
//! session is the TUI; otherwise `SSH_ORIGINAL_COMMAND` is split like a shell would and must be
//! one allow-listed rolo command with no global flags — never `--db`, `--as`, `attach`,
//! `--socket`, a keymap or theme path, `serve`, or anything that reads or writes files.

use super::commands::Context;
use super::{Cli, Failure, exit};

/// Subcommands a restricted session may run: contact work, nothing touching files.
const ALLOWED: &[&str] = &[
    "search",
    "show",
    "log",
    "followups",
    "done",
    "reschedule",
    "history",
    "add",
    "edit",
    "purchase",
    "rm",
    "restore",
    "trash",
    "undo",
    "merge",
    "who",
];

/// Flags that would change where or as whom the command runs.
const FORBIDDEN_FLAGS: &[&str] = &[
    "--db",
    "--as",
    "--socket",
    "--no-server",
    "--keymap",
    "--theme",
    "--config",
];

pub fn run(ctx: &Context, cli: Cli) -> Result<(), Failure> {
    match std::env::var("SSH_ORIGINAL_COMMAND") {
        Ok(command) if !command.trim().is_empty() => {
            let words = allowed(&command)?;
            let argv = std::iter::once("rolo".to_string()).chain(words);
            let inner = <Cli as clap::Parser>::try_parse_from(argv)
                .map_err(|e| Failure::new(exit::USAGE, e.to_string()))?;
            super::commands::run_restricted(ctx, inner)
        }
        _ => super::commands::run_restricted(
            ctx,
            Cli {
                command: None,
                ..cli
            },
        ),
    }
}

/// The command's words if it is one allowed rolo command; otherwise why not.
pub fn allowed(command: &str) -> Result<Vec<String>, Failure> {
    let refuse = |why: String| Failure::new(exit::USAGE, format!("not allowed over SSH: {why}"));
    if command.chars().any(|c| c.is_control() && c != '\t') {
        return Err(refuse(
            "the command has a newline or control character".into(),
        ));
    }
    let mut words = shlex::split(command).ok_or_else(|| refuse("unbalanced quotes".into()))?;
    if words.first().is_some_and(|w| w == "rolo") {
        words.remove(0);
    }
    let Some(sub) = words.first() else {
        return Err(refuse("no command".into()));
    };
    if !ALLOWED.contains(&sub.as_str()) {
        return Err(refuse(format!(
            "`{}` (allowed: {})",
            crate::domain::text::visible(sub, false),
            ALLOWED.join(", ")
        )));
    }
    for w in &words {
        let flag = w.split('=').next().unwrap_or(w);
        if FORBIDDEN_FLAGS.contains(&flag) {
            return Err(refuse(format!("the flag {flag}")));
        }
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smuggled_flags_and_commands_are_refused() {
        assert_eq!(allowed("search ana").unwrap(), ["search", "ana"]);
        assert_eq!(
            allowed("rolo log 'Ana Lima' --summary \"called back\"").unwrap(),
            ["log", "Ana Lima", "--summary", "called back"]
        );
        for bad in [
            "search ana --as boss",
            "search ana --as=boss",
            "--db /etc/passwd search x",
            "show 1 --db=/tmp/x",
            "serve",
            "import /etc/shadow",
            "export --out /tmp/x",
            "backup /tmp/x",
            "search ana\nserve",
            "search 'ana",
            "attach --agent other",
            "search x --no-server",
            "search x --socket=/tmp/other.sock",
            "",
        ] {
            assert!(allowed(bad).is_err(), "{bad:?} was allowed");
        }
    }
}
