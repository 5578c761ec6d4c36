//! The lexer: Go text/template's tokens, delimiters, trim markers and comments.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Literal text between actions; shared, because the parser clones tokens and a text token
    /// can be a whole YAML document.
    Text(std::sync::Arc<str>),
    LeftDelim,
    RightDelim,
    Space,
    Ident(String),
    Keyword(&'static str),
    Field(String),
    Variable(String),
    Dot,
    Str(String),
    RawStr(String),
    Char(String),
    Number(String),
    Bool(bool),
    Nil,
    LeftParen,
    RightParen,
    Pipe,
    Declare,
    Assign,
    CharOther(char),
    Eof,
    Error(String),
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
    pub line: usize,
}

impl Token {
    /// Go's `item.String()` as used in parse errors.
    pub fn describe(&self) -> String {
        match &self.tok {
            Tok::Eof => "EOF".into(),
            Tok::Error(e) => e.clone(),
            Tok::Keyword(k) => format!("<{k}>"),
            t => {
                let v = tok_text(t);
                if v.chars().count() > 10 {
                    let short: String = v.chars().take(10).collect();
                    format!("{}...", crate::gofmt::quote(&short))
                } else {
                    crate::gofmt::quote(&v)
                }
            }
        }
    }
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Text(s) => s.to_string(),
        Tok::Ident(s)
        | Tok::Field(s)
        | Tok::Variable(s)
        | Tok::Str(s)
        | Tok::RawStr(s)
        | Tok::Char(s)
        | Tok::Number(s) => s.clone(),
        Tok::LeftDelim => "{{".into(),
        Tok::RightDelim => "}}".into(),
        Tok::Space => " ".into(),
        Tok::Keyword(k) => k.to_string(),
        Tok::Dot => ".".into(),
        Tok::Bool(b) => b.to_string(),
        Tok::Nil => "nil".into(),
        Tok::LeftParen => "(".into(),
        Tok::RightParen => ")".into(),
        Tok::Pipe => "|".into(),
        Tok::Declare => ":=".into(),
        Tok::Assign => "=".into(),
        Tok::CharOther(c) => c.to_string(),
        Tok::Eof => String::new(),
        Tok::Error(e) => e.clone(),
    }
}

const KEYWORDS: &[&str] = &[
    "block", "break", "continue", "define", "else", "end", "if", "range", "nil", "template", "with",
];

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits the whole input into tokens; a lexing error ends the stream with `Tok::Error`.
pub fn lex(input: &str) -> Vec<Token> {
    let mut l = Lexer {
        input,
        b: input.as_bytes(),
        pos: 0,
        line: 1,
        line_pos: 0,
        out: Vec::new(),
        paren: 0,
    };
    l.run();
    l.out
}

struct Lexer<'a> {
    input: &'a str,
    b: &'a [u8],
    pos: usize,
    line: usize,
    line_pos: usize,
    out: Vec<Token>,
    paren: i32,
}

impl<'a> Lexer<'a> {
    fn emit(&mut self, tok: Tok, pos: usize) {
        // positions only grow, so count the newlines since the last token
        if pos >= self.line_pos {
            self.line += self.b[self.line_pos..pos]
                .iter()
                .filter(|c| **c == b'\n')
                .count();
        } else {
            self.line = 1 + self.b[..pos].iter().filter(|c| **c == b'\n').count();
        }
        self.line_pos = pos;
        self.out.push(Token {
            tok,
            pos,
            line: self.line,
        });
    }
    fn error(&mut self, msg: String) {
        let pos = self.pos.min(self.input.len());
        self.emit(Tok::Error(msg), pos);
    }

    fn run(&mut self) {
        let mut trim_next_text = false;
        loop {
            // text until "{{"
            let start = self.pos;
            let found = self.input[self.pos..].find("{{");
            let end = found.map(|i| self.pos + i).unwrap_or(self.input.len());
            let mut text = &self.input[start..end];
            let mut text_start = start;
            if trim_next_text {
                let t = text.trim_start_matches([' ', '\t', '\r', '\n']);
                text_start += text.len() - t.len();
                text = t;
            }
            let left_trim = found.is_some() && {
                let after = &self.b[end + 2..];
                after.len() >= 2 && after[0] == b'-' && is_space(after[1])
            };
            if left_trim {
                text = text.trim_end_matches([' ', '\t', '\r', '\n']);
            }
            if !text.is_empty() {
                self.emit(Tok::Text(text.into()), text_start);
            }
            let Some(_) = found else {
                self.emit(Tok::Eof, self.input.len());
                return;
            };
            self.pos = end;
            self.emit(Tok::LeftDelim, end);
            self.pos += 2;
            if left_trim {
                self.pos += 2;
            }
            // comment?
            if self.input[self.pos..].starts_with("/*") {
                let Some(i) = self.input[self.pos + 2..].find("*/") else {
                    self.error("unclosed comment".into());
                    return;
                };
                self.pos = self.pos + 2 + i + 2;
                match self.at_right_delim() {
                    Some(trim) => {
                        self.pos += if trim { 4 } else { 2 };
                        // comments emit no token; drop the left delim we pushed
                        self.out.pop();
                        trim_next_text = trim;
                        continue;
                    }
                    None => {
                        self.error("comment ends before closing delimiter".into());
                        return;
                    }
                }
            }
            match self.inside_action() {
                Ok(trim) => trim_next_text = trim,
                Err(()) => return,
            }
        }
    }

