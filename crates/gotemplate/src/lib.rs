//! gotemplate: placeholder, filled in by its issue.
