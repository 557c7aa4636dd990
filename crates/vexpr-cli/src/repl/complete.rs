//! Tab completion for the interactive REPL: `:commands` at the start of a
//! line, variable and function names in expressions, generator names right
//! after `=`, variables after `:save` and `:del`, and file names inside quotes
//! and for `:save`'s file.

use super::generators;
use super::session::{COMMANDS, identifier_len};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

/// The rustyline helper: completion only (no hints, colours or validation).
#[derive(Default)]
pub struct ReplHelper {
    variables: Vec<String>,
    files: FilenameCompleter,
}

/// What the word at the cursor should be completed from.
#[derive(Debug, PartialEq)]
enum Kind {
    Command,
    /// Variables, functions, and generators when `generators` is true.
    Name {
        generators: bool,
    },
    Variable,
    File,
    Nothing,
}

/// Decides what to complete at `pos`, and from where the word starts.
fn classify(line: &str, pos: usize) -> (usize, Kind) {
    let before = &line[..pos];
    let trimmed = before.trim_start();
    let indent = before.len() - trimmed.len();
    if let Some(command) = trimmed.strip_prefix(':') {
        let Some(end) = command.find(char::is_whitespace) else {
            return (indent, Kind::Command);
        };
        let args_start = indent + 1 + end;
        let args = &before[args_start..];
        let word_start = args_start + args.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        return match &command[..end] {
            "dis" | "time" | "type" => name_at(before),
            "del" => (word_start, Kind::Variable),
            // `:save NAME FILE`: the first word is a variable, the rest a path.
            "save"
                if args.split_whitespace().count() == 0
                    || (args.split_whitespace().count() == 1
                        && !args.ends_with(char::is_whitespace)) =>
            {
                (word_start, Kind::Variable)
            }
            "save" => (word_start, Kind::File),
            _ => (pos, Kind::Nothing),
        };
    }
    // Inside a string: a path for `load("...`.
    if before.chars().filter(|&c| c == '"').count() % 2 == 1
        || before.chars().filter(|&c| c == '\'').count() % 2 == 1
    {
        return (pos, Kind::File);
    }
    name_at(before)
}

/// The identifier that ends at the cursor, if any.
fn name_at(before: &str) -> (usize, Kind) {
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(before.len(), |(i, _)| i);
    let word = &before[start..];
    // A number such as `1e5` is not a name to complete.
    if word.is_empty() || identifier_len(word) != word.len() {
        return (before.len(), Kind::Nothing);
    }
    let left = before[..start].trim_end();
    let generators =
        left.ends_with('=') && !left.ends_with("==") && !left.ends_with(['<', '>', '!']);
    (start, Kind::Name { generators })
}

impl ReplHelper {
    /// Sets the variable names to offer (called before each prompt).
    pub fn set_variables(&mut self, names: Vec<String>) {
        self.variables = names;
    }

    /// The candidates that do not need the file system.
    fn names(&self, kind: &Kind, word: &str) -> Vec<Pair> {
        let pair = |display: String, replacement: String| Pair {
            display,
            replacement,
        };
        let mut out: Vec<Pair> = match kind {
            Kind::Command => COMMANDS
                .iter()
                .map(|c| format!(":{}", c.0))
                .filter(|c| c.starts_with(word))
                .map(|c| pair(c.clone(), format!("{c} ")))
                .collect(),
            Kind::Variable => self
                .variables
                .iter()
                .filter(|v| v.starts_with(word))
                .map(|v| pair(v.clone(), v.clone()))
                .collect(),
            Kind::Name { generators } => {
                let functions = vexpr::unstable::TABLE.callable_names();
                let generators = generators::NAMES.iter().copied().filter(|_| *generators);
                let calls = functions
                    .chain(generators)
                    .filter(|f| f.starts_with(word))
                    .map(|f| pair(format!("{f}("), format!("{f}(")));
                let vars = self
                    .variables
                    .iter()
                    .filter(|v| v.starts_with(word))
                    .map(|v| pair(v.clone(), v.clone()));
                vars.chain(calls).collect()
            }
            Kind::File | Kind::Nothing => Vec::new(),
        };
        out.sort_by(|a, b| a.display.cmp(&b.display));
        out.dedup_by(|a, b| a.display == b.display);
        out
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        match classify(line, pos) {
            (_, Kind::File) => self.files.complete_path(line, pos),
            (start, kind) => Ok((start, self.names(&kind, &line[start..pos]))),
        }
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Validator for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered(line: &str) -> Vec<String> {
        let helper = ReplHelper {
            variables: vec!["alpha".into(), "beta".into()],
            files: FilenameCompleter::new(),
        };
        let (start, kind) = classify(line, line.len());
        helper
            .names(&kind, &line[start..])
            .into_iter()
            .map(|p| p.replacement)
            .collect()
    }

    #[test]
    fn commands_at_the_start() {
        assert_eq!(offered(":t"), vec![":threads ", ":time ", ":type "]);
        assert_eq!(offered("  :sa"), vec![":save "]);
    }

    #[test]
    fn names_in_expressions() {
        assert_eq!(offered("2*al"), vec!["alpha"]);
        assert_eq!(offered(":dis sq"), vec!["sqrt("]);
        assert!(offered("x = lo").contains(&"log(".to_string()));
        assert!(
            offered("x = lo").contains(&"load(".to_string()),
            "generators right after `=`"
        );
        assert!(!offered("x = 2*lo").contains(&"load(".to_string()));
        assert!(offered("2*a + 1e").is_empty());
    }

    #[test]
    fn variables_and_files_for_commands() {
        assert_eq!(offered(":save b"), vec!["beta"]);
        assert_eq!(classify(":save beta ou", 13), (11, Kind::File));
        assert_eq!(offered(":del alpha b"), vec!["beta"]);
        assert_eq!(classify("c = load(\"da", 12).1, Kind::File);
    }
}
