//! Errors with Go's text: `template: <file>:<line>:<col>: executing "<name>" at <node>: <detail>`.

/// What kind of failure an [`Error`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The source could not be parsed (`template: name:line: ...`).
    Parse,
    /// Execution failed (`template: name:line:col: executing ...`).
    Exec,
    /// `execute` was asked for a template the set does not have.
    NotDefined,
    /// A configured bound (steps, output size, depth) was exceeded.
    Limit,
}

#[derive(Debug, Clone)]
pub(crate) struct Details {
    pub kind: ErrorKind,
    pub message: String,
    pub location: Option<String>,
    pub template: Option<String>,
    pub context: Option<String>,
    pub detail: String,
}

/// A template error. `Display` prints exactly what Go's text/template prints.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.message)]
pub struct Error(pub(crate) Box<Details>);

impl Error {
    pub(crate) fn new(
        kind: ErrorKind,
        message: String,
        location: Option<String>,
        template: Option<String>,
        context: Option<String>,
        detail: String,
    ) -> Error {
        Error(Box::new(Details {
            kind,
            message,
            location,
            template,
            context,
            detail,
        }))
    }
    pub(crate) fn parse(message: String) -> Error {
        let detail = message
            .splitn(3, ": ")
            .nth(2)
            .unwrap_or(&message)
            .to_string();
        Error::new(ErrorKind::Parse, message, None, None, None, detail)
    }
    pub(crate) fn plain(kind: ErrorKind, message: String) -> Error {
        Error::new(kind, message.clone(), None, None, None, message)
    }
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    /// The full Go-shaped message (same as `Display`).
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// `file:line:col` of the failing node (execution errors).
    pub fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    /// Line and column (0-based byte column, as Go prints it) of the failing node, when known.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let loc = self.0.location.as_deref()?;
        let mut it = loc.rsplitn(3, ':');
        let col = it.next()?.parse().ok()?;
        let line = it.next()?.parse().ok()?;
        Some((line, col))
    }
    /// The name of the template being executed (execution errors).
    pub fn template(&self) -> Option<&str> {
        self.0.template.as_deref()
    }
    /// The failing node as source text (what Go prints between `<` and `>`).
    pub fn context(&self) -> Option<&str> {
        self.0.context.as_deref()
    }
    /// The message after the location prefix (e.g. `error calling required: ...`).
    pub fn detail(&self) -> &str {
        &self.0.detail
    }
    pub(crate) fn set_kind(&mut self, kind: ErrorKind) {
        self.0.kind = kind;
    }
}