    /// `Some(trim)` when at "}}" or " -}}".
    fn at_right_delim(&self) -> Option<bool> {
        let r = &self.b[self.pos..];
        if r.len() >= 4 && is_space(r[0]) && r[1] == b'-' && r[2] == b'}' && r[3] == b'}' {
            return Some(true);
        }
        if r.starts_with(b"}}") {
            return Some(false);
        }
        None
    }

    fn inside_action(&mut self) -> Result<bool, ()> {
        self.paren = 0;
        loop {
            if let Some(trim) = self.at_right_delim() {
                if self.paren > 0 {
                    self.error("unclosed left paren".into());
                    return Err(());
                }
                let p = if trim { self.pos + 2 } else { self.pos };
                self.emit(Tok::RightDelim, p);
                self.pos += if trim { 4 } else { 2 };
                return Ok(trim);
            }
            if self.pos >= self.b.len() {
                self.error("unclosed action".into());
                return Err(());
            }
            let c = self.input[self.pos..].chars().next().unwrap();
            let start = self.pos;
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    while self.pos < self.b.len() && is_space(self.b[self.pos]) {
                        // stop before a " -}}" trim marker
                        if self.at_right_delim() == Some(true) {
                            break;
                        }
                        self.pos += 1;
                    }
                    if self.pos == start {
                        // a trim marker follows directly: handled at loop top
                        continue;
                    }
                    self.emit(Tok::Space, start);
                }
                '=' => {
                    self.pos += 1;
                    self.emit(Tok::Assign, start);
                }
                ':' => {
                    if self.b.get(self.pos + 1) != Some(&b'=') {
                        self.error("expected :=".into());
                        return Err(());
                    }
                    self.pos += 2;
                    self.emit(Tok::Declare, start);
                }
                '|' => {
                    self.pos += 1;
                    self.emit(Tok::Pipe, start);
                }
                '"' => {
                    self.pos += 1;
                    loop {
                        match self.b.get(self.pos) {
                            None | Some(b'\n') => {
                                self.error("unterminated quoted string".into());
                                return Err(());
                            }
                            Some(b'\\') => self.pos += 2,
                            Some(b'"') => {
                                self.pos += 1;
                                break;
                            }
                            _ => self.pos += 1,
                        }
                    }
                    let s = self.input[start..self.pos].to_string();
                    self.emit(Tok::Str(s), start);
                }
                '`' => {
                    let Some(i) = self.input[self.pos + 1..].find('`') else {
                        self.error("unterminated raw quoted string".into());
                        return Err(());
                    };
                    self.pos = self.pos + 1 + i + 1;
                    let s = self.input[start..self.pos].to_string();
                    self.emit(Tok::RawStr(s), start);
                }
                '\'' => {
                    self.pos += 1;
                    loop {
                        match self.b.get(self.pos) {
                            None | Some(b'\n') => {
                                self.error("unterminated character constant".into());
                                return Err(());
                            }
                            Some(b'\\') => self.pos += 2,
                            Some(b'\'') => {
                                self.pos += 1;
                                break;
                            }
                            _ => self.pos += 1,
                        }
                    }
                    let s = self.input[start..self.pos].to_string();
                    self.emit(Tok::Char(s), start);
                }
                '$' => {
                    self.pos += 1;
                    self.scan_alnum();
                    if !self.at_terminator() {
                        let bad = self.input[self.pos..].chars().next().unwrap();
                        self.error(format!("bad character {}", go_u(bad)));
                        return Err(());
                    }
                    let s = self.input[start..self.pos].to_string();
                    self.emit(Tok::Variable(s), start);
                }
                '.' => {
                    if self.b.get(self.pos + 1).is_some_and(|c| c.is_ascii_digit()) {
                        if !self.number() {
                            return Err(());
                        }
                        continue;
                    }
                    self.pos += 1;
                    self.scan_alnum();
                    if !self.at_terminator() {
                        let bad = self.input[self.pos..].chars().next().unwrap();
                        self.error(format!("bad character {}", go_u(bad)));
                        return Err(());
                    }
                    if self.pos == start + 1 {
                        self.emit(Tok::Dot, start);
                    } else {
                        let s = self.input[start..self.pos].to_string();
                        self.emit(Tok::Field(s), start);
                    }
                }
                '+' | '-' | '0'..='9' => {
                    if !self.number() {
                        return Err(());
                    }
                }
                '(' => {
                    self.pos += 1;
                    self.paren += 1;
                    self.emit(Tok::LeftParen, start);
                }
                ')' => {
                    self.pos += 1;
                    self.paren -= 1;
                    if self.paren < 0 {
                        self.error("unexpected right paren".into());
                        return Err(());
                    }
                    self.emit(Tok::RightParen, start);
                }
                c if is_alnum(c) => {
                    self.scan_alnum();
                    if !self.at_terminator() {
                        let bad = self.input[self.pos..].chars().next().unwrap();
                        self.error(format!("bad character {}", go_u(bad)));
                        return Err(());
                    }
                    let w = &self.input[start..self.pos];
                    let tok = if let Some(k) = KEYWORDS.iter().find(|k| **k == w) {
                        if *k == "nil" {
                            Tok::Nil
                        } else {
                            Tok::Keyword(k)
                        }
                    } else if w == "true" {
                        Tok::Bool(true)
                    } else if w == "false" {
                        Tok::Bool(false)
                    } else {
                        Tok::Ident(w.to_string())
                    };
                    self.emit(tok, start);
                }
                c if (c as u32) < 0x80 && !c.is_ascii_control() => {
                    self.pos += 1;
                    self.emit(Tok::CharOther(c), start);
                }
                c => {
                    self.error(format!("unrecognized character in action: {}", go_u(c)));
                    return Err(());
                }
            }
        }
    }

    fn scan_alnum(&mut self) {
        while let Some(c) = self.input[self.pos..].chars().next() {
            if is_alnum(c) {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn at_terminator(&self) -> bool {
        match self.input[self.pos..].chars().next() {
            None => true,
            Some(c) if is_space(c as u8) && (c as u32) < 0x80 => true,
            Some('.' | ',' | '|' | ':' | ')' | '(' | '=') => true,
            _ => self.input[self.pos..].starts_with("}}"),
        }
    }

    fn number(&mut self) -> bool {
        let start = self.pos;
        let b = self.b;
        let mut p = self.pos;
        if p < b.len() && (b[p] == b'+' || b[p] == b'-') {
            p += 1;
        }
        let mut digits: &dyn Fn(u8) -> bool = &|c: u8| c.is_ascii_digit() || c == b'_';
        let hex = |c: u8| c.is_ascii_hexdigit() || c == b'_';
        let oct = |c: u8| (b'0'..=b'7').contains(&c) || c == b'_';
        let bin = |c: u8| c == b'0' || c == b'1' || c == b'_';
        let mut is_hex = false;
        if p + 1 < b.len() && b[p] == b'0' {
            match b[p + 1] {
                b'x' | b'X' => {
                    p += 2;
                    digits = &hex;
                    is_hex = true;
                }
                b'o' | b'O' => {
                    p += 2;
                    digits = &oct;
                }
                b'b' | b'B' => {
                    p += 2;
                    digits = &bin;
                }
                _ => {}
            }
        }
        while p < b.len() && digits(b[p]) {
            p += 1;
        }
        if p < b.len() && b[p] == b'.' {
            p += 1;
            while p < b.len() && digits(b[p]) {
                p += 1;
            }
        }
        let exp_chars: &[u8] = if is_hex { b"pP" } else { b"eE" };
        if p < b.len() && exp_chars.contains(&b[p]) {
            p += 1;
            if p < b.len() && (b[p] == b'+' || b[p] == b'-') {
                p += 1;
            }
            while p < b.len() && (b[p].is_ascii_digit() || b[p] == b'_') {
                p += 1;
            }
        }
        if p < b.len() && b[p] == b'i' {
            p += 1;
        }
        self.pos = p;
        if let Some(c) = self.input[p..].chars().next()
            && is_alnum(c)
        {
            self.pos = p + c.len_utf8();
            let s = self.input[start..self.pos].to_string();
            self.error(format!("bad number syntax: {}", crate::gofmt::quote(&s)));
            return false;
        }
        let s = self.input[start..p].to_string();
        self.emit(Tok::Number(s), start);
        true
    }
}

fn go_u(c: char) -> String {
    format!("U+{:04X} '{}'", c as u32, c)
}
