//! The small shell that runs a command task's command in simulation.
//!
//! Mesos's command executor runs a task's `CommandInfo.value` with `sh -c`
//! (`src/launcher/executor.cpp`, `launchTaskSubprocess`). Simulated tasks do
//! nothing but take time and exit, so this shell knows only the commands that
//! do that:
//!
//! | command            | what it does                                              |
//! |--------------------|-----------------------------------------------------------|
//! | `sleep N[smhd]`    | waits N (fractional allowed; several operands add up)     |
//! | `exit [N]`         | the shell exits N (the last status without N)             |
//! | `true` / `false`   | status 0 / 1                                              |
//! | `trap '' TERM`     | the shell and what it runs from then on ignore SIGTERM    |
//!
//! joined into lists with `;`, `&&` and `||` as `sh` joins them. As in `sh`, a
//! command it does not know is "not found" with status 127 and the list goes
//! on (`frobnicate` alone exits 127), a bad operand fails the command (`sleep
//! abc` is status 1, as coreutils' `sleep` says "invalid time interval"), and a
//! syntax error (`&& sleep 1`) makes the shell exit 2 before it runs anything.
//! Constructs it does not model (pipes, `&`, redirections, variables…) are
//! syntax errors too, with a message saying so. Every duration is a whole
//! number of microseconds and at most [`MAX_SLEEP`], so no command can overflow
//! virtual time.
//!
//! ```
//! use mesocosm_executor::shell::{Shell, Step};
//! use std::time::Duration;
//!
//! let mut sh = Shell::parse("sleep 2.5 && exit 3").unwrap();
//! assert_eq!(sh.run(&mut Vec::new()), Step::Sleep(Duration::from_millis(2500)));
//! assert_eq!(sh.run(&mut Vec::new()), Step::Exit(3));
//! ```

use std::time::Duration;

/// The longest simulated `sleep` (and sum of one `sleep`'s operands): 18 hours,
/// the longest run a world supports, so a sleep's timer always fits the world's
/// timer wheel.
pub const MAX_SLEEP: Duration = mesocosm_sim::MAX_VIRTUAL_TIME;

/// The status `sh` exits with on a syntax error.
pub const SYNTAX_ERROR: i32 = 2;

/// What the shell does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A `sleep` runs for this long; call [`Shell::run`] again when it is over.
    Sleep(Duration),
    /// The shell exited with this status.
    Exit(i32),
}

/// When a command of a list runs, given the status before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunIf {
    /// First of a list, or after `;`.
    Always,
    /// After `&&`.
    Succeeded,
    /// After `||`.
    Failed,
}

/// One simple command, as parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Command {
    Sleep(Duration),
    Exit(Option<i32>),
    Status(i32),
    IgnoreTerm,
    /// A command this shell does not know: status 127.
    NotFound(String),
    /// A known command with bad operands: a status and the command's complaint.
    Fails(i32, String),
    /// A special builtin (`exit`, `trap`) misused: a non-interactive shell
    /// prints the complaint and exits [`SYNTAX_ERROR`].
    Fatal(String),
}

/// A parsed command line, running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shell {
    commands: Vec<(RunIf, Command)>,
    /// The next command to consider.
    next: usize,
    /// `$?`.
    status: i32,
    ignores_term: bool,
}

