//! Execution: [`TemplateSet`] holds named templates; `execute` walks a tree
//! with Go's semantics (scoping of variables, `missingkey`, truthiness,
//! `and`/`or` short-circuit, comparison rules, error texts) under configurable
//! bounds on steps, output size and recursion depth.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, ErrorKind};
use crate::funcs::{self, FuncDef, Ty};
use crate::gofmt;
use crate::parse::{self, Arg, ArgKind, Command, Node, Number, Pipe, Tree};
use crate::value::Value;

/// What a missing map key evaluates to (`missingkey=` in Go).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=zero` (Helm's default): the zero value, printed as `<no value>`.
    #[default]
    Zero,
    /// `missingkey=error` (`helm --strict`): an error naming the key.
    Error,
}

/// Bounds that stop hostile templates in bounded time and memory.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Total bytes written by one `execute` (including `include` and `tpl` buffers), and the
    /// largest string any function may return. Default 64 MiB.
    pub max_output_bytes: usize,
    /// Evaluation steps (nodes walked, range iterations, function calls) per `execute`.
    pub max_steps: u64,
    /// Nested `{{template}}` calls (Go: 100000).
    pub max_template_depth: usize,
    /// Nested `include` of one name (Helm: 1000).
    pub max_include_depth: usize,
    /// Largest list a function may build (`until`, `seq`, `repeat` ...).
    pub max_collection_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_output_bytes: 64 << 20,
            max_steps: 50_000_000,
            max_template_depth: 100_000,
            max_include_depth: 1000,
            max_collection_len: 1_000_000,
        }
    }
}

/// Options of a template set.
#[derive(Debug, Clone)]
pub struct Options {
    pub missing_key: MissingKey,
    pub limits: Limits,
    /// The name of the set's root template, used in Go's "no template ... associated with
    /// template" errors and as the template name `tpl` parses its text under. Helm: `gotpl`.
    pub root_name: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            missing_key: MissingKey::Zero,
            limits: Limits::default(),
            root_name: "gotpl".into(),
        }
    }
}

/// A host function: receives evaluated arguments, returns a value or an error message.
pub type HostFn = Arc<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// Many named templates parsed from many sources, as Go's associated templates.
#[derive(Clone)]
pub struct TemplateSet {
    options: Options,
    templates: HashMap<String, Arc<Tree>>,
    host_funcs: HashMap<String, HostFn>,
}

impl std::fmt::Debug for TemplateSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.templates.keys().collect();
        names.sort();
        f.debug_struct("TemplateSet")
            .field("options", &self.options)
            .field("templates", &names)
            .finish()
    }
}

impl TemplateSet {
    pub fn new(options: Options) -> Self {
        TemplateSet {
            options,
            templates: HashMap::new(),
            host_funcs: HashMap::new(),
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Adds or replaces a function (e.g. a cluster-bound `lookup`). Must be called before
    /// parsing templates that use it.
    pub fn add_function(&mut self, name: &str, f: HostFn) {
        self.host_funcs.insert(name.to_string(), f);
    }

    fn has_func(&self, name: &str) -> bool {
        self.host_funcs.contains_key(name) || funcs::lookup(name).is_some()
    }

    /// Parses `source` as the template `name`, adding it and every template it defines.
    /// A later definition of a name replaces an earlier one, unless the later body is empty.
    pub fn parse(&mut self, name: &str, source: &str) -> Result<(), Error> {
        let trees = parse::parse(name, source, &|f| self.has_func(f)).map_err(Error::parse)?;
        for (i, t) in trees.into_iter().enumerate() {
            let exists = self.templates.contains_key(&t.name);
            if i > 0 && exists && parse::is_empty_tree(&t.root) {
                continue;
            }
            self.templates.insert(t.name.clone(), Arc::new(t));
        }
        Ok(())
    }

    pub fn has(&self, name: &str) -> bool {
        self.templates.contains_key(name)
    }

    /// The names of all templates, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.templates.keys().cloned().collect();
        v.sort();
        v
    }

    /// Executes the template `name` with `data` as dot and `$`.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, Error> {
        let budget = Budget::default();
        let mut out = String::new();
        self.execute_with(name, data, &budget, &mut out)?;
        Ok(out)
    }

