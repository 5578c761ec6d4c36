//! community-operators layout (placeholder until the next commit).