impl Shell {
    /// Parse `line` as `sh -c` would. The error is sh's complaint; the shell
    /// then exits [`SYNTAX_ERROR`] without running anything.
    pub fn parse(line: &str) -> Result<Shell, String> {
        let mut commands = Vec::new();
        let mut run_if = RunIf::Always;
        let mut words: Vec<String> = Vec::new();
        let mut ended_by: Option<&str> = None;
        for token in tokenize(line)? {
            match token {
                Token::Word(w) => {
                    words.push(w);
                    ended_by = None;
                }
                Token::Op(op) => {
                    if words.is_empty() {
                        return Err(format!("Syntax error: \"{op}\" unexpected"));
                    }
                    commands.push((run_if, command(&words)));
                    words.clear();
                    run_if = match op {
                        "&&" => RunIf::Succeeded,
                        "||" => RunIf::Failed,
                        _ => RunIf::Always,
                    };
                    ended_by = Some(op);
                }
            }
        }
        if words.is_empty() {
            // `a &&` waits for more input; at the end of `-c` it is an error. `a ;` is fine.
            if let Some(op @ ("&&" | "||")) = ended_by {
                return Err(format!("Syntax error: end of file unexpected (expecting a command after \"{op}\")"));
            }
        } else {
            commands.push((run_if, command(&words)));
        }
        Ok(Shell { commands, next: 0, status: 0, ignores_term: false })
    }

    /// A command run without a shell (`CommandInfo.shell = false`): `argv[0]`
    /// is the program, the rest its arguments; nothing is parsed as an operator.
    pub fn exec(argv: &[String]) -> Shell {
        let commands = if argv.is_empty() { vec![] } else { vec![(RunIf::Always, command(argv))] };
        Shell { commands, next: 0, status: 0, ignores_term: false }
    }

    /// Run until a `sleep` must wait or the shell exits. `notes` gets what the
    /// commands print to stderr ("not found", bad operands).
    pub fn run(&mut self, notes: &mut Vec<String>) -> Step {
        while let Some((run_if, cmd)) = self.commands.get(self.next).cloned() {
            self.next += 1;
            let runs = match run_if {
                RunIf::Always => true,
                RunIf::Succeeded => self.status == 0,
                RunIf::Failed => self.status != 0,
            };
            if !runs {
                continue;
            }
            match cmd {
                Command::Sleep(d) => {
                    // `sleep` exits 0 when its time is up (`run` resumes after it).
                    self.status = 0;
                    return Step::Sleep(d);
                }
                Command::Exit(code) => return Step::Exit(code.unwrap_or(self.status)),
                Command::Status(s) => self.status = s,
                Command::IgnoreTerm => {
                    self.ignores_term = true;
                    self.status = 0;
                }
                Command::NotFound(name) => {
                    notes.push(format!("sh: 1: {name}: not found"));
                    self.status = 127;
                }
                Command::Fails(status, why) => {
                    notes.push(why);
                    self.status = status;
                }
                Command::Fatal(why) => {
                    notes.push(why);
                    return Step::Exit(SYNTAX_ERROR);
                }
            }
        }
        Step::Exit(self.status)
    }

