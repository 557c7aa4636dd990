//! Lexing: expression text in, a stream of `(start, Token, end)` triples out.
//!
//! The token set is Python's, restricted to what the expression language uses.
//! Number literals follow Python's spelling (`1`, `1.`, `.5`, `1e-3`, `1_000`,
//! `0x1F`, `2j`); their values are decoded later by the parser's actions, so
//! that an out-of-range literal can be reported with its span.

use crate::error::{Error, ErrorKind, Span};
use logos::Logos;

/// One token. Literals and names borrow their text from the source.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Token<'src> {
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Name(&'src str),
    // Decimal integers, and Python's hex, octal and binary forms.
    #[regex(r"[0-9](_?[0-9])*")]
    #[regex(r"0[xX](_?[0-9a-fA-F])+")]
    #[regex(r"0[oO](_?[0-7])+")]
    #[regex(r"0[bB](_?[01])+")]
    Int(&'src str),
    #[regex(r"[0-9](_?[0-9])*\.([0-9](_?[0-9])*)?([eE][+-]?[0-9](_?[0-9])*)?")]
    #[regex(r"\.[0-9](_?[0-9])*([eE][+-]?[0-9](_?[0-9])*)?")]
    #[regex(r"[0-9](_?[0-9])*[eE][+-]?[0-9](_?[0-9])*")]
    Float(&'src str),
    #[regex(r"([0-9](_?[0-9])*|[0-9](_?[0-9])*\.([0-9](_?[0-9])*)?|\.[0-9](_?[0-9])*)([eE][+-]?[0-9](_?[0-9])*)?[jJ]")]
    Imag(&'src str),
    /// A quoted byte string: `'abc'`, `"abc"`, optionally prefixed `b`.
    #[regex(r#"[bB]?'([^'\\\n]|\\.)*'"#)]
    #[regex(r#"[bB]?"([^"\\\n]|\\.)*""#)]
    Str(&'src str),
    #[token("True")]
    True,
    #[token("False")]
    False,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("//")]
    SlashSlash,
    #[token("%")]
    Percent,
    #[token("**")]
    StarStar,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("&")]
    Amp,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("~")]
    Tilde,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token("==")]
    EqEq,
    #[token("!=")]
    Ne,
    #[token(">=")]
    Ge,
    #[token(">")]
    Gt,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token("=")]
    Assign,
}

/// Adapts the logos lexer to the `(start, token, end)` iterator that lalrpop expects,
/// turning an unrecognised character into an [`Error`] with its span.
///
/// It also refuses, as soon as they are seen, the inputs that would make the
/// parser's stack deep before any tree is built: more than
/// [`crate::MAX_NESTING`] brackets open at once, or a chain of prefix
/// operators and `**` (which the parser can only reduce at the chain's end)
/// whose operators, counted over every open bracket, reach the nesting limit.
/// Those operators are all ancestors of the token being read, so the count
/// never exceeds the nesting the tree would have: nothing the tree builder
/// accepts is refused here, but `-----…a` or `a**a**…**a` of a megabyte is
/// refused at the limit instead of after a megabyte of parser stack.
///
/// And it refuses more than [`crate::MAX_TOKENS`] tokens, which bounds the
/// size of everything built from them: tree, typed nodes, registers.
pub struct Lexer<'src> {
    inner: logos::SpannedIter<'src, Token<'src>>,
    nesting: Nesting,
    tokens: usize,
}

/// What [`Lexer`] tracks to bound the nesting of the tokens so far.
#[derive(Default)]
struct Nesting {
    /// Per open bracket (the whole expression first): prefix operators and
    /// `**` whose operand is still being read.
    chains: Vec<usize>,
    /// Sum of `chains`.
    pending: usize,
    /// Whether the last token ended an operand (so a `-` next is binary).
    after_operand: bool,
}

