//! The parser: Go text/template's grammar into a tree of [`Node`]s, with Go's
//! parse-time checks (functions defined, variables declared, `break` inside
//! `range`) and error texts (`template: <name>:<line>: ...`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::lex::{Tok, Token, lex};

/// The text a template was parsed from, used to turn byte offsets into `line:col`.
#[derive(Debug)]
pub struct Source {
    pub parse_name: String,
    pub text: String,
}

impl Source {
    /// Go's `ErrorContext` location: `name:line:col` (column is a 0-based byte offset in the line).
    pub fn location(&self, pos: usize) -> String {
        let pos = pos.min(self.text.len());
        let before = &self.text[..pos];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(i) => pos - (i + 1),
            None => pos,
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }
}

#[derive(Debug, Clone)]
pub enum Node {
    Text(std::sync::Arc<str>),
    Action {
        pos: usize,
        pipe: Pipe,
    },
    If(Box<Branch>),
    With(Box<Branch>),
    Range(Box<Branch>),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break {
        pos: usize,
    },
    Continue {
        pos: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub is_int: bool,
    pub is_float: bool,
    pub int: i64,
    pub float: f64,
    pub is_char: bool,
    pub is_hex: bool,
}

#[derive(Debug, Clone)]
pub enum ArgKind {
    Field(Vec<String>),
    Variable(Vec<String>),
    Dot,
    Nil,
    Bool(bool),
    Number(Number),
    Str { quoted: String, value: String },
    Ident(String),
    Chain(Box<Arg>, Vec<String>),
    Pipe(Pipe),
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub pos: usize,
    pub kind: ArgKind,
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ArgKind::Field(idents) => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            ArgKind::Variable(idents) => f.write_str(&idents.join(".")),
            ArgKind::Dot => f.write_str("."),
            ArgKind::Nil => f.write_str("nil"),
            ArgKind::Bool(b) => write!(f, "{b}"),
            ArgKind::Number(n) => f.write_str(&n.text),
            ArgKind::Str { quoted, .. } => f.write_str(quoted),
            ArgKind::Ident(s) => f.write_str(s),
            ArgKind::Chain(node, fields) => {
                if matches!(node.kind, ArgKind::Pipe(_)) {
                    write!(f, "({node})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            ArgKind::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if let ArgKind::Pipe(_) = a.kind {
                write!(f, "({a})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// One parsed template: a file's top level or a `define`/`block` body.
#[derive(Debug, Clone)]
pub struct Tree {
    pub name: String,
    pub root: Vec<Node>,
    pub source: Arc<Source>,
}

/// True when a tree has only whitespace text (Go's `IsEmptyTree`).
pub fn is_empty_tree(nodes: &[Node]) -> bool {
    nodes
        .iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
}

/// Parses `text` (named `name`) into its top-level tree and its defined templates,
/// in definition order. `has_func` says whether a function name exists.
pub fn parse(name: &str, text: &str, has_func: &dyn Fn(&str) -> bool) -> Result<Vec<Tree>, String> {
    let source = Arc::new(Source {
        parse_name: name.to_string(),
        text: text.to_string(),
    });
    let mut toks = lex(text);
    // Go's parser skips space tokens via peekNonSpace; we keep them for the decl lookahead.
    if toks.is_empty() {
        toks.push(Token {
            tok: Tok::Eof,
            pos: 0,
            line: 1,
        });
    }
    let mut p = Parser {
        toks,
        i: 0,
        name: name.to_string(),
        vars: vec!["$".into()],
        range_depth: 0,
        has_func,
        action_line: 0,
    };
    let mut trees: Vec<Tree> = Vec::new();
    let mut defs: HashMap<String, usize> = HashMap::new();
    let mut root = Vec::new();
    loop {
        if p.peek().tok == Tok::Eof {
            break;
        }
        if p.peek().tok == Tok::LeftDelim {
            let save = p.i;
            p.next();
            if p.peek_non_space().tok == Tok::Keyword("define") {
                p.next_non_space();
                let (dname, body, blocks) = p.parse_definition()?;
                for b in blocks {
                    add_tree(
                        &mut trees,
                        &mut defs,
                        Tree {
                            name: b.0,
                            root: b.1,
                            source: source.clone(),
                        },
                        &p,
                    )?;
                }
                add_tree(
                    &mut trees,
                    &mut defs,
                    Tree {
                        name: dname,
                        root: body,
                        source: source.clone(),
                    },
                    &p,
                )?;
                continue;
            }
            p.i = save;
        }
        match p.text_or_action()? {
            Item::Node(n) => root.push(n),
            Item::Blocks(n, blocks) => {
                root.push(n);
                for b in blocks {
                    add_tree(
                        &mut trees,
                        &mut defs,
                        Tree {
                            name: b.0,
                            root: b.1,
                            source: source.clone(),
                        },
                        &p,
                    )?;
                }
            }
            Item::End(t) => return Err(p.err_at(&t, &format!("unexpected {}", end_name(&t)))),
            Item::Else(t) => return Err(p.err_at(&t, &format!("unexpected {}", end_name(&t)))),
        }
    }
    // The top-level tree comes first, then the definitions.
    let mut out = vec![Tree {
        name: name.to_string(),
        root,
        source: source.clone(),
    }];
    // Blocks and defines with the file's own name replace the top level, as in Go.
    for t in trees {
        if t.name == name {
            if !is_empty_tree(&t.root) || is_empty_tree(&out[0].root) {
                out[0] = t;
            }
        } else {
            out.push(t);
        }
    }
    Ok(out)
}

fn add_tree(
    trees: &mut Vec<Tree>,
    defs: &mut HashMap<String, usize>,
    t: Tree,
    p: &Parser,
) -> Result<(), String> {
    if let Some(&i) = defs.get(&t.name) {
        if is_empty_tree(&trees[i].root) {
            trees[i] = t;
        } else if !is_empty_tree(&t.root) {
            return Err(p.errorf(&format!(
                "template: multiple definition of template {}",
                crate::gofmt::quote(&t.name)
            )));
        }
        return Ok(());
    }
    defs.insert(t.name.clone(), trees.len());
    trees.push(t);
    Ok(())
}

fn end_name(t: &Token) -> &'static str {
    match t.tok {
        Tok::Keyword("else") => "{{else}}",
        _ => "{{end}}",
    }
}

enum Item {
    Node(Node),
    Blocks(Node, Vec<(String, Vec<Node>)>),
    End(Token),
    Else(Token),
}

struct Parser<'f> {
    toks: Vec<Token>,
    i: usize,
    name: String,
    vars: Vec<String>,
    range_depth: usize,
    has_func: &'f dyn Fn(&str) -> bool,
    action_line: usize,
}

type PResult<T> = Result<T, String>;
/// `block` bodies found while parsing, hoisted to named templates.
type Blocks = Vec<(String, Vec<Node>)>;

impl<'f> Parser<'f> {
    fn peek(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }
    fn next(&mut self) -> Token {
        let t = self.toks[self.i.min(self.toks.len() - 1)].clone();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }
    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.tok != Tok::Space {
                return t;
            }
        }
    }
    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.i -= 1;
        t
    }
    fn cur_line(&self) -> usize {
        let i = self.i.saturating_sub(1).min(self.toks.len() - 1);
        self.toks[i].line
    }
    fn errorf(&self, msg: &str) -> String {
        format!("template: {}:{}: {}", self.name, self.cur_line(), msg)
    }
    fn err_at(&self, t: &Token, msg: &str) -> String {
        format!("template: {}:{}: {}", self.name, t.line, msg)
    }
    fn unexpected(&self, t: &Token, context: &str) -> String {
        if let Tok::Error(e) = &t.tok {
            let extra = if self.action_line != 0 && self.action_line != t.line {
                format!(" in action started at {}:{}", self.name, self.action_line)
            } else {
                String::new()
            };
            return self.err_at(t, &format!("{e}{extra}"));
        }
        self.err_at(t, &format!("unexpected {} in {}", t.describe(), context))
    }
    fn expect_right_delim(&mut self, context: &str) -> PResult<()> {
        let t = self.next_non_space();
        if t.tok != Tok::RightDelim {
            return Err(self.unexpected(&t, context));
        }
        Ok(())
    }