    fn execute_with(
        &self,
        name: &str,
        data: &Value,
        budget: &Budget,
        out: &mut String,
    ) -> Result<(), Error> {
        let Some(tree) = self.templates.get(name) else {
            return Err(Error::plain(
                ErrorKind::NotDefined,
                format!(
                    "template: no template {} associated with template {}",
                    gofmt::quote(name),
                    gofmt::quote(&self.options.root_name)
                ),
            ));
        };
        let mut st = State {
            set: self,
            budget,
            tmpl: tree,
            vars: vec![("$".into(), data.clone())],
            depth: 0,
            at: At::None,
        };
        stacker::maybe_grow(256 * 1024, 4 * 1024 * 1024, || {
            st.walk(data, &tree.root, out)
        })
        .map(|_| ())
    }
}

/// Counters shared by one `execute`, its `include`s and `tpl`s.
#[derive(Default)]
pub(crate) struct Budget {
    steps: Cell<u64>,
    output: Cell<usize>,
    includes: RefCell<HashMap<String, usize>>,
}

/// What functions may reach of the running execution.
pub(crate) trait Host {
    fn include(&self, name: &str, data: &Value) -> Result<String, String>;
    fn tpl(&self, text: &str, data: &Value) -> Result<String, String>;
    fn limits(&self) -> &Limits;
}

struct HostCtx<'s> {
    set: &'s TemplateSet,
    budget: &'s Budget,
}

impl Host for HostCtx<'_> {
    fn include(&self, name: &str, data: &Value) -> Result<String, String> {
        let n = {
            let mut inc = self.budget.includes.borrow_mut();
            let e = inc.entry(name.to_string()).or_insert(0);
            if *e > self.set.options.limits.max_include_depth {
                return Err(format!(
                    "rendering template has a nested reference name: {name}: unable to execute template"
                ));
            }
            *e += 1;
            *e
        };
        let _ = n;
        let mut out = String::new();
        let r = self.set.execute_with(name, data, self.budget, &mut out);
        if let Some(e) = self.budget.includes.borrow_mut().get_mut(name) {
            *e -= 1;
        }
        r.map_err(|e| e.message().to_string())?;
        Ok(out)
    }

    fn tpl(&self, text: &str, data: &Value) -> Result<String, String> {
        let mut clone = self.set.clone();
        let root = self.set.options.root_name.clone();
        clone.parse(&root, text).map_err(|e| {
            format!(
                "cannot parse template {}: {}",
                gofmt::quote(text),
                e.message()
            )
        })?;
        let mut out = String::new();
        clone
            .execute_with(&root, data, self.budget, &mut out)
            .map_err(|e| {
                format!(
                    "error during tpl function execution for {}: {}",
                    gofmt::quote(text),
                    e.message()
                )
            })?;
        Ok(out.replace("<no value>", ""))
    }

    fn limits(&self) -> &Limits {
        &self.set.options.limits
    }
}