impl Nesting {
    /// Accounts for `token`; an error message if the limit is passed.
    fn push(&mut self, token: Token<'_>) -> Result<(), &'static str> {
        use Token::*;
        if self.chains.is_empty() {
            self.chains.push(0);
        }
        let ends_chain = |n: &mut Nesting| {
            let chain = n.chains.last_mut().map_or(0, std::mem::take);
            n.pending -= chain;
        };
        match token {
            Name(_) | Int(_) | Float(_) | Imag(_) | Str(_) | True | False => {
                self.after_operand = true;
            }
            // `.` takes an attribute of the operand before it, inside any chain.
            Dot => self.after_operand = false,
            LParen => {
                self.chains.push(0);
                self.after_operand = false;
                // The first entry is the whole expression's, not a bracket's.
                if self.chains.len() - 1 > crate::MAX_NESTING {
                    return Err("brackets nested too deeply");
                }
            }
            RParen => {
                if self.chains.len() > 1 {
                    ends_chain(self);
                    self.chains.pop();
                }
                self.after_operand = true;
            }
            Plus | Minus | Tilde if !self.after_operand => self.extend_chain()?,
            StarStar => {
                self.after_operand = false;
                self.extend_chain()?;
            }
            // Every other operator binds more loosely than the prefix
            // operators and `**`: the chain before it is complete.
            _ => {
                ends_chain(self);
                self.after_operand = false;
            }
        }
        Ok(())
    }

    fn extend_chain(&mut self) -> Result<(), &'static str> {
        if let Some(chain) = self.chains.last_mut() {
            *chain += 1;
        }
        self.pending += 1;
        if self.pending >= crate::MAX_NESTING {
            return Err("expression nested too deeply");
        }
        Ok(())
    }
}

impl<'src> Lexer<'src> {
    /// Starts lexing `source`.
    pub fn new(source: &'src str) -> Self {
        Lexer {
            inner: Token::lexer(source).spanned(),
            nesting: Nesting::default(),
            tokens: 0,
        }
    }
}

impl<'src> Iterator for Lexer<'src> {
    type Item = Result<(usize, Token<'src>, usize), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let (token, range) = self.inner.next()?;
        let span = Span::new(range.start, range.end);
        self.tokens += 1;
        if self.tokens > crate::MAX_TOKENS {
            return Some(Err(Error::new(
                ErrorKind::TooLarge,
                span,
                format!(
                    "expression too large: more than {} tokens",
                    crate::MAX_TOKENS
                ),
            )));
        }
        Some(match token {
            Ok(token) => match self.nesting.push(token) {
                Ok(()) => Ok((span.start, token, span.end)),
                Err(what) => Err(Error::new(
                    ErrorKind::TooDeep,
                    span,
                    format!("{what} (the limit is {} levels)", crate::MAX_NESTING),
                )),
            },
            Err(()) => {
                let text = &self.inner.source()[range];
                Err(Error::new(
                    ErrorKind::Syntax,
                    span,
                    unexpected_text_message(text),
                ))
            }
        })
    }
}

fn unexpected_text_message(text: &str) -> String {
    match text.chars().next() {
        Some('\'' | '"') => "unterminated string literal".to_string(),
        Some(c) if !c.is_ascii() => format!("unexpected character `{c}` (U+{:04X})", c as u32),
        Some(c) => format!("unexpected character `{}`", c.escape_default()),
        None => "unexpected end of input".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<Token<'_>> {
        Lexer::new(source).map(|t| t.unwrap().1).collect()
    }

    #[test]
    fn numbers_as_python_writes_them() {
        use Token::*;
        assert_eq!(
            kinds("1 1. .5 1e-3 2.5E+2 1_000 0x1F 2j 1.5e3J"),
            vec![
                Int("1"),
                Float("1."),
                Float(".5"),
                Float("1e-3"),
                Float("2.5E+2"),
                Int("1_000"),
                Int("0x1F"),
                Imag("2j"),
                Imag("1.5e3J"),
            ]
        );
    }

    #[test]
    fn longest_operator_wins() {
        use Token::*;
        assert_eq!(
            kinds("a**b//c<<d<=e"),
            vec![
                Name("a"),
                StarStar,
                Name("b"),
                SlashSlash,
                Name("c"),
                Shl,
                Name("d"),
                Le,
                Name("e")
            ]
        );
    }

    #[test]
    fn bad_character_has_its_span() {
        let err = Lexer::new("a + $b").find_map(|t| t.err()).unwrap();
        assert_eq!(err.span(), Span::new(4, 5));
        assert_eq!(err.kind(), ErrorKind::Syntax);
    }
}