    fn parse_definition(&mut self) -> PResult<(String, Vec<Node>, Blocks)> {
        let context = "define clause";
        let t = self.next_non_space();
        let name = match &t.tok {
            Tok::Str(s) | Tok::RawStr(s) => unquote(s).map_err(|e| self.err_at(&t, &e))?,
            _ => return Err(self.unexpected(&t, context)),
        };
        self.expect_right_delim(context)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end, blocks) = self.item_list()?;
        self.vars = saved;
        if !matches!(end.tok, Tok::Keyword("end")) {
            return Err(self.err_at(
                &end,
                &format!("unexpected {} in {}", end_name(&end), context),
            ));
        }
        Ok((name, list, blocks))
    }

    /// Parses nodes until `{{end}}` or `{{else}}`, returning the terminator token.
    fn item_list(&mut self) -> PResult<(Vec<Node>, Token, Blocks)> {
        let mut list = Vec::new();
        let mut blocks = Vec::new();
        loop {
            if self.peek_non_space().tok == Tok::Eof {
                let t = self.peek().clone();
                return Err(self.err_at(&t, "unexpected EOF"));
            }
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::Blocks(n, b) => {
                    list.push(n);
                    blocks.extend(b);
                }
                Item::End(t) | Item::Else(t) => return Ok((list, t, blocks)),
            }
        }
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Text(s) => Ok(Item::Node(Node::Text(s))),
            Tok::LeftDelim => {
                self.action_line = t.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            Tok::Error(_) => Err(self.unexpected(&t, "input")),
            _ => Err(self.unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Keyword("block") => return self.block_control(t.pos),
            Tok::Keyword("break") => return self.break_continue(t, "break"),
            Tok::Keyword("continue") => return self.break_continue(t, "continue"),
            Tok::Keyword("else") => return self.else_control(t),
            Tok::Keyword("end") => {
                self.expect_right_delim("end")?;
                return Ok(Item::End(t));
            }
            Tok::Keyword("if") => return self.control("if", t.pos),
            Tok::Keyword("range") => return self.control("range", t.pos),
            Tok::Keyword("with") => return self.control("with", t.pos),
            Tok::Keyword("template") => return self.template_control(t.pos),
            _ => {}
        }
        self.i -= 1;
        // back up over the token
        let pos = self.peek().pos;
        let pipe = self.pipeline("command", false)?;
        Ok(Item::Node(Node::Action { pos, pipe }))
    }