#[derive(Clone, Copy)]
enum At<'s> {
    None,
    Arg(&'s Arg),
    Pipe(&'s Pipe),
    Node(&'s Node),
}

enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'s> {
    set: &'s TemplateSet,
    budget: &'s Budget,
    tmpl: &'s Tree,
    vars: Vec<(String, Value)>,
    depth: usize,
    at: At<'s>,
}

type R<T> = Result<T, Error>;

fn node_string(n: &Node) -> String {
    match n {
        Node::Text(t) => gofmt::quote(t),
        Node::Action { pipe, .. } => format!("{{{{{pipe}}}}}"),
        Node::If(b) => format!("{{{{if {}}}}}", b.pipe),
        Node::With(b) => format!("{{{{with {}}}}}", b.pipe),
        Node::Range(b) => format!("{{{{range {}}}}}", b.pipe),
        Node::Template { name, pipe, .. } => match pipe {
            Some(p) => format!("{{{{template {} {}}}}}", gofmt::quote(name), p),
            None => format!("{{{{template {}}}}}", gofmt::quote(name)),
        },
        Node::Break { .. } => "{{break}}".into(),
        Node::Continue { .. } => "{{continue}}".into(),
    }
}

impl<'s> State<'s> {
    fn errorf(&self, msg: impl Into<String>) -> Error {
        let msg = msg.into();
        let name = &self.tmpl.name;
        let (pos, ctx) = match self.at {
            At::None => {
                let m = format!("template: {name}: {msg}");
                return Error::new(ErrorKind::Exec, m, None, Some(name.clone()), None, msg);
            }
            At::Arg(a) => (a.pos, a.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Node(n) => (node_pos(n), node_string(n)),
        };
        let loc = self.tmpl.source.location(pos);
        let m = format!(
            "template: {loc}: executing {} at <{ctx}>: {msg}",
            gofmt::quote(name)
        );
        Error::new(
            ErrorKind::Exec,
            m,
            Some(loc),
            Some(name.clone()),
            Some(ctx),
            msg,
        )
    }

    fn limit_err(&self, msg: String) -> Error {
        let mut e = self.errorf(msg);
        e.set_kind(ErrorKind::Limit);
        e
    }

    fn step(&self) -> R<()> {
        let s = self.budget.steps.get() + 1;
        self.budget.steps.set(s);
        if s > self.set.options.limits.max_steps {
            return Err(self.limit_err(format!(
                "evaluation exceeded the limit of {} steps; the template loops too long",
                self.set.options.limits.max_steps
            )));
        }
        Ok(())
    }

    fn write(&self, out: &mut String, s: &str) -> R<()> {
        let n = self.budget.output.get() + s.len();
        self.budget.output.set(n);
        if n > self.set.options.limits.max_output_bytes {
            return Err(self.limit_err(format!(
                "output exceeded the limit of {} bytes",
                self.set.options.limits.max_output_bytes
            )));
        }
        out.push_str(s);
        Ok(())
    }

    fn walk(&mut self, dot: &Value, nodes: &'s [Node], out: &mut String) -> R<Flow> {
        for n in nodes {
            self.step()?;
            match n {
                Node::Text(t) => self.write(out, t)?,
                Node::Action { pipe, .. } => {
                    let v = self.eval_pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        self.at = At::Node(n);
                        let s = match &v {
                            Value::Nil => "<no value>".to_string(),
                            v => gofmt::sprint_value(v),
                        };
                        self.write(out, &s)?;
                    }
                }
                Node::If(b) | Node::With(b) => {
                    let mark = self.vars.len();
                    let v = self.eval_pipeline(dot, &b.pipe)?;
                    let flow = if v.truthy() {
                        if matches!(n, Node::With(_)) {
                            self.walk(&v, &b.list, out)?
                        } else {
                            self.walk(dot, &b.list, out)?
                        }
                    } else if let Some(el) = &b.else_list {
                        self.walk(dot, el, out)?
                    } else {
                        Flow::Normal
                    };
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Range(b) => {
                    self.at = At::Node(n);
                    let mark = self.vars.len();
                    let v = self.eval_pipeline(dot, &b.pipe)?;
                    let mark2 = self.vars.len();
                    let mut iterated = false;
                    let items: Vec<(Value, Value)> = match &v {
                        Value::List(l) => l
                            .iter()
                            .enumerate()
                            .map(|(i, e)| (Value::Int(i as i64), e.clone()))
                            .collect(),
                        Value::Map(m) => m
                            .entries()
                            .into_iter()
                            .map(|(k, e)| (Value::str(k), e))
                            .collect(),
                        Value::Int(k) => {
                            if b.pipe.decl.len() > 1 {
                                self.at = At::Node(n);
                                return Err(self.errorf(format!(
                                    "can't use {k} to iterate over more than one variable"
                                )));
                            }
                            if *k as u64 > self.set.options.limits.max_steps {
                                return Err(self.limit_err(format!(
                                    "range over {k} exceeds the limit of {} steps",
                                    self.set.options.limits.max_steps
                                )));
                            }
                            (0..(*k).max(0))
                                .map(|i| (Value::Int(i), Value::Int(i)))
                                .collect()
                        }
                        Value::Nil => vec![],
                        Value::Object(o) if o.list().is_some() => o
                            .list()
                            .unwrap_or_default()
                            .into_iter()
                            .enumerate()
                            .map(|(i, e)| (Value::Int(i as i64), e))
                            .collect(),
                        Value::Object(o) if o.entries().is_some() => o
                            .entries()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(k, e)| (Value::str(k), e))
                            .collect(),
                        other => {
                            return Err(self.errorf(format!(
                                "range can't iterate over {}",
                                gofmt::sprint_value(other)
                            )));
                        }
                    };
                    for (idx, elem) in items {
                        self.step()?;
                        iterated = true;
                        if !b.pipe.decl.is_empty() {
                            if b.pipe.is_assign {
                                if b.pipe.decl.len() > 1 {
                                    self.set_var(&b.pipe.decl[0], idx.clone())?;
                                    self.set_var(&b.pipe.decl[1], elem.clone())?;
                                } else {
                                    self.set_var(&b.pipe.decl[0], elem.clone())?;
                                }
                            } else {
                                let len = self.vars.len();
                                if b.pipe.decl.len() > 1 {
                                    self.vars[len - 1].1 = elem.clone();
                                    self.vars[len - 2].1 = idx.clone();
                                } else {
                                    self.vars[len - 1].1 = elem.clone();
                                }
                            }
                        }
                        let flow = self.walk(&elem, &b.list, out)?;
                        self.vars.truncate(mark2);
                        if let Flow::Break = flow {
                            break;
                        }
                    }
                    if !iterated && let Some(el) = &b.else_list {
                        let flow = self.walk(dot, el, out)?;
                        self.vars.truncate(mark);
                        if !matches!(flow, Flow::Normal) {
                            return Ok(flow);
                        }
                    }
                    self.vars.truncate(mark);
                }
                Node::Template { name, pipe, .. } => {
                    self.at = At::Node(n);
                    let Some(tree) = self.set.templates.get(name) else {
                        return Err(
                            self.errorf(format!("template {} not defined", gofmt::quote(name)))
                        );
                    };
                    if self.depth >= self.set.options.limits.max_template_depth {
                        return Err(self.limit_err(format!(
                            "exceeded maximum template depth ({})",
                            self.set.options.limits.max_template_depth
                        )));
                    }
                    let newdot = match pipe {
                        Some(p) => self.eval_pipeline(dot, p)?,
                        None => Value::Nil,
                    };
                    let mut st = State {
                        set: self.set,
                        budget: self.budget,
                        tmpl: tree,
                        vars: vec![("$".into(), newdot.clone())],
                        depth: self.depth + 1,
                        at: At::None,
                    };
                    stacker::maybe_grow(128 * 1024, 2 * 1024 * 1024, || {
                        st.walk(&newdot, &tree.root, out)
                    })?;
                }
                Node::Break { .. } => return Ok(Flow::Break),
                Node::Continue { .. } => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn var_value(&self, name: &str) -> R<Value> {
        for (n, v) in self.vars.iter().rev() {
            if n == name {
                return Ok(v.clone());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn set_var(&mut self, name: &str, v: Value) -> R<()> {
        for (n, slot) in self.vars.iter_mut().rev() {
            if n == name {
                *slot = v;
                return Ok(());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'s Pipe) -> R<Value> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Value::Nil);
        for d in &pipe.decl {
            if pipe.is_assign {
                self.set_var(d, value.clone())?;
            } else {
                self.vars.push((d.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], final_: &Option<Value>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &'s Command, final_: Option<Value>) -> R<Value> {
        let first = &cmd.args[0];
        match &first.kind {
            ArgKind::Field(idents) => {
                self.at = At::Arg(first);
                self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args, final_)
            }
            ArgKind::Chain(node, fields) => {
                self.at = At::Arg(first);
                if matches!(node.kind, ArgKind::Nil) {
                    return Err(self.errorf(format!("indirection through explicit nil in {first}")));
                }
                let recv = self.eval_arg(dot, Ty::Any, node)?;
                self.at = At::Arg(first);
                self.eval_field_chain_from(dot, recv, first, fields, &cmd.args, final_, true)
            }
            ArgKind::Ident(name) => self.eval_function(dot, name, first, cmd, final_),
            ArgKind::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                self.eval_pipeline(dot, p)
            }
            ArgKind::Variable(idents) => {
                self.at = At::Arg(first);
                let v = self.var_value(&idents[0])?;
                if idents.len() == 1 {
                    self.not_a_function(&cmd.args, &final_)?;
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, first, &idents[1..], &cmd.args, final_)
            }
            _ => {
                self.at = At::Arg(first);
                self.not_a_function(&cmd.args, &final_)?;
                match &first.kind {
                    ArgKind::Bool(b) => Ok(Value::Bool(*b)),
                    ArgKind::Dot => Ok(dot.clone()),
                    ArgKind::Nil => Err(self.errorf("nil is not a command")),
                    ArgKind::Number(n) => self.ideal_constant(n),
                    ArgKind::Str { value, .. } => Ok(Value::str(value.as_str())),
                    _ => Err(self.errorf(format!(
                        "can't evaluate command {}",
                        gofmt::quote(&first.to_string())
                    ))),
                }
            }
        }
    }

    fn ideal_constant(&self, n: &Number) -> R<Value> {
        let looks_float = !n.is_hex && !n.is_char && n.text.contains(['.', 'e', 'E', 'p', 'P']);
        if n.is_float && looks_float {
            return Ok(Value::Float(n.float));
        }
        if n.is_int {
            return Ok(Value::Int(n.int));
        }
        if n.is_float {
            return Ok(Value::Float(n.float));
        }
        Err(self.errorf(format!("{} overflows int", n.text)))
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        receiver: Value,
        node: &'s Arg,
        idents: &'s [String],
        args: &'s [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.eval_field_chain_from(dot, receiver, node, idents, args, final_, false)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain_from(
        &mut self,
        dot: &Value,
        receiver: Value,
        node: &'s Arg,
        idents: &'s [String],
        args: &'s [Arg],
        final_: Option<Value>,
        _chain: bool,
    ) -> R<Value> {
        let n = idents.len();
        let mut recv = receiver;
        // `typed_nil`: the receiver came out of a map lookup (Go: a nil interface{} value).
        let mut typed_nil = false;
        for (i, ident) in idents.iter().enumerate() {
            let last = i == n - 1;
            let (a, f) = if last {
                (args, final_.clone())
            } else {
                (&args[..0], None)
            };
            let (v, tn) = self.eval_field(dot, ident, node, a, f, recv, typed_nil)?;
            recv = v;
            typed_nil = tn;
        }
        Ok(recv)
    }

    /// Returns the value and whether it is a nil that came from a map (a typed nil interface).
    #[allow(clippy::too_many_arguments)]
    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        node: &'s Arg,
        args: &'s [Arg],
        final_: Option<Value>,
        recv: Value,
        typed_nil: bool,
    ) -> R<(Value, bool)> {
        let has_args = args.len() > 1 || final_.is_some();
        match recv {
            Value::Nil => {
                if typed_nil {
                    return Err(
                        self.errorf(format!("nil pointer evaluating interface {{}}.{name}"))
                    );
                }
                if self.set.options.missing_key == MissingKey::Error {
                    return Err(
                        self.errorf(format!("nil data; no entry for key {}", gofmt::quote(name)))
                    );
                }
                Ok((Value::Nil, false))
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                match m.get(name) {
                    Some(v) => Ok((v, true)),
                    None => {
                        if self.set.options.missing_key == MissingKey::Error {
                            return Err(self.errorf(format!(
                                "map has no entry for key {}",
                                gofmt::quote(name)
                            )));
                        }
                        Ok((Value::Nil, true))
                    }
                }
            }
            Value::Object(o) => {
                if has_args || o.has_method(name) {
                    let mut argv = Vec::new();
                    for a in &args[1.min(args.len())..] {
                        argv.push(self.eval_arg(dot, Ty::Any, a)?);
                    }
                    if let Some(f) = final_ {
                        argv.push(f);
                    }
                    self.at = At::Arg(node);
                    match o.call(name, &argv) {
                        Some(Ok(v)) => return Ok((v, false)),
                        Some(Err(e)) => {
                            return Err(self.errorf(format!("error calling {name}: {e}")));
                        }
                        None => {
                            if has_args {
                                if o.field(name).is_some() {
                                    return Err(self.errorf(format!(
                                        "{name} has arguments but cannot be invoked as function"
                                    )));
                                }
                                return Err(self.errorf(format!(
                                    "can't evaluate field {name} in type {}",
                                    o.type_name()
                                )));
                            }
                        }
                    }
                }
                match o.field(name) {
                    Some(v) => Ok((v, false)),
                    None => Err(self.errorf(format!(
                        "can't evaluate field {name} in type {}",
                        o.type_name()
                    ))),
                }
            }
            other => {
                let tn = if typed_nil {
                    "interface {}".to_string()
                } else {
                    other.type_name()
                };
                Err(self.errorf(format!("can't evaluate field {name} in type {tn}")))
            }
        }
    }

    fn eval_arg(&mut self, dot: &Value, ty: Ty, arg: &'s Arg) -> R<Value> {
        self.at = At::Arg(arg);
        match &arg.kind {
            ArgKind::Dot => self.validate(ty, dot.clone(), arg),
            ArgKind::Nil => {
                if ty.nillable() {
                    Ok(Value::Nil)
                } else {
                    Err(self.errorf(format!("cannot assign nil to {}", ty.go_name())))
                }
            }
            ArgKind::Field(idents) => {
                let v = self.eval_field_chain(
                    dot,
                    dot.clone(),
                    arg,
                    idents,
                    std::slice::from_ref(arg),
                    None,
                )?;
                self.validate(ty, v, arg)
            }
            ArgKind::Variable(idents) => {
                let v = self.var_value(&idents[0])?;
                let v = if idents.len() > 1 {
                    self.eval_field_chain(
                        dot,
                        v,
                        arg,
                        &idents[1..],
                        std::slice::from_ref(arg),
                        None,
                    )?
                } else {
                    v
                };
                self.validate(ty, v, arg)
            }
            ArgKind::Pipe(p) => {
                let v = self.eval_pipeline(dot, p)?;
                self.at = At::Arg(arg);
                self.validate(ty, v, arg)
            }
            ArgKind::Ident(name) => {
                let cmd = Command {
                    pos: arg.pos,
                    args: vec![],
                };
                let v =
                    self.eval_function_args(dot, name, arg, &cmd, std::slice::from_ref(arg), None)?;
                self.at = At::Arg(arg);
                self.validate(ty, v, arg)
            }
            ArgKind::Chain(node, fields) => {
                if matches!(node.kind, ArgKind::Nil) {
                    return Err(self.errorf(format!("indirection through explicit nil in {arg}")));
                }
                let recv = self.eval_arg(dot, Ty::Any, node)?;
                self.at = At::Arg(arg);
                let v = self.eval_field_chain_from(
                    dot,
                    recv,
                    arg,
                    fields,
                    std::slice::from_ref(arg),
                    None,
                    true,
                )?;
                self.validate(ty, v, arg)
            }
            ArgKind::Bool(b) => match ty {
                Ty::Bool | Ty::Any | Ty::Reflect => Ok(Value::Bool(*b)),
                _ => Err(self.errorf(format!("expected {}; found {}", ty.expect_word(), arg))),
            },
            ArgKind::Str { value, .. } => match ty {
                Ty::Str | Ty::Any | Ty::Reflect => Ok(Value::str(value.as_str())),
                _ => Err(self.errorf(format!("expected {}; found {}", ty.expect_word(), arg))),
            },
            ArgKind::Number(n) => match ty {
                Ty::Int => {
                    if n.is_int {
                        Ok(Value::Int(n.int))
                    } else {
                        Err(self.errorf(format!("expected integer; found {}", n.text)))
                    }
                }
                Ty::Float => {
                    if n.is_float {
                        Ok(Value::Float(n.float))
                    } else {
                        Err(self.errorf(format!("expected float; found {}", n.text)))
                    }
                }
                Ty::Any | Ty::Reflect => self.ideal_constant(n),
                _ => Err(self.errorf(format!("expected {}; found {}", ty.expect_word(), n.text))),
            },
        }
    }

    fn validate(&self, ty: Ty, v: Value, _arg: &Arg) -> R<Value> {
        match funcs::check_type(ty, v) {
            Ok(v) => Ok(v),
            Err(msg) => Err(self.errorf(msg)),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        name: &str,
        ident: &'s Arg,
        cmd: &'s Command,
        final_: Option<Value>,
    ) -> R<Value> {
        self.eval_function_args(dot, name, ident, cmd, &cmd.args, final_)
    }

    fn eval_function_args(
        &mut self,
        dot: &Value,
        name: &str,
        ident: &'s Arg,
        cmd: &Command,
        args: &'s [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(ident);
        self.step()?;
        let cmd_ctx = cmd.to_string();
        let cmd_pos = cmd.pos;
        let argn = args.len() - 1 + usize::from(final_.is_some());
        // and/or: short-circuit, returning the deciding value
        if name == "and" || name == "or" {
            if argn < 1 {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least 1 got {argn}"
                )));
            }
            let is_or = name == "or";
            let mut v = Value::Nil;
            for a in &args[1..] {
                v = self.eval_arg(dot, Ty::Reflect, a)?;
                if v.truthy() == is_or {
                    return Ok(v);
                }
            }
            if let Some(f) = final_ {
                v = f;
            }
            return Ok(v);
        }
        // host functions override everything
        if let Some(hf) = self.set.host_funcs.get(name).cloned() {
            let mut argv = Vec::with_capacity(argn);
            for a in &args[1..] {
                argv.push(self.eval_arg(dot, Ty::Any, a)?);
            }
            if let Some(f) = final_ {
                argv.push(f);
            }
            let v = hf(&argv).map_err(|e| self.call_error(name, &e, cmd_pos, &cmd_ctx))?;
            return self.check_size(name, v, cmd_pos, &cmd_ctx);
        }
        let Some(def) = funcs::lookup(name) else {
            return Err(self.errorf(format!("{} is not a defined function", gofmt::quote(name))));
        };
        let FuncDef {
            params,
            variadic,
            f,
        } = *def;
        if variadic.is_some() {
            if argn < params.len() {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {} got {argn}",
                    params.len()
                )));
            }
        } else if argn != params.len() {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {} got {argn}",
                params.len()
            )));
        }
        let mut argv = Vec::with_capacity(argn);
        for (i, a) in args[1..].iter().enumerate() {
            let ty = params.get(i).copied().or(variadic).unwrap_or(Ty::Any);
            argv.push(self.eval_arg(dot, ty, a)?);
        }
        if let Some(fv) = final_ {
            let ty = params
                .get(argn - 1)
                .copied()
                .or(variadic)
                .unwrap_or(Ty::Any);
            self.at = At::Arg(ident);
            let v = funcs::check_type(ty, fv).map_err(|m| self.errorf(m))?;
            argv.push(v);
        }
        funcs::lossy_bytes(name, &mut argv);
        let host = HostCtx {
            set: self.set,
            budget: self.budget,
        };
        let r = f(&host, &argv);
        let v = r.map_err(|e| self.call_error(name, &e, cmd_pos, &cmd_ctx))?;
        self.check_size(name, v, cmd_pos, &cmd_ctx)
    }

    /// Every value a function produces is bounded like the output: strings by
    /// `max_output_bytes`, lists by `max_collection_len` (so `print $s $s` in a loop
    /// cannot grow memory without bound).
    fn check_size(&self, name: &str, v: Value, pos: usize, ctx: &str) -> R<Value> {
        let l = &self.set.options.limits;
        let over = match &v {
            Value::String(s) if s.len() > l.max_output_bytes => Some(format!(
                "a string of {} bytes exceeds the limit of {} bytes",
                s.len(),
                l.max_output_bytes
            )),
            Value::List(x) if x.len() > l.max_collection_len => Some(format!(
                "a list of {} elements exceeds the limit of {}",
                x.len(),
                l.max_collection_len
            )),
            _ => None,
        };
        match over {
            Some(msg) => Err(self.call_error(name, &msg, pos, ctx)),
            None => Ok(v),
        }
    }

    fn call_error(&self, name: &str, e: &str, pos: usize, ctx: &str) -> Error {
        let loc = self.tmpl.source.location(pos);
        let detail = format!("error calling {name}: {e}");
        let message = format!(
            "template: {loc}: executing {} at <{ctx}>: {detail}",
            gofmt::quote(&self.tmpl.name)
        );
        let kind = if e.contains("exceeded the limit") || e.contains("exceeds the limit") {
            ErrorKind::Limit
        } else {
            ErrorKind::Exec
        };
        Error::new(
            kind,
            message,
            Some(loc),
            Some(self.tmpl.name.clone()),
            Some(ctx.to_string()),
            detail,
        )
    }
}

fn node_pos(n: &Node) -> usize {
    match n {
        Node::Text(_) => 0,
        Node::Action { pos, .. }
        | Node::Template { pos, .. }
        | Node::Break { pos }
        | Node::Continue { pos } => *pos,
        Node::If(b) | Node::With(b) | Node::Range(b) => b.pos,
    }
}