    /// Whether SIGTERM leaves the shell running (after `trap '' TERM`).
    pub fn ignores_term(&self) -> bool {
        self.ignores_term
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Op(&'static str),
}

fn tokenize(line: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    let mut word: Option<String> = None;
    let flush = |word: &mut Option<String>, tokens: &mut Vec<Token>| {
        if let Some(w) = word.take() {
            tokens.push(Token::Word(w));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => flush(&mut word, &mut tokens),
            '\'' | '"' => {
                let mut quoted = word.take().unwrap_or_default();
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('$' | '`' | '\\') if c == '"' => {
                            return Err("the simulated shell does not expand $, ` or \\ in quotes".into());
                        }
                        Some(other) => quoted.push(other),
                        None => return Err(format!("Syntax error: Unterminated quoted string ({c})")),
                    }
                }
                word = Some(quoted);
            }
            ';' => {
                flush(&mut word, &mut tokens);
                tokens.push(Token::Op(";"));
            }
            '&' | '|' => {
                flush(&mut word, &mut tokens);
                if chars.peek() == Some(&c) {
                    chars.next();
                    tokens.push(Token::Op(if c == '&' { "&&" } else { "||" }));
                } else {
                    let what = if c == '&' { "background jobs (&)" } else { "pipes (|)" };
                    return Err(format!("the simulated shell does not run {what}"));
                }
            }
            '<' | '>' | '(' | ')' | '$' | '`' | '\\' | '*' | '?' | '{' | '}' | '#' => {
                return Err(format!("the simulated shell does not interpret {c:?}"));
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    flush(&mut word, &mut tokens);
    Ok(tokens)
}

/// The simple command `words` (never empty).
fn command(words: &[String]) -> Command {
    let args = &words[1..];
    // `/bin/sleep` is `sleep` found by path; other paths name programs this shell lacks.
    let name = words[0].strip_prefix("/usr/bin/").or_else(|| words[0].strip_prefix("/bin/")).unwrap_or(&words[0]);
    match name {
        "sleep" => match sleep_duration(args) {
            Ok(d) => Command::Sleep(d),
            Err(why) => Command::Fails(1, format!("sleep: {why}")),
        },
        "exit" => match args {
            [] => Command::Exit(None),
            // `exit N` exits N modulo 256, as the process's status does.
            [n] => match n.parse::<u64>() {
                Ok(n) => Command::Exit(Some((n % 256) as i32)),
                Err(_) => Command::Fatal(format!("sh: 1: exit: Illegal number: {n}")),
            },
            _ => Command::Fatal("sh: 1: exit: too many arguments".into()),
        },
        "true" | ":" => Command::Status(0),
        "false" => Command::Status(1),
        "trap" if args.len() == 2 && args[0].is_empty() && matches!(args[1].as_str(), "TERM" | "SIGTERM" | "15") => {
            Command::IgnoreTerm
        }
        "trap" => Command::Fatal("sh: 1: trap: the simulated shell knows only `trap '' TERM`".into()),
        _ => Command::NotFound(words[0].clone()),
    }
}

/// coreutils `sleep`: each operand a non-negative number with an optional
/// unit (s, m, h, d), the operands summed.
fn sleep_duration(args: &[String]) -> Result<Duration, String> {
    if args.is_empty() {
        return Err("missing operand".into());
    }
    let mut total_us: u128 = 0;
    for a in args {
        let (number, unit_us) = match a.strip_suffix(['s', 'm', 'h', 'd']) {
            Some(n) => (n, unit_micros(a.chars().last().unwrap_or('s'))),
            None => (a.as_str(), 1_000_000),
        };
        total_us += micros(number, unit_us).ok_or_else(|| format!("invalid time interval '{a}'"))?;
        if total_us > MAX_SLEEP.as_micros() {
            return Err(format!("invalid time interval '{a}': simulated sleeps last at most 18h"));
        }
    }
    Ok(Duration::from_micros(total_us as u64))
}

fn unit_micros(unit: char) -> u128 {
    match unit {
        'm' => 60_000_000,
        'h' => 3_600_000_000,
        'd' => 86_400_000_000,
        _ => 1_000_000,
    }
}

/// `number` units of `unit_us` microseconds, if it is a plain decimal whose
/// value is a whole number of microseconds (no exponents, infinities or signs).
fn micros(number: &str, unit_us: u128) -> Option<u128> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) || int.len() > 12 || frac.len() > 12 {
        return None;
    }
    let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac_value: u128 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    let scale = 10u128.pow(frac.len() as u32);
    let whole = int * unit_us;
    // The fraction must come to whole microseconds.
    let part = frac_value * unit_us;
    if !part.is_multiple_of(scale) {
        return None;
    }
    Some(whole + part / scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run `line` to its end: the sleeps it took and its exit status.
    fn run(line: &str) -> (Vec<Duration>, i32, Vec<String>) {
        let mut sh = Shell::parse(line).unwrap();
        let (mut sleeps, mut notes) = (vec![], vec![]);
        loop {
            match sh.run(&mut notes) {
                Step::Sleep(d) => sleeps.push(d),
                Step::Exit(s) => return (sleeps, s, notes),
            }
        }
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn lists_run_as_sh_runs_them() {
        assert_eq!(run("sleep 2"), (vec![secs(2.0)], 0, vec![]));
        assert_eq!(run("sleep 2.5 && exit 3"), (vec![secs(2.5)], 3, vec![]));
        assert_eq!(run("false && sleep 1"), (vec![], 1, vec![]));
        assert_eq!(run("false || sleep 1; exit"), (vec![secs(1.0)], 0, vec![]));
        assert_eq!(run("true; false"), (vec![], 1, vec![]));
        assert_eq!(run("exit 3; sleep 1"), (vec![], 3, vec![]));
        assert_eq!(run("false && sleep 1 || exit 7"), (vec![], 7, vec![]));
        assert_eq!(run("sleep 1m 0.5s;"), (vec![secs(60.5)], 0, vec![]));
        assert_eq!(run("exit 256"), (vec![], 0, vec![]));
        assert_eq!(run(""), (vec![], 0, vec![]));
    }

    #[test]
    fn unknown_commands_are_not_found_and_the_list_goes_on() {
        assert_eq!(run("frobnicate"), (vec![], 127, vec!["sh: 1: frobnicate: not found".to_string()]));
        assert_eq!(run("frobnicate --fast; true").1, 0);
        assert_eq!(run("frobnicate && sleep 1"), (vec![], 127, vec!["sh: 1: frobnicate: not found".to_string()]));
    }

    #[test]
    fn bad_operands_fail_the_command_not_the_shell() {
        let (sleeps, status, notes) = run("sleep abc");
        assert_eq!((sleeps, status), (vec![], 1));
        assert_eq!(notes, ["sleep: invalid time interval 'abc'"]);
        for bad in ["sleep", "sleep -1", "sleep 1e3", "sleep inf", "sleep 0.0000001", "sleep 19h", "sleep 10h 9h"] {
            assert_eq!(run(bad).1, 1, "{bad}");
        }
        assert_eq!(run("sleep 18h").0, vec![MAX_SLEEP]);
        assert_eq!(run("sleep 0.000001").0, vec![Duration::from_micros(1)]);
        // A misused special builtin ends the shell there.
        assert_eq!(run("exit x; exit 0").1, SYNTAX_ERROR);
        assert_eq!(run("exit 1 2 || exit 0").1, SYNTAX_ERROR);
    }

    #[test]
    fn malformed_lines_are_syntax_errors_not_panics() {
        for bad in [
            "&& sleep 1",
            "sleep 1 &&",
            "sleep 1 ||",
            "; true",
            "sleep 1 ;; true",
            "sleep 1 | cat",
            "sleep 1 &",
            "echo $HOME",
            "sleep 'unterminated",
            "cat < f",
            "(exit 1)",
        ] {
            assert!(Shell::parse(bad).is_err(), "{bad}");
        }
        assert!(Shell::parse("sleep 1 ;").is_ok());
    }

    #[test]
    fn trap_makes_the_shell_ignore_sigterm() {
        let mut sh = Shell::parse("trap '' TERM; sleep 60").unwrap();
        assert!(!sh.ignores_term());
        assert_eq!(sh.run(&mut vec![]), Step::Sleep(secs(60.0)));
        assert!(sh.ignores_term());
        assert_eq!(run("trap 'echo' TERM; exit 0").1, SYNTAX_ERROR);
    }

    #[test]
    fn exec_runs_one_command_without_a_shell() {
        let mut sh = Shell::exec(&["sleep".to_string(), "1".to_string()]);
        assert_eq!(sh.run(&mut vec![]), Step::Sleep(secs(1.0)));
        assert_eq!(sh.run(&mut vec![]), Step::Exit(0));
        assert_eq!(Shell::exec(&["a;b".to_string()]).run(&mut vec![]), Step::Exit(127));
        assert_eq!(Shell::exec(&["/bin/false".to_string()]).run(&mut vec![]), Step::Exit(1));
        assert_eq!(Shell::exec(&["/opt/bin/false".to_string()]).run(&mut vec![]), Step::Exit(127));
    }
}