    fn break_continue(&mut self, t: Token, which: &str) -> PResult<Item> {
        let n = self.next_non_space();
        if n.tok != Tok::RightDelim {
            return Err(self.unexpected(&n, &format!("{{{{{which}}}}}")));
        }
        if self.range_depth == 0 {
            return Err(self.err_at(&t, &format!("{{{{{which}}}}} outside {{{{range}}}}")));
        }
        Ok(Item::Node(if which == "break" {
            Node::Break { pos: t.pos }
        } else {
            Node::Continue { pos: t.pos }
        }))
    }

    fn else_control(&mut self, t: Token) -> PResult<Item> {
        let p = self.peek_non_space();
        if matches!(p.tok, Tok::Keyword("if") | Tok::Keyword("with")) {
            return Ok(Item::Else(t));
        }
        self.expect_right_delim("else")?;
        Ok(Item::Else(t))
    }

    fn control(&mut self, context: &str, pos: usize) -> PResult<Item> {
        let nvars = self.vars.len();
        let pipe = self.pipeline(context, false)?;
        if pipe.cmds.is_empty() {
            return Err(self.errorf(&format!("missing value for {context}")));
        }
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next, mut blocks) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if matches!(next.tok, Tok::Keyword("else")) {
            let p = self.peek_non_space();
            if context == "if" && p.tok == Tok::Keyword("if") {
                let t = self.next_non_space();
                let inner = self.control("if", t.pos)?;
                let (n, b) = match inner {
                    Item::Node(n) => (n, vec![]),
                    Item::Blocks(n, b) => (n, b),
                    _ => unreachable!(),
                };
                blocks.extend(b);
                else_list = Some(vec![n]);
            } else if context == "with" && p.tok == Tok::Keyword("with") {
                let t = self.next_non_space();
                let inner = self.control("with", t.pos)?;
                let (n, b) = match inner {
                    Item::Node(n) => (n, vec![]),
                    Item::Blocks(n, b) => (n, b),
                    _ => unreachable!(),
                };
                blocks.extend(b);
                else_list = Some(vec![n]);
            } else {
                let (el, end, b) = self.item_list()?;
                blocks.extend(b);
                if !matches!(end.tok, Tok::Keyword("end")) {
                    return Err(self.err_at(&end, "expected end; found {{else}}"));
                }
                else_list = Some(el);
            }
        }
        self.vars.truncate(nvars);
        let br = Box::new(Branch {
            pos,
            pipe,
            list,
            else_list,
        });
        let node = match context {
            "if" => Node::If(br),
            "with" => Node::With(br),
            _ => Node::Range(br),
        };
        if blocks.is_empty() {
            Ok(Item::Node(node))
        } else {
            Ok(Item::Blocks(node, blocks))
        }
    }

    fn template_name(&mut self, context: &str) -> PResult<(String, usize)> {
        let t = self.next_non_space();
        match &t.tok {
            Tok::Str(s) | Tok::RawStr(s) => unquote(s)
                .map(|n| (n, t.pos))
                .map_err(|e| self.err_at(&t, &e)),
            _ => Err(self.unexpected(&t, context)),
        }
    }

    fn template_control(&mut self, _pos: usize) -> PResult<Item> {
        let context = "template clause";
        let (name, pos) = self.template_name(context)?;
        let pipe = if self.peek_non_space().tok != Tok::RightDelim {
            Some(self.pipeline(context, false)?)
        } else {
            self.next_non_space();
            None
        };
        Ok(Item::Node(Node::Template { pos, name, pipe }))
    }

    fn block_control(&mut self, _pos: usize) -> PResult<Item> {
        let context = "block clause";
        let (name, pos) = self.template_name(context)?;
        let pipe = self.pipeline(context, false)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end, mut blocks) = self.item_list()?;
        self.vars = saved;
        if !matches!(end.tok, Tok::Keyword("end")) {
            return Err(self.err_at(
                &end,
                &format!("unexpected {} in {}", end_name(&end), context),
            ));
        }
        blocks.push((name.clone(), list));
        Ok(Item::Blocks(
            Node::Template {
                pos,
                name,
                pipe: Some(pipe),
            },
            blocks,
        ))
    }

    /// Parses a pipeline up to `}}` (or `)` when `paren`).
    fn pipeline(&mut self, context: &str, paren: bool) -> PResult<Pipe> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe {
            pos,
            is_assign: false,
            decl: vec![],
            cmds: vec![],
        };
        // declarations
        let v = self.peek_non_space();
        if let Tok::Variable(name) = &v.tok {
            let save = self.i;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.tok {
                Tok::Assign | Tok::Declare => {
                    pipe.is_assign = next.tok == Tok::Assign;
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name.clone());
                }
                Tok::CharOther(',') => {
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name.clone());
                    if context == "range" && pipe.decl.len() < 2 {
                        let t2 = self.peek_non_space();
                        if let Tok::Variable(n2) = &t2.tok {
                            self.next_non_space();
                            let t3 = self.next_non_space();
                            match t3.tok {
                                Tok::Assign | Tok::Declare => {
                                    pipe.is_assign = t3.tok == Tok::Assign;
                                    pipe.decl.push(n2.clone());
                                    self.vars.push(n2.clone());
                                }
                                _ => return Err(self.unexpected(&t3, context)),
                            }
                        } else {
                            return Err(self.errorf("range can only initialize variables"));
                        }
                    } else {
                        return Err(self.errorf(&format!("too many declarations in {context}")));
                    }
                }
                _ => self.i = save,
            }
        }
        loop {
            let t = self.next_non_space();
            match &t.tok {
                Tok::RightDelim if !paren => break,
                Tok::RightParen if paren => break,
                Tok::Bool(_)
                | Tok::Char(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::RawStr(_)
                | Tok::Str(_)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.i -= 1;
                    let c = self.command(paren)?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&t, context)),
            }
        }
        if pipe.cmds.is_empty() {
            return Err(self.errorf(&format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0].kind,
                ArgKind::Bool(_)
                    | ArgKind::Dot
                    | ArgKind::Nil
                    | ArgKind::Number(_)
                    | ArgKind::Str { .. }
            ) {
                return Err(self.errorf(&format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(pipe)
    }

    fn command(&mut self, paren: bool) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command { pos, args: vec![] };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => {
                    let _ = paren;
                    self.i -= 1;
                }
                Tok::Pipe => {}
                _ => return Err(self.unexpected(&t, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if let Tok::Field(_) = self.peek().tok {
            let chain_pos = self.peek().pos;
            let mut fields = Vec::new();
            while let Tok::Field(f) = &self.peek().tok {
                fields.push(f[1..].to_string());
                self.next();
            }
            // Go positions a chained field at its first chained element
            let pos = match node.kind {
                ArgKind::Field(_) | ArgKind::Variable(_) => chain_pos,
                _ => node.pos,
            };
            return Ok(Some(match node.kind {
                ArgKind::Field(mut idents) => {
                    idents.extend(fields);
                    Arg {
                        pos,
                        kind: ArgKind::Field(idents),
                    }
                }
                ArgKind::Variable(mut idents) => {
                    idents.extend(fields);
                    Arg {
                        pos,
                        kind: ArgKind::Variable(idents),
                    }
                }
                ArgKind::Bool(_)
                | ArgKind::Str { .. }
                | ArgKind::Number(_)
                | ArgKind::Nil
                | ArgKind::Dot => {
                    return Err(self.errorf(&format!(
                        "unexpected . after term {}",
                        crate::gofmt::quote(&node.to_string())
                    )));
                }
                _ => Arg {
                    pos,
                    kind: ArgKind::Chain(Box::new(node), fields),
                },
            }));
        }
        Ok(Some(node))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        let pos = t.pos;
        let kind = match t.tok.clone() {
            Tok::Ident(name) => {
                if !(self.has_func)(&name) {
                    return Err(self.err_at(
                        &t,
                        &format!("function {} not defined", crate::gofmt::quote(&name)),
                    ));
                }
                ArgKind::Ident(name)
            }
            Tok::Dot => ArgKind::Dot,
            Tok::Nil => ArgKind::Nil,
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return Err(self.err_at(
                        &t,
                        &format!("undefined variable {}", crate::gofmt::quote(&name)),
                    ));
                }
                ArgKind::Variable(vec![name])
            }
            Tok::Field(f) => ArgKind::Field(vec![f[1..].to_string()]),
            Tok::Bool(b) => ArgKind::Bool(b),
            Tok::Number(ref s) | Tok::Char(ref s) => {
                let is_char = matches!(t.tok, Tok::Char(_));
                ArgKind::Number(parse_number(s, is_char).map_err(|e| self.err_at(&t, &e))?)
            }
            Tok::LeftParen => {
                let p = self.pipeline("parenthesized pipeline", true)?;
                ArgKind::Pipe(p)
            }
            Tok::Str(s) | Tok::RawStr(s) => {
                let value = unquote(&s).map_err(|e| self.err_at(&t, &e))?;
                ArgKind::Str { quoted: s, value }
            }
            _ => {
                self.i -= 1;
                return Ok(None);
            }
        };
        Ok(Some(Arg { pos, kind }))
    }
}

/// Go's `strconv.Unquote` for "..." , `...` and '...' literals.
pub fn unquote(s: &str) -> Result<String, String> {
    let bad = || "invalid syntax".to_string();
    if s.len() < 2 {
        return Err(bad());
    }
    let q = s.as_bytes()[0];
    let inner = &s[1..s.len() - 1];
    if q == b'`' {
        return Ok(inner.replace('\r', ""));
    }
    let mut out = String::new();
    let mut it = inner.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = it.next().ok_or_else(bad)?;
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' if q == b'"' => out.push('"'),
            '\'' if q == b'\'' => out.push('\''),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let h: String = (0..n).filter_map(|_| it.next()).collect();
                let v = u32::from_str_radix(&h, 16).map_err(|_| bad())?;
                if e == 'x' {
                    // a byte; only valid as UTF-8 when ASCII
                    out.push(char::from_u32(v).ok_or_else(bad)?);
                } else {
                    out.push(char::from_u32(v).ok_or_else(bad)?);
                }
            }
            '0'..='7' => {
                let mut h = e.to_string();
                for _ in 0..2 {
                    h.push(it.next().ok_or_else(bad)?);
                }
                let v = u32::from_str_radix(&h, 8).map_err(|_| bad())?;
                out.push(char::from_u32(v).ok_or_else(bad)?);
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// Parses a Go number literal the way text/template's `NumberNode` does.
pub fn parse_number(text: &str, is_char: bool) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        is_int: false,
        is_float: false,
        int: 0,
        float: 0.0,
        is_char,
        is_hex: false,
    };
    if is_char {
        let s = unquote(text).map_err(|_| format!("malformed character constant: {text}"))?;
        let mut cs = s.chars();
        let c = cs
            .next()
            .ok_or_else(|| format!("malformed character constant: {text}"))?;
        if cs.next().is_some() {
            return Err(format!("malformed character constant: {text}"));
        }
        n.is_int = true;
        n.int = c as i64;
        n.is_float = true;
        n.float = c as i64 as f64;
        return Ok(n);
    }
    if text.ends_with('i') {
        return Err(format!(
            "illegal number syntax: {}",
            crate::gofmt::quote(text)
        ));
    }
    let lower = text.to_ascii_lowercase();
    n.is_hex = lower.trim_start_matches(['+', '-']).starts_with("0x");
    if let Some(i) = crate::funcs::conv::parse_int_base0(text) {
        n.is_int = true;
        n.int = i;
        n.is_float = true;
        n.float = i as f64;
        return Ok(n);
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let f = if n.is_hex {
        parse_hex_float(&clean)
    } else {
        clean.parse::<f64>().ok()
    };
    if let Some(f) = f {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", crate::gofmt::quote(text)));
        }
        n.is_float = true;
        n.float = f;
        if f.fract() == 0.0 && f.abs() < 9.2e18 {
            n.is_int = true;
            n.int = f as i64;
        }
        return Ok(n);
    }
    Err(format!(
        "illegal number syntax: {}",
        crate::gofmt::quote(text)
    ))
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, t) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let t = t.get(2..)?;
    let (mant, exp) = t.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
    let mut v = 0f64;
    for c in ip.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in fp.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exp);
    Some(if neg { -v } else { v })
}
