//! Whether a shell command only reads or searches files (SPEC §7): its output is then
//! a file read, as Claude's `Read` is, not the worker speaking. A worker that `cat`s a
//! pattern file quoting `TASK_START:` has not started a task.
//!
//! The split follows Codex's own command parser: after a `bash -lc '…'` or `sh -c …`
//! wrapper is taken off, a command that is one of `cat`, `head`, `tail`, `sed -n`, `nl`,
//! `less`, `grep`, `rg`, `ls`, `find`, alone or in a simple pipeline of these, reads; any
//! other command, a redirection, a list (`;`, `&&`, `||`) or a substitution runs
//! something.

/// Whether `command` only reads or searches files.
pub fn only_reads(command: &str) -> bool {
    let command = unwrap_shell(command.trim());
    if command.is_empty()
        || [";", "&&", "||", ">", "<", "`", "$(", "\n"]
            .iter()
            .any(|s| command.contains(s))
    {
        return false;
    }
    command.split('|').all(reads)
}

/// The command inside `bash -lc '…'`, `sh -c "…"` and the like (once).
fn unwrap_shell(command: &str) -> &str {
    let mut words = command.splitn(3, char::is_whitespace);
    let (Some(shell), Some(flag), Some(rest)) = (words.next(), words.next(), words.next()) else {
        return command;
    };
    let shell = shell.rsplit('/').next().unwrap_or(shell);
    if !matches!(shell, "bash" | "sh" | "zsh" | "dash") || !matches!(flag, "-c" | "-lc" | "-ic") {
        return command;
    }
    let rest = rest.trim();
    for quote in ['\'', '"'] {
        if let Some(inner) = rest.strip_prefix(quote).and_then(|r| r.strip_suffix(quote)) {
            return inner.trim();
        }
    }
    rest
}

/// Whether one stage of a pipeline only reads.
fn reads(stage: &str) -> bool {
    let words: Vec<&str> = stage.split_whitespace().collect();
    let Some(first) = words.first() else {
        return false;
    };
    let program = first.rsplit('/').next().unwrap_or(first);
    match program {
        "cat" | "head" | "tail" | "nl" | "less" | "grep" | "rg" | "ls" => true,
        "sed" => words.contains(&"-n") && !words.iter().any(|w| w.starts_with("-i")),
        "find" => !words
            .iter()
            .any(|w| matches!(*w, "-exec" | "-execdir" | "-delete" | "-ok" | "-okdir")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::only_reads;

    #[test]
    fn reading_and_searching_commands_only_read() {
        for c in [
            "cat what-works.md",
            "bash -lc 'cat patterns/what-works.md'",
            "bash -lc \"sed -n '1,80p' src/worker.py\"",
            "/bin/sh -c 'rg -n TASK_START logs | head -20'",
            "grep -r SESSION_START . | tail -5",
        ] {
            assert!(only_reads(c), "{c}");
        }
    }

    #[test]
    fn commands_that_run_something_do_not() {
        for c in [
            "python3 worker.py",
            "bash -lc 'python3 -m quant.session'",
            "cat a.md && python3 run.py",
            "cat a.md > b.md",
            "sed -i s/a/b/ f",
            "find . -name '*.py' -exec python3 {} ;",
            "cat $(ls)",
            "",
        ] {
            assert!(!only_reads(c), "{c}");
        }
    }
}
