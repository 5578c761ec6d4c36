//! helm: placeholder, filled in by its issue.
